# The flagship HCL-MoCo v2 recipe with the GPU view path (docs/training_fast.md):
# dataloader workers only read the JPEG bytes and sample the geometry and the
# augmentation parameters (the same rules and view pipelines as the CPU path);
# SceneObjectViewPreprocessor decodes the batch on the GPU (nvjpeg), cuts the
# four views with roi_align and applies colour jitter, grayscale, blur, flip
# and normalisation as batched tensor operations. Same model, same inputs.
_base_ = [
    './hcl-mocov2_resnet50_8xb16-coslr-200e_coco.py',
    '../_base_/datasets/gpu_views.py'
]

model = dict(data_preprocessor={{_base_.gpu_view_preprocessor}})
train_dataloader = dict(
    collate_fn={{_base_.gpu_view_collate}},
    dataset=dict(pipeline=[
        {{_base_.gpu_view_loader}},
        # the class defaults are the flagship's sampling (2 object views,
        # scene and object views, 2-5 scene boxes, context below 256 px)
        dict(
            type='SceneObjectViewParams',
            object_view_pipeline={{_base_.object_view_pipeline}},
            scene_view_pipeline={{_base_.scene_view_pipeline}},
            on_error='raise'),
        {{_base_.gpu_view_pack}},
    ]))
