"""A 2-D view of embeddings that keeps every point's distance to the origin."""
import numpy as np

from hclmm.geometry import Manifold, check_manifold

__all__ = ['disk_coordinates']


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out = np.zeros_like(x)
    np.divide(x, norms, out=out, where=norms > 0)
    return out


def disk_coordinates(directions, radii, manifold: Manifold) -> np.ndarray:
    """Place points in the unit disk, keeping their radius, for plotting.

    The radius comes from the manifold (:meth:`Manifold.disk_radius`): for
    a hyperbolic embedding the point is drawn where a point of the same
    hyperbolic norm ``r`` lies in the Poincare disk of curvature ``-c``
    scaled to the unit disk, at Euclidean radius ``tanh(sqrt(c) r / 2)``
    (so the boundary circle is infinitely far away); for a Euclidean
    embedding it is ``r / max(r)``.

    Directions are reduced to 2-D by PCA of the unit directions
    ``x / |x|`` (centred, top two principal axes) and renormalised to unit
    length, so only the angle comes from the PCA. A point whose direction has
    no component in the PCA plane is drawn along the first axis.

    Args:
        directions: Array of shape (N, D): the embedding coordinates whose
            directions are shown (for the Lorentz model, its space part).
        radii: Array of shape (N,): the distance of each point to the origin
            under the embedding's geometry.
        manifold (Manifold): The embedding's manifold object.

    Returns:
        np.ndarray: float64 array of shape (N, 2) inside the unit disk.
    """
    directions = np.asarray(directions, dtype=np.float64)
    radii = np.asarray(radii, dtype=np.float64)
    if directions.ndim != 2 or radii.shape != (directions.shape[0], ):
        raise ValueError('expected directions (N, D) and radii (N,), got '
                         f'{directions.shape} and {radii.shape}')
    rho = check_manifold(manifold).disk_radius(radii)
    unit = _unit_rows(directions)
    if unit.shape[1] >= 2 and len(unit) >= 2:
        centred = unit - unit.mean(0, keepdims=True)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        axes = vt[:2]
        if axes.shape[0] < 2:  # a single sample direction
            axes = np.eye(2, unit.shape[1])
        flat = unit @ axes.T
    else:
        flat = np.zeros((len(unit), 2))
        flat[:, :unit.shape[1]] = unit[:, :2]
    flat = _unit_rows(flat)
    flat[np.linalg.norm(flat, axis=1) == 0] = (1.0, 0.0)
    return flat * rho[:, None]
