"""Shared numerical helpers of the hyperbolic geometry functions.

Every public geometry function is wrapped by :func:`float32_math`: it runs
with autocast disabled and with half-precision inputs (float16, bfloat16)
cast to float32, so hyperbolic maths never runs in a 16-bit type. float32
and float64 inputs keep their dtype.
"""
import functools
import math
from typing import Union

import torch

__all__ = [
    'MIN_NORM', 'MIN_SQ', 'MAX_ARCOSH_ARG', 'ANGLE_EPS', 'float32_math',
    'as_curvature', 'safe_norm', 'arcosh1p', 'pairwise_arcosh1p_',
    'PAIRWISE_BLOCK'
]

#: Smallest Euclidean norm used as a divisor. Zero vectors have no
#: direction; dividing by ``max(|u|, MIN_NORM)`` maps them to zero instead of
#: NaN, and the clamp gives a zero gradient there. Same floor as geoopt.
MIN_NORM = 1e-15
#: Floor of squared norms and of the argument of ``sqrt`` inside distances:
#: ``sqrt`` has an infinite derivative at 0, so its input is kept >= MIN_SQ.
#: The distance this floor stands for (about 1e-15 / sqrt(c)) is far below
#: float32 resolution.
MIN_SQ = MIN_NORM**2
#: Cap of ``w`` in ``arcosh(1 + w)`` (a distance of 42.1 / sqrt(c)): keeps
#: ``w * w`` finite in float32. Points inside the Poincare ball give
#: ``w <= 8e12`` and points of :func:`lorentz_expmap0` ``w < 2^31``, so only
#: inputs outside the ball (unprojected garbage) ever reach it.
MAX_ARCOSH_ARG = 1e18

#: Margin kept from the ends of the domains of ``acos`` and ``asin`` in the
#: entailment-cone angles, whose derivatives are infinite at +-1.
ANGLE_EPS = 1e-6

_HALF_TYPES = (torch.float16, torch.bfloat16)


def _upcast(value):
    if isinstance(value, torch.Tensor) and value.dtype in _HALF_TYPES:
        return value.float()
    return value


