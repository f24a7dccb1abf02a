from .embedding_knn import embedding_knn_top1
from .functional import *  # noqa: F401,F403
from .metrics import DumpEmbeddings, SceneObjectMetric
from .ooc_diagnostics import (OOC_DIAGNOSTIC_KEYS, ooc_diagnostics,
                              report_ooc_diagnostics)
from .ooc_company import company_scores, unusual_company
from .ooc_scores import OOC_SCORES, ooc_scores
from .zero_shot import (DEFAULT_OOC_SCORE, DEFAULT_RETRIEVAL_SCORE,
                        EXTRA_SCORE_KEYS, RETRIEVAL_SCORES, ZERO_SHOT_KEYS,
                        retrieval_dist, retrieval_dists, zero_shot_metrics)

__all__ = [
    'embedding_knn_top1', 'ZERO_SHOT_KEYS', 'EXTRA_SCORE_KEYS',
    'company_scores', 'unusual_company',
    'DEFAULT_OOC_SCORE', 'DEFAULT_RETRIEVAL_SCORE', 'RETRIEVAL_SCORES',
    'retrieval_dist', 'retrieval_dists', 'zero_shot_metrics', 'OOC_SCORES',
    'ooc_scores',
    'OOC_DIAGNOSTIC_KEYS', 'ooc_diagnostics', 'report_ooc_diagnostics',
    'DumpEmbeddings', 'SceneObjectMetric'
]
