# The toy HCL recipe (configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py:
# the same model, head, optimizer and hooks) retargeted to the real-photo test
# fixture (tests/fixtures/real_photos.py): 32 px views, batch 4, 10
# iterations, every iteration logged. The fixture's root is given on the
# command line: --cfg-options train_dataloader.dataset.data_root=ROOT
# val_dataloader.dataset.data_root=ROOT.
_base_ = ['../../../configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py']

ann_file = 'annotations/train.json'
data_prefix = dict(img='images/')

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
                   'num_instances')),
]
# InfiniteSampler: 7 images make one batch of 4 per pass, and mmengine's
# IterBasedTrainLoop sleeps 2 s at every pass ("epoch") of a finite sampler
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        ann_file=ann_file, data_prefix=data_prefix, pipeline=train_pipeline))

max_iters = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2),
    # ends with the training, train_cfg.max_iters (no `end`, no T_max)
    dict(type='CosineAnnealingLR', by_epoch=False, begin=2),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=max_iters,
        max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=1)

# the recipe's monitoring: the saturation alarm and a val loop on the
# photographs (SceneObjectMetric: object kNN, scene and object norms) after
# the last iteration
custom_hooks = [dict(type='HyperbolicSaturationHook')]
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SceneObjectCropDataset',
        ann_file=ann_file,
        data_prefix=data_prefix,
        min_box_size=12,
        pipeline=[
            dict(type='LoadSceneImage'),
            dict(type='CropObjectBox'),
            dict(type='Resize', scale=(32, 32), backend='pillow'),
            dict(
                type='PackInputs',
                meta_keys=('sample_idx', 'scene_index', 'is_scene',
                           'object_label', 'out_of_context', 'img_id')),
        ]))
val_evaluator = dict(type='SceneObjectMetric')
val_cfg = dict()
test_dataloader = None
test_evaluator = None
test_cfg = None
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='UniversalVisualizer', vis_backends=vis_backends, name='visualizer')
