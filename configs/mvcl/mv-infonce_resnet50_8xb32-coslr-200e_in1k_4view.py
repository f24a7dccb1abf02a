# MV-InfoNCE on ResNet-50, ImageNet-1k, 4 random crops per image (batch 256
# images, 1,024 views per step: about twice the 2-view cost).
_base_ = ['./mv-infonce_resnet50_8xb32-coslr-200e_in1k_2view.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ObjectMultiView',
        num_views=4,
        context_range=None,
        transforms={{_base_.view_pipeline}}),
    dict(type='PackInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
