# The generated toy scene set (`make_toy_scenes.py`): 128 px images with small
# objects, so the size filter is 12 px and the views are 64 px.
_base_ = ['./coco_scene-object.py']

data_root = 'data/toy_scenes/'
# the side of every view (object, scene, zero-shot crop) in pixels, which
# the tools read as the config's view size
view_size = 64

object_view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=view_size,
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
    dict(type='Resize', scale=(view_size, view_size), backend='pillow'),
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
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/'),
        min_box_size=12,
        min_boxes=2,
        pipeline=train_pipeline))

# Zero-shot evaluation on the val split (`tools/test.py`, the val loop): the
# COCO base's SceneObjectCropDataset and SceneObjectMetric on 64 px crops of
# every image and box of the toy val split.
zero_shot_pipeline = [
    dict(type='LoadSceneImage'),
    dict(type='CropObjectBox'),
    dict(type='Resize', scale=(view_size, view_size)),
    dict(
        type='PackInputs',
        meta_keys=('sample_idx', 'scene_index', 'is_scene', 'object_label',
                   'out_of_context', 'img_id')),
]
# Data elsewhere: set the root of each loader, e.g. `--cfg-options
# train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR`
# (tools/train.py), `test_dataloader.dataset.data_root=DIR` (tools/test.py).
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/val/'),
        min_box_size=1,
        pipeline=zero_shot_pipeline))
test_dataloader = val_dataloader
