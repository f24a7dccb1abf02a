# The SGD schedule on 8 GPUs x 16 scene-object samples (learning rate for a
# total batch of 128) with mixed precision: bfloat16 autocast without loss
# scaling where the GPU has it (float16 with a loss scaler on others, float32
# on the CPU); see docs/training_fast.md.
_base_ = ['./sgd_coslr-200e.py', '../default_runtime.py']

optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper', dtype='auto', optimizer=dict(lr=0.015))
auto_scale_lr = dict(base_batch_size=128)
