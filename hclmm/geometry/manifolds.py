"""Manifold objects: one interface for the Poincare ball, the Lorentz model
and Euclidean space.

Each object holds its curvature (a :class:`Curvature` module, fixed or
learnable) and answers the maps, distances and entailment-cone functions of
its model, in float32 under autocast. Heads, losses, metrics and plots call
these methods and never branch on a model's name; a new model is a new
subclass.

Points are what :meth:`Manifold.to_manifold` returns: vectors in the ball
(Poincare), space components on the hyperboloid (Lorentz, the time component
is implied as in MERU), or plain vectors (Euclidean).
"""
from typing import Optional, Union

import numpy as np
import torch
import torch.nn as nn

from hclmm.registry import MODELS
from . import lorentz as L
from . import poincare as P
from ._numerics import ANGLE_EPS, float32_math, safe_norm
from .curvature import Curvature, FlatCurvature

__all__ = ['Manifold', 'PoincareBall', 'Lorentz', 'Euclidean',
           'build_manifold', 'check_manifold']


class Manifold(nn.Module):
    """Interface of a model of (hyperbolic or flat) space.

    Every model runs this ``__init__`` and answers every method below;
    what differs between models (the scale of the exponential map, the
    plot coordinates and labels) is asked of the object, never branched on
    by name.

    Args:
        c (float): Curvature magnitude ``c`` (the space has curvature
            ``-c``), > 0 for the hyperbolic models. Defaults to 1.0.
        learnable (bool): Learn ``log c``, clamped to ``[c/10, 10c]``.
            Defaults to False.
    """

    #: Short name, used in logs, file names and JSON reports.
    name = 'manifold'
    #: Human-readable name of the model, for plots and reports.
    title = 'manifold'
    #: ``dist0(expmap0(u)) / |u|``: the distance to the origin reached per
    #: unit of tangent length at the origin (2 on the Poincare ball with
    #: its usual metric, 1 on the hyperboloid and in flat space).
    origin_speed = 1.0
    #: Axis label of a histogram of :meth:`dist0`.
    norm_label = 'hyperbolic distance to the origin'
    #: What :meth:`disk_radius` shows, for plot titles.
    disk_caption = ('radius = distance to the origin, direction = PCA of '
                    'directions')
    #: What the unit circle of :meth:`disk_radius` stands for.
    disk_boundary_label = 'boundary (infinitely far)'

    def __init__(self, c: float = 1.0, learnable: bool = False) -> None:
        super().__init__()
        self.curvature = self.build_curvature(c, learnable)

    def build_curvature(self, c: float, learnable: bool) -> nn.Module:
        """The ``curvature`` module: a :class:`Curvature` (``c > 0``)."""
        return Curvature(c, learnable=learnable)

    @property
    def c(self) -> torch.Tensor:
        """The curvature magnitude as a 0-dim tensor."""
        return self.curvature()

    def c_value(self) -> Optional[float]:
        """The curvature magnitude as a Python number (None if flat)."""
        return float(self.c.detach())

    def config(self) -> dict:
        """A config that :func:`build_manifold` turns back into an equal
        (fixed-curvature) object, e.g. for evaluation results."""
        c = self.c_value()
        return dict(type=type(self).__name__) if c is None else dict(
            type=type(self).__name__, c=c)

    def fixed_copy(self) -> 'Manifold':
        """An equal manifold with a fixed curvature on the CPU, without
        gradient: what evaluation results carry."""
        return build_manifold(self.config())

    def describe(self) -> str:
        """Name and curvature, e.g. ``'Poincare ball (c=0.05)'``."""
        c = self.c_value()
        return self.title if c is None else f'{self.title} (c={c:.3g})'

    def tangent_norm(self, r: Union[float, torch.Tensor]
                     ) -> Union[float, torch.Tensor]:
        """Length of the tangent vectors at the origin that :meth:`expmap0`
        carries to distance ``r`` from the origin (``r / origin_speed``):
        how a radius given as a distance (``clip_r``, ``scale_norm``)
        becomes a length of Euclidean features, the same on every model."""
        return r / self.origin_speed

    # --- plots ------------------------------------------------------------
    def disk_radius(self, radii: np.ndarray) -> np.ndarray:
        """Radii in the unit disk of a 2-D plot for distances ``radii`` to
        the origin (float64 array in, float64 array out).

        A point at distance ``r`` is drawn where the Poincare disk of
        curvature ``-c``, scaled to the unit disk, has it: at
        ``tanh(sqrt(c) r / 2)``, so the boundary is infinitely far away.
        """
        radii = np.asarray(radii, dtype=np.float64)
        return np.tanh(np.sqrt(self.c_value()) * radii / 2.0)

    # --- maps -------------------------------------------------------------
    def expmap0(self, u: torch.Tensor) -> torch.Tensor:
        """Tangent vectors at the origin -> points."""
        raise NotImplementedError

    def logmap0(self, x: torch.Tensor) -> torch.Tensor:
        """Points -> tangent vectors at the origin."""
        raise NotImplementedError

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Pull points onto the model's domain (identity by default)."""
        return x

    def to_manifold(self,
                    u: torch.Tensor,
                    clip_r: Optional[float] = None) -> torch.Tensor:
        """Clip Euclidean features so that their points lie within distance
        ``clip_r`` of the origin (length :meth:`tangent_norm` of it; None:
        no clip), map them with :meth:`expmap0` and :meth:`project`; in
        float32 at least (half precision goes up, float64 stays)."""
        with torch.autocast(device_type=u.device.type, enabled=False):
            u = u.to(torch.promote_types(u.dtype, torch.float32))
            if clip_r is not None:
                u = P.clip_features(u, self.tangent_norm(clip_r))
            return self.project(self.expmap0(u))

    # --- distances --------------------------------------------------------
    def dist(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Geodesic distance between paired rows (accurate when tiny)."""
        raise NotImplementedError

    def pairwise_dist(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """All distances between N x D and K x D points (one matmul); a
        fresh tensor that no backward pass reads, so callers may scale it
        in place."""
        raise NotImplementedError

    def dist0(self, x: torch.Tensor) -> torch.Tensor:
        """Distance of each point to the origin (its norm)."""
        raise NotImplementedError

    # --- entailment cones (Ganea et al., ICML 2018) -----------------------
    def cone_half_aperture(self, x: torch.Tensor,
                           k: float = 0.1) -> torch.Tensor:
        """Half-aperture of the entailment cone whose apex is ``x``."""
        raise NotImplementedError

    def cone_angle(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Exterior angle at ``x`` between the ray origin -> ``x`` and the
        geodesic ``x`` -> ``y``; ``y`` is in the cone of ``x`` when it is at
        most :meth:`cone_half_aperture`."""
        raise NotImplementedError

    def at_boundary(self, x: torch.Tensor) -> torch.Tensor:
        """Boolean mask of points stuck at the edge of the model's domain,
        where gradients vanish (none by default)."""
        return torch.zeros(x.shape[:-1], dtype=torch.bool, device=x.device)

    def extra_repr(self) -> str:
        return f'name={self.name!r}'


@MODELS.register_module()
class PoincareBall(Manifold):
    """The Poincare ball of curvature ``-c`` (geoopt's convention).

    Functions: :mod:`hclmm.geometry.poincare`.

    Args:
        c (float): Curvature magnitude. Defaults to 1.0.
        learnable (bool): Learn ``log c``. Defaults to False.
        eps (float): Relative margin of :meth:`project` to the boundary.
            Defaults to 1e-3.
    """

    name = 'poincare'
    title = 'Poincare ball'
    # dist0(expmap0(u)) = (2/sqrt c) artanh(tanh(sqrt c |u|)) = 2|u|
    origin_speed = 2.0

    def __init__(self,
                 c: float = 1.0,
                 learnable: bool = False,
                 eps: float = 1e-3) -> None:
        super().__init__(c, learnable)
        if not 0 < eps < 1:
            raise ValueError(f'eps must be in (0, 1), got {eps}.')
        self.eps = float(eps)

    def expmap0(self, u):
        return P.expmap0(u, self.c)

    def logmap0(self, x):
        return P.logmap0(x, self.c)

    def project(self, x):
        return P.project(x, self.c, self.eps)

    def dist(self, x, y):
        return P.dist(x, y, self.c)

    def pairwise_dist(self, x, y):
        return P.pairwise_dist(x, y, self.c)

    def dist0(self, x):
        return P.poincare_norm(x, self.c)

    def cone_half_aperture(self, x, k=0.1):
        return P.cone_half_aperture(x, self.c, k)

    def cone_angle(self, x, y):
        return P.cone_angle(x, y, self.c)

    def at_boundary(self, x):
        # points that project() pulled onto its sphere (1 - eps)/sqrt(c)
        radius = (1 - 2 * self.eps) * self.c.detach().rsqrt()
        return x.detach().float().norm(dim=-1) >= radius


@MODELS.register_module()
class Lorentz(Manifold):
    """The Lorentz model (hyperboloid) of curvature ``-c``, by space
    components as in MERU.

    Functions: :mod:`hclmm.geometry.lorentz`. Every vector is a valid point,
    so :meth:`project` is the identity. Isometric to :class:`PoincareBall`
    with the same ``c``: ``x = 2p / (1 - c|p|^2)``. ``dist0(expmap0(u))``
    is ``|u|`` here and ``2|u|`` on the ball (the ball's usual metric
    convention, :attr:`origin_speed`); radii given as distances
    (:meth:`to_manifold`'s ``clip_r``) mean the same points on both.

    Args:
        c (float): Curvature magnitude. Defaults to 1.0.
        learnable (bool): Learn ``log c``. Defaults to False.
    """

    name = 'lorentz'
    title = 'Lorentz model'

    def expmap0(self, u):
        return L.lorentz_expmap0(u, self.c)

    def logmap0(self, x):
        return L.lorentz_logmap0(x, self.c)

    def dist(self, x, y):
        return L.lorentz_dist(x, y, self.c)

    def pairwise_dist(self, x, y):
        return L.lorentz_pairwise_dist(x, y, self.c)

    def dist0(self, x):
        return L.lorentz_origin_dist(x, self.c)

    def cone_half_aperture(self, x, k=0.1):
        return L.lorentz_cone_half_aperture(x, self.c, k)

    def cone_angle(self, x, y):
        return L.lorentz_cone_angle(x, y, self.c)

    def at_boundary(self, x):
        # the sinh cap of lorentz_expmap0
        limit = 0.999 * torch.sinh(torch.tensor(L.MAX_SINH))
        return (self.c.detach().sqrt() * x.detach().float().norm(dim=-1)
                >= limit.to(x.device))


@float32_math
def _euclidean_cone_angle(x, y):
    """Angle between ``x`` and ``y - x`` (the ray's direction at ``x``)."""
    d = y.to(x.dtype) - x
    cos = (x * d).sum(-1) / (safe_norm(x, keepdim=False) *
                             safe_norm(d, keepdim=False))
    return torch.acos(cos.clamp(-1 + ANGLE_EPS, 1 - ANGLE_EPS))


@MODELS.register_module()
class Euclidean(Manifold):
    """Flat space: the maps are the identity, distances are ``|x - y|``.

    Describes the embeddings of models without a hyperbolic head (e.g. the
    baseline twins), so that evaluation treats every model alike, and is the
    flat-space ablation of a hyperbolic head (a config change); its
    entailment cones are Ganea et al.'s Euclidean cones
    (half-aperture ``arcsin(min(1, k/|x|))``). Its ``curvature`` is a
    :class:`~hclmm.geometry.FlatCurvature` (``c = 0``, not learnable).
    """

    name = 'euclidean'
    title = 'Euclidean'
    norm_label = 'Euclidean norm'
    disk_caption = 'radius / max radius, direction = PCA'
    disk_boundary_label = 'max norm'

    def __init__(self) -> None:
        super().__init__(c=0.0)

    def build_curvature(self, c, learnable):
        """A :class:`FlatCurvature`: ``c = 0``, never learnt."""
        if c != 0 or learnable:
            raise ValueError('flat space has the fixed curvature c = 0')
        return FlatCurvature()

    def c_value(self):
        return None

    def disk_radius(self, radii):
        """Radii divided by the largest one (all 0 if it is 0)."""
        radii = np.asarray(radii, dtype=np.float64)
        top = radii.max() if radii.size else 0.0
        return radii / top if top > 0 else np.zeros_like(radii)

    @float32_math
    def expmap0(self, u):
        return u

    @float32_math
    def logmap0(self, x):
        return x

    @float32_math
    def dist(self, x, y):
        return safe_norm(x - y.to(x.dtype), keepdim=False)

    @float32_math
    def pairwise_dist(self, x, y):
        # cdist keeps its output for backward: hand out a copy
        return torch.cdist(x, y.to(x.dtype)).clone()

    @float32_math
    def dist0(self, x):
        return x.norm(dim=-1)

    @float32_math
    def cone_half_aperture(self, x, k=0.1):
        arg = k / safe_norm(x, keepdim=False)
        return torch.asin(arg.clamp(0, 1 - ANGLE_EPS))

    def cone_angle(self, x, y):
        return _euclidean_cone_angle(x, y)


def build_manifold(cfg: Union[str, dict, Manifold, None],
                   c: Optional[float] = None) -> Manifold:
    """Build a manifold object from a config, a name or an object.

    Args:
        cfg (str | dict | Manifold | None): ``dict(type='PoincareBall',
            c=0.05)``, a name (``'poincare'``, ``'lorentz'``,
            ``'euclidean'``), an existing object (returned as is) or None
            (Euclidean).
        c (float, optional): Curvature when ``cfg`` is a name.

    Returns:
        Manifold: The manifold object.
    """
    if isinstance(cfg, Manifold):
        return cfg
    if cfg is None:
        return Euclidean()
    if isinstance(cfg, str):
        names = {m.name: m for m in (PoincareBall, Lorentz, Euclidean)}
        if cfg not in names:
            raise ValueError(f'unknown manifold {cfg!r}; expected one of '
                             f'{sorted(names)} or a config dict')
        if names[cfg] is Euclidean:
            return Euclidean()
        if c is None:
            raise ValueError(f'the {cfg} model needs a curvature c > 0')
        return names[cfg](c=c)
    manifold = MODELS.build(cfg)
    if not isinstance(manifold, Manifold):
        raise TypeError(f'{cfg!r} did not build a Manifold but a '
                        f'{type(manifold).__name__}')
    return manifold


def check_manifold(manifold) -> Manifold:
    """Return ``manifold``; raise a TypeError unless it is a
    :class:`Manifold` object (build one from a config with
    :func:`build_manifold`)."""
    if not isinstance(manifold, Manifold):
        raise TypeError('expected a hclmm.geometry.Manifold object (e.g. '
                        'PoincareBall(c=0.05), or build_manifold(cfg)), got '
                        f'{type(manifold).__name__}')
    return manifold
