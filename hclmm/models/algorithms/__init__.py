from .hcl import HCLBYOL, HCLDenseCL, HCLMixin, HCLMoCo, HCLSimCLR
from .hyperbolic_instance import HypMoCo, HypSimCLR
from .mochi import MoCHi
from .multiview_simclr import MultiViewSimCLR
from .snclr import SNCLR
from .supcon import HypSupCon

__all__ = [
    'HCLBYOL', 'HCLDenseCL', 'HCLMixin', 'HCLMoCo', 'HCLSimCLR', 'HypMoCo',
    'HypSimCLR', 'HypSupCon', 'MoCHi', 'MultiViewSimCLR', 'SNCLR'
]
