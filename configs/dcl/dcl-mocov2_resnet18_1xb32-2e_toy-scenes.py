# DCL on MoCo v2, ResNet-18, toy object crops: the queue holds the negatives
# and the positive key leaves the denominator. Baseline twin:
# ../hypcon/mocov2_resnet18_1xb32-2e_toy-scenes.py.
_base_ = ['../hypcon/mocov2_resnet18_1xb32-2e_toy-scenes.py']

model = dict(head=dict(_delete_=True, type='DCLHead', temperature=0.2))
