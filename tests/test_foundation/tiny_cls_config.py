# A tiny real classification run used by the foundation tests: ResNet-18 on
# 32 px images written by the test (data_root is set with --cfg-options).
_base_ = ['../../configs/_base_/default_runtime.py']

model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmpretrain.ResNet', depth=18, num_stages=4,
                  out_indices=(3, )),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=2,
        in_channels=512,
        loss=dict(type='mmpretrain.CrossEntropyLoss')),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[64.0, 64.0, 64.0],
        to_rgb=True))

train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='mmpretrain.CustomDataset',
        data_root='',
        with_label=True,
        pipeline=[
            dict(type='mmpretrain.LoadImageFromFile'),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs'),
        ]))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='AtomicCheckpointHook', interval=2, by_epoch=False))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
