# Hyperbolic instance contrast (Yue et al., 2023) on SimCLR, ResNet-18, toy
# object crops: both views of every crop are mapped to the Poincare ball
# (c = 0.1, features clipped to 2.3) and compared by -d / T; every view is an
# anchor whose positive is the other view of its crop (NT-Xent with
# hyperbolic similarities). Euclidean twin:
# simclr_resnet18_1xb32-2e_toy-scenes.py.
_base_ = [
    './simclr_resnet18_1xb32-2e_toy-scenes.py',
    '../_base_/models/hypcon_head.py'
]

model = dict(
    type='HypSimCLR',
    head=dict(
        _base_.hypcon_head,
        _delete_=True,
        loss=dict(type='HyperbolicSupConLoss', temperature=0.2)))
