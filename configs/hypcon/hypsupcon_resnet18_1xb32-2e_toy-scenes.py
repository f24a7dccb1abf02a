# Supervised contrastive pretraining in hyperbolic space (Yue et al., 2023) on
# the labelled toy object crops: every view of a crop of the same shape class
# is a positive (SupCon with -d / T in the Poincare ball).
_base_ = ['./hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py']

model = dict(type='HypSupCon')
