# HCL on DenseCL: the baseline twin plus the hyperbolic scene-object head with
# the recipe that forms the scene-object hierarchy
# (`configs/_base_/models/hcl_head.py`, docs/hcl.md). Twins: the baseline
# `densecl_resnet50_8xb16-coslr-200e_coco.py` and the paper's loss alone `hcl-
# densecl_resnet50_8xb16-coslr-200e_coco_paper-loss.py`.
_base_ = ['./densecl_resnet50_8xb16-coslr-200e_coco.py',
          '../_base_/models/hcl_head.py']

model = dict(hyp_head=_base_.hyp_head)
