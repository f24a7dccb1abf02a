# MoCo v2 on ResNet-18 over the toy object crops: the Euclidean twin of
# hypcon-mocov2_resnet18_1xb32-2e_toy-scenes.py. The key encoder follows the
# online one with momentum 0.99 (mmengine convention 0.01) so that it keeps
# up within the few hundred iterations of the toy run.
_base_ = ['./simclr_resnet18_1xb32-2e_toy-scenes.py']

model = dict(
    _delete_=True,
    type='MoCo',
    queue_len=4096,  # a multiple of the batch size
    feat_dim=128,
    momentum=0.01,
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=512,
        hid_channels=512,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))
