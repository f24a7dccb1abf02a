# The suite's segmentation with a 0.1x learning rate on the backbone (the
# neck and head keep lr 0.01): fine-tuning that stays nearer the pretrained
# weights. One variable of the transfer diagnosis.
_base_ = '../../../configs/benchmarks/mmsegmentation/toy_scenes/fpn_r18_1xb8-250it_toy-scenes-128x128.py'

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
