# SNCLR (Ge et al., ICLR 2023) on ResNet-50, ImageNet-1k, batch 16 x 256 =
# 4096 (the model: `configs/_base_/models/snclr_resnet50.py`). LARS as MoCo
# v3's ResNet recipe.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs512_mocov3.py',
    '../_base_/default_runtime.py',
    '../_base_/models/snclr_resnet50.py',
]

train_dataloader = dict(batch_size=256)

optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='LARS', lr=9.6, weight_decay=1e-6, momentum=0.9),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=10,  # ends at train_cfg.max_epochs (no `end`, no T_max)
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=4096)
