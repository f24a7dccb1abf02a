"""Weighted kNN accuracy of a frozen pretrained backbone.

Features are the global-average-pooled last stage of the config's backbone
(``model.extract_feat``: backbone + neck), computed without augmentation on
the config's ``train_dataloader`` (the memory bank) and ``val_dataloader``
(the queries), L2-normalised. Each query is classified by its ``k`` nearest
train samples by cosine similarity ``s``; neighbour ``j`` votes for its class
with weight ``exp(s_j / T)`` (Wu et al. 2018; k = 20, T = 0.07 by default, as
in OpenMMLab's and DINO's kNN protocol). Reports top-1 and top-5 accuracy (%).

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
import importlib.util
import json
import os
import os.path as osp
import sys
import time

import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed
from mmengine.utils import track_iter_progress

from hclmm.evaluation.functional import knn_neighbours, knn_votes

__all__ = ['knn_scores', 'knn_accuracy', 'extract_features']


def knn_scores(train_feats,
               train_labels,
               query_feats,
               num_classes,
               k=20,
               temperature=0.07,
               chunk_size=1024):
    """Class scores of a weighted kNN classifier.

    ``score[q, c] = sum over the k nearest train samples j of q with label c
    of exp(cos(q, j) / temperature)``; the neighbours and votes come from
    :mod:`hclmm.evaluation.functional.knn`, the kNN of the zero-shot metric.

    Args:
        train_feats (Tensor): (N, C) train features (normalised here).
        train_labels (Tensor): (N,) integer labels.
        query_feats (Tensor): (M, C) query features (normalised here).
        num_classes (int): Number of classes.
        k (int): Number of neighbours (capped at N). Defaults to 20.
        temperature (float): Softmax temperature of the votes.
            Defaults to 0.07.
        chunk_size (int): Queries per similarity block. Defaults to 1024.

    Returns:
        Tensor: (M, num_classes) scores.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if train_feats.shape[0] != train_labels.shape[0]:
        raise ValueError(f'{train_feats.shape[0]} train features but '
                         f'{train_labels.shape[0]} labels')
    k = min(k, train_feats.shape[0])
    train_feats = F.normalize(train_feats.float(), dim=1)
    train_labels = train_labels.long().to(train_feats.device)
    scores = []
    for start in range(0, query_feats.shape[0], chunk_size):
        query = F.normalize(
            query_feats[start:start + chunk_size].float().to(
                train_feats.device),
            dim=1)
        sim = query @ train_feats.t()
        nearest = knn_neighbours(-sim, k)
        weights = (sim.gather(1, nearest) / temperature).exp()
        scores.append(
            knn_votes(train_labels[nearest], num_classes, weights).cpu())
    return torch.cat(scores)


def knn_accuracy(scores, labels, topk=(1, 5)):
    """Top-k accuracies (%) of class scores against integer labels."""
    result = {}
    for k in topk:
        k_eff = min(k, scores.shape[1])
        pred = scores.topk(k_eff, dim=1).indices
        hit = (pred == labels.view(-1, 1).long()).any(dim=1)
        result[f'top{k}'] = 100.0 * hit.float().mean().item()
    return result


@torch.no_grad()
def extract_features(model, dataloader, device='cpu', progress=True):
    """Pooled features and labels of every sample of a dataloader.

    Args:
        model: An mmpretrain classifier with ``data_preprocessor`` and
            ``extract_feat``.
        dataloader: Yields mmpretrain batches whose data samples carry
            ``gt_label``.
        device (str): Device of the forward passes. Defaults to 'cpu'.
        progress (bool): Show mmengine's progress bar (on stderr).
            Defaults to True.

    Returns:
        tuple[Tensor, Tensor]: (N, C) features and (N,) labels, on the CPU.
    """
    model.eval()
    feats, labels = [], []
    batches = dataloader
    if progress:
        batches = track_iter_progress((dataloader, len(dataloader)),
                                      file=sys.stderr)
    for batch in batches:
        data = model.data_preprocessor(batch, False)
        out = model.extract_feat(data['inputs'].to(device))
        if isinstance(out, (tuple, list)):
            out = out[-1]
        if out.dim() > 2:
            out = F.adaptive_avg_pool2d(out, 1)
        feats.append(out.flatten(1).float().cpu())
        labels.append(
            torch.cat([s.gt_label.view(-1) for s in data['data_samples']]))
    return torch.cat(feats), torch.cat(labels).long()


