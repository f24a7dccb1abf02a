# simclr on ResNet-50, 8 GPUs x 16 scene-object samples, 200 epochs on
# openimages: the baseline twin of hcl-simclr_resnet50_8xb16-coslr-200e_openimages.py (same data and object views, no
# hyperbolic loss). Learning rate for a total batch of 128.
_base_ = [
    '../_base_/models/simclr_resnet50.py',
    '../_base_/datasets/openimages_scene-object.py',
    '../_base_/schedules/lars_coslr-200e.py',
    '../_base_/default_runtime.py',
]

# On GPUs: bfloat16 autocast without loss scaling where the GPU has it
# (float16 with a loss scaler on others, float32 on the CPU) and
# channels-last convolutions; see docs/training_fast.md.
optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper',
    dtype='auto',
    optimizer=dict(lr=0.15))
model = dict(channels_last=True)
auto_scale_lr = dict(base_batch_size=128)
