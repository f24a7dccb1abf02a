"""Weighted kNN accuracy of a frozen backbone (Wu et al. 2018)."""
import json
import os
import os.path as osp
import time
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.config import Config

from hclmm.evaluation.functional import knn_neighbours, knn_votes

from .inference import extract_features, init_model

__all__ = ['knn_scores', 'knn_accuracy', 'knn_eval']


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


def knn_eval(config: str,
             checkpoint: Optional[str] = None,
             k: Optional[int] = None,
             temperature: Optional[float] = None,
             batch_size: Optional[int] = None,
             device: str = 'cpu',
             work_dir: Optional[str] = None,
             cfg_options: Optional[dict] = None) -> Dict:
    """Weighted kNN accuracy of a benchmark config's frozen backbone.

    Features (:func:`~hclmm.apis.extract_features`, pooled last stage) of
    the config's ``train_dataloader`` (the memory bank) and
    ``val_dataloader`` (the queries), in order and without shuffling; k and
    T from the config's ``knn`` dict (20 and 0.07 when absent) unless given.
    The config's seed (``randomness.seed``) fixes the weights that no
    checkpoint sets, as ``tools/train.py`` does. Writes
    ``WORK_DIR/knn_k{k}_t{T}.json`` and returns its content.

    Args:
        config (str): Benchmark config (model and data).
        checkpoint (str, optional): Extracted backbone or pretraining
            checkpoint. Defaults to None (the config's ``init_cfg``).
        k (int, optional): Neighbours.
        temperature (float, optional): Vote temperature.
        batch_size (int, optional): Images per batch. Defaults to the
            config's.
        device (str): Defaults to 'cpu'.
        work_dir (str, optional): Defaults to
            ``work_dirs/benchmarks/classification/<config name>``.
        cfg_options (dict, optional): Overrides of the config.
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, set_random_seed
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    knn_cfg = dict(k=20, temperature=0.07)
    knn_cfg.update(cfg.get('knn', {}))
    if k is not None:
        knn_cfg['k'] = k
    if temperature is not None:
        knn_cfg['temperature'] = temperature
    for name in ('train_dataloader', 'val_dataloader'):
        loader = cfg[name]
        if batch_size:
            loader.batch_size = batch_size
        loader.setdefault('collate_fn', dict(type='default_collate'))
        loader.sampler = dict(type='DefaultSampler', shuffle=False)
        loader.persistent_workers = False
    work_dir = work_dir or osp.join(
        'work_dirs', 'benchmarks', 'classification',
        osp.splitext(osp.basename(config))[0])

    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    seed = (cfg.get('randomness') or {}).get('seed')
    if seed is not None:
        set_random_seed(seed)
    model, cfg = init_model(cfg, checkpoint, device=device,
                            backbone_only=True)

    start = time.time()
    results = {}
    for split, name in (('train', 'train_dataloader'),
                        ('val', 'val_dataloader')):
        loader = Runner.build_dataloader(cfg[name])
        print(f'Extracting {split} features ({len(loader.dataset)} '
              f'samples, {len(loader)} batches) ...', flush=True)
        results[split] = extract_features(model, loader,
                                          desc=f'{split} features')
    train, val = results['train'], results['val']
    classes = getattr(loader.dataset, 'metainfo', {}).get('classes')
    num_classes = len(classes) if classes else int(
        max(train['labels'].max(), val['labels'].max())) + 1
    scores = knn_scores(
        train['feats'].to(device), train['labels'], val['feats'],
        num_classes, k=knn_cfg['k'], temperature=knn_cfg['temperature'])
    acc = knn_accuracy(scores, val['labels'])

    os.makedirs(work_dir, exist_ok=True)
    out_file = osp.join(
        work_dir, f"knn_k{knn_cfg['k']}_t{knn_cfg['temperature']}.json")
    summary = dict(
        config=config,
        checkpoint=checkpoint or (cfg.model.backbone.get('init_cfg')
                                  or {}).get('checkpoint'),
        seed=seed,
        k=knn_cfg['k'],
        temperature=knn_cfg['temperature'],
        num_train=int(train['feats'].shape[0]),
        num_val=int(val['feats'].shape[0]),
        num_classes=num_classes,
        **acc)
    with open(out_file, 'w') as f:
        json.dump(summary, f, indent=2)
    print(f"kNN (k={knn_cfg['k']}, T={knn_cfg['temperature']}): top-1 "
          f"{acc['top1']:.2f}%, top-5 {acc['top5']:.2f}% on "
          f"{summary['num_val']} val / {summary['num_train']} train samples "
          f'({time.time() - start:.1f} s). Wrote {out_file}', flush=True)
    return summary
