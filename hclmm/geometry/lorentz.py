r"""The Lorentz (hyperboloid) model of curvature ``-c`` (``c > 0``).

As in MERU (Desai et al., ICML 2023) only the space components
:math:`x \in \mathbb{R}^D` of a point are stored; the time component is
:math:`x_0 = \sqrt{1/c + |x|^2}`, so every vector is a valid point and no
projection is needed. With the Lorentzian inner product
:math:`\langle x, y\rangle_L = \langle x, y\rangle - x_0 y_0`,

.. math::

    d(x, y) = \frac{1}{\sqrt c}\,\mathrm{arcosh}(-c\langle x, y\rangle_L).

Writing ``-c<x,y>_L = 1 + w`` with :math:`w = \tfrac c2 |x - y|_L^2`, half
the Lorentzian squared length of the chord,
:math:`|x-y|_L^2 = |x-y|^2 - (x_0 - y_0)^2 \ge 0`, gives
:math:`d = \mathrm{arcosh}(1 + w)/\sqrt c` without the cancellation in
``c x_0 y_0 - c<x, y> - 1`` near the origin (``arcosh(1 + w)`` by
:func:`~hclmm.geometry._numerics.arcosh1p`).
All functions run in float32 (float64 is kept) with autocast disabled.
"""
import math
from typing import Union

import torch

from ._numerics import (ANGLE_EPS, MIN_SQ, arcosh1p, as_curvature,
                        float32_math, pairwise_arcosh1p_, safe_norm)

__all__ = [
    'lorentz_time', 'lorentz_expmap0', 'lorentz_logmap0', 'lorentz_dist',
    'lorentz_pairwise_dist', 'lorentz_origin_dist',
    'lorentz_cone_half_aperture', 'lorentz_cone_angle'
]

CurvatureLike = Union[float, torch.Tensor]

#: Largest ``sqrt(c)|v|`` fed to sinh in :func:`lorentz_expmap0` (MERU's
#: bound): keeps ``sqrt(c)|x| <= 2^15``, so coordinates stay representable
#: and the products ``c x_0 y_0`` (up to 2^30) stay finite.
MAX_SINH = math.asinh(2**15)


