# HCL on MoCo v2, ResNet-18, the generated toy scenes, with the paper's loss
# alone (the reference recipe's head: clip 2.3, c 0.05, T 0.2, weight 0.1): the
# baseline twin plus the hyperbolic scene-object head. `make demo` runs it
# next to `hcl-mocov2_resnet18_toy-scenes.py` and the baseline.
_base_ = ['./mocov2_resnet18_toy-scenes.py']

model = dict(
    hyp_head=dict(
        _delete_=True,
        type='HyperbolicSceneObjectHead',
        manifold='poincare',
        curvature=0.05,
        learn_curvature=False,
        clip_r=2.3,
        loss=dict(type='HyperbolicInfoNCELoss', temperature=0.2),
        loss_weight=0.1,
        queue_len=4096,
        feat_dim=128))
