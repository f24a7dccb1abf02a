# Weighted kNN (k = 20, T = 0.07) on frozen ResNet-18 features of the toy
# scenes' object crops: train crops are the memory bank, val crops the
# queries. Run with tools/benchmarks/classification/knn_eval.py.
_base_ = './resnet18_linear-1xb32-steplr-10e_toy-scenes.py'

train_dataloader = dict(
    dataset=dict(pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False))

knn = dict(k=20, temperature=0.07)
