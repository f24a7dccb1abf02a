# HCL on MoCo v2: the baseline twin plus the hyperbolic scene-object head with
# the recipe that forms the scene-object hierarchy
# (`configs/_base_/models/hcl_head.py`, docs/hcl.md). Twins: the baseline
# `mocov2_resnet50_8xb16-coslr-200e_openimages.py` and the paper's loss alone
# `hcl-mocov2_resnet50_8xb16-coslr-200e_openimages_paper-loss.py`.
_base_ = ['./mocov2_resnet50_8xb16-coslr-200e_openimages.py',
          '../_base_/models/hcl_head.py']

model = dict(hyp_head=_base_.hyp_head)
