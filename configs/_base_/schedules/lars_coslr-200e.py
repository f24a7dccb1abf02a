# LARS with 10 warm-up epochs and a cosine schedule (SimCLR / BYOL recipes);
# norms and biases are excluded from weight decay and LARS adaptation.
# clip_grad makes mmengine log `grad_norm` every iteration; a max_norm of
# 1e9 never clips.
optim_wrapper = dict(
    type='OptimWrapper',
    clip_grad=dict(max_norm=1e9),
    optimizer=dict(type='LARS', lr=0.15, momentum=0.9, weight_decay=1e-6),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    # no `end` (and no T_max): it ends at train_cfg.max_epochs (mmengine's
    # Runner), with T_max = end - begin
    dict(type='CosineAnnealingLR', by_epoch=True, begin=10)
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200, val_interval=20)
