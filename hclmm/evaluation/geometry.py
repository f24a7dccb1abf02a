"""Norms and distances of embeddings under the geometry they came from.

The geometry is a :class:`~hclmm.geometry.Manifold` object (the HCL
models' ``predict`` mode reports its config), or a name with a curvature (for example
as read back from a ``zero_shot.json``): ``'poincare'`` (points in the ball;
the norm is ``(2 / sqrt(c)) artanh(sqrt(c) |x|)``), ``'lorentz'`` (space
components on the hyperboloid) or ``'euclidean'`` (plain vectors, e.g. the
projection of a baseline without a hyperbolic head).
"""
from typing import Optional, Union

import torch

from hclmm.geometry import Manifold, build_manifold

__all__ = [
    'as_manifold', 'check_geometry', 'embedding_norm',
    'embedding_pairwise_dist', 'embedding_paired_dist'
]

ManifoldLike = Union[Manifold, str]


def as_manifold(manifold: ManifoldLike,
                c: Optional[float] = None) -> Manifold:
    """The manifold object for an object or a name and curvature.

    Raises a clear error for an unknown name or a missing curvature.
    """
    return build_manifold(manifold, c)


def check_geometry(manifold: ManifoldLike, c: Optional[float] = None) -> None:
    """Raise a clear error for an unknown manifold or a missing curvature."""
    as_manifold(manifold, c)


def embedding_norm(points: torch.Tensor, manifold: ManifoldLike,
                   c: Optional[float] = None) -> torch.Tensor:
    """Distance of every point (N x D) to the origin (N values)."""
    return as_manifold(manifold, c).dist0(points)


def embedding_pairwise_dist(x: torch.Tensor, y: torch.Tensor,
                            manifold: ManifoldLike,
                            c: Optional[float] = None) -> torch.Tensor:
    """All N x K distances between N x D and K x D points."""
    return as_manifold(manifold, c).pairwise_dist(x, y)


def embedding_paired_dist(x: torch.Tensor,
                          y: torch.Tensor,
                          manifold: ManifoldLike,
                          c: Optional[float] = None) -> torch.Tensor:
    """Distance between ``x[i]`` and ``y[i]`` for every row ``i``."""
    if x.shape != y.shape:
        raise ValueError(f'x and y must have the same shape, got '
                         f'{tuple(x.shape)} and {tuple(y.shape)}')
    return as_manifold(manifold, c).dist(x, y)
