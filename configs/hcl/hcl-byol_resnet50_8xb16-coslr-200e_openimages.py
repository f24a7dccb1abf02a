# HCL on BYOL: the baseline twin plus the hyperbolic scene-object head with the
# recipe that forms the scene-object hierarchy
# (`configs/_base_/models/hcl_head.py`, docs/hcl.md). Twins: the baseline
# `byol_resnet50_8xb16-coslr-200e_openimages.py` and the paper's loss alone
# `hcl-byol_resnet50_8xb16-coslr-200e_openimages_paper-loss.py`.
_base_ = ['./byol_resnet50_8xb16-coslr-200e_openimages.py',
          '../_base_/models/hcl_head.py']

# BYOL's projection is 256-d.
model = dict(hyp_head=dict(_base_.hyp_head, feat_dim=256))
