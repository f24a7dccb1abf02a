"""Pure metric functions (numpy in, Python floats out; torch accepted)."""
from ._utils import merge_close_values, to_numpy
from .distance import cosine_distance
from .knn import knn_neighbours, knn_predict, knn_top1, knn_votes
from .ranking import auroc, spearman
from .retrieval import recall_at_k, retrieval_average_precision, retrieval_map

__all__ = [
    'merge_close_values', 'to_numpy', 'cosine_distance', 'auroc', 'spearman',
    'retrieval_average_precision', 'retrieval_map', 'recall_at_k',
    'knn_neighbours', 'knn_votes', 'knn_predict', 'knn_top1'
]
