# MV-InfoNCE on ResNet-50, ImageNet-1k, 2 random crops per image: the SimCLR
# recipe of ../dcl/ (batch 8 x 32 = 256, LARS lr 0.3, 200 epochs, SyncBN),
# T = 0.1 (the authors' ImageNet-1k temperature and lr; their ImageNet-100
# recipe uses T = 0.5).
_base_ = ['../dcl/dcl-simclr_resnet50_8xb32-coslr-200e_in1k.py']

loss = dict(type='MVInfoNCELoss', temperature=0.1)
model = dict(
    type='MultiViewSimCLR',
    head=dict(_delete_=True, type='MultiViewContrastiveHead', loss=loss))
