r"""The Poincare ball of curvature ``-c`` (``c > 0``), geoopt's convention.

Points are vectors of Euclidean norm below ``1/sqrt(c)``; geoopt's
``PoincareBall(c=c)`` is the same space. All functions take the curvature
magnitude ``c`` as a float or a one-element tensor (learnable curvature
keeps its gradient), work on the last dim, and run in float32 (float64 is
kept) with autocast disabled.

``expmap0``, ``logmap0`` and ``mobius_add`` are geoopt's functions run in
float32; the rest (the matrix-product pairwise distance, the stable
``arcosh(1 + w)`` distances, the entailment cones) has no geoopt
counterpart. Distances use the arcosh form

.. math::

    d(x, y) = \frac{1}{\sqrt c}\,\mathrm{arcosh}(1 + w),\quad
    w = \frac{2c\,|x-y|^2}{(1-c|x|^2)(1-c|y|^2)},

equal to geoopt's ``(2/sqrt c) artanh(sqrt c |(-x) (+)_c y|)``, with
``arcosh(1 + w)`` evaluated stably by
:func:`~hclmm.geometry._numerics.arcosh1p`.
"""
from typing import Union

import geoopt.manifolds.stereographic.math as _gsm
import torch

from ._numerics import (ANGLE_EPS, MIN_NORM, arcosh1p, as_curvature,
                        float32_math, pairwise_arcosh1p_, safe_norm)

__all__ = [
    'expmap0', 'logmap0', 'project', 'clip_features', 'mobius_add', 'dist',
    'pairwise_dist', 'poincare_norm', 'cone_half_aperture', 'cone_angle'
]

CurvatureLike = Union[float, torch.Tensor]

#: Lower bound of the conformal denominators ``1 - c|x|^2``. They reach 0 on
#: the boundary and turn negative outside the ball (for unprojected inputs);
#: flooring them keeps distances finite. Points projected with
#: ``eps >= 1e-6`` are never affected.
MIN_CONFORMAL = 1e-6


