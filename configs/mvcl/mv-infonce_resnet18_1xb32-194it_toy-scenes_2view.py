# MV-InfoNCE with 2 views per object, ResNet-18, toy object crops, in-batch
# negatives (MultiViewSimCLR). Every view crops the object with its own
# context margin in [0, 0.2] of the box size, then the SimCLR twin's view
# augmentations. Iteration-based so that the 4-view twin gets the same number
# of steps and images: 194 steps of 32 objects x 2 views.
_base_ = ['../hypcon/simclr_resnet18_1xb32-2e_toy-scenes.py']

train_pipeline = [
    dict(type='LoadSceneImage'),
    dict(
        type='ObjectMultiView',
        num_views=2,
        context_range=(0.0, 0.2),
        transforms={{_base_.view_pipeline}}),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    type='MultiViewSimCLR',
    head=dict(
        _delete_=True,
        type='MultiViewContrastiveHead',
        loss=dict(type='MVInfoNCELoss', temperature=0.1)))

max_iters = 194
warmup_iters = 97
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        by_epoch=False,
        begin=warmup_iters),  # ends at train_cfg.max_iters (no `end`)
]
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
