# MoCHi(1024, 512, 256) with hyperbolic logits on ResNet-50, ImageNet-1k:
# ../hypcon/hypcon-mocov2_resnet50_8xb32-coslr-200e_in1k.py (Poincare ball,
# c = 0.1, clip 2.3, T = 0.2, queue 65,536) whose hardest queue entries
# (smallest distance to the query) are mixed in the tangent space at the
# origin and mapped back with exp_0, from epoch 10 on.
_base_ = ['../hypcon/hypcon-mocov2_resnet50_8xb32-coslr-200e_in1k.py']

mixing = dict(
    type='HardNegativeMixing',
    num_hard=1024, num_mix=512, num_query_mix=256, start_epoch=10)
model = dict(
    type='MoCHi',
    head=dict(mixing=mixing))
