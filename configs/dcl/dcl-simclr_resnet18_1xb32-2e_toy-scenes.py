# DCL (Yeh et al., ECCV 2022) on SimCLR, ResNet-18, toy object crops: the
# positive pair is removed from the InfoNCE denominator. The head replaces
# mmpretrain's ContrastiveHead; SimCLR itself is unchanged. Baseline twin:
# ../hypcon/simclr_resnet18_1xb32-2e_toy-scenes.py.
_base_ = ['../hypcon/simclr_resnet18_1xb32-2e_toy-scenes.py']

model = dict(head=dict(_delete_=True, type='DCLHead', temperature=0.1))
