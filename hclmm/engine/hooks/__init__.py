from .norm_stats_hook import NormStatsHook
from .object_knn_hook import ObjectKNNHook
from .saturation_hook import HyperbolicSaturationHook

__all__ = ['ObjectKNNHook', 'NormStatsHook', 'HyperbolicSaturationHook']
