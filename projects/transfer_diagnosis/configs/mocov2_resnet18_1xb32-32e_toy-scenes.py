# The toy MoCo v2 baseline pretrained four times longer (32 epochs), the
# same warm-up and cosine schedule stretched. One variable of the transfer
# diagnosis (projects/transfer_diagnosis/README.md).
_base_ = ['../../../configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py']

max_epochs = 32
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True,
         begin=1, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
