import math

import torch
import torch.nn as nn

from hclmm.registry import MODELS

__all__ = ['Curvature', 'FlatCurvature']


@MODELS.register_module()
class Curvature(nn.Module):
    """Curvature magnitude ``c`` of a hyperbolic space (curvature ``-c``).

    Stored as ``log c`` (a parameter when learnable, a buffer otherwise) and
    kept in ``[c0 / ratio, c0 * ratio]`` as in MERU: in training the stored
    value is clamped in place at every call, and the returned value is
    clamped as well, so a loaded out-of-range value cannot leak out.

    Args:
        c (float): Initial curvature magnitude ``c0``, > 0. Defaults to 1.0.
        learnable (bool): Whether ``log c`` is trained. Defaults to False.
        ratio (float): Half-width of the allowed range as a factor of
            ``c0``, >= 1. Defaults to 10.0.

    Example:
        >>> curv = Curvature(0.05, learnable=True)
        >>> curv()
        tensor(0.0500, grad_fn=<ExpBackward0>)
    """

    def __init__(self,
                 c: float = 1.0,
                 learnable: bool = False,
                 ratio: float = 10.0) -> None:
        super().__init__()
        c = float(c)
        if not (math.isfinite(c) and c > 0):
            raise ValueError(f'The curvature c must be finite and > 0, '
                             f'got {c}.')
        if not ratio >= 1:
            raise ValueError(f'ratio must be >= 1, got {ratio}.')
        self.c0 = c
        self.learnable = bool(learnable)
        self.log_min = math.log(c / ratio)
        self.log_max = math.log(c * ratio)
        log_c = torch.tensor(math.log(c))
        if self.learnable:
            self.log_c = nn.Parameter(log_c)
        else:
            self.register_buffer('log_c', log_c)

    def forward(self) -> torch.Tensor:
        """Return ``c`` as a 0-dim tensor (with gradient when learnable)."""
        if self.learnable and self.training:
            # Keep the parameter itself in range (as MERU), so that it never
            # drifts where the clamp below has no gradient. ``.data`` leaves
            # the autograd version counter alone: graphs built earlier in
            # the same step stay valid.
            self.log_c.data.clamp_(self.log_min, self.log_max)
        return self.log_c.clamp(self.log_min, self.log_max).exp()

    def extra_repr(self) -> str:
        return (f'c0={self.c0}, learnable={self.learnable}, '
                f'range=[{math.exp(self.log_min):.4g}, '
                f'{math.exp(self.log_max):.4g}]')


class FlatCurvature(nn.Module):
    """The curvature of flat space: ``c = 0``, never learnt.

    Gives :class:`~hclmm.geometry.Euclidean` the same ``curvature``
    attribute as the hyperbolic models (``learnable``, ``c0``, a call that
    returns ``c``), without state in checkpoints.
    """

    c0 = 0.0
    learnable = False

    def forward(self) -> torch.Tensor:
        """Return ``c = 0`` as a 0-dim tensor."""
        return torch.zeros(())

    def extra_repr(self) -> str:
        return 'c0=0.0, learnable=False'
