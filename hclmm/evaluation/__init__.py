from .functional import *  # noqa: F401,F403
from .geometry import (as_manifold, check_geometry, embedding_norm,
                       embedding_paired_dist, embedding_pairwise_dist)
from .knn_eval import embedding_knn_top1
from .zero_shot import ZERO_SHOT_KEYS, zero_shot_metrics

__all__ = [
    'as_manifold', 'check_geometry', 'embedding_norm', 'embedding_pairwise_dist',
    'embedding_paired_dist', 'embedding_knn_top1', 'ZERO_SHOT_KEYS',
    'zero_shot_metrics'
]
