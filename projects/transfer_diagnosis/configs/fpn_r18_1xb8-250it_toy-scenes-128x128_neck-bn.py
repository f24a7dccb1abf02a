# The suite's segmentation with BatchNorm in the FPN neck (mmseg's FPN has
# none by default), as the self-supervised detection protocols normalise
# every new layer: features whose scale differs from a random backbone's
# then reach the head at one scale. One variable of the transfer diagnosis.
_base_ = '../../../configs/benchmarks/mmsegmentation/toy_scenes/fpn_r18_1xb8-250it_toy-scenes-128x128.py'

model = dict(neck=dict(norm_cfg=dict(type='BN', requires_grad=True)))
