# The suite's segmentation fine-tuned for 4000 steps instead of 250 (the
# same poly schedule, stretched). One variable of the transfer diagnosis.
_base_ = '../../../configs/benchmarks/mmsegmentation/toy_scenes/fpn_r18_1xb8-250it_toy-scenes-128x128.py'

max_iters = 4000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [dict(_base_.param_scheduler[0], end=max_iters)]
default_hooks = dict(checkpoint=dict(interval=max_iters))
