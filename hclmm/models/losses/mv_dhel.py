import torch

from hclmm.registry import MODELS
from .mv_infonce import MVInfoNCELoss, check_views, normalised_views

__all__ = ['MVDHELLoss', 'mv_dhel']


def mv_dhel(z: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """Multi-view decoupled hyperspherical energy loss (see
    :class:`MVDHELLoss`).

    Args:
        z (Tensor): N x M x D, view ``l`` of sample ``i`` at ``z[i, l]``
            (normalised here), N >= 2.
        temperature (float): Temperature T, > 0. Defaults to 0.2.

    Returns:
        Tensor: Scalar loss averaged over the N samples (float32 for 16-bit
        inputs).
    """
    check_views(z, temperature, min_samples=2)
    n, m, _ = z.shape
    with torch.autocast(device_type=z.device.type, enabled=False):
        z, within = normalised_views(z, temperature)
        per_view = z.transpose(0, 1)  # M x N x D
        sim = per_view @ per_view.transpose(1, 2) / temperature
        others = ~torch.eye(n, dtype=torch.bool, device=z.device)
        # uniformity: each view against the same view of the other samples
        energy = torch.logsumexp(
            sim.masked_fill(~others, float('-inf')), dim=2).sum(0)
        upper = torch.ones(m, m, dtype=torch.bool, device=z.device).triu(1)
        align = torch.logsumexp(within[:, upper], dim=1)
        return (energy - align).mean()


@MODELS.register_module()
class MVDHELLoss(MVInfoNCELoss):
    r"""Multi-view decoupled hyperspherical energy loss, MV-DHEL (Koromilas
    et al., "A Principled Framework for Multi-View Contrastive Learning",
    2025).

    Alignment of all views of a sample in one term, decoupled from the
    uniformity, which each view measures only against the *same* view of
    the other samples. For the L2-normalised views :math:`u_{i,l}` and
    :math:`s(a, b) = \langle a, b\rangle / T`,

    .. math::

        L = \frac1N \sum_i -\log
            \frac{\sum_{l < m} e^{s(u_{i,l}, u_{i,m})}}
                 {\prod_{l} \sum_{j \ne i} e^{s(u_{i,l}, u_{j,l})}}

    For M = 2 this is the two-view DHEL with both views' energies,
    :math:`-s(u_{i,1}, u_{i,2}) + \log\sum_{j\ne i} e^{s(u_{i,1}, u_{j,1})}
    + \log\sum_{j\ne i} e^{s(u_{i,2}, u_{j,2})}`: no positive in any
    denominator (as in DCL), and no cross-view negatives.

    Args:
        temperature (float): Temperature T, > 0. Defaults to 0.2.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
    """

    loss_fn = staticmethod(mv_dhel)
