# Hyperbolic instance contrast on MoCo v2, ResNet-18, toy object crops: logits
# [-d(q, k), -d(q, queue_1), ...] / T in the Poincare ball (c = 0.1, features
# clipped to 2.3); the queue keeps Euclidean key projections and is mapped with
# the current curvature at every step. Euclidean twin:
# mocov2_resnet18_toy-scenes.py.
_base_ = ['./mocov2_resnet18_toy-scenes.py']

model = dict(
    type='HypMoCo',
    head=dict(
        _delete_=True,
        type='HyperbolicContrastiveHead',
        manifold=dict(type='PoincareBall', c=0.1),
                clip_r=2.3,
        loss=dict(type='HyperbolicInfoNCELoss', temperature=0.2)))
