# What the ResNet-50 self-supervised models here share: the ImageNet
# normalisation of mmpretrain's SelfSupDataPreprocessor and the backbone
# (SyncBN; the MoCo v2 bases switch to BN). The algorithm bases add the
# type, neck and head.
model = dict(
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False))
