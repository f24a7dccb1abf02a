# MV-DHEL with 2 views per object (toy object crops): MV-InfoNCE 2-view
# config with the decoupled loss.
_base_ = ['./mv-infonce_resnet18_1xb32-194it_toy-scenes_2view.py']

model = dict(head=dict(loss=dict(type='MVDHELLoss', temperature=0.1)))
