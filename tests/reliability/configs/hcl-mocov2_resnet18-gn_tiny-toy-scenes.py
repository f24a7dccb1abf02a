# A tiny, fully deterministic HCL-on-MoCo-v2 run for the reliability tests:
# the toy HCL config with 32 px views, batch 4, iteration-based loop, every
# iteration logged (window 1, so each logged loss is that iteration's own).
#
# The backbone uses GroupNorm instead of BatchNorm: BatchNorm statistics of a
# local batch of B differ from those of a global batch of 2B, so with BN two
# processes cannot give the same numbers as one process. GroupNorm works per
# sample, which keeps the comparison exact up to float rounding while MoCo's
# batch shuffling, DDP and the all-gathers still run for real.
_base_ = ['../../../configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py']

# ResNet-18 at a quarter of the usual width (base_channels 16): the same
# architecture, 16x fewer weights, so checkpoints are ~9 MB and save quickly.
model = dict(
    queue_len=64,  # MoCo: a multiple of the global batch (4)
    backbone=dict(
        base_channels=16,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)),
    neck=dict(in_channels=128, hid_channels=128),
    hyp_head=dict(queue_len=64))

object_view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.3, 1.),
        backend='pillow'),
    {{_base_.color_jitter}},
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='RandomFlip', prob=0.5),
]
scene_view_pipeline = [
    dict(type='Resize', scale=(32, 32), backend='pillow'),
    {{_base_.color_jitter}},
    dict(type='RandomFlip', prob=0.5),
]
train_pipeline = [
    dict(type='LoadSceneImage', on_error='raise'),
    dict(
        type='SceneObjectViews',
        object_view_pipeline=object_view_pipeline,
        scene_view_pipeline=scene_view_pipeline,
        num_object_views=2,
        with_hyperbolic_views=True,
        min_scene_boxes=2,
        max_scene_boxes=5,
        jitter_area=24 * 24,
        on_error='raise'),
    dict(
        type='PackInputs',
        meta_keys=('img_id', 'img_path', 'object_label', 'num_objects',
                   'num_instances', 'scene_type')),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))

max_iters = 12
optim_wrapper = dict(optimizer=dict(lr=0.06))
param_scheduler = [
    # ends at train_cfg.max_iters (no `end`, no T_max)
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0)
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=3, max_keep_ckpts=-1))
log_processor = dict(by_epoch=False, window_size=1)
randomness = dict(seed=0, deterministic=True)

# no zero-shot evaluation at the end: these runs test training itself
val_dataloader = None
val_evaluator = None
val_cfg = None
