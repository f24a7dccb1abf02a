# MoCo v2 on ResNet-50, ImageNet-1k, batch 8 x 32 = 256, SGD lr 0.03, cosine,
# 200 epochs, queue 65,536, T = 0.2 (the recipe of the hyperbolic twin in
# ../hypcon/), through MoCHi's algorithm and head with mixing off: the
# baseline twin of mochi-mocov2_resnet50_8xb32-coslr-200e_in1k.py.
_base_ = ['../hypcon/hypcon-mocov2_resnet50_8xb32-coslr-200e_in1k.py']

model = dict(
    type='MoCHi', head=dict(_delete_=True, type='MoCHiHead', temperature=0.2))
