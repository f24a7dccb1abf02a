# The toy HCL recipe in flat space: the Poincare ball replaced by Euclidean
# space (curvature 0), everything else equal, to measure what the hyperbolic
# geometry adds. The Euclidean cones are Ganea et al.'s flat cones.
# clip_r and scale_norm are distances to the origin on every model (here
# Euclidean norms), so norms, distances and therefore the temperature act on
# the same scale as in the Poincare recipe (the ball tends to this space as
# c -> 0).
_base_ = ['./hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py']

model = dict(
    hyp_head=dict(
        embedder=dict(manifold=dict(type='Euclidean', _delete_=True))))
