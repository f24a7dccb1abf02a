# The hyperbolic scene-object head with the recipe that forms the
# scene-object hierarchy (docs/hcl.md): the HCL reference loss (Poincare ball
# of curvature -0.05, hyperbolic InfoNCE with T = 0.2 and weight 0.1 against
# a queue of 65,536 object keys, feature clipping at hyperbolic distance 4.6
# from the origin, i.e. the reference's Euclidean radius 2.3 on the ball) plus
# - scale_norm: each batch rescaled to a geometric-mean distance of 3.0 from
#   the origin, so the loss cannot inflate every norm onto the clipping sphere;
# - online_pair: scenes and objects through the online encoder in one batch;
# - an entailment cone term (Ganea et al. 2018): objects in their scene's cone;
# - norm_only_grad: the hyperbolic terms move only norms.
# The `..._paper-loss.py` twins switch the four off. HCL configs inherit it
# next to their baseline twin and set `model = dict(hyp_head=_base_.hyp_head)`,
# or `dict(_base_.hyp_head, feat_dim=256)` to change one key.
hyp_head = dict(
    _delete_=True,  # replaces the baseline's `hyp_head=None`
    type='HyperbolicSceneObjectHead',
    embedder=dict(
        type='HyperbolicEmbedder',
        manifold=dict(type='PoincareBall', c=0.05, learnable=False),
        clip_r=4.6,
        scale_norm=3.0,
        norm_only_grad=True),
    contrast_loss=dict(
        type='HyperbolicInfoNCELoss', temperature=0.2, loss_weight=0.1),
    pair_losses=dict(
        entail=dict(
            type='EntailmentConeLoss', k=0.1, apex_radius=0.1,
            loss_weight=0.3)),
    online_pair=True,
    queue_len=65536,
    feat_dim=128)
