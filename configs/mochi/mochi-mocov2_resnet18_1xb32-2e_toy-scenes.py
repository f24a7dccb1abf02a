# MoCHi (hard negative mixing) on MoCo v2, ResNet-18, toy object crops: for
# each query, the 256 hardest of the 4,096 queued keys give 128 mixtures of
# two of them and 64 mixtures with the query (its weight below 0.5); their
# logits join the queue's. Mixing starts with the second epoch, once most of
# the queue holds real keys. Baseline twin:
# ../hypcon/mocov2_resnet18_1xb32-2e_toy-scenes.py (same encoders, queue and
# schedule; MoCHiHead without mixing is mmpretrain's ContrastiveHead).
_base_ = ['../hypcon/mocov2_resnet18_1xb32-2e_toy-scenes.py']

mixing = dict(
    type='HardNegativeMixing',
    num_hard=256, num_mix=128, num_query_mix=64, start_epoch=1)
model = dict(
    type='MoCHi',
    head=dict(
        _delete_=True,
        type='MoCHiHead',
        temperature=0.2,
        mixing=mixing))
