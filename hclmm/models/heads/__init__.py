from .hyperbolic_embedder import HyperbolicEmbedder, norm_only
from .hyperbolic_scene_object_head import (HyperbolicSceneObjectAblationHead,
                                           HyperbolicSceneObjectHead)
from .dcl_head import DCLHead
from .hyperbolic_contrastive_head import HyperbolicContrastiveHead
from .mochi_head import MoCHiHead
from .multiview_head import MultiViewContrastiveHead
from .snclr_head import SNCLRHead

__all__ = [
    'HyperbolicEmbedder', 'norm_only', 'HyperbolicSceneObjectHead',
    'HyperbolicSceneObjectAblationHead',
    'DCLHead', 'HyperbolicContrastiveHead', 'MoCHiHead',
    'MultiViewContrastiveHead', 'SNCLRHead'
]
