from typing import Callable, Dict, List, Optional, Union

import torch
from mmengine.model import BaseModule

from hclmm.registry import MODELS
from ..losses import HyperbolicSupConLoss

__all__ = ['HyperbolicContrastiveHead']


@MODELS.register_module()
class HyperbolicContrastiveHead(BaseModule):
    """Instance (or class) contrast with negative hyperbolic distance.

    The hyperbolic counterpart of mmpretrain's ``ContrastiveHead`` (Yue et
    al., 2023): the Euclidean projections of two views are clipped to
    distance ``clip_r`` from the origin, mapped to the manifold (Poincare ball or Lorentz model) with
    the exponential map at the origin by a
    :class:`~hclmm.models.heads.HyperbolicEmbedder`, and compared by
    ``-d / T``. The loss config decides the form:

    * ``HyperbolicInfoNCELoss``: query = view 1, key = view 2, negatives from
      a queue (MoCo style, :class:`~hclmm.models.algorithms.HypMoCo`) or the
      other keys (``in_batch_negatives=True``).
    * ``HyperbolicSupConLoss``: both views of every sample are anchors; the
      other view is the positive and every other view a negative (SimCLR's
      NT-Xent, :class:`~hclmm.models.algorithms.HypSimCLR`), or every view of
      the same class is a positive when labels are given (SupCon,
      :class:`~hclmm.models.algorithms.HypSupCon`).

    Args:
        loss (dict): Config of the hyperbolic loss. Defaults to
            ``dict(type='HyperbolicSupConLoss', temperature=0.2)``.
        manifold (dict): Config of the manifold object. Defaults to
            ``dict(type='PoincareBall', c=0.1)`` (``learnable=True`` learns
            ``log c`` within ``[c/10, 10c]``).
        clip_r (float, optional): Feature clipping radius, as a distance
            to the origin (see :class:`HyperbolicEmbedder`); None disables
            clipping. Defaults to 4.6 (Ermolov et al., CVPR 2022: Euclidean
            radius 2.3 on the ball with c = 0.1).
        mixing (dict, optional): Config of a
            :class:`~hclmm.models.utils.HardNegativeMixing` (MoCHi; InfoNCE
            form with a queue only). The hardest queue entries are the
            nearest ones; they are mixed in the tangent space at the origin
            (``log_0`` of the points: the clipped projections) and the
            mixtures mapped back with ``exp_0``. Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 loss: Optional[dict] = None,
                 manifold: Optional[dict] = None,
                 clip_r: Optional[float] = 4.6,
                 mixing: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        loss = dict(type='HyperbolicSupConLoss', temperature=0.2) \
            if loss is None else dict(loss)
        self.embedder = MODELS.build(
            dict(
                type='HyperbolicEmbedder',
                manifold=manifold or dict(type='PoincareBall', c=0.1),
                clip_r=clip_r))
        self.loss_module = MODELS.build(loss)
        self.supervised_form = isinstance(self.loss_module,
                                          HyperbolicSupConLoss)
        if mixing is not None and self.supervised_form:
            raise ValueError('Hard negative mixing needs a queue: use '
                             'HyperbolicInfoNCELoss with HypMoCo.')
        self.mixing = None if mixing is None else MODELS.build(mixing)

    @property
    def manifold(self):
        """The manifold object of the embeddings."""
        return self.embedder.manifold

    def to_manifold(self, u: torch.Tensor) -> torch.Tensor:
        """Clip, map with ``exp_0`` and project; in float32."""
        return self.embedder(u)

    def hyperbolic_norm(self, x: torch.Tensor) -> torch.Tensor:
        """Distance of manifold points to the origin."""
        return self.manifold.dist0(x)

    def _mixer(self, query: torch.Tensor, negatives: Optional[torch.Tensor]
               ) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
        """MoCHi's synthesis of hard negatives in the tangent space at the
        origin, or None while mixing is off."""
        if self.mixing is None or not self.mixing.active:
            return None
        if negatives is None:
            raise ValueError('Hard negative mixing needs a queue (HypMoCo).')
        manifold = self.manifold

        def synthesize(scores: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                tangent = self.mixing(
                    manifold.logmap0(query.detach()),
                    manifold.logmap0(negatives), scores)
                return manifold.to_manifold(tangent)

        return synthesize

    def loss(self,
             z1: torch.Tensor,
             z2: torch.Tensor,
             queue: Optional[torch.Tensor] = None,
             labels: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Hyperbolic contrastive loss of two views.

        Args:
            z1 (Tensor): Euclidean projections of view 1 (the queries),
                N x D.
            z2 (Tensor): Euclidean projections of view 2 (the keys), N x D.
            queue (Tensor, optional): Euclidean projections of negatives,
                K x D (InfoNCE form only). Defaults to None.
            labels (Tensor, optional): Class of each sample, shape (N, )
                (SupCon form only; None makes every sample its own class).
                Defaults to None.

        Returns:
            dict: ``loss`` and ``hyp_norm`` (mean distance of the view-1
            points to the origin, without gradient).
        """
        p1, p2 = self.to_manifold(z1), self.to_manifold(z2)
        if self.supervised_form:
            if queue is not None:
                raise ValueError(
                    'HyperbolicSupConLoss compares the views of the batch '
                    'and takes no queue; use HyperbolicInfoNCELoss for a '
                    'MoCo-style queue.')
            if labels is None:
                labels = torch.arange(p1.shape[0], device=p1.device)
            loss = self.loss_module(
                torch.stack([p1, p2], 1), labels, self.manifold)
        else:
            if labels is not None:
                raise ValueError(
                    'HyperbolicInfoNCELoss has one positive per query and '
                    'takes no labels; use HyperbolicSupConLoss for '
                    'supervised contrast.')
            neg = None if queue is None else self.to_manifold(queue.detach())
            loss = self.loss_module(
                p1, p2, self.manifold, queue=neg,
                synthesize=self._mixer(p1, neg))
        with torch.no_grad():
            hyp_norm = self.hyperbolic_norm(p1).mean()
        return dict(loss=loss, hyp_norm=hyp_norm)
