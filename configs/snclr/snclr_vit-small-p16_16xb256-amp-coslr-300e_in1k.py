# SNCLR on ViT-S/16 (mmpretrain's VisionTransformer, arch 'deit-small': 384
# channels, 12 layers, 6 heads; class token as the image feature), ImageNet-1k,
# batch 16 x 256 = 4096, AdamW, 300 epochs (MoCo v3's ViT-S recipe): the
# authors' reference setting, bank 128,000, K = 30, T = 0.2.
_base_ = ['./snclr_resnet50_16xb256-amp-coslr-200e_in1k.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        out_type='cls_token',
        drop_path_rate=0.),
    neck=dict(in_channels=384, num_layers=3, with_avg_pool=False),
    head=dict(predictor=dict(with_last_bn=True)))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=2.4e-3, weight_decay=0.1))
find_unused_parameters = True
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=40,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=40,  # ends at train_cfg.max_epochs (no `end`, no T_max)
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
