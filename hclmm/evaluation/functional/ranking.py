"""Rank-based scores: AUROC (Mann-Whitney U) and Spearman correlation,
from :mod:`scipy.stats`, with the checks and conventions of this package."""
import warnings

import numpy as np
from scipy.stats import mannwhitneyu, spearmanr

from ._utils import to_numpy

__all__ = ['auroc', 'spearman']


def _finite_1d(x, name: str) -> np.ndarray:
    x = to_numpy(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f'{name} must be 1-D, got shape {x.shape}')
    if not np.all(np.isfinite(x)):
        raise ValueError(f'{name} contains NaN or infinite values')
    return x


def auroc(scores, labels) -> float:
    """Area under the ROC curve, with ties counted as one half.

    The probability that a randomly drawn positive scores higher than a
    randomly drawn negative, a tie counting 1/2: the Mann-Whitney U
    statistic of the positives (on average ranks) over ``P N``, the numbers
    of positives and negatives. 1.0 means every positive scores above every
    negative, 0.5 no separation and 0.0 reversed.

    Args:
        scores: 1-D array-like of scores; higher means "more positive".
        labels: 1-D array-like of the same length; truthy values (1/True)
            are positives, 0/False negatives.

    Returns:
        float: The AUROC in [0, 1].

    Raises:
        ValueError: If the lengths differ, scores are not finite, or the
            labels hold no positive or no negative.
    """
    scores = _finite_1d(scores, 'scores')
    labels = to_numpy(labels)
    if labels.shape != scores.shape:
        raise ValueError(f'scores and labels must have the same shape, got '
                         f'{scores.shape} and {labels.shape}')
    labels = labels.astype(bool)
    num_pos = int(labels.sum())
    num_neg = int(labels.size - num_pos)
    if num_pos == 0 or num_neg == 0:
        raise ValueError('AUROC is undefined without at least one positive '
                         f'and one negative label (got {num_pos} positives '
                         f'and {num_neg} negatives)')
    u_stat = mannwhitneyu(scores[labels], scores[~labels],
                          method='asymptotic').statistic
    return float(u_stat / (num_pos * num_neg))


def spearman(x, y) -> float:
    """Spearman rank correlation, with tied values sharing average ranks.

    Args:
        x: 1-D array-like of numbers.
        y: 1-D array-like of numbers, same length as ``x``.

    Returns:
        float: The correlation in [-1, 1] (sign kept), or NaN when it is
        undefined (fewer than two values, or one of the inputs is constant).

    Raises:
        ValueError: If the lengths differ or values are not finite.
    """
    x = _finite_1d(x, 'x')
    y = _finite_1d(y, 'y')
    if x.shape != y.shape:
        raise ValueError(f'x and y must have the same length, got {len(x)} '
                         f'and {len(y)}')
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float('nan')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return float(np.clip(spearmanr(x, y).statistic, -1.0, 1.0))
