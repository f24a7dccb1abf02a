# The toy HCL recipe in flat space: the Poincare ball replaced by Euclidean
# space (curvature 0), everything else equal, to measure what the hyperbolic
# geometry adds. The Euclidean cones are Ganea et al.'s flat cones.
# Euclidean norms are |u| (dist0(exp_0(u)) = |u|, as on the Lorentz model),
# while the ball's are 2|u|; the radius targets double as in
# `..._lorentz.py` (scale_norm 3.0, clip_r 4.6), so norms, distances and
# therefore the temperature act on the same scale as in the Poincare recipe
# (the ball tends to this space as c -> 0).
_base_ = ['./hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py']

model = dict(
    hyp_head=dict(
        embedder=dict(
            manifold=dict(type='Euclidean', _delete_=True),
            clip_r=4.6,
            scale_norm=3.0)))
