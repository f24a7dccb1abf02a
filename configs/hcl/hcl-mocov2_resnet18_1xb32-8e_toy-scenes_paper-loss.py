# HCL on MoCo v2, ResNet-18, the toy scenes, with the paper's loss alone (the
# reference recipe's head: clip 4.6, c 0.05, T 0.2, weight 0.1): the toy
# recipe without scale normalisation, online pair, entailment cone and
# norm-only gradients. `make demo` runs it next to the recipe and the
# baseline; its norms all reach the clipping sphere and
# HyperbolicSaturationHook warns.
_base_ = ['./hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py']

model = dict(
    hyp_head=dict(
        online_pair=False,
        embedder=dict(scale_norm=None, norm_only_grad=False),
        pair_losses=dict(_delete_=True)))
