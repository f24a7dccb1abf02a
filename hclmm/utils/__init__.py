from .checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                         enable_safe_checkpoint_loading,
                         mmengine_safe_globals, safe_torch_load)
from .setup_env import register_all_modules, setup_cpu_distributed

__all__ = [
    'CorruptCheckpointError', 'UnsafeCheckpointError',
    'enable_safe_checkpoint_loading', 'mmengine_safe_globals',
    'safe_torch_load', 'register_all_modules', 'setup_cpu_distributed'
]