def float32_math(func):
    """Run ``func`` without autocast and with 16-bit tensors cast to float32.

    Args:
        func (Callable): A function whose first argument is a tensor.

    Returns:
        Callable: The wrapped function.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        device_type = 'cpu'
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, torch.Tensor):
                device_type = value.device.type
                break
        args = tuple(_upcast(a) for a in args)
        kwargs = {k: _upcast(v) for k, v in kwargs.items()}
        with torch.autocast(device_type=device_type, enabled=False):
            return func(*args, **kwargs)

    return wrapper


def as_curvature(c: Union[float, torch.Tensor],
                 like: torch.Tensor) -> torch.Tensor:
    """Return the curvature magnitude ``c`` as a 0-dim tensor like ``like``.

    The space has constant curvature ``-c``. Python numbers are checked to be
    finite and positive; tensors (possibly learnable, see
    :class:`Curvature`) are only checked to hold one element, since reading
    their value would synchronise with an accelerator.

    Args:
        c (float | Tensor): Curvature magnitude, > 0. A tensor must have one
            element; its gradient is kept.
        like (Tensor): Tensor giving the dtype and device.

    Returns:
        Tensor: 0-dim tensor with ``like``'s dtype and device.
    """
    if isinstance(c, torch.Tensor):
        if c.numel() != 1:
            raise ValueError('The curvature c must be a number or a tensor '
                             f'with one element, got shape {tuple(c.shape)}.')
        return c.reshape(()).to(dtype=like.dtype, device=like.device)
    if isinstance(c, bool) or not isinstance(c, (int, float)):
        raise TypeError(f'The curvature c must be a float or a tensor, got '
                        f'{type(c).__name__}.')
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f'The curvature c must be finite and > 0 (the '
                         f'space has curvature -c), got {c}.')
    return torch.tensor(float(c), dtype=like.dtype, device=like.device)


def safe_norm(x: torch.Tensor, keepdim: bool = True) -> torch.Tensor:
    """Euclidean norm over the last dim, floored at :data:`MIN_NORM`.

    ``sqrt(max(sum x^2, MIN_SQ))`` has a finite gradient everywhere
    (zero for vectors shorter than ``MIN_NORM``).

    Args:
        x (Tensor): Vectors, shape (..., D).
        keepdim (bool): Keep the reduced dim. Defaults to True.

    Returns:
        Tensor: Norms, shape (..., 1) or (...).
    """
    return x.pow(2).sum(-1, keepdim=keepdim).clamp_min(MIN_SQ).sqrt()


class _Arcosh1p(torch.autograd.Function):
    """``arcosh(1 + w)`` with a one-pass backward (see :func:`arcosh1p`)."""

    @staticmethod
    def forward(ctx, w):
        w = w.clamp(MIN_SQ, MAX_ARCOSH_ARG)
        # sqrt(w^2 + 2w) / sqrt(2), in place on a temporary
        root = torch.addcmul(w, w, w, value=0.5).sqrt_()
        out = torch.add(w, root, alpha=math.sqrt(2)).log1p_()
        if ctx.needs_input_grad[0]:
            # d arcosh(1 + w)/dw = 1/sqrt(w^2 + 2w); zero where w was
            # clamped, like the gradient of clamp itself
            inv = root.reciprocal_().mul_(1 / math.sqrt(2))
            inv.masked_fill_(w.le(MIN_SQ) | w.ge(MAX_ARCOSH_ARG), 0)
            ctx.save_for_backward(inv)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        inv, = ctx.saved_tensors
        return grad * inv


def arcosh1p(w: torch.Tensor) -> torch.Tensor:
    """``arcosh(1 + w)`` for ``w >= 0``, stable at both ends.

    Computed as ``log1p(w + sqrt(w^2 + 2w))`` (no rounding of ``1 + w`` for
    tiny ``w``), with ``w^2 + 2w = 2 (w + w^2/2)``: only ``log1p`` and
    ``sqrt``, which on the CPU are many times faster than ``torch.acosh`` or
    ``torch.asinh``. ``w`` is clamped to ``[MIN_SQ, MAX_ARCOSH_ARG]``: 0 for
    equal points (slightly negative from rounding in matrix-product forms),
    where the derivative ``1/sqrt(w^2 + 2w)`` is infinite; the gradient is
    zero where ``w`` was clamped. The cap is explained at
    :data:`MAX_ARCOSH_ARG`.

    A custom autograd function: the forward keeps the derivative, so the
    backward is one elementwise product instead of one pass per forward op
    (the N x K matrices are the cost of pairwise distances). Not twice
    differentiable.

    Args:
        w (Tensor): ``-c<x, y>_L - 1``, i.e. ``cosh(sqrt(c) d) - 1``.

    Returns:
        Tensor: ``sqrt(c) d``, same shape.
    """
    return _Arcosh1p.apply(w)


#: Elements per pass of :func:`pairwise_arcosh1p_` (1 MiB of float32):
#: the passes over one block run while it is in the cache.
PAIRWISE_BLOCK = 1 << 18


class _PairwiseArcosh1p(torch.autograd.Function):
    """``scale * arcosh(1 + w)`` in place on ``w`` (see
    :func:`pairwise_arcosh1p_`)."""

    @staticmethod
    def forward(ctx, w, scale):
        ctx.mark_dirty(w)
        needs_grad = ctx.needs_input_grad[0]
        flat = w.view(-1)
        block = min(PAIRWISE_BLOCK, flat.numel())
        # the derivative scale/sqrt(w^2 + 2w), kept for backward, or a
        # scratch block
        inv = torch.empty_like(flat) if needs_grad else flat.new_empty(block)
        inv_factor = scale * (1 / math.sqrt(2))
        for start in range(0, flat.numel(), block):
            seg = flat[start:start + block]
            root = inv[start:start + block] if needs_grad else \
                inv[:seg.numel()]
            seg.clamp_(MIN_SQ, MAX_ARCOSH_ARG)
            # sqrt(w^2 + 2w) / sqrt(2)
            torch.addcmul(seg, seg, seg, value=0.5, out=root).sqrt_()
            if needs_grad:
                # zero where w was clamped, like the gradient of clamp
                clamped = seg.le(MIN_SQ).logical_or_(seg.ge(MAX_ARCOSH_ARG))
            seg.add_(root, alpha=math.sqrt(2)).log1p_().mul_(scale)
            if needs_grad:
                root.reciprocal_().mul_(inv_factor).masked_fill_(clamped, 0)
        if needs_grad:
            ctx.save_for_backward(inv.view_as(w))
        return w

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        inv, = ctx.saved_tensors
        return grad * inv, None


def pairwise_arcosh1p_(w: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``scale * arcosh(1 + w)`` of a matrix of all pairs, in place.

    The same values as ``arcosh1p(w) * scale`` (same clamps, same
    operations), computed in ``w`` itself, block by block: the N x K
    matrices are the whole cost of pairwise distances. Every fresh one
    costs a pass of page faults (under several threads also their lock),
    so the forward makes none beyond ``w`` (the backward keeps one), and
    the five passes over a block of :data:`PAIRWISE_BLOCK` elements run
    while it is in the cache.

    Args:
        w (Tensor): ``cosh(sqrt(c) d) - 1`` for all pairs, a fresh tensor
            that nothing else reads (the output of the matrix product);
            overwritten when contiguous.
        scale (Tensor): 0-dim factor, ``1/sqrt(c)``. When it needs a
            gradient (learnable curvature) or ``w`` is not contiguous the
            result is ``arcosh1p(w) * scale``, out of place.

    Returns:
        Tensor: ``scale * arcosh(1 + w)``.
    """
    if (scale.requires_grad and torch.is_grad_enabled()) or \
            not w.is_contiguous() or w.numel() == 0:
        return arcosh1p(w) * scale
    return _PairwiseArcosh1p.apply(w, scale.detach())
