"""The entailment-cone term: objects inside the cones of their scenes."""
from typing import Dict, Tuple, Union

import torch
import torch.nn as nn

from hclmm.geometry import Manifold, check_manifold
from hclmm.registry import MODELS

__all__ = ['EntailmentConeLoss', 'cone_violation']

#: Geodesic distance below which a scene and its object count as the same
#: point (the apex) and the cone term is exactly 0.
APEX_EPS = 1e-6


def cone_violation(scene: torch.Tensor,
                   obj: torch.Tensor,
                   manifold: Manifold,
                   k: float = 0.1,
                   apex_radius: float = 0.1
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-pair cone violation, tapered to zero at the apex.

    ``v = max(0, angle(scene, obj) - half_aperture(scene))`` (Ganea et al.
    2018). At the apex (``obj = scene``) the exterior angle is undefined
    and its gradient grows as ``1/d(scene, obj)``; an apex belongs to its
    own cone, so the violation is multiplied by the constant (no gradient)
    factor ``min(1, d / apex_radius)``, which is 0 there. The product's
    gradient is then bounded by about ``pi / apex_radius`` however close
    the two points are, and the factor gives no incentive to move them
    together.

    Args:
        scene (Tensor): Apex points, N x D.
        obj (Tensor): Points, N x D.
        manifold (Manifold): Their space.
        k (float): Aperture constant. Defaults to 0.1.
        apex_radius (float): Geodesic distance below which the violation is
            tapered. Defaults to 0.1.

    Returns:
        tuple[Tensor, Tensor]: N violations (float32) and N booleans, True
        for pairs within ``apex_radius`` of each other.
    """
    violation = (manifold.cone_angle(scene, obj) -
                 manifold.cone_half_aperture(scene, k)).clamp_min(0)
    with torch.no_grad():
        d = manifold.dist(scene, obj)
        # pairs closer than APEX_EPS (float32 cannot place an angle there)
        # count as coincident: factor exactly 0
        taper = torch.where(d < APEX_EPS, 0.0, d / apex_radius).clamp(max=1)
    return violation * taper, d < apex_radius


@MODELS.register_module()
class EntailmentConeLoss(nn.Module):
    r"""Ask each object to lie in the entailment cone whose apex is its scene.

    .. math::

        L = \frac{1}{N}\sum_i \min\Big(1, \frac{d(s_i, o_i)}{\delta}\Big)
            \max\big(0, \Xi(s_i, o_i) - \psi_k(s_i)\big)

    with :math:`\Xi` the exterior angle at the scene and :math:`\psi_k` the
    cone's half-aperture (:meth:`~hclmm.geometry.Manifold.cone_angle`,
    :meth:`~hclmm.geometry.Manifold.cone_half_aperture`; Ganea et al.,
    ICML 2018; MERU uses the same cones for text over images). Cones narrow
    away from the origin, so objects inside their scene's cone lie farther
    out than the scene. The taper (a constant factor, see
    :func:`cone_violation`) keeps the gradient bounded when a scene and its
    object coincide, e.g. when the scene's boxes are nested in the object's
    box and both crops are the same.

    A pair loss of :class:`~hclmm.models.heads.HyperbolicSceneObjectHead`:
    called as ``loss(scene, obj, manifold, return_stats=True)``.

    Args:
        k (float): Aperture constant, > 0. Defaults to 0.1.
        apex_radius (float): Taper distance ``delta``, > 0.
            Defaults to 0.1.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
    """

    def __init__(self,
                 k: float = 0.1,
                 apex_radius: float = 0.1,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not k > 0:
            raise ValueError(f'k must be > 0, got {k}')
        if not apex_radius > 0:
            raise ValueError(f'apex_radius must be > 0, got {apex_radius}')
        if not loss_weight >= 0:
            raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')
        self.k = float(k)
        self.apex_radius = float(apex_radius)
        self.loss_weight = float(loss_weight)

    def forward(self,
                scene: torch.Tensor,
                obj: torch.Tensor,
                manifold: Manifold,
                return_stats: bool = False
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict]]:
        """Weighted mean violation (and ``entail_apex_frac``, the fraction
        of pairs within ``apex_radius``, with ``return_stats``)."""
        check_manifold(manifold)
        violation, near_apex = cone_violation(scene, obj, manifold, self.k,
                                              self.apex_radius)
        loss = self.loss_weight * violation.mean()
        if not return_stats:
            return loss
        return loss, dict(entail_apex_frac=near_apex.float().mean())

    def extra_repr(self) -> str:
        return (f'k={self.k}, apex_radius={self.apex_radius}, '
                f'loss_weight={self.loss_weight}')