def _pretrain_prefix(checkpoint):
    path = osp.join(
        osp.dirname(osp.dirname(osp.abspath(__file__))), 'pretrain_prefix.py')
    spec = importlib.util.spec_from_file_location('pretrain_prefix', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.backbone_prefix(checkpoint)


def parse_args():
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
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    knn_cfg = dict(k=20, temperature=0.07)
    knn_cfg.update(cfg.get('knn', {}))
    if args.k is not None:
        knn_cfg['k'] = args.k
    if args.temperature is not None:
        knn_cfg['temperature'] = args.temperature
    if args.checkpoint:
        cfg.model.backbone.init_cfg = dict(
            type='Pretrained',
            checkpoint=args.checkpoint,
            prefix=_pretrain_prefix(args.checkpoint))
    for name in ('train_dataloader', 'val_dataloader'):
        loader = cfg[name]
        if args.batch_size:
            loader.batch_size = args.batch_size
        loader.setdefault('collate_fn', dict(type='default_collate'))
        loader.sampler = dict(type='DefaultSampler', shuffle=False)
        loader.persistent_workers = False
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'benchmarks', 'classification',
        osp.splitext(osp.basename(args.config))[0])

    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    # the seed of the config (``--cfg-options randomness.seed=S``) fixes the
    # weights that no checkpoint sets, as tools/train.py does
    seed = (cfg.get('randomness') or {}).get('seed')
    if seed is not None:
        set_random_seed(seed)
    from mmpretrain.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(args.device)

    start = time.time()
    results = {}
    for split, name in (('train', 'train_dataloader'), ('val',
                                                         'val_dataloader')):
        loader = Runner.build_dataloader(cfg[name])
        print(f'Extracting {split} features ({len(loader.dataset)} '
              f'samples, {len(loader)} batches) ...', flush=True)
        results[split] = extract_features(model, loader, args.device)
    (train_feats, train_labels), (val_feats, val_labels) = \
        results['train'], results['val']
    classes = getattr(loader.dataset, 'metainfo', {}).get('classes')
    num_classes = len(classes) if classes else int(
        max(train_labels.max(), val_labels.max())) + 1
    scores = knn_scores(
        train_feats.to(args.device),
        train_labels,
        val_feats,
        num_classes,
        k=knn_cfg['k'],
        temperature=knn_cfg['temperature'])
    acc = knn_accuracy(scores, val_labels)

    os.makedirs(work_dir, exist_ok=True)
    out_file = osp.join(
        work_dir, f"knn_k{knn_cfg['k']}_t{knn_cfg['temperature']}.json")
    summary = dict(
        config=args.config,
        checkpoint=args.checkpoint or (cfg.model.backbone.get('init_cfg')
                                       or {}).get('checkpoint'),
        seed=seed,
        k=knn_cfg['k'],
        temperature=knn_cfg['temperature'],
        num_train=int(train_feats.shape[0]),
        num_val=int(val_feats.shape[0]),
        num_classes=num_classes,
        **acc)
    with open(out_file, 'w') as f:
        json.dump(summary, f, indent=2)
    print(f"kNN (k={knn_cfg['k']}, T={knn_cfg['temperature']}): top-1 "
          f"{acc['top1']:.2f}%, top-5 {acc['top5']:.2f}% on "
          f'{val_feats.shape[0]} val / {train_feats.shape[0]} train samples '
          f'({time.time() - start:.1f} s). Wrote {out_file}')


if __name__ == '__main__':
    main()
