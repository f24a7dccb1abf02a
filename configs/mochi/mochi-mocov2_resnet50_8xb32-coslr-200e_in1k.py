# MoCHi(N=1024, s=512, s'=256) on MoCo v2, ResNet-50, ImageNet-1k, batch 256,
# 200 epochs: per query, 512 mixtures of pairs of its 1,024 hardest queued
# keys and 256 mixtures with the query, from epoch 10 on (the warm-up is a
# config value).
_base_ = ['./mocov2_resnet50_8xb32-coslr-200e_in1k.py']

mixing = dict(
    type='HardNegativeMixing',
    num_hard=1024, num_mix=512, num_query_mix=256, start_epoch=10)
model = dict(
    head=dict(mixing=mixing))
