# The suite's segmentation with the backbone frozen (every stage and the
# stem, BatchNorm statistics too): only the FPN neck and head learn, so the
# number measures what the backbone's features hold, not how far 250 steps
# move them. One variable of the transfer diagnosis.
_base_ = '../../../configs/benchmarks/mmsegmentation/toy_scenes/fpn_r18_1xb8-250it_toy-scenes-128x128.py'

model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
