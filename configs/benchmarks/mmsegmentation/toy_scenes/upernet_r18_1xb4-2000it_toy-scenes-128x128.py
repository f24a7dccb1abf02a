# CPU-sized twin of ../ade20k/upernet_r50_4xb4-160k_ade20k-512x512.py:
# UperNet R18 on the generated toy scenes. Data, schedule and the auxiliary
# FCN head come from the FCN toy twin; the backbone runs at output stride 32
# as in UperNet (no dilation) and feeds all four stages to the UPerHead.
_base_ = './fcn_r18-d8_1xb4-2000it_toy-scenes-128x128.py'

model = dict(
    backbone=dict(dilations=(1, 1, 1, 1), strides=(1, 2, 2, 2)),
    decode_head=dict(
        _delete_=True,
        type='UPerHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=128,
        dropout_ratio=0.1,
        num_classes={{_base_.num_classes}},
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
