# HCL on MoCo v2, ResNet-18, the generated toy scenes (`make demo`): the
# recipe that forms the scene-object hierarchy within the demo's 200
# iterations (`configs/_base_/models/hcl_head.py`, the head of the ResNet-50
# configs, with a 4,096-key queue; docs/hcl.md, "What the toy runs show"):
# - the paper's hyperbolic scene-object InfoNCE (c 0.05, T 0.2, weight 0.1,
#   clipped at distance 4.6 from the origin);
# - scale_norm: each batch is rescaled to a geometric-mean distance of 3.0, so
#   the loss cannot inflate every norm until all points sit on the clipping
#   sphere (where clipping removes the radial gradient);
# - online_pair: scenes and objects also pass the online encoder together,
#   sharing one scale, so scene norms can move against object norms;
# - the entailment cone (Ganea et al. 2018, as in MERU): each object should
#   lie in its scene's cone, i.e. farther out;
# - norm_only_grad: the hyperbolic terms reach only the norms, so directions
#   (and the object kNN) are learnt by MoCo's loss alone.
# Twins: `mocov2_resnet18_1xb32-8e_toy-scenes.py` (baseline),
# `..._paper-loss.py` (the paper's loss alone), `..._lorentz.py` (the recipe
# on the Lorentz model).
_base_ = [
    './mocov2_resnet18_1xb32-8e_toy-scenes.py', '../_base_/models/hcl_head.py'
]

model = dict(hyp_head=dict(_base_.hyp_head, queue_len=4096))
