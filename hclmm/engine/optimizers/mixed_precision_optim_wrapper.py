"""Mixed precision that picks bfloat16 where the GPU has it."""
import functools
from contextlib import contextmanager
from typing import Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.runner import autocast
from torch.amp import GradScaler

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


def _build_loss_scaler(loss_scale: Union[str, float, dict],
                       use_fsdp: bool) -> GradScaler:
    """torch's loss scaler as ``AmpOptimWrapper`` configures it:
    ``'dynamic'``, a fixed initial scale (float) or ``GradScaler``'s
    arguments (dict)."""
    if use_fsdp:
        from torch.distributed.fsdp.sharded_grad_scaler import \
            ShardedGradScaler
        scaler_type = ShardedGradScaler
    else:
        scaler_type = functools.partial(GradScaler, 'cuda')
    if loss_scale == 'dynamic':
        return scaler_type()
    if isinstance(loss_scale, float):
        return scaler_type(init_scale=loss_scale)
    if isinstance(loss_scale, dict):
        return scaler_type(**loss_scale)
    raise TypeError('loss_scale must be a float, a dict or "dynamic", got '
                    f'{loss_scale!r}')


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` with mixed precision chosen per device.

    The autocast dtype is resolved when the wrapper is built, on the device
    that trains (:func:`resolve_amp_dtype`):

    * ``bfloat16``: autocast to bfloat16 and **no loss scaler** (bfloat16
      keeps float32's exponent range, so gradients do not underflow, and
      the scaler's per-step overflow check is saved);
    * ``float16``: autocast to float16 with torch's ``GradScaler``
      (``loss_scale``), configured and stepped as mmengine's
      ``AmpOptimWrapper(dtype='float16')``: the loss is scaled before the
      backward pass, gradients are unscaled before clipping, steps with
      non-finite gradients are skipped, and a fixed ``loss_scale`` (float)
      stays fixed;
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
        use_fsdp (bool): Use the sharded loss scaler of FSDP (float16
            only). Defaults to False.
        **kwargs: ``optimizer``, ``clip_grad``, ``accumulative_counts`` of
            ``OptimWrapper``.
    """

    def __init__(self,
                 dtype: str = 'auto',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 cuda: Optional[bool] = None,
                 bf16: Optional[bool] = None,
                 use_fsdp: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.amp_dtype = resolve_amp_dtype(dtype, cuda=cuda, bf16=bf16)
        print_log(
            f'{type(self).__name__}: dtype {dtype!r} -> {self.amp_dtype}' +
            (' with a loss scaler' if self.amp_dtype == 'float16' else ''),
            logger='current')
        self.cast_dtype = getattr(torch, self.amp_dtype)
        self.loss_scaler = None
        # a float loss_scale is a fixed scale, re-set after every step
        self.fixed_loss_scale = None
        if self.amp_dtype == 'float16':
            self.loss_scaler = _build_loss_scaler(loss_scale, use_fsdp)
            if isinstance(loss_scale, float):
                self.fixed_loss_scale = loss_scale

    @property
    def autocast_enabled(self) -> bool:
        """Whether the forward pass runs under autocast."""
        return self.amp_dtype != 'float32'

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            # clip the true gradients; the scaler then steps unscaled
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self.fixed_loss_scale)

    def state_dict(self) -> dict:
        state_dict = super().state_dict()
        if self.loss_scaler is not None:
            state_dict['loss_scaler'] = self.loss_scaler.state_dict()
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        scaler_state = state_dict.pop('loss_scaler', None)
        if self.loss_scaler is not None and scaler_state is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        """Gradient accumulation's context and, unless float32, autocast to
        :attr:`cast_dtype` on the device that trains."""
        with super().optim_context(model):
            if not self.autocast_enabled:
                yield
                return
            with autocast(dtype=self.cast_dtype):
                yield
