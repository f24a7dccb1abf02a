from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from hclmm.registry import MODELS

__all__ = ['MVInfoNCELoss', 'mv_infonce', 'check_views']


def check_views(z: torch.Tensor, temperature: float,
                min_samples: int = 1) -> None:
    """Raise a ValueError unless ``z`` is N x M x D with M >= 2 views and
    N >= ``min_samples``, and the temperature is > 0."""
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f'temperature must be a number > 0, got '
                         f'{temperature!r}.')
    if z.dim() != 3 or z.shape[1] < 2 or z.shape[0] < min_samples:
        raise ValueError(f'Expected N x M x D views with M >= 2 and N >= '
                         f'{min_samples}, got {tuple(z.shape)}.')


def normalised_views(z: torch.Tensor, temperature: float
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """L2-normalised views (float32 for 16-bit inputs) and the N x M x M
    similarities between the views of each sample, divided by T."""
    if z.dtype in (torch.float16, torch.bfloat16):
        z = z.float()
    z = F.normalize(z, dim=-1)
    within = torch.einsum('nld,nmd->nlm', z, z) / temperature
    return z, within


def mv_infonce(z: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """Multi-view InfoNCE (see :class:`MVInfoNCELoss`).

    Args:
        z (Tensor): N x M x D, view ``l`` of sample ``i`` at ``z[i, l]``
            (normalised here).
        temperature (float): Temperature T, > 0. Defaults to 0.2.

    Returns:
        Tensor: Scalar loss averaged over the N samples (float32 for 16-bit
        inputs).
    """
    check_views(z, temperature)
    n, m, d = z.shape
    with torch.autocast(device_type=z.device.type, enabled=False):
        z, within = normalised_views(z, temperature)
        flat = z.reshape(n * m, d)
        sim = flat @ flat.T / temperature
        self_mask = torch.eye(n * m, dtype=torch.bool, device=z.device)
        # log of every anchor's denominator, then of their sum per sample
        row = torch.logsumexp(sim.masked_fill(self_mask, float('-inf')), 1)
        energy = torch.logsumexp(row.view(n, m), dim=1)
        pairs = ~torch.eye(m, dtype=torch.bool, device=z.device)
        align = torch.logsumexp(within[:, pairs], dim=1)
        return (energy - align).mean()


@MODELS.register_module()
class MVInfoNCELoss(nn.Module):
    r"""Multi-view InfoNCE (Koromilas et al., "A Principled Framework for
    Multi-View Contrastive Learning", 2025).

    One term per sample holds every view interaction. For the
    L2-normalised views :math:`u_{i,l}` (sample :math:`i \le N`, view
    :math:`l \le M`) and :math:`s(a, b) = \langle a, b\rangle / T`,

    .. math::

        L = \frac1N \sum_i -\log
            \frac{\sum_{l}\sum_{m \ne l} e^{s(u_{i,l}, u_{i,m})}}
                 {\sum_{l}\sum_{(j, m) \ne (i, l)} e^{s(u_{i,l}, u_{j,m})}}

    (the denominator runs over every other view of every sample, the
    sample's own other views included). For M = 2 this is
    :math:`-\log\big(e^{s_i} / \tfrac12(D_{i,1} + D_{i,2})\big)`: SimCLR's
    NT-Xent with the two anchors' denominators averaged inside the log
    instead of their logs averaged; it is never smaller than NT-Xent
    (Jensen) and equals it when the two denominators agree.

    Args:
        temperature (float): Temperature T, > 0. Defaults to 0.2.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
    """

    loss_fn = staticmethod(mv_infonce)

    def __init__(self,
                 temperature: float = 0.2,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        check_views(torch.zeros(1, 2, 1), temperature)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Weighted loss of N x M x D views."""
        return self.loss_weight * self.loss_fn(z, self.temperature)

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'loss_weight={self.loss_weight}')
