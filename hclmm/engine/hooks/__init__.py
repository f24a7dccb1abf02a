from .atomic_checkpoint_hook import AtomicCheckpointHook
from .saturation_hook import HyperbolicSaturationHook

__all__ = ['AtomicCheckpointHook', 'HyperbolicSaturationHook']
