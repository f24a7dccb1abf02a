# MV-InfoNCE with 4 views per object: 16 objects x 4 views per step, so the
# same 64 images per step and the same 194 steps as the 2-view config.
_base_ = ['./mv-infonce_resnet18_1xb32-194it_toy-scenes_2view.py']

train_pipeline = [
    dict(type='LoadSceneImage'),
    dict(
        type='ObjectMultiView',
        num_views=4,
        context_range=(0.0, 0.2),
        transforms={{_base_.view_pipeline}}),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(base_batch_size=16)
