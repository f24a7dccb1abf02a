# SimCLR on ResNet-50 fed by the scene-object views (baseline twin when
# `hyp_head=None`).
_base_ = ['./resnet50_scene-object.py']

model = dict(
    type='HCLSimCLR',
    backbone=dict(zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',  # SimCLR non-linear neck
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.1))
