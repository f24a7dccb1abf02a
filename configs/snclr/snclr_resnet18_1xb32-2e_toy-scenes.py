# SNCLR on ResNet-18 over the toy object crops (two 64 px views per crop), a
# CPU-sized twin of snclr_resnet50_16xb256-amp-coslr-200e_in1k.py: bank of
# 1,024 momentum keys, K = 5 neighbours, T = 0.2, SGD.
_base_ = [
    '../_base_/datasets/toy_object-crops.py',
    '../_base_/models/snclr_resnet50.py',
]

model = dict(
    bank_size=1024,
    topk=5,
    feat_dim=128,
    backbone=dict(depth=18, norm_cfg=dict(type='BN')),
    neck=dict(in_channels=512, hid_channels=512, out_channels=128),
    head=dict(
        predictor=dict(in_channels=128, hid_channels=512, out_channels=128),
        attention=dict(in_channels=128)))
