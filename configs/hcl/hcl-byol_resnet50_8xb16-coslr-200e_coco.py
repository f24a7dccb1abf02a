# HCL on BYOL: the baseline twin plus the hyperbolic scene-object head with
# the recipe of `configs/_base_/models/hcl_head.py`, reading BYOL's 256-d
# projection. `..._paper-loss.py` is the paper's loss alone.
_base_ = ['./byol_resnet50_8xb16-coslr-200e_coco.py']

model = dict(
    hyp_head=dict(
        _delete_=True,
        type='HyperbolicSceneObjectHead',
        embedder=dict(
            type='HyperbolicEmbedder',
            manifold=dict(type='PoincareBall', c=0.05, learnable=False),
            clip_r=2.3,
            scale_norm=1.5,
            norm_only_grad=True),
        contrast_loss=dict(
            type='HyperbolicInfoNCELoss', temperature=0.2, loss_weight=0.1),
        pair_losses=dict(
            entail=dict(
                type='EntailmentConeLoss', k=0.1, apex_radius=0.1,
                loss_weight=0.3)),
        online_pair=True,
        queue_len=65536,
        feat_dim=256))
