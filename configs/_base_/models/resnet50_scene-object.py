# The ResNet-50 models of the scene-object configs: no hyperbolic head
# (`hyp_head=None`, the baseline twin; the HCL configs set the head of
# `hcl_head.py`) and channels-last convolutions on GPUs
# (docs/training_fast.md). The algorithm bases (`mocov2_resnet50.py`,
# `simclr_resnet50.py`, ...) add the type, neck and head.
_base_ = ['./resnet50_selfsup.py']

model = dict(hyp_head=None, channels_last=True)
