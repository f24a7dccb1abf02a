"""Cosine distance, the one comparison of directions in the package."""
import torch
import torch.nn.functional as F

__all__ = ['cosine_distance']


def cosine_distance(a: torch.Tensor,
                    b: torch.Tensor = None,
                    pairwise: bool = True) -> torch.Tensor:
    """``1 - cos(a, b)`` of the rows of ``a`` and ``b``.

    Args:
        a (Tensor): N x D.
        b (Tensor, optional): M x D (``pairwise``) or N x D. Defaults to
            ``a``.
        pairwise (bool): The N x M matrix of every pair of rows; False: the
            N distances of matching rows. Defaults to True.

    Returns:
        Tensor: N x M (or N) distances in [0, 2].
    """
    b = a if b is None else b
    if not pairwise:
        return 1 - F.cosine_similarity(a, b, dim=-1)
    return 1 - F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
