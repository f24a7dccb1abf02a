"""A FIFO queue of keys shared by the heads that keep negatives or
neighbour candidates (the HCL head, SNCLR)."""
from typing import Dict

import torch
import torch.nn as nn
from mmengine.dist import all_gather

from hclmm.registry import MODELS

__all__ = ['KeyQueue', 'rename_state_keys']


def rename_state_keys(state_dict: Dict[str, torch.Tensor], prefix: str,
                      renames: Dict[str, str]) -> None:
    """Rename ``prefix + old`` keys to ``prefix + new`` in place (checkpoint
    compatibility of modules whose layout changed)."""
    for old, new in renames.items():
        if prefix + old in state_dict and prefix + new not in state_dict:
            state_dict[prefix + new] = state_dict.pop(prefix + old)


@MODELS.register_module()
class KeyQueue(nn.Module):
    """FIFO queue of ``length`` keys of dimension ``dim``.

    :meth:`push` gathers the keys of every process (so all processes hold
    the same queue) and overwrites the oldest entries. The keys, the write
    pointer and the number of filled entries are buffers, so the queue is
    saved in checkpoints and moved with the model.

    Args:
        length (int): Number of keys kept, >= 1.
        dim (int): Key dimension, >= 1.
    """

    def __init__(self, length: int, dim: int) -> None:
        super().__init__()
        if length < 1 or dim < 1:
            raise ValueError(f'KeyQueue needs length >= 1 and dim >= 1, got '
                             f'length={length}, dim={dim}')
        self.length = int(length)
        self.dim = int(dim)
        self.register_buffer('keys', torch.zeros(self.length, self.dim))
        self.register_buffer('ptr', torch.zeros(1, dtype=torch.long))
        self.register_buffer('count', torch.zeros(1, dtype=torch.long))
        # Python mirror of ``count`` so that reading the filled part needs
        # no device synchronisation on the training path; None after a state
        # dict was loaded (re-read once from the buffer).
        self._count = 0

    @torch.no_grad()
    def fill_(self, keys: torch.Tensor) -> None:
        """Set every entry (e.g. random initial negatives, as in MoCo)."""
        if keys.shape != self.keys.shape:
            raise ValueError(f'fill_ expects {tuple(self.keys.shape)}, got '
                             f'{tuple(keys.shape)}')
        self.keys.copy_(keys)
        self.ptr.zero_()
        self.count.fill_(self.length)
        self._count = self.length

    @torch.no_grad()
    def push(self, keys: torch.Tensor) -> None:
        """Append the N x dim keys of every process, oldest out first."""
        if keys.dim() != 2 or keys.shape[1] != self.dim:
            raise ValueError(f'push expects N x {self.dim} keys, got '
                             f'{tuple(keys.shape)}')
        keys = torch.cat(all_gather(keys.detach().contiguous()), dim=0)
        keys = keys.to(self.keys.dtype)
        n = keys.shape[0]
        if n >= self.length:
            self.keys.copy_(keys[-self.length:])
            self.ptr.zero_()
        else:
            idx = (torch.arange(n, device=keys.device) + self.ptr) \
                % self.length
            self.keys[idx] = keys
            self.ptr.add_(n).remainder_(self.length)
        self.count.add_(n).clamp_(max=self.length)
        if self._count is not None:
            self._count = min(self._count + n, self.length)

    def filled(self) -> torch.Tensor:
        """A copy of the filled entries (all of them once the queue is full),
        without gradient. A copy, as MoCo's ``queue.clone().detach()``: a
        distance that saves its inputs for backward (e.g. ``torch.cdist``
        of the Euclidean model) stays valid when the keys are pushed before
        the backward pass."""
        if self._count is None:
            self._count = int(self.count)
        n = self._count
        keys = self.keys if n == self.length else self.keys[:n]
        return keys.detach().clone()

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._count = None

    def extra_repr(self) -> str:
        return f'length={self.length}, dim={self.dim}'
