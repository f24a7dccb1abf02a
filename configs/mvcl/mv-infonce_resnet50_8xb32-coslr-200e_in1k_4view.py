# MV-InfoNCE on ResNet-50, ImageNet-1k, 4 random crops per image (batch 256
# images, 1,024 views per step: about twice the 2-view cost). The view
# augmentations are mmpretrain's SimCLR ones, restated here so that they are
# built in hclmm's scope (as the 2-view config's are).
_base_ = ['./mv-infonce_resnet50_8xb32-coslr-200e_in1k_2view.py']

view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.8,
                contrast=0.8,
                saturation=0.8,
                hue=0.2,
                hue_backend='cv2')
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.5,
        backend='cv2'),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ObjectMultiView',
        num_views=4,
        context_range=None,
        transforms=view_pipeline),
    dict(type='PackInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
