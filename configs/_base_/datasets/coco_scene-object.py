# COCO 2017 (or any COCO-format set) as scene-object pretraining data, with
# the HCL reference sampling: boxes under 56 px dropped, images with fewer than
# 2 boxes left out, object crops with context jitter, scene crops that are the
# hull of 2-5 boxes; MoCo v2 views of the object for the base loss, 224 px
# scene and object views for the hyperbolic loss.
dataset_type = 'SceneObjectCocoDataset'
data_root = 'data/coco/'
# the side of every view (object, scene, zero-shot crop) in pixels, which
# the tools read as the config's view size
view_size = 224
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

# hclmm's ColorJitter and GaussianBlur (mmpretrain's numerics by default)
# with OpenCV's hue step and Gaussian filter: the same draws, about a grey
# level apart, several times cheaper (docs/training_fast.md)
color_jitter = dict(
    type='RandomApply',
    transforms=[
        dict(
            type='ColorJitter',
            brightness=0.4,
            contrast=0.4,
            saturation=0.4,
            hue=0.1,
            hue_backend='cv2')
    ],
    prob=0.8)
blur = dict(
    type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
    prob=0.5, backend='cv2')

object_view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=view_size,
        crop_ratio_range=(0.2, 1.),
        backend='pillow'),
    color_jitter,
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    blur,
    dict(type='RandomFlip', prob=0.5),
]
scene_view_pipeline = [
    dict(type='Resize', scale=(view_size, view_size), backend='pillow'),
    color_jitter,
    blur,
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
        jitter_area=256 * 256,
        on_error='raise'),
    dict(
        type='PackInputs',
        meta_keys=('img_id', 'img_path', 'object_label', 'num_objects',
                   'num_instances', 'scene_type')),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    drop_last=True,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        min_box_size=56,
        min_boxes=2,
        pipeline=train_pipeline))

# Zero-shot scene-object metrics on val2017 (the val loop every
# `train_cfg.val_interval` epochs, and `tools/test.py CONFIG CHECKPOINT`):
# every image and every box of at least 56 px as a 224 x 224 crop, scored by
# SceneObjectMetric (prefix `zero_shot/`). Switch it off with
# `tools/train.py CONFIG --no-validate`.
zero_shot_pipeline = [
    dict(type='LoadSceneImage'),
    dict(type='CropObjectBox'),
    dict(type='Resize', scale=(view_size, view_size)),
    dict(
        type='PackInputs',
        meta_keys=('sample_idx', 'scene_index', 'is_scene', 'object_label',
                   'out_of_context', 'img_id')),
]
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='SceneObjectCropDataset',
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        min_box_size=56,
        pipeline=zero_shot_pipeline))
val_evaluator = dict(type='SceneObjectMetric')
val_cfg = dict()
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = val_cfg
