# The LARS schedule on 8 GPUs x 16 scene-object samples (learning rate for a
# total batch of 128) with mixed precision, as `sgd_coslr-200e_8xb16-amp.py`.
_base_ = ['./lars_coslr-200e.py', '../default_runtime.py']

optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper', dtype='auto', optimizer=dict(lr=0.15))
auto_scale_lr = dict(base_batch_size=128)
