"""Online kNN accuracy of object categories during self-supervised training."""
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import broadcast_object_list, collect_results, get_rank
from mmengine.hooks import Hook

from hclmm.evaluation import embedding_knn_top1
from hclmm.models.utils import global_vector
from hclmm.registry import HOOKS
from ._utils import (build_eval_dataloader, log_scalars, preprocess_views,
                     unwrap_model)

__all__ = ['ObjectKNNHook']


@HOOKS.register_module()
class ObjectKNNHook(Hook):
    """Classify labelled object crops by k nearest neighbours while training.

    Every ``interval`` epochs (or iterations) the model embeds the crops of a
    labelled split (e.g. :class:`~hclmm.datasets.ObjectCropDataset` with an
    object-crop pipeline), features are gathered from all processes, and the
    top-1 accuracy of a kNN classifier is logged as ``{prefix}/top1``: in
    the training log, the message hub and every visualizer backend
    (``scalars.json``, TensorBoard, ...). It also runs after the last epoch
    (iteration).

    Features:

    - ``'backbone'``: globally pooled last backbone stage, L2-normalised, so
      neighbours are ranked by cosine similarity (the usual SSL kNN probe).
    - ``'embedding'``: the model's ``embed_for_zero_shot`` points, ranked by
      the model's own distance (hyperbolic for HCL).

    Without ``bank_dataloader`` the accuracy is leave-one-out on the split;
    with it, the crops of ``dataloader`` are queries and those of
    ``bank_dataloader`` (e.g. the train split) the labelled bank.

    Args:
        dataloader (dict): Config of the labelled query loader; samples need
            ``inputs`` and a ``gt_label`` in their data sample. A non-shuffled
            ``DefaultSampler`` and ``default_collate`` are used unless given.
        bank_dataloader (dict, optional): Config of a labelled bank loader.
            Defaults to None (leave-one-out).
        interval (int): Evaluate every ``interval`` epochs (iterations).
            Defaults to 1.
        by_epoch (bool): Count ``interval`` in epochs, else iterations.
            Defaults to True.
        k (int): Neighbours voting. Defaults to 1.
        features (str): ``'backbone'`` or ``'embedding'``.
            Defaults to 'backbone'.
        prefix (str): Name prefix of the logged scalar. Defaults to 'knn'.
        collect_device (str): ``'cpu'`` or ``'gpu'``, how features are
            gathered across processes (see
            :func:`mmengine.dist.collect_results`). Defaults to 'cpu'.
        chunk_size (int): Query rows per distance block. Defaults to 1024.
    """

    priority = 'NORMAL'

    def __init__(self,
                 dataloader: dict,
                 bank_dataloader: Optional[dict] = None,
                 interval: int = 1,
                 by_epoch: bool = True,
                 k: int = 1,
                 features: str = 'backbone',
                 prefix: str = 'knn',
                 collect_device: str = 'cpu',
                 chunk_size: int = 1024) -> None:
        if features not in ('backbone', 'embedding'):
            raise ValueError("features must be 'backbone' or 'embedding', "
                             f'got {features!r}')
        if int(interval) != interval or interval < 1:
            raise ValueError(f'interval must be a positive integer, got '
                             f'{interval}')
        if int(k) != k or k < 1:
            raise ValueError(f'k must be a positive integer, got {k}')
        self.dataloader_cfg = dataloader
        self.bank_dataloader_cfg = bank_dataloader
        self.interval = int(interval)
        self.by_epoch = by_epoch
        self.k = int(k)
        self.features = features
        self.prefix = prefix
        self.collect_device = collect_device
        self.chunk_size = chunk_size
        self._loader = None
        self._bank_loader = None
        self.last_result: Optional[float] = None

    def before_train(self, runner) -> None:
        self._loader = build_eval_dataloader(runner, self.dataloader_cfg)
        if self.bank_dataloader_cfg is not None:
            self._bank_loader = build_eval_dataloader(runner,
                                                      self.bank_dataloader_cfg)

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and (self.every_n_epochs(runner, self.interval)
                              or self.is_last_train_epoch(runner)):
            self.evaluate(runner, step=runner.iter)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if not self.by_epoch and (self.every_n_train_iters(
                runner, self.interval) or self.is_last_train_iter(runner)):
            self.evaluate(runner, step=runner.iter + 1)

    @torch.no_grad()
    def _extract(self, model, loader) -> Tuple[torch.Tensor, np.ndarray, str,
                                               Optional[float]]:
        part, geometry = [], ('euclidean', None)
        for data in loader:
            inputs = data['inputs']
            if isinstance(inputs, (list, tuple)):  # multi-view: first view
                inputs = inputs[0]
            images = preprocess_views(model, inputs)
            if self.features == 'backbone':
                # float64: features of a young model are nearly parallel
                feats = F.normalize(
                    global_vector(model.extract_feat(images), index=-1).double(), dim=1)
            else:
                out = model.embed_for_zero_shot(images)
                feats = out['points']
                geometry = (out['manifold'], None)
            for feat, sample in zip(feats.cpu(), data['data_samples']):
                if 'gt_label' not in sample:
                    raise KeyError(
                        'ObjectKNNHook needs labelled samples (gt_label in '
                        'the data samples); use e.g. ObjectCropDataset with '
                        'PackInputs')
                part.append((feat.numpy(), int(sample.gt_label[0])))
        gathered = collect_results(part, len(loader.dataset),
                                   self.collect_device)
        if gathered is None:  # not the main process
            return None, None, geometry[0], geometry[1]
        feats = torch.from_numpy(np.stack([f for f, _ in gathered]))
        labels = np.array([label for _, label in gathered])
        return feats, labels, geometry[0], geometry[1]

    def evaluate(self, runner, step: Optional[int] = None) -> float:
        """Embed the split(s), compute and log the kNN accuracy.

        Args:
            runner (Runner): The runner.
            step (int, optional): Iteration the result is logged at.
                Defaults to ``runner.iter``.

        Returns:
            float: The top-1 accuracy (the same on every process).
        """
        if self._loader is None:
            self.before_train(runner)
        model = unwrap_model(runner.model)
        was_training = model.training
        model.eval()
        try:
            feats, labels, manifold, c = self._extract(model, self._loader)
            bank = (None, None)
            if self._bank_loader is not None:
                bank = self._extract(model, self._bank_loader)[:2]
        finally:
            model.train(was_training)
        result = [None]
        if get_rank() == 0:
            result[0] = embedding_knn_top1(
                feats,
                labels,
                manifold,
                c,
                k=self.k,
                bank_points=bank[0],
                bank_labels=bank[1],
                chunk_size=self.chunk_size)
        broadcast_object_list(result)
        self.last_result = float(result[0])
        mode = 'leave-one-out' if self._bank_loader is None else 'bank'
        log_scalars(
            runner, {f'{self.prefix}/top1': self.last_result},
            step=runner.iter if step is None else step,
            header=f'Object kNN ({self.features} features, k={self.k}, '
            f'{mode}, {len(self._loader.dataset)} queries):')
        return self.last_result