@float32_math
def lorentz_time(x: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    """Time component ``x_0 = sqrt(1/c + |x|^2)`` of points on the hyperboloid.

    Args:
        x (Tensor): Space components, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Time components, shape (...).
    """
    c = as_curvature(c, x)
    return (1 / c + x.pow(2).sum(-1)).sqrt()


@float32_math
def lorentz_expmap0(v: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    r"""Exponential map at the origin, returning space components.

    :math:`x = \sinh(\sqrt c |v|)\, v / (\sqrt c |v|)`.

    Args:
        v (Tensor): Tangent vectors at the origin (space part), (..., D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Space components of the points, shape (..., D).
    """
    c = as_curvature(c, v)
    # |v| floored at MIN_NORM (sinh(a)/a -> 1 at 0); sinh input capped at
    # MAX_SINH (see its comment): longer vectors get the capped length.
    scaled = c.sqrt() * safe_norm(v)
    return torch.sinh(scaled.clamp_max(MAX_SINH)) / scaled * v


@float32_math
def lorentz_logmap0(x: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    r"""Logarithmic map at the origin, the inverse of :func:`lorentz_expmap0`.

    :math:`v = \mathrm{arsinh}(\sqrt c |x|)\, x / (\sqrt c |x|)`.

    Args:
        x (Tensor): Space components of points, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Tangent vectors at the origin (space part), (..., D).
    """
    c = as_curvature(c, x)
    scaled = c.sqrt() * safe_norm(x)
    return torch.asinh(scaled) / scaled * x


@float32_math
def lorentz_dist(x: torch.Tensor, y: torch.Tensor,
                 c: CurvatureLike) -> torch.Tensor:
    """Geodesic distance between paired points given by space components.

    ``x_0 - y_0`` is computed as ``<x - y, x + y> / (x_0 + y_0)`` so that
    the chord ``|x-y|_L^2`` has no cancellation: accurate down to tiny
    distances (use it for positive pairs).

    Args:
        x (Tensor): Space components, shape (..., D).
        y (Tensor): Space components, broadcastable with ``x``.
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Distances, broadcast shape without the last dim.
    """
    c = as_curvature(c, x)
    diff = x - y
    time_diff = (diff *
                 (x + y)).sum(-1) / (lorentz_time(x, c) + lorentz_time(y, c))
    chord2 = diff.pow(2).sum(-1) - time_diff.pow(2)
    return arcosh1p(c / 2 * chord2) * c.rsqrt()


@float32_math
def lorentz_pairwise_dist(x: torch.Tensor, y: torch.Tensor,
                          c: CurvatureLike) -> torch.Tensor:
    """All distances between the rows of ``x`` (N x D) and ``y`` (K x D).

    One matrix product of the augmented rows ``(c/2) [-2 x_i, |x_i|^2, 1]``
    and ``[y_j, 1, |y_j|^2]`` gives ``(c/2)|x_i - y_j|^2``; subtracting
    ``(c/2)(x_0,i - y_0,j)^2`` (outer difference of time components) gives
    ``w = (c/2)|x_i - y_j|_L^2``. Never builds
    an N x K x D tensor. The absolute error of the chord is about
    ``1e-7 (|x|^2 + |y|^2)`` in float32: small near the origin, where the
    plain ``c x_0 y_0 - c<x, y> - 1`` form would lose ``1e-7`` absolutely.
    Leading batch dims are broadcast as in :func:`torch.matmul`.

    Args:
        x (Tensor): Space components, shape (..., N, D).
        y (Tensor): Space components, shape (..., K, D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Distances, shape (..., N, K).
    """
    if x.dim() < 2 or y.dim() < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError('lorentz_pairwise_dist expects (..., N, D) and '
                         f'(..., K, D) tensors, got {tuple(x.shape)} and '
                         f'{tuple(y.shape)}.')
    c = as_curvature(c, x)
    x2 = x.pow(2).sum(-1, keepdim=True)
    y2 = y.pow(2).sum(-1, keepdim=True)
    half_c = c / 2
    x_aug = half_c * torch.cat([-2 * x, x2, torch.ones_like(x2)], dim=-1)
    y_aug = torch.cat([y, torch.ones_like(y2), y2], dim=-1)
    w = torch.matmul(x_aug, y_aug.transpose(-1, -2))
    # sqrt(c/2) (x_0,i - y_0,j); x_0 = sqrt(1/c + |x|^2)
    scaled_time_x = (half_c * (1 / c + x2)).sqrt()
    scaled_time_y = (half_c * (1 / c + y2)).sqrt().transpose(-1, -2)
    time_diff = scaled_time_x - scaled_time_y
    w.addcmul_(time_diff, time_diff, value=-1)
    return pairwise_arcosh1p_(w, c.rsqrt())


@float32_math
def lorentz_origin_dist(x: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    r"""Hyperbolic norm: distance of each point to the origin.

    :math:`d(o, x) = \mathrm{arsinh}(\sqrt c |x|)/\sqrt c`, which equals
    :math:`\mathrm{arcosh}(\sqrt c\, x_0)/\sqrt c` without its cancellation.

    Args:
        x (Tensor): Space components, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Distances to the origin, shape (...).
    """
    c = as_curvature(c, x)
    return torch.asinh(c.sqrt() * safe_norm(x, keepdim=False)) / c.sqrt()


def _chord_w(x: torch.Tensor, y: torch.Tensor,
             c: torch.Tensor) -> torch.Tensor:
    """``w = (c/2)|x - y|_L^2 = -c<x, y>_L - 1`` without cancellation."""
    diff = x - y
    time_diff = (diff *
                 (x + y)).sum(-1) / (lorentz_time(x, c) + lorentz_time(y, c))
    return (c / 2 * (diff.pow(2).sum(-1) - time_diff.pow(2))).clamp_min(0)


@float32_math
def lorentz_cone_half_aperture(x: torch.Tensor, c: CurvatureLike,
                               k: float = 0.1) -> torch.Tensor:
    r"""Half-aperture of the entailment cone at ``x`` on the hyperboloid.

    The Poincare ball's :math:`\arcsin(k (1 - c|p|^2) / (\sqrt c |p|))`
    carried over by the isometry :math:`x = 2p / (1 - c|p|^2)`:
    :math:`\psi(x) = \arcsin(2k / (\sqrt c |x|))` (MERU's form), clamped to
    ``[0, 1 - eps]`` so that apexes near the origin get the widest cone.

    Args:
        x (Tensor): Space components of the apexes, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.
        k (float): Aperture constant. Defaults to 0.1.

    Returns:
        Tensor: Angles in radians, shape (...).
    """
    c = as_curvature(c, x)
    arg = 2 * k / (c.sqrt() * safe_norm(x, keepdim=False))
    return torch.asin(arg.clamp(0, 1 - ANGLE_EPS))


@float32_math
def lorentz_cone_angle(x: torch.Tensor, y: torch.Tensor,
                       c: CurvatureLike) -> torch.Tensor:
    r"""Exterior angle at ``x`` between the ray from the origin through ``x``
    and the geodesic from ``x`` to ``y``, on the hyperboloid.

    With ``a = sqrt(c) x``, ``b = sqrt(c) y`` (the unit hyperboloid) and
    :math:`\langle a, b\rangle_L = -(1 + w)`,

    .. math::

        \cos\Xi = \frac{b_0 - a_0 (1 + w)}{|a| \sqrt{w (2 + w)}},

    where ``b_0 - a_0`` is computed as ``(|b|^2 - |a|^2)/(a_0 + b_0)`` and
    ``w`` from the chord (:func:`lorentz_dist`'s form), so neither the
    numerator nor the denominator cancels. Equal to the Poincare ball's
    :func:`~hclmm.geometry.poincare.cone_angle` under the isometry.

    Args:
        x (Tensor): Space components of the apexes, shape (..., D).
        y (Tensor): Space components, broadcastable to ``x``.
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Angles in [0, pi], shape (...).
    """
    c = as_curvature(c, x)
    y = y.to(x.dtype)
    w = _chord_w(x, y, c)
    a2 = c * x.pow(2).sum(-1)
    b2 = c * y.pow(2).sum(-1)
    a0, b0 = (1 + a2).sqrt(), (1 + b2).sqrt()
    num = (b2 - a2) / (a0 + b0) - a0 * w
    # each factor floored on its own: their product stays a normal float
    den = a2.clamp_min(MIN_SQ).sqrt() * (w * (2 + w)).clamp_min(MIN_SQ).sqrt()
    return torch.acos((num / den).clamp(-1 + ANGLE_EPS, 1 - ANGLE_EPS))
