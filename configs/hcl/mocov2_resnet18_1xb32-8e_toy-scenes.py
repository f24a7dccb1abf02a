# Baseline twin of the toy HCL demo: MoCo v2 on ResNet-18 with the same data
# and object views, no hyperbolic loss. Trains in a few minutes on 2 CPU cores.
_base_ = [
    '../_base_/models/mocov2_resnet50.py',
    '../_base_/datasets/toy_scenes.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]

# momentum 0.99 (0.01 in mmengine's EMA convention): with 0.999 the key
# encoder of a 200-iteration run stays within ~20% of its random start.
model = dict(
    queue_len=4096,
    momentum=0.01,
    channels_last=False,
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hid_channels=512, out_channels=128))

max_epochs = 8
optim_wrapper = dict(optimizer=dict(lr=0.06))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    # no `end` (and no T_max): the cosine ends with the training,
    # train_cfg.max_epochs (mmengine's Runner), T_max = end - begin
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1,
         convert_to_iter_based=True),
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=4)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', interval=max_epochs,
                    max_keep_ckpts=1))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=32)

# Watch the hierarchy form while training: the val loop (SceneObjectMetric
# on the toy val split, `zero_shot/*`: object kNN, norms, retrieval,
# out-of-context scores) runs every 4 epochs, the head logs the batch norms
# every iteration and the saturation hook raises the alarm.
custom_hooks = [dict(type='HyperbolicSaturationHook')]
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
visualizer = dict(
    type='UniversalVisualizer', vis_backends=vis_backends, name='visualizer')
