"""k-nearest-neighbour classification: the one implementation behind the
zero-shot metric's object kNN, :func:`~hclmm.evaluation.embedding_knn_top1`
and the weighted kNN benchmark (``tools/benchmarks/classification``).

:func:`knn_neighbours` finds the k nearest bank items of every query (ties
broken by bank index), :func:`knn_votes` adds up their (weighted) votes per
class; :func:`knn_predict` and :func:`knn_top1` are the majority-vote
classifier on top.
"""
from typing import Optional

import numpy as np
import torch

from ._utils import to_numpy

__all__ = ['knn_neighbours', 'knn_votes', 'knn_predict', 'knn_top1']


def knn_neighbours(dist: torch.Tensor,
                   k: int,
                   self_index: Optional[torch.Tensor] = None
                   ) -> torch.Tensor:
    """Bank indices of the ``k`` nearest items of every query, nearest
    first; equal distances: lower bank index first.

    Args:
        dist (Tensor): Q x M query-to-bank distances (any device).
        k (int): Neighbours per query, ``1 <= k <= M`` (``M - 1`` with
            ``self_index``).
        self_index (Tensor, optional): Q bank indices excluded from each
            query's neighbours (leave-one-out); -1: none. Defaults to None.

    Returns:
        Tensor: Q x k int64 indices.
    """
    masked = dist
    if self_index is not None:
        rows = torch.nonzero(self_index >= 0).flatten()
        masked = dist.clone()
        masked[rows, self_index[rows]] = float('inf')
    # the k smallest; then every row is put in (distance, index) order
    # among the candidates up to its k-th value, which only differs from
    # topk's choice where items tie with the k-th
    values = masked.topk(k, dim=1, largest=False).values
    kth = values[:, -1:]
    tied = (masked <= kth).sum(1) > k
    nearest = torch.empty(dist.shape[0], k, dtype=torch.long,
                          device=dist.device)
    plain = torch.nonzero(~tied).flatten()
    if len(plain):
        idx = torch.nonzero(masked[plain] <= kth[plain])[:, 1].view(-1, k)
        order = masked[plain].gather(1, idx).argsort(dim=1, stable=True)
        nearest[plain] = idx.gather(1, order)
    for row in torch.nonzero(tied).flatten().tolist():
        nearest[row] = masked[row].argsort(stable=True)[:k]
    return nearest


def knn_votes(neighbour_labels: torch.Tensor,
              num_classes: int,
              weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Q x num_classes sums of the neighbours' votes (1 each, or
    ``weights``, Q x k)."""
    if weights is None:
        weights = torch.ones(neighbour_labels.shape, dtype=torch.float64,
                             device=neighbour_labels.device)
    votes = torch.zeros(neighbour_labels.shape[0], num_classes,
                        dtype=weights.dtype, device=weights.device)
    return votes.scatter_add_(1, neighbour_labels, weights)


def knn_predict(dist_matrix,
                bank_labels,
                k: int = 1,
                self_index=None) -> np.ndarray:
    """Predict labels by a majority vote of the k nearest bank items.

    Neighbours are ranked by ascending distance (equal distances: lower bank
    index first). The predicted label is the most frequent label among the k
    nearest; when several labels are equally frequent, the one whose nearest
    member ranks first wins (so ``k=1`` is plain nearest-neighbour).

    Args:
        dist_matrix: Array-like of shape (Q, M), query-to-bank distances.
        bank_labels: Array-like of shape (M,), the label of every bank item.
        k (int): Number of neighbours. Defaults to 1.
        self_index: Optional array-like of shape (Q,): the bank index of each
            query itself, excluded from its neighbours (leave-one-out). Use
            -1 for a query that is not in the bank. Defaults to None.

    Returns:
        np.ndarray: The Q predicted labels.
    """
    dist = torch.from_numpy(to_numpy(dist_matrix, dtype=np.float64))
    bank_labels = to_numpy(bank_labels)
    if dist.dim() != 2:
        raise ValueError(
            f'dist_matrix must be 2-D, got shape {tuple(dist.shape)}')
    if bank_labels.shape != (dist.shape[1], ):
        raise ValueError(f'bank_labels must have shape ({dist.shape[1]},), '
                         f'got {bank_labels.shape}')
    if int(k) != k or k < 1:
        raise ValueError(f'k must be a positive integer, got {k}')
    if torch.isnan(dist).any():
        raise ValueError('dist_matrix contains NaN')
    k = int(k)
    num_queries = dist.shape[0]
    if self_index is not None:
        self_index = torch.from_numpy(to_numpy(self_index).astype(np.int64))
        if self_index.shape != (num_queries, ):
            raise ValueError(f'self_index must have shape ({num_queries},), '
                             f'got {tuple(self_index.shape)}')
    excludes = self_index is not None and bool((self_index >= 0).any())
    available = dist.shape[1] - int(excludes)
    if available < k:
        raise ValueError(f'k={k} neighbours requested but the bank holds only '
                         f'{available} candidate(s) per query')
    classes, label_index = np.unique(bank_labels, return_inverse=True)
    nearest = knn_neighbours(dist, k, self_index)
    neighbour_labels = torch.from_numpy(label_index.reshape(-1))[nearest]
    counts = knn_votes(neighbour_labels, len(classes))
    # rank of each class's nearest member (k where absent): among the most
    # voted classes, the one met first wins
    first = torch.full_like(counts, float(k)).scatter_reduce_(
        1, neighbour_labels,
        torch.arange(k, dtype=counts.dtype).expand(num_queries, k), 'amin')
    pred = (counts * (k + 1) - first).argmax(1)
    return classes[pred.numpy()].astype(bank_labels.dtype)


def knn_top1(dist_matrix,
             labels,
             k: int = 1,
             query_labels: Optional[np.ndarray] = None) -> float:
    """Top-1 accuracy of a k-nearest-neighbour classifier.

    Without ``query_labels`` this is leave-one-out accuracy on a square
    matrix: every item is classified by its k nearest *other* items
    (``dist_matrix[i, i]`` is ignored). With ``query_labels`` the rows are
    separate queries classified against the bank whose labels are
    ``labels``. ``k=1`` gives the nearest-neighbour accuracy that the
    zero-shot report calls ``object_knn_top1``.

    Args:
        dist_matrix: Array-like of shape (Q, M) (square for leave-one-out).
        labels: Array-like of shape (M,), bank labels.
        k (int): Number of neighbours voting. Defaults to 1.
        query_labels: Optional array-like of shape (Q,), the true labels of
            the queries. Defaults to None (leave-one-out).

    Returns:
        float: Fraction of queries whose predicted label is right.
    """
    dist = to_numpy(dist_matrix, dtype=np.float64)
    labels = to_numpy(labels)
    if dist.ndim != 2:
        raise ValueError(f'dist_matrix must be 2-D, got shape {dist.shape}')
    if query_labels is None:
        if dist.shape[0] != dist.shape[1]:
            raise ValueError('leave-one-out kNN needs a square distance '
                             f'matrix, got shape {dist.shape}')
        self_index = np.arange(dist.shape[0])
        truth = labels
    else:
        self_index = None
        truth = to_numpy(query_labels)
        if truth.shape != (dist.shape[0], ):
            raise ValueError(f'query_labels must have shape '
                             f'({dist.shape[0]},), got {truth.shape}')
    if dist.shape[0] == 0:
        raise ValueError('kNN accuracy needs at least one query')
    pred = knn_predict(dist, labels, k=k, self_index=self_index)
    return float(np.mean(pred == truth))
