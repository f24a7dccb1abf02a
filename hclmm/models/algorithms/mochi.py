"""MoCo v2 with hard negative mixing (MoCHi, Kalantidis et al., NeurIPS
2020)."""
from hclmm.registry import MODELS
from .hyperbolic_instance import HypMoCo

__all__ = ['MoCHi']


@MODELS.register_module()
class MoCHi(HypMoCo):
    """MoCo that hands the projections of query, key and queue to its head.

    mmpretrain's ``MoCo`` gives its head only cosine similarities, but
    mixing hard negatives needs the queue's features. This subclass keeps
    MoCo's encoders, momentum update, queue (``queue`` buffer, Euclidean
    key projections) and state-dict keys, and calls
    ``head.loss(q, k, queue=queue)`` with the raw projections (the loss of
    :class:`~hclmm.models.algorithms.HypMoCo`). Heads:
    :class:`~hclmm.models.heads.MoCHiHead` (Euclidean; ``mixing=None`` is
    plain MoCo v2) or :class:`~hclmm.models.heads.HyperbolicContrastiveHead`
    with ``HyperbolicInfoNCELoss`` (both take a ``mixing`` config). Arguments
    are MoCo's.
    """
