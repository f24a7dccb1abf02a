# SGD with a cosine schedule, the MoCo v2 / HCL reference recipe.
# clip_grad makes mmengine log `grad_norm` every iteration; a max_norm of
# 1e9 never clips.
optim_wrapper = dict(
    type='OptimWrapper',
    clip_grad=dict(max_norm=1e9),
    optimizer=dict(type='SGD', lr=0.03, weight_decay=1e-4, momentum=0.9))

param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200)
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200, val_interval=20)
