# DenseCL on ResNet-50, 8 GPUs x 16 scene-object samples, 200 epochs on
# OpenImages: the baseline twin of `hcl-
# densecl_resnet50_8xb16-coslr-200e_openimages.py` (same data and object views,
# no hyperbolic loss).
_base_ = ['../_base_/models/densecl_resnet50.py',
          '../_base_/datasets/openimages_scene-object.py',
          '../_base_/schedules/sgd_coslr-200e_8xb16-amp.py']
