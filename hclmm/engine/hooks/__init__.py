from .atomic_checkpoint_hook import AtomicCheckpointHook
from .bn_reestimation_hook import BNReestimationHook
from .saturation_hook import HyperbolicSaturationHook

__all__ = [
    'AtomicCheckpointHook', 'BNReestimationHook', 'HyperbolicSaturationHook'
]
