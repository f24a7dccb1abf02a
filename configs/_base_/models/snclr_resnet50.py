# SNCLR (Ge et al., ICLR 2023) on ResNet-50: MoCo v3's encoders (projector
# 2048-4096-256, predictor 256-4096-256, cosine momentum from 0.99), a
# candidate bank of 128,000 momentum keys, the top K = 30 neighbours of each
# key scored by a cross-attention module, T = 0.2.
_base_ = ['./resnet50_selfsup.py']

temperature = 0.2
# MoCo v3's MLPs: no biases, batch norm without affine output
snclr_mlp = dict(
    type='NonLinearNeck',
    num_layers=2,
    with_bias=False,
    with_last_bn_affine=False,
    with_last_bias=False)
model = dict(
    type='SNCLR',
    bank_size=128000,
    topk=30,
    feat_dim=256,
    base_momentum=0.01,  # mmengine convention: paper momentum 0.99
    neck=dict(
        snclr_mlp,
        in_channels=2048,
        hid_channels=4096,
        out_channels=256,
        with_last_bn=True,
        with_avg_pool=True),
    head=dict(
        type='SNCLRHead',
        predictor=dict(
            snclr_mlp,
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            with_last_bn=False,
            with_avg_pool=False),
        attention=dict(type='SNCLRAttention', in_channels=256),
        # 2T as in MoCo v3 (the authors scale their loss the same way)
        loss=dict(
            type='SNCLRLoss',
            temperature=temperature,
            loss_weight=2 * temperature)))
