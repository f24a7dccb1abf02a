# CPU-sized twin of ../imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py:
# linear probe of a frozen ResNet-18 on object crops of the generated toy
# scenes (every box >= 12 px of the COCO file is one sample, labelled with its
# shape class), same optimiser and step schedule shape (lr 30, no weight
# decay, x0.1 at 60% and 80% of training). Generate the data with
#   python tools/dataset_converters/make_toy_scenes.py --out data/toy_scenes
_base_ = '../imagenet/resnet50_linear-8xb32-steplr-100e_in1k.py'

# hclmm's registry (a child of mmpretrain's) holds the object-crop dataset.
default_scope = 'hclmm'

data_root = 'data/toy_scenes/'
num_classes = 10
crop_size = 64

model = dict(
    backbone=dict(depth=18),
    head=dict(in_channels=512, num_classes=num_classes))
data_preprocessor = dict(num_classes=num_classes)

train_pipeline = [
    dict(type='LoadSceneImage'),
    dict(type='CropObjectBox', context=0.1),
    dict(
        type='RandomResizedCrop',
        scale=crop_size,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadSceneImage'),
    dict(type='CropObjectBox', context=0.1),
    dict(type='Resize', scale=(crop_size, crop_size), backend='pillow'),
    dict(type='PackInputs'),
]
crop_dataset = dict(
    type='ObjectCropDataset', data_root=data_root, min_box_size=12)
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/'),
        pipeline=train_pipeline,
        **crop_dataset))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/val/'),
        pipeline=test_pipeline,
        **crop_dataset))
test_dataloader = val_dataloader

max_epochs = 10
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[6, 8], gamma=0.1)
]
# Restated without the base's mmpretrain scope: the loop builds the
# dataloaders, and hclmm's object-crop dataset is found from the hclmm scope.
train_cfg = dict(
    _delete_=True,
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_interval=5)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
