# The toy MoCo v2 baseline without the colour invariances: its object and
# scene views keep the random crop, resize and flip but lose the colour
# jitter and the random grayscale. One variable of the transfer diagnosis
# (projects/transfer_diagnosis/README.md).
_base_ = ['../../../configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py']

view_size = {{_base_.view_size}}
object_view_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=view_size,
        crop_ratio_range=(0.3, 1.),
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
scene_view_pipeline = [
    dict(type='Resize', scale=(view_size, view_size), backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(_base_.train_pipeline[0]),
        dict(
            _base_.train_pipeline[1],
            object_view_pipeline=object_view_pipeline,
            scene_view_pipeline=scene_view_pipeline),
        dict(_base_.train_pipeline[2]),
    ]))
