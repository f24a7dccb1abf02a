# MV-DHEL on ResNet-50, ImageNet-1k, 4 crops per image, batch 256, 200 epochs.
_base_ = ['./mv-infonce_resnet50_8xb32-coslr-200e_in1k_4view.py']

model = dict(head=dict(loss=dict(type='MVDHELLoss', temperature=0.1)))
