# CPU-sized twin of ../voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py:
# FCN R18-D8 on the generated toy scenes (128 px label maps: 0 = background,
# 1-10 = shape classes), initialised from a pretrained ResNet-18 backbone.
# Generate the data with
#   python tools/dataset_converters/make_toy_scenes.py --out data/toy_scenes
_base_ = '../voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py'

data_root = 'data/toy_scenes/'
classes = ('background', 'red_circle', 'yellow_star', 'blue_square',
           'green_triangle', 'purple_hexagon', 'orange_diamond',
           'white_cross', 'black_pentagon', 'cyan_ellipse', 'brown_trapezoid')
metainfo = dict(classes=classes)
num_classes = len(classes)
crop_size = (128, 128)

# Plain BN: SyncBN needs CUDA once several processes train together.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512,
        channels=128,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256,
        channels=64,
        num_classes=num_classes,
        norm_cfg=norm_cfg))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=crop_size,
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
toy_dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=metainfo,
    img_suffix='.png',
    seg_map_suffix='.png',
    reduce_zero_label=False)
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        data_prefix=dict(
            img_path='images/train', seg_map_path='semantic/train'),
        pipeline=train_pipeline,
        **toy_dataset))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        data_prefix=dict(img_path='images/val', seg_map_path='semantic/val'),
        pipeline=test_pipeline,
        **toy_dataset))
test_dataloader = val_dataloader

# 2000 iterations of 4 images (10 epochs of 800 images).
max_iters = 2000
train_cfg = dict(max_iters=max_iters, val_interval=500)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=500, max_keep_ckpts=1))
