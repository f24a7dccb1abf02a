from .mixed_precision_optim_wrapper import (MixedPrecisionOptimWrapper,
                                            cuda_bf16_supported,
                                            resolve_amp_dtype)

__all__ = [
    'MixedPrecisionOptimWrapper', 'cuda_bf16_supported', 'resolve_amp_dtype'
]
