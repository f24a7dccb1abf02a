# SimCLR on ResNet-18 over the object crops of the generated toy scenes
# (`configs/_base_/datasets/toy_object-crops.py`). The Euclidean twin of
# hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py. Trains in a few minutes on
# 2 CPU cores.
_base_ = ['../_base_/datasets/toy_object-crops.py']

model = dict(
    type='SimCLR',
    data_preprocessor=_base_.data_preprocessor,
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=512,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.1))
