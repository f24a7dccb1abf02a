# DenseCL (Wang et al., 2021) in place of MoCo v2 on the 128 px views of
# `mocov2_resnet18_1xb32-8e_toy-scenes_128px.py`: the same backbone, queue,
# views and schedule plus a dense contrast over the 4 x 4 grid of the last
# stage (half of the loss). One variable of the transfer diagnosis
# (projects/transfer_diagnosis/README.md): an objective with a signal at
# every location of the feature map.
_base_ = ['./mocov2_resnet18_1xb32-8e_toy-scenes_128px.py']

# the model of configs/_base_/models/densecl_resnet50.py at ResNet-18 widths
model = dict(
    type='HCLDenseCL',
    loss_lambda=0.5,
    neck=dict(_delete_=True, type='DenseCLNeck', in_channels=512,
              hid_channels=512, out_channels=128, num_grid=None))
