from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModule

from hclmm.registry import MODELS

__all__ = ['MultiViewContrastiveHead']


@MODELS.register_module()
class MultiViewContrastiveHead(BaseModule):
    """Contrast of M >= 2 views per sample with in-batch negatives.

    Takes the projections of all views, N x M x D (the samples of every
    process, as gathered by
    :class:`~hclmm.models.algorithms.MultiViewSimCLR`), and hands them to a
    multi-view loss: :class:`~hclmm.models.losses.MVInfoNCELoss` or
    :class:`~hclmm.models.losses.MVDHELLoss`.

    Args:
        loss (dict): Config of the loss. Defaults to
            ``dict(type='MVInfoNCELoss', temperature=0.2)``.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 loss: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.loss_module = MODELS.build(
            dict(type='MVInfoNCELoss', temperature=0.2)
            if loss is None else loss)

    def loss(self, z: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Multi-view loss of N x M x D projections.

        Returns:
            dict: ``loss``.
        """
        return dict(loss=self.loss_module(z))
