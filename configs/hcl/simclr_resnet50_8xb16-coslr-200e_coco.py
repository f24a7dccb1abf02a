# SimCLR on ResNet-50, 8 GPUs x 16 scene-object samples, 200 epochs on COCO:
# the baseline twin of `hcl-simclr_resnet50_8xb16-coslr-200e_coco.py` (same
# data and object views, no hyperbolic loss).
_base_ = ['../_base_/models/simclr_resnet50.py',
          '../_base_/datasets/coco_scene-object.py',
          '../_base_/schedules/lars_coslr-200e_8xb16-amp.py']
