"""Pure metric functions (numpy in, Python floats out; torch accepted)."""
from ._utils import average_ranks, merge_close_values, to_numpy
from .knn import knn_neighbours, knn_predict, knn_top1, knn_votes
from .ranking import auroc, spearman
from .retrieval import recall_at_k, retrieval_average_precision, retrieval_map

__all__ = [
    'average_ranks', 'merge_close_values', 'to_numpy', 'auroc', 'spearman',
    'retrieval_average_precision', 'retrieval_map', 'recall_at_k',
    'knn_neighbours', 'knn_votes', 'knn_predict', 'knn_top1'
]
