"""Channels-last memory format for a model and the images it is given."""
import torch
import torch.nn as nn

__all__ = ['to_channels_last', 'use_channels_last']


def to_channels_last(value):
    """``value`` with every 4-D tensor in channels-last memory format
    (lists and tuples of tensors too); anything else is returned as is."""
    if isinstance(value, torch.Tensor):
        if value.dim() == 4:
            return value.contiguous(memory_format=torch.channels_last)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(to_channels_last(v) for v in value)
    return value


def _inputs_channels_last(module, args, kwargs):
    if args:
        args = (to_channels_last(args[0]), ) + tuple(args[1:])
    if 'inputs' in kwargs:
        kwargs['inputs'] = to_channels_last(kwargs['inputs'])
    return args, kwargs


def use_channels_last(model: nn.Module) -> nn.Module:
    """Put a model's 4-D weights and the images given to its ``forward`` in
    channels-last (NHWC) memory format.

    Convolutions then run without layout transposes on GPUs with tensor
    cores (cuDNN's NHWC kernels); BatchNorm, ReLU, pooling and the residual
    additions keep the format. The numbers are those of the channels-first
    model up to the summation order of the kernels. Shapes, the state dict
    and checkpoints do not change (a checkpoint loads into either layout).
    Call it before the model is wrapped for distributed training, so that
    the gradient buckets are laid out for the converted weights.

    Args:
        model (nn.Module): Converted in place. Its ``forward`` gets the
            images as the first positional argument or as ``inputs``
            (mmengine's convention), a tensor or a list of tensors.

    Returns:
        nn.Module: ``model``.
    """
    model.to(memory_format=torch.channels_last)
    model.register_forward_pre_hook(_inputs_channels_last, with_kwargs=True)
    return model
