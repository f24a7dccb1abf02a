"""Hyperbolic geometry: functions per model and manifold objects.

Callers use the manifold objects (:class:`PoincareBall`, :class:`Lorentz`,
:class:`Euclidean`); the functions of :mod:`.poincare` and :mod:`.lorentz`
are their short, documented implementations.
"""
from .curvature import Curvature, FlatCurvature
from .lorentz import (lorentz_cone_angle, lorentz_cone_half_aperture,
                      lorentz_dist, lorentz_expmap0, lorentz_logmap0,
                      lorentz_origin_dist, lorentz_pairwise_dist, lorentz_time)
from .manifolds import (Euclidean, Lorentz, Manifold, PoincareBall,
                        build_manifold, check_manifold)
from .poincare import (clip_features, cone_angle, cone_half_aperture, dist,
                       expmap0, logmap0, mobius_add, pairwise_dist,
                       poincare_norm, project)

__all__ = [
    'Manifold', 'PoincareBall', 'Lorentz', 'Euclidean', 'build_manifold',
    'check_manifold', 'Curvature', 'FlatCurvature', 'expmap0', 'logmap0',
    'project', 'clip_features', 'mobius_add', 'dist', 'pairwise_dist',
    'poincare_norm', 'cone_half_aperture', 'cone_angle', 'lorentz_time',
    'lorentz_expmap0', 'lorentz_logmap0', 'lorentz_dist',
    'lorentz_pairwise_dist', 'lorentz_origin_dist',
    'lorentz_cone_half_aperture', 'lorentz_cone_angle'
]
