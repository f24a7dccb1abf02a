# Hyperbolic instance contrast on MoCo v2, ResNet-50, ImageNet-1k, batch
# 8 x 32 = 256, SGD, 200 epochs: [-d(q, k), -d(q, queue) ...] / T in the
# Poincare ball (c = 0.1, features clipped to 2.3, T = 0.2), queue 65,536.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_mocov2.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/hypcon_head.py',
]

model = dict(
    type='HypMoCo',
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,  # mmengine EMA convention: paper momentum 0.999
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        _base_.hypcon_head,
        loss=dict(type='HyperbolicInfoNCELoss', temperature=0.2)))

default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=256)
