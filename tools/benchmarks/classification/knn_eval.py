"""Weighted kNN accuracy of a frozen pretrained backbone.

Features are the global-average-pooled last stage of the config's backbone
(``model.extract_feat``: backbone + neck), computed without augmentation on
the config's ``train_dataloader`` (the memory bank) and ``val_dataloader``
(the queries), L2-normalised. Each query is classified by its ``k`` nearest
train samples by cosine similarity ``s``; neighbour ``j`` votes for its class
with weight ``exp(s_j / T)`` (Wu et al. 2018; k = 20, T = 0.07 by default, as
in OpenMMLab's and DINO's kNN protocol). Reports top-1 and top-5 accuracy (%)
(:func:`hclmm.apis.knn_eval`).

Example::

    CFG=configs/benchmarks/classification/imagenet
    python tools/benchmarks/classification/knn_eval.py \\
        $CFG/resnet50_knn-k20-t0.07_in1k.py \\
        --checkpoint work_dirs/hcl-mocov2_resnet50/backbone.pth

Runs in one process (``--device cuda`` when a GPU is there); the train
features are kept in memory (N x C floats: 10 GiB for ImageNet-1k and a
ResNet-50).
"""
import argparse

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Weighted kNN accuracy of a frozen backbone.')
    parser.add_argument('config', help='benchmark config (model + data)')
    parser.add_argument(
        '--checkpoint',
        help='backbone weights (extract_backbone_weights.py output) or a raw '
        'pretraining checkpoint; default: the config\'s init_cfg')
    parser.add_argument('--k', type=int, help='neighbours (config: knn.k)')
    parser.add_argument(
        '--temperature', type=float, help='vote temperature (knn.temperature)')
    parser.add_argument('--batch-size', type=int, help='images per batch')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda')
    parser.add_argument(
        '--work-dir',
        help='where the json result goes (default: '
        'work_dirs/benchmarks/classification/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def main(argv=None):
    from hclmm.apis import knn_eval
    return knn_eval(**vars(parse_args(argv)))


if __name__ == '__main__':
    main()
