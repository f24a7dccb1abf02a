# The toy MoCo v2 baseline with 128 px views (the side of the segmentation
# input) instead of 64 px: objects are seen at the scale of the scenes the
# backbone is later fine-tuned on. Four times the pixels per step. One
# variable of the transfer diagnosis (projects/transfer_diagnosis/README.md).
_base_ = ['../../../configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py']

view_size = 128
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(_base_.train_pipeline[0]),
        dict(
            _base_.train_pipeline[1],
            object_view_pipeline=[
                dict(_base_.object_view_pipeline[0], scale=view_size)
            ] + _base_.object_view_pipeline[1:],
            scene_view_pipeline=[
                dict(_base_.scene_view_pipeline[0],
                     scale=(view_size, view_size))
            ] + _base_.scene_view_pipeline[1:]),
        dict(_base_.train_pipeline[2]),
    ]))
