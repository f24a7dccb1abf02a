"""kNN accuracy of embeddings under their own geometry, in bounded memory."""
from typing import Optional

import numpy as np
import torch

from hclmm.geometry import Manifold, check_manifold
from .functional import knn_predict

__all__ = ['embedding_knn_top1']


@torch.no_grad()
def embedding_knn_top1(points: torch.Tensor,
                       labels,
                       manifold: Manifold,
                       k: int = 1,
                       bank_points: Optional[torch.Tensor] = None,
                       bank_labels=None,
                       chunk_size: int = 1024) -> float:
    """Top-1 accuracy of a k-nearest-neighbour classifier on embeddings.

    Without a bank it is leave-one-out accuracy: every point is classified
    by its k nearest *other* points. With ``bank_points``/``bank_labels``
    the points are queries classified against the bank (e.g. a train split).
    Neighbours are ranked by the geometry's distance and vote as in
    :func:`hclmm.evaluation.functional.knn_predict`.

    Args:
        points (Tensor): N x D query embeddings.
        labels: N labels of the queries.
        manifold (Manifold): The space of the points (its
            ``pairwise_dist`` ranks the neighbours).
        k (int): Neighbours voting. Defaults to 1.
        bank_points (Tensor, optional): M x D bank embeddings.
            Defaults to None (leave-one-out).
        bank_labels: M labels of the bank. Defaults to None.
        chunk_size (int): Query rows per distance block (memory is
            ``chunk_size x M`` doubles). Defaults to 1024.

    Distances are computed in float64 (see
    :func:`hclmm.evaluation.zero_shot_metrics`).

    Returns:
        float: The accuracy in [0, 1].
    """
    check_manifold(manifold)
    points = torch.as_tensor(points).detach().double().cpu()
    labels = np.asarray(labels).reshape(-1)
    if labels.shape != (points.shape[0], ):
        raise ValueError(f'{points.shape[0]} points but {labels.shape[0]} '
                         'labels')
    if points.shape[0] == 0:
        raise ValueError('kNN accuracy needs at least one query')
    leave_one_out = bank_points is None
    if leave_one_out:
        bank_points, bank_labels = points, labels
    else:
        if bank_labels is None:
            raise ValueError('bank_labels are needed with bank_points')
        bank_points = torch.as_tensor(bank_points).detach().double().cpu()
        bank_labels = np.asarray(bank_labels).reshape(-1)
        if bank_labels.shape != (bank_points.shape[0], ):
            raise ValueError(f'{bank_points.shape[0]} bank points but '
                             f'{bank_labels.shape[0]} bank labels')
    correct = 0
    for start in range(0, points.shape[0], chunk_size):
        stop = min(start + chunk_size, points.shape[0])
        dist = manifold.pairwise_dist(points[start:stop], bank_points)
        pred = knn_predict(
            dist.double().numpy(),
            bank_labels,
            k=k,
            self_index=np.arange(start, stop) if leave_one_out else None)
        correct += int((pred == labels[start:stop]).sum())
    return correct / points.shape[0]
