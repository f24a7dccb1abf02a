# The frozen segmentation probe with the backbone's BatchNorm statistics
# re-estimated on 50 training batches of the target scenes before training
# (BNReestimationHook): the weights are the pretrained ones, the statistics
# those of the target images. One variable of the transfer diagnosis.
_base_ = './fpn_r18_1xb8-250it_toy-scenes-128x128_frozen.py'

custom_hooks = [dict(type='hclmm.BNReestimationHook', num_batches=50)]
