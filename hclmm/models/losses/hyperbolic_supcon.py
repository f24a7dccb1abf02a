import torch
import torch.nn as nn

from hclmm.geometry import Manifold
from hclmm.registry import MODELS
from .hyperbolic_infonce import check_contrastive_args

__all__ = ['HyperbolicSupConLoss', 'hyperbolic_supcon']


def hyperbolic_supcon(features: torch.Tensor,
                      labels: torch.Tensor,
                      manifold: Manifold,
                      temperature: float = 0.2) -> torch.Tensor:
    """Supervised contrastive loss with ``-d / T`` similarities (see
    :class:`HyperbolicSupConLoss`).

    Args:
        features (Tensor): Points, N x D (one view) or N x V x D (V views).
        labels (Tensor): Class of each sample, shape (N, ).
        manifold (Manifold): The space of the points.
        temperature (float): Temperature T, > 0. Defaults to 0.2.

    Returns:
        Tensor: Scalar float32 loss, averaged over the anchors that have at
        least one positive (0 with a zero gradient if none has).
    """
    check_contrastive_args(temperature, manifold)
    if features.dim() == 2:
        features = features[:, None]
    if features.dim() != 3:
        raise ValueError('features must be N x D or N x V x D, got '
                         f'{tuple(features.shape)}.')
    n, views = features.shape[:2]
    if labels.shape != (n, ):
        raise ValueError(f'labels must have shape ({n}, ), got '
                         f'{tuple(labels.shape)}.')
    points = features.transpose(0, 1).reshape(n * views, -1)  # view-major
    labels = labels.repeat(views)
    with torch.autocast(device_type=points.device.type, enabled=False):
        sim = -manifold.pairwise_dist(points, points) / temperature
        eye = torch.eye(n * views, dtype=torch.bool, device=points.device)
        # the anchor itself is neither a positive nor in the denominator
        log_prob = sim - torch.logsumexp(
            sim.masked_fill(eye, float('-inf')), dim=1, keepdim=True)
        positives = (labels[:, None] == labels[None, :]) & ~eye
        num_pos = positives.sum(1)
        per_anchor = -(log_prob * positives).sum(1) / num_pos.clamp_min(1)
        has_pos = num_pos > 0
        if not has_pos.any():
            return sim.sum() * 0
        return per_anchor[has_pos].mean()


@MODELS.register_module()
class HyperbolicSupConLoss(nn.Module):
    r"""Supervised contrastive loss (Khosla et al., 2020) in hyperbolic space.

    All views of all samples are anchors; for anchor :math:`i`, the
    positives :math:`P(i)` are the other views with the same label and the
    denominator runs over every other view :math:`a \ne i`:

    .. math::

        L = \frac{1}{|I|}\sum_{i \in I} \frac{-1}{|P(i)|}
            \sum_{p \in P(i)} \log
            \frac{\exp(-d(z_i, z_p)/T)}{\sum_{a \ne i}\exp(-d(z_i, z_a)/T)}

    with :math:`I` the anchors that have a positive and :math:`d` the
    geodesic distance (Yue et al., 2023, supervised setting).

    Args:
        temperature (float): Temperature T, > 0. Defaults to 0.2.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
    """

    def __init__(self,
                 temperature: float = 0.2,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        check_contrastive_args(temperature)
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)

    def forward(self, features: torch.Tensor, labels: torch.Tensor,
                manifold: Manifold) -> torch.Tensor:
        """Compute the weighted loss.

        Args:
            features (Tensor): Points, N x D or N x V x D.
            labels (Tensor): Class of each sample, shape (N, ).
            manifold (Manifold): The space of the points.

        Returns:
            Tensor: Scalar float32 loss.
        """
        return self.loss_weight * hyperbolic_supcon(
            features, labels, manifold, self.temperature)
