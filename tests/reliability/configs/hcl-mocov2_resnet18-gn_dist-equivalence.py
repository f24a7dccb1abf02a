# Distributed-equivalence run: the tiny deterministic HCL config for 3
# iterations, with the random choices of the data pipeline seeded by the
# sample index (a sample gets the same views in whichever process it is
# loaded) and a hook that writes each rank's losses, batch ids and state.
_base_ = ['./hcl-mocov2_resnet18-gn_tiny-toy-scenes.py']

custom_imports = dict(
    imports=['hcl_reliability_helpers'], allow_failed_imports=False)

train_pipeline = [
    dict(type='SeedBySampleIndex', seed=0),
    dict(type='LoadSceneImage', on_error='raise'),
    dict(
        type='SceneObjectViews',
        object_view_pipeline={{_base_.object_view_pipeline}},
        scene_view_pipeline={{_base_.scene_view_pipeline}},
        num_object_views=2,
        with_hyperbolic_views=True,
        min_scene_boxes=2,
        max_scene_boxes=5,
        jitter_area=24 * 24,
        on_error='raise'),
    dict(type='PackInputs', meta_keys=('img_id', 'img_path')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
max_iters = 3
param_scheduler = [
    # ends at train_cfg.max_iters (no `end`, no T_max)
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0)
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [dict(type='DumpRankStateHook')]
