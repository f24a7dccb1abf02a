# Hyperbolic instance contrast (Yue et al., 2023) on SimCLR, ResNet-50,
# ImageNet-1k, batch 8 x 32 = 256, LARS, 200 epochs: NT-Xent whose
# similarities are -d / T in the Poincare ball (c = 0.1, features clipped to
# 2.3, T = 0.2).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_simclr.py',
    '../_base_/schedules/lars_coslr-200e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/hypcon_head.py',
]

model = dict(
    type='HypSimCLR',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True),
    head=dict(
        _base_.hypcon_head,
        loss=dict(type='HyperbolicSupConLoss', temperature=0.2)))

optim_wrapper = dict(optimizer=dict(lr=0.3))  # 0.3 x batch 256 / 256
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=256)
