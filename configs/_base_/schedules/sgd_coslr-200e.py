# SGD with a cosine schedule, the MoCo v2 / HCL reference recipe.
# clip_grad makes mmengine log `grad_norm` every iteration; a max_norm of
# 1e9 never clips.
optim_wrapper = dict(
    type='OptimWrapper',
    clip_grad=dict(max_norm=1e9),
    optimizer=dict(type='SGD', lr=0.03, weight_decay=1e-4, momentum=0.9))

# No `end` (and no T_max): mmengine's Runner ends a scheduler without one at
# train_cfg.max_epochs, so the cosine spans the whole training whatever its
# length (`--cfg-options train_cfg.max_epochs=N` included).
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0)]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200, val_interval=20)
