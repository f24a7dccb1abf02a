from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from hclmm.registry import MODELS
from ..losses.hyperbolic_infonce import check_contrastive_args

__all__ = ['MoCHiHead']


@MODELS.register_module()
class MoCHiHead(BaseModule):
    r"""MoCo's InfoNCE from projections, with optional hard negative mixing
    (MoCHi, Kalantidis et al., NeurIPS 2020).

    The projections of the query view :math:`q`, the key view :math:`k`
    and the queue :math:`n_j` are L2-normalised, and

    .. math::

        L = -\log \frac{\exp(q\cdot k/T)}{\exp(q\cdot k/T)
            + \sum_j \exp(q\cdot n_j/T) + \sum_s \exp(q\cdot h_s/T)}

    where the :math:`h_s` are the synthetic negatives of
    :class:`~hclmm.models.utils.HardNegativeMixing` (mixtures of the query's
    hardest queue entries, and of the query with them), L2-normalised back
    onto the sphere and treated as constants like the queue. Without
    ``mixing`` (or before its start epoch) this is mmpretrain's
    ``ContrastiveHead`` with cross-entropy. mmpretrain's ``MoCo`` passes
    only similarities to its head; use it with
    :class:`~hclmm.models.algorithms.MoCHi`, which passes the projections.

    Args:
        temperature (float): Temperature T, > 0. Defaults to 0.2.
        mixing (dict, optional): Config of a ``HardNegativeMixing``; None:
            plain MoCo. Defaults to None.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 temperature: float = 0.2,
                 mixing: Optional[dict] = None,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_contrastive_args(temperature)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.mixing = None if mixing is None else MODELS.build(mixing)

    def logits(self, z1: torch.Tensor, z2: torch.Tensor,
               queue: torch.Tensor) -> torch.Tensor:
        """``[q.k, q.n_1 .. q.n_K, q.h_1 .. q.h_S] / T``, float32."""
        with torch.autocast(device_type=z1.device.type, enabled=False):
            q = F.normalize(z1.float(), dim=-1)
            k = F.normalize(z2.float(), dim=-1)
            neg = F.normalize(queue.detach().float(), dim=-1)
            l_neg = q @ neg.T
            parts = [(q * k).sum(-1, keepdim=True), l_neg]
            if self.mixing is not None and self.mixing.active:
                synthetic = F.normalize(
                    self.mixing(q.detach(), neg, l_neg.detach()), dim=-1)
                parts.append(torch.einsum('bd,bsd->bs', q, synthetic))
            return torch.cat(parts, dim=1) / self.temperature

    def loss(self, z1: torch.Tensor, z2: torch.Tensor,
             queue: Optional[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """InfoNCE of the query view against its key and the negatives.

        Args:
            z1 (Tensor): Projections of the query view, B x D.
            z2 (Tensor): Projections of the key view, B x D.
            queue (Tensor): Projections of the negatives, K x D.

        Returns:
            dict: ``loss``.
        """
        if queue is None:
            raise ValueError('MoCHiHead needs a queue of negatives.')
        if z1.dim() != 2 or z1.shape != z2.shape or queue.dim() != 2 \
                or queue.shape[1] != z1.shape[1]:
            raise ValueError('Expected z1, z2 B x D and queue K x D, got '
                             f'{tuple(z1.shape)}, {tuple(z2.shape)} and '
                             f'{tuple(queue.shape)}.')
        logits = self.logits(z1, z2, queue)
        targets = torch.zeros(
            logits.shape[0], dtype=torch.long, device=logits.device)
        with torch.autocast(device_type=logits.device.type, enabled=False):
            loss = F.cross_entropy(logits, targets)
        return dict(loss=self.loss_weight * loss)

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'loss_weight={self.loss_weight}')
