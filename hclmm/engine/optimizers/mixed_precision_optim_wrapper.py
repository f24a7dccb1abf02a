"""Mixed precision that picks bfloat16 where the GPU has it."""
from typing import Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from hclmm.registry import OPTIM_WRAPPERS

__all__ = ['MixedPrecisionOptimWrapper', 'cuda_bf16_supported',
           'resolve_amp_dtype']

AMP_DTYPES = ('auto', 'bfloat16', 'float16', 'float32')


def cuda_bf16_supported() -> bool:
    """Whether a CUDA device is present and computes in bfloat16."""
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def resolve_amp_dtype(dtype: str = 'auto',
                      cuda: Optional[bool] = None,
                      bf16: Optional[bool] = None) -> str:
    """The autocast dtype that a requested one means on this machine.

    ``'auto'`` is ``'bfloat16'`` on a CUDA device that supports it (no loss
    scaling needed: bfloat16 has float32's exponent range), ``'float16'``
    on other CUDA devices (with a loss scaler), and ``'float32'`` (no
    autocast) without CUDA. An explicit ``'float16'`` or ``'float32'`` is
    kept; an explicit ``'bfloat16'`` is kept on the CPU too (CPU autocast
    computes in bfloat16) but refused on a CUDA device without it.

    Args:
        dtype (str): ``'auto'``, ``'bfloat16'``, ``'float16'`` or
            ``'float32'``. Defaults to ``'auto'``.
        cuda (bool, optional): Whether CUDA is available; None asks torch.
        bf16 (bool, optional): Whether the CUDA device computes in
            bfloat16; None asks torch.

    Returns:
        str: ``'bfloat16'``, ``'float16'`` or ``'float32'``.
    """
    if dtype not in AMP_DTYPES:
        raise ValueError(f'amp dtype must be one of {AMP_DTYPES}, got '
                         f'{dtype!r}')
    if cuda is None:
        cuda = torch.cuda.is_available()
    if bf16 is None:
        bf16 = cuda and cuda_bf16_supported()
    if dtype == 'auto':
        if not cuda:
            return 'float32'
        return 'bfloat16' if bf16 else 'float16'
    if dtype == 'bfloat16' and cuda and not bf16:
        raise ValueError('this CUDA device does not compute in bfloat16; '
                         "use dtype='float16' (with its loss scaler) or "
                         "'auto'")
    return dtype


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` with the precision chosen per device.

    The autocast dtype is resolved when the wrapper is built, on the device
    that trains (:func:`resolve_amp_dtype`):

    * ``bfloat16``: autocast to bfloat16 and **no loss scaler** (bfloat16
      keeps float32's exponent range, so gradients do not underflow, and
      the scaler's per-step overflow check is saved);
    * ``float16``: autocast to float16 with mmengine's ``GradScaler``
      (``loss_scale``), exactly ``AmpOptimWrapper(dtype='float16')``;
    * ``float32``: no autocast, exactly ``OptimWrapper``.

    Checkpoints resume across the three: a loss scaler's state is loaded
    where there is a scaler and ignored where there is none.

    Args:
        dtype (str): ``'auto'`` (bfloat16 on CUDA devices with it, float16
            on other CUDA devices, float32 without CUDA), ``'bfloat16'``,
            ``'float16'`` or ``'float32'``. Defaults to ``'auto'``.
        loss_scale (str | float | dict): The float16 loss scaler, as in
            ``AmpOptimWrapper``; unused otherwise. Defaults to
            ``'dynamic'``.
        cuda (bool, optional): Whether CUDA is available; None asks torch
            (set it to check the choice on another machine).
            Defaults to None.
        bf16 (bool, optional): Whether the CUDA device computes in
            bfloat16; None asks torch. Defaults to None.
        **kwargs: ``optimizer``, ``clip_grad``, ``accumulative_counts`` of
            ``OptimWrapper`` (and ``use_fsdp`` for float16).
    """

    def __init__(self,
                 dtype: str = 'auto',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 cuda: Optional[bool] = None,
                 bf16: Optional[bool] = None,
                 **kwargs) -> None:
        self.amp_dtype = resolve_amp_dtype(dtype, cuda=cuda, bf16=bf16)
        print_log(
            f'{type(self).__name__}: dtype {dtype!r} -> {self.amp_dtype}' +
            (' with a loss scaler' if self.amp_dtype == 'float16' else ''),
            logger='current')
        if self.amp_dtype == 'float16':
            super().__init__(loss_scale=loss_scale, dtype='float16', **kwargs)
            return
        kwargs.pop('use_fsdp', None)
        OptimWrapper.__init__(self, **kwargs)
        self.loss_scaler = None
        self._scale_update_param = None
        self.cast_dtype = getattr(torch, self.amp_dtype)

    @property
    def autocast_enabled(self) -> bool:
        """Whether the forward pass runs under autocast."""
        return self.amp_dtype != 'float32'

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is None:
            OptimWrapper.backward(self, loss, **kwargs)
        else:
            super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            OptimWrapper.step(self, **kwargs)
        else:
            super().step(**kwargs)

    def state_dict(self) -> dict:
        if self.loss_scaler is None:
            return OptimWrapper.state_dict(self)
        return super().state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        if self.loss_scaler is None:
            state_dict.pop('loss_scaler', None)
            OptimWrapper.load_state_dict(self, state_dict)
        else:
            super().load_state_dict(state_dict)

    def optim_context(self, model: torch.nn.Module):
        if not self.autocast_enabled:
            return OptimWrapper.optim_context(self, model)
        return super().optim_context(model)
