# The object crops of the generated toy scenes as an instance-contrast set
# (every box >= 12 px of annotations/train.json is one sample; two 64 px
# views per crop) with the CPU schedule of 2 epochs: the data and schedule
# base of the toy configs of the related objectives (hypcon/, dcl/, snclr/,
# mochi/, mvcl/). Generate the data with
#   python tools/dataset_converters/make_toy_scenes.py --out data/toy_scenes
# The views are the toy scene configs' object views (`toy_scenes.py`).
_base_ = [
    './toy_scenes.py',
    '../schedules/sgd_coslr-200e.py',
    '../default_runtime.py',
]

view_pipeline = {{_base_.object_view_pipeline}}
train_pipeline = [
    dict(type='LoadSceneImage'),
    dict(type='CropObjectBox', context=0.1),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),  # keeps gt_label for supervised variants
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ObjectCropDataset',
        data_root={{_base_.data_root}},
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/'),
        min_box_size=12,
        pipeline=train_pipeline))
# no zero-shot evaluation of the instance-contrast toy runs
val_dataloader = val_evaluator = val_cfg = None
test_dataloader = test_evaluator = test_cfg = None

max_epochs = 2
optim_wrapper = dict(optimizer=dict(lr=0.06))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,  # ends with the training (no `end`, no T_max)
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=32)
