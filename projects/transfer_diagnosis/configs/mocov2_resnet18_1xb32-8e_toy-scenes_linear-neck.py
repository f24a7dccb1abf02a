# The toy MoCo v2 baseline with MoCo v1's linear projection instead of the
# two-layer MLP: a head that cannot solve the instance task on its own. One
# variable of the transfer diagnosis (projects/transfer_diagnosis/README.md).
_base_ = ['../../../configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py']

model = dict(
    neck=dict(_delete_=True, type='LinearNeck', in_channels=512,
              out_channels=128, gap_dim=2, norm_cfg=None))
