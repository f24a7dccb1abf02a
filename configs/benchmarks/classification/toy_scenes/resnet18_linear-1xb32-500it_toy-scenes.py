# The linear probe of the transfer suite (tools/benchmarks/transfer.py):
# the toy linear probe (frozen ResNet-18, object crops, lr 30, no weight
# decay) for 500 iterations of 32 crops (about 5 epochs of the 3,200 crops
# of the 800 toy training scenes), stepped x0.1 at 60% and 80% as in the
# base, and validated (Accuracy) once at the end. The budget is in
# iterations, so a smaller labelled set (`transfer.py --label-fraction`)
# trains as many steps, with more passes.
_base_ = './resnet18_linear-1xb32-steplr-10e_toy-scenes.py'

max_iters = 500
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=False,
        milestones=[int(max_iters * 0.6), int(max_iters * 0.8)],
        gamma=0.1)
]
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
