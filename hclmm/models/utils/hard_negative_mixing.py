"""Hard negative mixing (MoCHi, Kalantidis et al., NeurIPS 2020) as a piece
that any queue-based contrastive head can call."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import MessageHub

from hclmm.registry import MODELS

__all__ = ['HardNegativeMixing', 'mix_hard_negatives']


@torch.no_grad()
def mix_hard_negatives(query: torch.Tensor,
                       negatives: torch.Tensor,
                       scores: torch.Tensor,
                       num_hard: int,
                       num_mix: int,
                       num_query_mix: int,
                       generator: Optional[torch.Generator] = None
                       ) -> torch.Tensor:
    r"""Convex mixtures of each query's hardest negatives (MoCHi).

    For query :math:`q_b`, let :math:`\tilde Q_b` be the ``num_hard``
    negatives with the highest ``scores[b]`` (the hardest). Returns, per
    query, ``num_mix`` points :math:`\alpha n_i + (1 - \alpha) n_j` with
    :math:`n_i, n_j` drawn uniformly from :math:`\tilde Q_b` and
    :math:`\alpha \sim U(0, 1)`, followed by ``num_query_mix`` points
    :math:`\beta q_b + (1 - \beta) n_j`, :math:`\beta \sim U(0, 0.5)` (the
    query never dominates). The mixtures are returned as they are: the
    caller puts them back where its features live (L2 normalisation on the
    sphere, the exponential map for a hyperbolic space). Computed without
    gradient, with tensor operations only (no device synchronisation).

    Args:
        query (Tensor): Queries, B x D.
        negatives (Tensor): Shared negatives (e.g. a queue), K x D.
        scores (Tensor): Hardness of every negative for every query, B x K
            (a logit: higher is harder).
        num_hard (int): Hardest negatives kept per query, N (capped at K).
        num_mix (int): Mixtures of two hard negatives per query, s.
        num_query_mix (int): Mixtures of the query with a hard negative per
            query, s'.
        generator (torch.Generator, optional): Source of randomness.
            Defaults to None (the global one).

    Returns:
        Tensor: B x (s + s') x D mixtures, in the dtype of ``negatives``.
    """
    b, k = scores.shape
    if query.dim() != 2 or negatives.dim() != 2 or query.shape[0] != b \
            or negatives.shape[0] != k or query.shape[1] != negatives.shape[1]:
        raise ValueError('Expected query B x D, negatives K x D and scores '
                         f'B x K, got {tuple(query.shape)}, '
                         f'{tuple(negatives.shape)} and {tuple(scores.shape)}')
    num_hard = min(int(num_hard), k)
    device = negatives.device
    hard_idx = scores.topk(num_hard, dim=1).indices  # B x N
    dtype = negatives.dtype

    def draw(count: int) -> torch.Tensor:
        # B x count hard negatives, gathered straight from the K entries
        # (no B x N x D copy of the hard set)
        pick = torch.randint(
            num_hard, (b, count), device=device, generator=generator)
        return negatives[torch.gather(hard_idx, 1, pick)]

    def weights(count: int, high: float) -> torch.Tensor:
        return high * torch.rand(
            b, count, 1, device=device, generator=generator, dtype=dtype)

    parts = []
    if num_mix > 0:
        alpha = weights(num_mix, 1.0)
        parts.append(alpha * draw(num_mix) + (1 - alpha) * draw(num_mix))
    if num_query_mix > 0:
        beta = weights(num_query_mix, 0.5)
        parts.append(beta * query.detach().to(dtype)[:, None] +
                     (1 - beta) * draw(num_query_mix))
    if not parts:
        return negatives.new_zeros(b, 0, negatives.shape[1])
    return torch.cat(parts, dim=1)


@MODELS.register_module()
class HardNegativeMixing(nn.Module):
    """MoCHi's synthetic hard negatives, switched on from ``start_epoch``.

    Called by a head with its queries, its queue and the queue logits; see
    :func:`mix_hard_negatives` for the points. MoCHi(N, s, s') in the
    paper's notation is ``num_hard=N, num_mix=s, num_query_mix=s'``.

    :attr:`active` reads the current epoch from mmengine's message hub (the
    runner's ``RuntimeInfoHook`` writes it before each epoch), so the gating
    costs no device synchronisation; outside a runner (no epoch recorded)
    the epoch counts as 0. Mixing only runs in training mode.

    Args:
        num_hard (int): N, hardest queue entries per query, >= 1.
            Defaults to 1024.
        num_mix (int): s, mixtures of two hard negatives, >= 0.
            Defaults to 512.
        num_query_mix (int): s', mixtures of the query with a hard
            negative, >= 0. Defaults to 256.
        start_epoch (int): First (0-based) epoch with mixing, >= 0.
            Defaults to 0.
    """

    def __init__(self,
                 num_hard: int = 1024,
                 num_mix: int = 512,
                 num_query_mix: int = 256,
                 start_epoch: int = 0) -> None:
        super().__init__()
        for name, value, low in (('num_hard', num_hard, 1),
                                 ('num_mix', num_mix, 0),
                                 ('num_query_mix', num_query_mix, 0),
                                 ('start_epoch', start_epoch, 0)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f'{name} must be an int >= {low}, got '
                                 f'{value!r}')
        if num_mix + num_query_mix == 0:
            raise ValueError('num_mix + num_query_mix must be >= 1 (no '
                             'synthetic negatives otherwise)')
        self.num_hard = num_hard
        self.num_mix = num_mix
        self.num_query_mix = num_query_mix
        self.start_epoch = start_epoch

    @property
    def num_synthetic(self) -> int:
        """Synthetic negatives per query, s + s'."""
        return self.num_mix + self.num_query_mix

    @property
    def active(self) -> bool:
        """True in training mode from ``start_epoch`` on."""
        if not self.training:
            return False
        epoch = MessageHub.get_current_instance().get_info('epoch', 0)
        return int(epoch or 0) >= self.start_epoch

    def forward(self, query: torch.Tensor, negatives: torch.Tensor,
                scores: torch.Tensor) -> torch.Tensor:
        """B x (s + s') x D mixtures (see :func:`mix_hard_negatives`)."""
        return mix_hard_negatives(query, negatives, scores, self.num_hard,
                                  self.num_mix, self.num_query_mix)

    def extra_repr(self) -> str:
        return (f'num_hard={self.num_hard}, num_mix={self.num_mix}, '
                f'num_query_mix={self.num_query_mix}, '
                f'start_epoch={self.start_epoch}')
