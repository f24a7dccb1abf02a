# The toy HCL recipe with the GPU view path (docs/training_fast.md): the
# same model and view pipelines, views made in the data preprocessor. The
# default toy scenes are PNG, which the workers decode on the CPU; a set
# made with `make_toy_scenes.py --img-format jpg` is decoded in the
# preprocessor, on the GPU when the model is there.
_base_ = [
    './hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py',
    '../_base_/datasets/gpu_views.py'
]

model = dict(data_preprocessor={{_base_.gpu_view_preprocessor}})
train_dataloader = dict(
    collate_fn={{_base_.gpu_view_collate}},
    dataset=dict(pipeline=[
        {{_base_.gpu_view_loader}},
        dict(
            type='SceneObjectViewParams',
            object_view_pipeline={{_base_.object_view_pipeline}},
            scene_view_pipeline={{_base_.scene_view_pipeline}},
            jitter_area=24 * 24,
            on_error='raise'),
        {{_base_.gpu_view_pack}},
    ]))
