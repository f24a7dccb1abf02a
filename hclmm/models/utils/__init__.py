from .hard_negative_mixing import HardNegativeMixing, mix_hard_negatives
from .pooling import global_vector
from .queue import KeyQueue, rename_state_keys
from .split_batch_norm import SplitBatchNorm

__all__ = [
    'HardNegativeMixing', 'KeyQueue', 'global_vector', 'mix_hard_negatives',
    'rename_state_keys', 'SplitBatchNorm'
]
