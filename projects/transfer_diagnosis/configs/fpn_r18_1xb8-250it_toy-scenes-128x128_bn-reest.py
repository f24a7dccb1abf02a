# The suite's (fine-tuned) segmentation with the backbone's BatchNorm
# statistics re-estimated on 50 training batches of the target scenes
# before the first step (BNReestimationHook). One variable of the transfer
# diagnosis.
_base_ = '../../../configs/benchmarks/mmsegmentation/toy_scenes/fpn_r18_1xb8-250it_toy-scenes-128x128.py'

# hclmm's registries are children of mmpretrain's, which a `hclmm.` prefix
# does not reach from mmseg's scope; `_scope_` builds the hook from hclmm's
# registry
custom_hooks = [
    dict(type='BNReestimationHook', _scope_='hclmm', num_batches=50)]
