# What the ResNet-50 models of the scene-object configs share: the ImageNet
# normalisation, the backbone, no hyperbolic head (`hyp_head=None`, the
# baseline twin; the HCL configs set the head of `hcl_head.py`) and
# channels-last convolutions on GPUs (docs/training_fast.md). The algorithm
# bases (`mocov2_resnet50.py`, `simclr_resnet50.py`, ...) add the type, neck
# and head.
model = dict(
    hyp_head=None,
    channels_last=True,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False))
