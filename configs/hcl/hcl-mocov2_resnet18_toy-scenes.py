# HCL on MoCo v2, ResNet-18, the generated toy scenes (`make demo`): the
# paper's hyperbolic scene-object InfoNCE plus three guards that let the
# scene-object hierarchy form within the demo's 200 iterations (see
# docs/hcl.md, "What the toy runs show"):
# - scale_norm: each query batch is rescaled to a geometric-mean radius of
#   1.5, so the loss cannot inflate every norm until all points sit on the
#   clipping sphere (where clipping removes the radial gradient);
# - online_pair: scenes and objects also pass the online encoder together,
#   sharing one scale, so scene norms can move against object norms;
# - entailment_weight: an entailment-cone term (Ganea et al. 2018, as in
#   MERU) asks each object to lie in its scene's cone, i.e. farther out;
# - norm_only_grad: the hyperbolic terms reach only the norms, so directions
#   (and the object kNN) are learnt by MoCo's loss alone.
# `hcl-mocov2_resnet18_toy-scenes_paper-loss.py` is the paper's loss alone.
_base_ = ['./hcl-mocov2_resnet18_toy-scenes_paper-loss.py']

model = dict(
    hyp_head=dict(
        scale_norm=1.5,
        online_pair=True,
        entailment_weight=0.3,
        norm_only_grad=True))
