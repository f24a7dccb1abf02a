# MoCHi with hyperbolic logits on the toy object crops:
# ../hypcon/hypcon-mocov2_resnet18_1xb32-2e_toy-scenes.py (Poincare ball,
# c = 0.1, clip 2.3) with the mixing of
# mochi-mocov2_resnet18_1xb32-2e_toy-scenes.py: the hardest queue entries
# (smallest distance to the query) are mixed in the tangent space at the
# origin and mapped back with exp_0.
_base_ = ['../hypcon/hypcon-mocov2_resnet18_1xb32-2e_toy-scenes.py']

mixing = dict(
    type='HardNegativeMixing',
    num_hard=256, num_mix=128, num_query_mix=64, start_epoch=1)
model = dict(
    type='MoCHi',
    head=dict(mixing=mixing))
