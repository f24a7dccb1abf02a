# BYOL on ResNet-50 fed by the scene-object views (baseline twin when
# `hyp_head=None`). The hyperbolic branch reads the projection (neck); the
# predictor is the projection's MLP on its 256-d output.
_base_ = ['./resnet50_scene-object.py']

byol_mlp = dict(
    type='NonLinearNeck',
    hid_channels=4096,
    out_channels=256,
    num_layers=2,
    with_bias=True,
    with_last_bn=False)
model = dict(
    type='HCLBYOL',
    base_momentum=0.01,
    neck=dict(byol_mlp, in_channels=2048, with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        loss=dict(type='CosineSimilarityLoss'),
        predictor=dict(byol_mlp, in_channels=256, with_avg_pool=False)))
