# The frozen segmentation probe with the backbone's BatchNorm statistics
# re-estimated on 50 training batches of the target scenes before training
# (BNReestimationHook): the weights are the pretrained ones, the statistics
# those of the target images. One variable of the transfer diagnosis.
_base_ = './fpn_r18_1xb8-250it_toy-scenes-128x128_frozen.py'

# hclmm's registries are children of mmpretrain's, which a `hclmm.` prefix
# does not reach from mmseg's scope; `_scope_` builds the hook from hclmm's
# registry
custom_hooks = [
    dict(type='BNReestimationHook', _scope_='hclmm', num_batches=50)]
