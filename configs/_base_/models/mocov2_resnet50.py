# MoCo v2 on ResNet-50 fed by the scene-object views. With `hyp_head=None`
# this is the baseline twin: it reads the same data and trains on the same
# two object views as HCL, without the hyperbolic loss.
_base_ = ['./resnet50_scene-object.py']

model = dict(
    type='HCLMoCo',
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,  # mmengine EMA convention: paper momentum 0.999
    backbone=dict(in_channels=3, norm_cfg=dict(type='BN')),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))
