from .saturation_hook import HyperbolicSaturationHook

__all__ = ['HyperbolicSaturationHook']
