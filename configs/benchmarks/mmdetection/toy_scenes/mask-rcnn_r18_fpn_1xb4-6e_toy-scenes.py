# CPU-sized twin of ../coco/mask-rcnn_r50_fpn_ms-1x_coco.py: Mask R-CNN
# R18-FPN on the generated toy scenes (128 px, 10 shape classes), initialised
# from a pretrained ResNet-18 backbone. Generate the data with
#   python tools/dataset_converters/make_toy_scenes.py --out data/toy_scenes
_base_ = '../coco/mask-rcnn_r50_fpn_ms-1x_coco.py'

data_root = 'data/toy_scenes/'
classes = ('red_circle', 'yellow_star', 'blue_square', 'green_triangle',
           'purple_hexagon', 'orange_diamond', 'white_cross', 'black_pentagon',
           'cyan_ellipse', 'brown_trapezoid')
metainfo = dict(classes=classes)
img_scale = (128, 128)

# Plain BN: SyncBN needs CUDA once several processes train together.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    neck=dict(in_channels=[64, 128, 256, 512], norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(num_classes=len(classes), norm_cfg=norm_cfg),
        mask_head=dict(num_classes=len(classes), norm_cfg=norm_cfg)),
    # a toy scene holds at most 6 objects: far fewer proposals and sampled
    # RoIs than COCO's 2000 / 512 keep the 4-conv box head affordable on a CPU
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=200),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=1000, max_per_img=100)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 96), (1333, 112), (1333, 128)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

# 6 epochs over 800 images, batch 4: lr 0.02 x 4 / 16.
train_cfg = dict(max_epochs=6, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        begin=0,
        end=6,
        by_epoch=True,
        milestones=[4, 5],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.005))
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
