"""SimCLR with M >= 2 views per image and a multi-view loss (Koromilas et
al., "A Principled Framework for Multi-View Contrastive Learning", 2025)."""
from typing import Dict, List

import torch
from mmpretrain.models import SimCLR
from mmpretrain.models.selfsup.simclr import GatherLayer
from mmpretrain.structures import DataSample

from hclmm.registry import MODELS

__all__ = ['MultiViewSimCLR']


@MODELS.register_module()
class MultiViewSimCLR(SimCLR):
    """SimCLR whose head sees all M views of every sample at once.

    The M views (a ``MultiView`` or ``ObjectMultiView`` transform with
    ``num_views=M``) go through the encoder in one batch; the projections
    are gathered from every process with gradient (as in SimCLR) and handed
    to the head as an N x M x D tensor
    (:class:`~hclmm.models.heads.MultiViewContrastiveHead`): in-batch
    negatives only, no queue. Arguments are SimCLR's.
    """

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Multi-view contrast of the M views of every (gathered) sample.

        Returns:
            dict: ``loss``.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError('MultiViewSimCLR needs a list of M >= 2 views '
                             'per image; use a MultiView transform')
        num_views = len(inputs)
        images = torch.stack(list(inputs), 1).flatten(0, 1)  # sample-major
        z = self.neck(self.backbone(images))[0]
        z = torch.cat(GatherLayer.apply(z.contiguous()), 0)
        return self.head.loss(z.view(-1, num_views, z.shape[-1]))
