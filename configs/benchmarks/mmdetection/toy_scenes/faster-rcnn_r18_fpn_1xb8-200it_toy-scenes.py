# CPU-sized box detection for the transfer suite (tools/benchmarks/
# transfer.py): Faster R-CNN R18-FPN on the generated toy scenes (128 px),
# initialised from a pretrained ResNet-18, 200 iterations of batch 8 (2
# epochs of the 800 toy training scenes), validation (CocoMetric, bbox) once
# at the end. The budget is in iterations, so a smaller labelled set
# (`transfer.py --label-fraction`) trains as many steps, with more passes. Data and the self-supervised protocol
# (BN trained everywhere, nothing frozen) come from the toy Mask R-CNN twin;
# the box head is mmdet's Shared2FC head and there is no mask branch, which
# keeps a run under 3 minutes on 2 cores (0.7 s per step of 8 images;
# 64 FPN channels).
_base_ = './mask-rcnn_r18_fpn_1xb4-6e_toy-scenes.py'

max_iters = 200
model = dict(
    type='FasterRCNN',
    # 64 FPN channels instead of 256: the neck and RPN cost ~1/16
    neck=dict(out_channels=64),
    # objects are 14-90 px: anchors of 16-256 px (scale 4 on strides 4-64)
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        mask_roi_extractor=None,
        mask_head=None,
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=64,
            fc_out_channels=256,
            norm_cfg=None)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 112), (1333, 128), (1333, 144)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metric='bbox')
test_evaluator = val_evaluator

# lr 0.02 x 8 / 16, warm-up over 50 iterations, x0.1 for the last half
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[max_iters // 2],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
