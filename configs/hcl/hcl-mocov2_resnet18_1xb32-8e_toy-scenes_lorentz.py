# The toy HCL recipe on the Lorentz model (hyperboloid) of curvature -0.05,
# entailment cones included. On the hyperboloid dist0(exp_0(u)) = |u|, on the
# ball 2|u| (the ball's metric convention), so the radius targets double:
# scale_norm 3.0 and clip_r 4.6 give the same hyperbolic norms (typical 3.0,
# at most 4.6) as the Poincare recipe's 1.5 and 2.3.
_base_ = ['./hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py']

model = dict(
    hyp_head=dict(
        embedder=dict(
            manifold=dict(type='Lorentz', c=0.05, _delete_=True),
            clip_r=4.6,
            scale_norm=3.0)))
