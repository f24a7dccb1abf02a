# DenseCL on ResNet-50 fed by the scene-object views (baseline twin when
# `hyp_head=None`): MoCo v2's queue, backbone and head with DenseCL's dense
# neck. The hyperbolic branch reads the global projection.
_base_ = ['./mocov2_resnet50.py']

model = dict(
    type='HCLDenseCL',
    loss_lambda=0.5,
    neck=dict(
        _delete_=True,
        type='DenseCLNeck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        num_grid=None))
