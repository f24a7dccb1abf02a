# The supervised control of the transfer suite: the ResNet-18 of the toy
# pretraining configs trained WITH the object labels (mmpretrain's
# ImageClassifier, cross-entropy over the 10 shape classes) on the object
# crops of the training scenes, with the self-supervised runs' object views
# (64 px, RandomResizedCrop 0.3-1, colour jitter, grayscale, flip: the
# `object_view_pipeline` of configs/_base_/datasets/toy_scenes.py, restated
# here; tests/configs/test_supervised_control.py keeps the two equal) and the
# same optimiser, warm-up and cosine schedule over 8 epochs of crops, from
# the same initialisation (`zero_init_residual=True`, as in
# configs/_base_/models/resnet50_selfsup.py). Its
# checkpoint goes to the suite as one more init:
#   python tools/train.py configs/benchmarks/classification/toy_scenes/resnet18_supervised-1xb32-8e_toy-scenes.py --work-dir work_dirs/sup
#   python tools/benchmarks/transfer.py --pretrained sup=work_dirs/sup/epoch_8.pth ...
# If it transfers better than random init where the self-supervised
# backbones do not, the protocol can show a pretraining gain and the
# difference lies in what the self-supervised objective learns.
_base_ = './resnet18_linear-1xb32-steplr-10e_toy-scenes.py'

view_size = 64
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_eval=False,
        zero_init_residual=True,
        init_cfg=None))

train_pipeline = [
    dict(type='LoadSceneImage'),
    dict(type='CropObjectBox', context=0.1),
    dict(
        type='RandomResizedCrop',
        scale=view_size,
        crop_ratio_range=(0.3, 1.),
        backend='pillow'),
    dict(
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
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

max_epochs = 8
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.06, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    # no end: mmengine ends it at the training's last epoch
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
randomness = dict(seed=0)
