from .pooling import global_vector
from .queue import KeyQueue, rename_state_keys

__all__ = ['KeyQueue', 'global_vector', 'rename_state_keys']
