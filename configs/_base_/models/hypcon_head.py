# The hyperbolic instance-contrast head (Yue et al., 2023) of the hypcon/
# and mochi/ configs: projections mapped to the Poincare ball of curvature
# -0.1, features clipped to hyperbolic distance 4.6 from the origin (the
# Euclidean radius 2.3 of Ermolov et al. on the ball), similarities -d / T.
# Configs inherit this file next to their own base and set
# `head=dict(_base_.hypcon_head, loss=...)` (with `_delete_=True` where a
# Euclidean head is replaced).
hypcon_head = dict(
    type='HyperbolicContrastiveHead',
    manifold=dict(type='PoincareBall', c=0.1),
    clip_r=4.6)
