# What the ResNet-50 self-supervised models here share: the ImageNet
# normalisation of mmpretrain's SelfSupDataPreprocessor and the backbone
# (SyncBN; the MoCo v2 bases switch to BN). The algorithm bases add the
# type, neck and head.
# zero_init_residual=True (Goyal et al., 2017): the last BatchNorm of each
# residual block starts at zero, so a block starts as the identity. It is
# what mmdet/mmseg's from-scratch ResNet and mmpretrain's SimCLR, SimSiam,
# Barlow Twins and SwAV configs use. MoCo v2's reference recipe (and BYOL's
# and DenseCL's in mmpretrain) starts the blocks open (False); a short
# pretraining from there transfers worse than no pretraining at all
# (docs/results.md, "What the self-supervised pretraining loses").
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
        zero_init_residual=True))