def _conformal(sq_norm: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``1 - c|x|^2`` floored at :data:`MIN_CONFORMAL` (see its comment)."""
    return (1 - c * sq_norm).clamp_min(MIN_CONFORMAL)


def _dist(w: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``(1/sqrt c) arcosh(1 + w)``, ``w = 2c|x-y|^2/((1-c|x|^2)(1-c|y|^2))``
    (clamps in :func:`arcosh1p`)."""
    # multiply by the 0-dim reciprocal: cheaper than dividing N x K values
    return arcosh1p(w) * c.rsqrt()


@float32_math
def expmap0(u: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    r"""Exponential map at the origin: tangent vector -> point in the ball.

    :math:`\exp_0(u) = \tanh(\sqrt c |u|)\, u / (\sqrt c |u|)`, computed by
    geoopt (``geoopt.manifolds.stereographic.math.expmap0`` with ``k = -c``;
    equal to the formula in float64 and finite with finite gradients at
    norms 0, 1e-8 and 1e4, see ``tests/geometry``), in float32 under
    autocast. For very long ``u`` the result rounds onto the boundary;
    follow with :func:`project` (and bound ``|u|`` first with
    :func:`clip_features`).

    Args:
        u (Tensor): Tangent vectors at the origin, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Points, shape (..., D).
    """
    return _gsm.expmap0(u, k=-as_curvature(c, u))


@float32_math
def logmap0(x: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    r"""Logarithmic map at the origin, the inverse of :func:`expmap0`.

    :math:`\log_0(x) = \mathrm{artanh}(\sqrt c |x|)\, x / (\sqrt c |x|)`,
    by geoopt (``logmap0`` with ``k = -c``), in float32 under autocast.

    Args:
        x (Tensor): Points in the ball, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Tangent vectors at the origin, shape (..., D).
    """
    return _gsm.logmap0(x, k=-as_curvature(c, x))


@float32_math
def project(x: torch.Tensor,
            c: CurvatureLike,
            eps: float = 1e-3) -> torch.Tensor:
    """Pull points back inside the radius ``(1 - eps) / sqrt(c)``.

    Points already inside are returned unchanged; others are rescaled onto
    that sphere (as geoopt's and hyptorch's ``project``).

    Args:
        x (Tensor): Points, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.
        eps (float): Relative margin to the boundary, in (0, 1). Defaults to
            1e-3 (hyptorch's value; the distances then stay well inside
            float32 precision).

    Returns:
        Tensor: Points of norm at most ``(1 - eps)/sqrt(c)``, shape (..., D).
    """
    if not 0 < eps < 1:
        raise ValueError(f'eps must be in (0, 1), got {eps}.')
    c = as_curvature(c, x)
    max_norm = (1 - eps) / c.sqrt()
    # min(1, r/|x|) via clamp: gradient of the factor is zero inside.
    return x * (max_norm / safe_norm(x)).clamp_max(1.0)


@float32_math
def clip_features(u: torch.Tensor, r: float) -> torch.Tensor:
    """Feature clipping ``u * min(1, r / |u|)`` (Guo et al., CVPR 2022).

    Bounds Euclidean features before :func:`expmap0` so that embeddings stay
    away from the boundary, where gradients vanish.

    Args:
        u (Tensor): Euclidean features, shape (..., D).
        r (float): Largest norm, > 0.

    Returns:
        Tensor: Features of norm at most ``r``, shape (..., D).
    """
    if isinstance(r, torch.Tensor):
        r = r.to(u.dtype)
    elif not r > 0:
        raise ValueError(f'The clipping radius r must be > 0, got {r}.')
    return u * (r / safe_norm(u)).clamp_max(1.0)


@float32_math
def mobius_add(x: torch.Tensor, y: torch.Tensor,
               c: CurvatureLike) -> torch.Tensor:
    r"""Mobius addition :math:`x \oplus_c y` in the ball of curvature ``-c``,
    by geoopt (``mobius_add`` with ``k = -c``), in float32 under autocast.

    .. math::

        x \oplus_c y = \frac{(1 + 2c\langle x,y\rangle + c|y|^2)\,x
            + (1 - c|x|^2)\,y}{1 + 2c\langle x,y\rangle + c^2|x|^2|y|^2}

    Args:
        x (Tensor): Points, shape (..., D).
        y (Tensor): Points, broadcastable with ``x``.
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Points, broadcast shape.
    """
    return _gsm.mobius_add(x, y.to(x.dtype), k=-as_curvature(c, x))


@float32_math
def dist(x: torch.Tensor, y: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    """Geodesic distance between paired points (rows of ``x`` and ``y``).

    Computes ``|x - y|^2`` from the difference itself, so it is accurate
    down to tiny distances (use it for positive pairs).

    Args:
        x (Tensor): Points, shape (..., D).
        y (Tensor): Points, broadcastable with ``x``.
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Distances, broadcast shape without the last dim.
    """
    c = as_curvature(c, x)
    diff2 = (x - y).pow(2).sum(-1)
    w = 2 * c * diff2 / (_conformal(x.pow(2).sum(-1), c) *
                         _conformal(y.pow(2).sum(-1), c))
    return _dist(w, c)


@float32_math
def pairwise_dist(x: torch.Tensor, y: torch.Tensor,
                  c: CurvatureLike) -> torch.Tensor:
    r"""All distances between the rows of ``x`` (N x D) and ``y`` (K x D).

    Never builds an N x K x D tensor: the N x K matrix of

    .. math::

        w_{ij} = \frac{2c\,|x_i-y_j|^2}{(1-c|x_i|^2)(1-c|y_j|^2)}
        = a_i b_j \big(|x_i|^2 + |y_j|^2 - 2\langle x_i, y_j\rangle\big),
        \quad a_i = \frac{2c}{1-c|x_i|^2},\ b_j = \frac{1}{1-c|y_j|^2}

    comes out of ONE matrix product of the augmented rows
    ``[-2 a_i x_i, a_i |x_i|^2, a_i]`` and ``[b_j y_j, b_j, b_j |y_j|^2]``,
    followed by six elementwise passes (``arcosh(1 + w) / sqrt(c)``) in
    place on the product
    (:func:`~hclmm.geometry._numerics.pairwise_arcosh1p_`).
    Leading batch dims are broadcast as in :func:`torch.matmul`.

    Accuracy: ``|x - y|^2`` is a difference of large terms, so its absolute
    error is about ``1e-7 (|x|^2 + |y|^2)`` in float32; distances below about
    ``1e-3 / sqrt(c)`` are not resolved. Use :func:`dist` for paired rows.

    Args:
        x (Tensor): Points, shape (..., N, D).
        y (Tensor): Points, shape (..., K, D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Distances, shape (..., N, K).
    """
    if x.dim() < 2 or y.dim() < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError('pairwise_dist expects (..., N, D) and (..., K, D) '
                         f'tensors, got {tuple(x.shape)} and '
                         f'{tuple(y.shape)}.')
    c = as_curvature(c, x)
    x2 = x.pow(2).sum(-1, keepdim=True)
    y2 = y.pow(2).sum(-1, keepdim=True)
    a = 2 * c / _conformal(x2, c)
    b = 1 / _conformal(y2, c)
    x_aug = torch.cat([-2 * a * x, a * x2, a], dim=-1)
    y_aug = torch.cat([b * y, b, b * y2], dim=-1)
    # a_i b_j > 0, so clamping w at >= 0 (inside arcosh1p) is the same as
    # clamping |x_i - y_j|^2 at >= 0.
    w = torch.matmul(x_aug, y_aug.transpose(-1, -2))
    return pairwise_arcosh1p_(w, c.rsqrt())


@float32_math
def poincare_norm(x: torch.Tensor, c: CurvatureLike) -> torch.Tensor:
    r"""Hyperbolic norm: the distance of each point to the origin.

    :math:`d(0, x) = (2/\sqrt c)\,\mathrm{artanh}(\sqrt c |x|)`, computed as
    ``dist(x, 0)`` so that both agree on points near the boundary.

    Args:
        x (Tensor): Points, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Distances to the origin, shape (...).
    """
    c = as_curvature(c, x)
    x2 = x.pow(2).sum(-1)
    return _dist(2 * c * x2 / _conformal(x2, c), c)



@float32_math
def cone_half_aperture(x: torch.Tensor, c: CurvatureLike,
                       k: float = 0.1) -> torch.Tensor:
    r"""Half-aperture of the hyperbolic entailment cone at ``x``.

    Ganea, Becigneul and Hofmann (ICML 2018), on the ball of curvature
    ``-c``: :math:`\psi(x) = \arcsin(k (1 - c|x|^2) / (\sqrt c |x|))`.
    Cones are wide near the origin and narrow towards the boundary; the
    argument is clamped to [0, 1 - eps], so points within
    ``~k/sqrt(c)`` of the origin get the widest cone (a half-space).

    Args:
        x (Tensor): Apex points, shape (..., D).
        c (float | Tensor): Curvature magnitude, > 0.
        k (float): Aperture constant. Defaults to 0.1.

    Returns:
        Tensor: Angles in radians, shape (...).
    """
    c = as_curvature(c, x)
    sc = c.sqrt()
    xn = safe_norm(x, keepdim=False) * sc
    arg = k * (1 - xn.pow(2)) / xn
    return torch.asin(arg.clamp(0, 1 - ANGLE_EPS))


@float32_math
def cone_angle(x: torch.Tensor, y: torch.Tensor,
               c: CurvatureLike) -> torch.Tensor:
    r"""Exterior angle at ``x`` between the ray from the origin through
    ``x`` and the geodesic from ``x`` to ``y`` (Ganea et al. 2018).

    ``y`` lies in the entailment cone of ``x`` when this angle is at most
    :func:`cone_half_aperture` of ``x``. With ``a = sqrt(c) x`` and
    ``b = sqrt(c) y`` (an isometry to the unit ball):

    .. math::

        \Xi = \arccos\frac{\langle a,b\rangle (1+|a|^2) - |a|^2 (1+|b|^2)}
        {|a|\,|a-b|\,\sqrt{1 + |a|^2|b|^2 - 2\langle a,b\rangle}}

    Args:
        x (Tensor): Apex points, shape (..., D).
        y (Tensor): Points, broadcastable to ``x``.
        c (float | Tensor): Curvature magnitude, > 0.

    Returns:
        Tensor: Angles in [0, pi], shape (...).
    """
    c = as_curvature(c, x)
    sc = c.sqrt()
    a, b = x * sc, y.to(x.dtype) * sc
    ab = (a * b).sum(-1)
    a2, b2 = a.pow(2).sum(-1), b.pow(2).sum(-1)
    num = ab * (1 + a2) - a2 * (1 + b2)
    den = safe_norm(a, keepdim=False) * safe_norm(a - b, keepdim=False) * \
        (1 + a2 * b2 - 2 * ab).clamp_min(MIN_NORM**2).sqrt()
    return torch.acos((num / den).clamp(-1 + ANGLE_EPS, 1 - ANGLE_EPS))
