# The linear probe of the transfer suite (tools/benchmarks/transfer.py):
# the toy linear probe (frozen ResNet-18, object crops, lr 30, no weight
# decay) on 5 epochs, stepped x0.1 at 60% and 80% as in the base, and
# validated (Accuracy) once at the end: about 80 seconds on 2 cores.
_base_ = './resnet18_linear-1xb32-steplr-10e_toy-scenes.py'

max_epochs = 5
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[3, 4], gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
