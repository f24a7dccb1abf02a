# DCLW on SimCLR, ResNet-18, toy object crops: DCL whose positive term is
# weighted by w = 2 - exp(s/sigma) / mean_batch(exp(s/sigma)), sigma = 0.5.
_base_ = ['./dcl-simclr_resnet18_1xb32-2e_toy-scenes.py']

model = dict(head=dict(sigma=0.5))
