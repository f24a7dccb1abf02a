# MV-DHEL with 4 views per object (toy object crops, 16 objects x 4 views per
# step).
_base_ = ['./mv-infonce_resnet18_1xb16-194it_toy-scenes_4view.py']

model = dict(head=dict(loss=dict(type='MVDHELLoss', temperature=0.1)))
