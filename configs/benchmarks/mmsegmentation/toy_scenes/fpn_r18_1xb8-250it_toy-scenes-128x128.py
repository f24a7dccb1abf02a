# CPU-sized semantic segmentation for the transfer suite
# (tools/benchmarks/transfer.py): Semantic FPN (mmseg's FPN neck + FPNHead)
# on a ResNet-18 at output stride 32, no dilation, on the generated toy
# scenes (128 px label maps: 0 = background, 1-10 = shape classes).
# Data, pipelines, plain BN and the Pretrained init come from the FCN toy
# twin; validation (IoUMetric) runs once at the end.
_base_ = './fcn_r18-d8_1xb4-2000it_toy-scenes-128x128.py'

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(dilations=(1, 1, 1, 1), strides=(1, 2, 2, 2)),
    neck=dict(
        type='FPN', in_channels=[64, 128, 256, 512], out_channels=64,
        num_outs=4),
    decode_head=dict(
        _delete_=True,
        type='FPNHead',
        in_channels=[64, 64, 64, 64],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=64,
        dropout_ratio=0.1,
        num_classes={{_base_.num_classes}},
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=None)

train_dataloader = dict(batch_size=8)

# 250 iterations of 8 images (2.5 epochs of 800 images), poly decay: about
# 2 minutes on 2 cores (0.45 s per step).
max_iters = 250
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# the base's poly schedule, ending at this run's last step (mmengine
# replaces lists, so the one element is restated from the base's)
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
