"""Small helpers shared by the metric functions."""
import numpy as np

__all__ = ['to_numpy', 'merge_close_values']


def to_numpy(x, dtype=None) -> np.ndarray:
    """Convert a sequence, numpy array or torch tensor to a numpy array.

    Args:
        x: A list, tuple, numpy array or torch tensor (on any device).
        dtype: Optional numpy dtype of the result. Defaults to None (keep).

    Returns:
        np.ndarray: The values as a numpy array.
    """
    if hasattr(x, 'detach'):  # torch.Tensor without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def merge_close_values(x, rtol: float = 1e-6) -> np.ndarray:
    """Make values that differ only by rounding noise exactly equal.

    Sorted values whose consecutive gaps are at most ``rtol * max|x|`` form
    one group (single linkage); every member is replaced by the group mean,
    so the order of distinct values is kept and rank-based scores see the
    group as a tie. Use it for quantities computed from float32 embeddings,
    e.g. norms of points that all sit on a clipping sphere, whose last
    digits are noise.

    Args:
        x: 1-D array-like of numbers.
        rtol (float): Tolerance relative to the largest magnitude; 0 merges
            only exactly equal values. Defaults to 1e-6.

    Returns:
        np.ndarray: float64 array of the same length.
    """
    x = to_numpy(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f'expected a 1-D array, got shape {x.shape}')
    if rtol < 0:
        raise ValueError(f'rtol must be >= 0, got {rtol}')
    if x.size < 2:
        return x.copy()
    order = np.argsort(x, kind='stable')
    sorted_x = x[order]
    tol = rtol * np.abs(sorted_x[[0, -1]]).max()
    group = np.concatenate([[0], np.cumsum(np.diff(sorted_x) > tol)])
    sums = np.bincount(group, weights=sorted_x)
    counts = np.bincount(group)
    out = np.empty_like(x)
    out[order] = (sums / counts)[group]
    return out
