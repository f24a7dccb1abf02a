from .hcl import (HCL, HCLBYOL, HCLDenseCL, HCLMixin, HCLMoCo, HCLSimCLR,
                  build_hcl_class)
from .hyperbolic_instance import HypMoCo, HypSimCLR
from .mochi import MoCHi
from .multiview_simclr import MultiViewSimCLR
from .snclr import SNCLR
from .supcon import HypSupCon

__all__ = [
    'HCL', 'HCLBYOL', 'HCLDenseCL', 'HCLMixin', 'HCLMoCo', 'HCLSimCLR',
    'build_hcl_class', 'HypMoCo', 'HypSimCLR', 'HypSupCon', 'MoCHi',
    'MultiViewSimCLR', 'SNCLR'
]
