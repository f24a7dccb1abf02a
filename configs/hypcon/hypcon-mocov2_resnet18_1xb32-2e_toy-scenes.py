# Hyperbolic instance contrast on MoCo v2, ResNet-18, toy object crops: logits
# [-d(q, k), -d(q, queue_1), ...] / T in the Poincare ball (c = 0.1, features
# clipped to 2.3); the queue keeps Euclidean key projections and is mapped with
# the current curvature at every step. Euclidean twin:
# mocov2_resnet18_1xb32-2e_toy-scenes.py.
_base_ = [
    './mocov2_resnet18_1xb32-2e_toy-scenes.py',
    '../_base_/models/hypcon_head.py'
]

model = dict(
    type='HypMoCo',
    head=dict(
        _base_.hypcon_head,
        _delete_=True,
        loss=dict(type='HyperbolicInfoNCELoss', temperature=0.2)))
