from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from hclmm.geometry import Manifold
from hclmm.registry import MODELS

__all__ = [
    'HyperbolicInfoNCELoss', 'hyperbolic_infonce', 'hyperbolic_logits',
    'check_contrastive_args'
]


def check_contrastive_args(temperature: float,
                           manifold: Optional[Manifold] = None) -> None:
    """Raise a ValueError for a non-positive temperature, a TypeError for a
    manifold that is not a :class:`~hclmm.geometry.Manifold` object."""
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f'temperature must be a number > 0, got '
                         f'{temperature!r}.')
    if manifold is not None and not isinstance(manifold, Manifold):
        raise TypeError('manifold must be a hclmm.geometry.Manifold object '
                        '(e.g. PoincareBall(c=0.05)), got '
                        f'{type(manifold).__name__}.')


def hyperbolic_logits(
        query: torch.Tensor,
        key: torch.Tensor,
        manifold: Manifold,
        queue: Optional[torch.Tensor] = None,
        temperature: float = 0.2,
        in_batch_negatives: bool = False,
        synthesize: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Contrastive logits ``-d / T`` and the index of each row's positive.

    * Queue mode (``in_batch_negatives=False``): row ``i`` is
      ``[-d(q_i, k_i), -d(q_i, queue_1), ..., -d(q_i, queue_K)] / T``, target
      0 (MoCo).
    * In-batch mode: row ``i`` is ``[-d(q_i, k_1), ..., -d(q_i, k_N)] / T``
      followed by the queue columns if a queue is given, target ``i``
      (SimCLR/CLIP).
    * ``synthesize`` (queue mode only) receives the queue logits (N x K,
      without gradient) and returns N x S points, one set per query (e.g.
      MoCHi's mixed hard negatives); their logits ``-d(q_i, h_is) / T`` are
      appended as S more columns.

    Positive distances come from the paired (cancellation-free) form, the
    others from one matrix product. Computed in float32 without autocast.

    Args:
        query (Tensor): Points, N x D.
        key (Tensor): Positive points paired with ``query``, N x D.
        manifold (Manifold): The space of the points (its ``dist`` and
            ``pairwise_dist``).
        queue (Tensor, optional): Negative points, K x D. Defaults to None.
        temperature (float): Temperature T, > 0. Defaults to 0.2.
        in_batch_negatives (bool): Use the other samples' keys as negatives.
            Defaults to False.
        synthesize (callable, optional): Per-query extra negatives from the
            queue logits (see above). Defaults to None.

    Returns:
        tuple[Tensor, Tensor]: Logits, N x (1 + K [+ S]) or N x (N + K),
        float32 (float64 for float64 inputs), and int64 targets (N, ).
    """
    check_contrastive_args(temperature, manifold)
    if query.dim() != 2 or query.shape != key.shape:
        raise ValueError('query and key must both be N x D, got '
                         f'{tuple(query.shape)} and {tuple(key.shape)}.')
    if queue is not None and (queue.dim() != 2
                              or queue.shape[1] != query.shape[1]):
        raise ValueError(f'queue must be K x {query.shape[1]}, got '
                         f'{tuple(queue.shape)}.')
    if queue is None and not in_batch_negatives:
        raise ValueError('No negatives: pass a queue or set '
                         'in_batch_negatives=True.')
    if synthesize is not None and queue is None:
        raise ValueError('synthesize mixes queue entries: pass a queue.')
    paired, pairwise = manifold.dist, manifold.pairwise_dist
    n = query.shape[0]
    # -d / T in one pass; in place on the fresh N x K distances (their
    # producer saves no output, so this is autograd-safe)
    scale = -1.0 / temperature
    with torch.autocast(device_type=query.device.type, enabled=False):
        pos = paired(query, key) * scale
        if in_batch_negatives:
            # every key against every query, then the diagonal replaced by
            # the accurate paired distances
            logits = torch.diagonal_scatter(
                pairwise(query, key).mul_(scale), pos)
            targets = torch.arange(n, device=query.device)
        else:
            logits = pos[:, None]
            targets = torch.zeros(n, dtype=torch.long, device=query.device)
        if queue is not None:
            neg = pairwise(query, queue.detach()).mul_(scale)
            parts = [logits, neg]
            if synthesize is not None:
                extra = synthesize(neg.detach()).detach()
                parts.append(paired(query[:, None], extra) * scale)
            logits = torch.cat(parts, dim=1)
    return logits, targets


def hyperbolic_infonce(query: torch.Tensor,
                       key: torch.Tensor,
                       manifold: Manifold,
                       queue: Optional[torch.Tensor] = None,
                       temperature: float = 0.2,
                       in_batch_negatives: bool = False,
                       synthesize: Optional[Callable] = None) -> torch.Tensor:
    """Hyperbolic InfoNCE, averaged over the batch (see
    :class:`HyperbolicInfoNCELoss`; arguments as in
    :func:`hyperbolic_logits`).

    Returns:
        Tensor: Scalar float32 loss.
    """
    logits, targets = hyperbolic_logits(query, key, manifold, queue,
                                        temperature, in_batch_negatives,
                                        synthesize)
    with torch.autocast(device_type=logits.device.type, enabled=False):
        return F.cross_entropy(logits, targets)


@MODELS.register_module()
class HyperbolicInfoNCELoss(nn.Module):
    r"""InfoNCE with negative hyperbolic distance as the similarity.

    For a query :math:`q_i`, its positive key :math:`k_i` and negatives
    :math:`n_j` (a queue, or the other samples' keys),

    .. math::

        L = \frac{1}{N}\sum_i -\log
            \frac{\exp(-d(q_i, k_i)/T)}
                 {\exp(-d(q_i, k_i)/T) + \sum_j \exp(-d(q_i, n_j)/T)}

    where :math:`d` is the geodesic distance of the manifold object passed
    at call time (Poincare ball, Lorentz model, or Euclidean space). In HCL the query is a scene and the
    key an object it contains (Ge et al., CVPR 2023); for instance
    discrimination they are two views of one image (Yue et al., 2023).

    The queue is treated as constant (no gradient), as in MoCo. Distances
    and the cross-entropy run in float32 even under autocast.

    Args:
        temperature (float): Temperature T, > 0. Defaults to 0.2.
        in_batch_negatives (bool): Use the other samples' keys as negatives
            (targets on the diagonal); a queue, if passed, adds more
            negatives. Otherwise a queue is required and the positive sits at
            index 0. Defaults to False.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
    """

    def __init__(self,
                 temperature: float = 0.2,
                 in_batch_negatives: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        check_contrastive_args(temperature)
        if not isinstance(loss_weight, (int, float)):
            raise ValueError(f'loss_weight must be a number, got '
                             f'{loss_weight!r}.')
        self.temperature = float(temperature)
        self.in_batch_negatives = bool(in_batch_negatives)
        self.loss_weight = float(loss_weight)

    def forward(self,
                query: torch.Tensor,
                key: torch.Tensor,
                manifold: Manifold,
                queue: Optional[torch.Tensor] = None,
                synthesize: Optional[Callable] = None) -> torch.Tensor:
        """Compute the weighted loss.

        Args:
            query (Tensor): Points, N x D.
            key (Tensor): Positive points paired with ``query``, N x D.
            manifold (Manifold): The space of the points.
            queue (Tensor, optional): Negative points, K x D. Required unless
                ``in_batch_negatives``. Defaults to None.
            synthesize (callable, optional): Per-query extra negatives from
                the queue logits (see :func:`hyperbolic_logits`). Defaults to
                None.

        Returns:
            Tensor: Scalar float32 loss.
        """
        return self.loss_weight * hyperbolic_infonce(
            query, key, manifold, queue, self.temperature,
            self.in_batch_negatives, synthesize)

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'in_batch_negatives={self.in_batch_negatives}, '
                f'loss_weight={self.loss_weight}')
