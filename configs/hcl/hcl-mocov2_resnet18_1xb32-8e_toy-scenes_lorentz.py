# The toy HCL recipe on the Lorentz model (hyperboloid) of curvature -0.05,
# entailment cones included. clip_r and scale_norm are distances to the
# origin on every model, so the recipe's 4.6 and 3.0 give the same
# hyperbolic norms (typical 3.0, at most 4.6) as on the Poincare ball.
_base_ = ['./hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py']

model = dict(
    hyp_head=dict(
        embedder=dict(
            manifold=dict(type='Lorentz', c=0.05, _delete_=True))))
