"""BatchNorm over groups of the batch: MoCo's shuffled BatchNorm on one
process.

MoCo (He et al., 2020, section 3.3) computes the keys on a batch shuffled
across GPUs, so that a query and its positive key are normalised with the
statistics of different samples. Otherwise BatchNorm leaks which samples
share a batch, and the encoder can tell the positive key (same batch) from
the queue's negatives (older batches) without learning the image: "the model
appears to cheat the pretext task". On one process the shuffle is a
permutation of the same batch and the statistics are identical.
:class:`SplitBatchNorm` normalises each of ``num_splits`` consecutive groups
of the batch with that group's own statistics, as one GPU of a
``num_splits``-GPU run would; the key batch, permuted by MoCo's shuffle,
is then grouped differently from the query batch.

In evaluation mode, and with ``num_splits=1``, it is ``nn.BatchNorm2d``;
its parameters and buffers have the same names and shapes, so a checkpoint
loads into a plain BatchNorm (the transfer tasks) unchanged. The running
statistics average the groups' statistics.

Example (the backbone and, through the momentum copy, the key encoder)::

    model = dict(backbone=dict(norm_cfg=dict(type='SplitBatchNorm',
                                             num_splits=4)))
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from hclmm.registry import MODELS

__all__ = ['SplitBatchNorm']


@MODELS.register_module()
class SplitBatchNorm(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose training statistics come from each of
    ``num_splits`` consecutive groups of the batch (see the module's doc).

    Args:
        num_features: channels.
        num_splits: groups per batch; a batch of ``n`` samples is cut into
            ``min(num_splits, n // 2)`` nearly equal groups (each needs two
            samples for a variance).
        **kwargs: ``nn.BatchNorm2d``'s (``eps``, ``momentum``, ...).
    """
    _abbr_ = 'bn'

    def __init__(self, num_features: int, num_splits: int = 1, **kwargs):
        super().__init__(num_features, **kwargs)
        if int(num_splits) < 1:
            raise ValueError(
                f'SplitBatchNorm: num_splits must be >= 1, got {num_splits}')
        self.num_splits = int(num_splits)

    def _momentum(self) -> float:
        """The running-average factor of ``nn.BatchNorm2d`` for this step
        (and the step counted)."""
        self.num_batches_tracked.add_(1)
        if self.momentum is None:  # cumulative average
            return 1.0 / float(self.num_batches_tracked)
        return self.momentum

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        groups = min(self.num_splits, x.shape[0] // 2)
        if not self.training or groups <= 1:
            return super().forward(x)
        self._check_input_dim(x)
        chunks = x.tensor_split(groups)
        out = torch.cat([
            F.batch_norm(c, None, None, self.weight, self.bias, True, 0.0,
                         self.eps) for c in chunks
        ])
        if self.track_running_stats:
            with torch.no_grad():
                var, mean = (torch.stack(s).mean(0) for s in zip(*(
                    torch.var_mean(c, (0, 2, 3), unbiased=True)
                    for c in chunks)))
                factor = self._momentum()
                self.running_mean.lerp_(mean.to(self.running_mean), factor)
                self.running_var.lerp_(var.to(self.running_var), factor)
        return out

    def extra_repr(self) -> str:
        return super().extra_repr() + f', num_splits={self.num_splits}'
