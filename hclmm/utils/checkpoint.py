"""Weights-only checkpoint loading that understands mmengine's checkpoints.

PyTorch >= 2.6 loads files with ``weights_only=True``: only tensors, plain
containers and explicitly allow-listed classes may be unpickled. mmengine
0.10.7 writes a few other objects into every checkpoint (``HistoryBuffer`` in
``message_hub`` and numpy arrays and scalars inside them), so without help it
cannot load its own checkpoints back and ``--resume`` / ``load_from`` fail.

:func:`enable_safe_checkpoint_loading` allow-lists exactly those classes and
nothing else, and makes mmengine's local-file loader explain a refusal: a
checkpoint that carries any other pickled object (which could run code when
unpickled) is refused with a message that names the file and the object.
It runs when :mod:`hclmm` is imported, so ``tools/train.py``, ``mim train``
and user scripts that import hclmm all get it.

``torch.save`` writes pickle protocol 2, which stores an empty ``bytes``
object (the data of an empty numpy array, e.g. the history of a metric that
was registered in the message hub but not updated yet) as a call of the
global ``bytes``. The allow-list answers that global with a stand-in that
only builds the empty ``bytes()``; any other call (``bytes(10**12)`` would
allocate a terabyte) is refused. A newer protocol is not an option: torch's
weights-only unpickler reads protocol-2 opcodes only.

An empty, truncated or non-checkpoint file is reported with
:class:`CorruptCheckpointError`, naming the file and what is wrong with it,
instead of torch's bare ``EOFError`` or "failed finding central directory".
"""
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import List, Optional

import numpy as np
import torch

__all__ = [
    'UnsafeCheckpointError', 'CorruptCheckpointError', 'mmengine_safe_globals',
    'enable_safe_checkpoint_loading', 'safe_torch_load'
]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds pickled objects outside the weights-only allow-list."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file is empty, truncated, corrupt or not a checkpoint."""


def _numpy_globals() -> List:
    """numpy objects that appear when numpy arrays/scalars are pickled."""
    core = getattr(np, '_core', None) or np.core
    reconstruct = core.multiarray._reconstruct
    scalar = core.multiarray.scalar
    items = [
        np.ndarray,
        np.dtype,
        reconstruct,
        scalar,
        # numpy 1.x pickles name the same functions under ``numpy.core``.
        (reconstruct, 'numpy.core.multiarray._reconstruct'),
        (scalar, 'numpy.core.multiarray.scalar'),
    ]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in ('BoolDType', 'Int8DType', 'UInt8DType', 'Int16DType',
                     'UInt16DType', 'Int32DType', 'UInt32DType', 'Int64DType',
                     'UInt64DType', 'Float16DType', 'Float32DType',
                     'Float64DType', 'LongDType', 'ULongDType',
                     'LongLongDType', 'ULongLongDType'):
            if hasattr(dtypes, name):
                items.append(getattr(dtypes, name))
    return items


def _history_buffer_getattr(obj, name):
    """``getattr`` restricted to HistoryBuffer's statistics methods.

    mmengine pickles the statistics methods of ``HistoryBuffer`` (``min``,
    ``max``, ``current``, ``mean``) as ``getattr(HistoryBuffer, name)``. A
    general ``getattr`` would let a crafted file reach any attribute of any
    allowed object, so this stand-in answers only those lookups.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint')


def _empty_bytes(*args, **kwargs) -> bytes:
    """``bytes`` restricted to the empty ``bytes()`` of pickle protocol 2.

    Protocol 2 pickles ``b''`` as a call of the global ``bytes`` without
    arguments (non-empty ``bytes`` go through ``_codecs.encode``, which torch
    allows). ``bytes(n)`` would let a few bytes of a crafted file allocate
    ``n`` bytes of memory, so every call with arguments is refused.
    """
    if args or kwargs:
        shown = ', '.join([repr(a)[:40] for a in args] +
                          [f'{k}=...' for k in kwargs])
        raise pickle.UnpicklingError(
            f'bytes({shown}) is not allowed in a checkpoint: only the empty '
            'bytes() that pickle protocol 2 writes for b\'\' is')
    return b''


def mmengine_safe_globals() -> List:
    """The exact non-tensor objects that mmengine writes into checkpoints."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
            (_history_buffer_getattr, '__builtin__.getattr'),
            (_empty_bytes, 'builtins.bytes'),
            (_empty_bytes, '__builtin__.bytes')] + _numpy_globals()


def _refusal(filename: str, exc: Exception) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f'Refusing to load checkpoint "{filename}": it contains pickled '
        'objects outside the weights-only allow-list (tensors, plain '
        'containers and the objects mmengine itself writes). Unpickling them '
        'could run arbitrary code. If you trust the file\'s source, convert '
        'it yourself with torch.load(..., weights_only=False) and save only '
        f'its tensors. Refused: {_unpickler_reason(exc)}')


def _unpickler_reason(exc: Exception) -> str:
    """The part of torch's weights-only error that names the object."""
    text = str(exc)
    found = re.search(r'(?:Unsupported global: GLOBAL|unsupported GLOBAL) (\S+)',
                      text)
    if found:
        return f'the file needs the global {found.group(1)}'
    for marker in ('WeightsUnpickler error:', 'Weights only load failed.'):
        if marker in text:
            return text.split(marker, 1)[1].strip().split('\n')[0] or marker
    return text.strip().split('\n')[0]


_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTO = b'\x80'
_ARCHIVE_ERRORS = ('PytorchStreamReader', 'zip archive', 'corrupt', 'CRC')


def _file_problem(filename: str, exc: Exception) -> Optional[str]:
    """What is wrong with a checkpoint file that torch could not read.

    Returns None when the file looks like a complete checkpoint (the error
    has another cause, e.g. a refused object or a device mapping).
    """
    try:
        size = os.path.getsize(filename)
        with open(filename, 'rb') as f:
            head = f.read(16)
    except OSError:
        return None
    text = str(exc)
    if size == 0:
        return 'the file is empty (0 bytes)'
    if head.startswith(_ZIP_MAGIC):
        if not zipfile.is_zipfile(filename):
            return (f'the file is truncated ({size} bytes): it starts like '
                    'a checkpoint (a zip archive) but the end of the '
                    'archive (its central directory) is missing')
        if isinstance(exc, EOFError) or any(m in text
                                             for m in _ARCHIVE_ERRORS):
            return (f'the file is corrupt ({size} bytes; torch: '
                    f'{_first_line(exc)})')
        return None
    if head.startswith(_PICKLE_PROTO):  # the legacy (non-zip) format
        if isinstance(exc, EOFError) or 'EOF' in text or 'truncated' in text:
            return (f'the file is truncated ({size} bytes; torch: '
                    f'{_first_line(exc)})')
        if 'corrupt' in text:
            return (f'the file is corrupt ({size} bytes; torch: '
                    f'{_first_line(exc)})')
        return None
    return (f'the file is not a PyTorch checkpoint ({size} bytes, starting '
            f'with {head!r}; checkpoints are zip archives starting with '
            f'{_ZIP_MAGIC!r})')


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.split('\n')[0] if text else type(exc).__name__


def _corrupt(filename: str, problem: str) -> CorruptCheckpointError:
    if 'not a PyTorch checkpoint' in problem:
        hint = ('Check the path: it may name a log, a config, or the error '
                'page of a failed download.')
    else:
        hint = ('It was probably cut off while being written or copied (a '
                'killed save, a full disk, an interrupted download); use an '
                'earlier checkpoint or copy the file again.')
    return CorruptCheckpointError(
        f'Cannot load checkpoint "{filename}": {problem}. {hint}')


def safe_torch_load(filename: str, map_location=None):
    """``torch.load`` with weights-only loading and clear error messages.

    Args:
        filename (str): A local checkpoint file.
        map_location: Passed to :func:`torch.load`. Defaults to None.

    Returns:
        The loaded object.

    Raises:
        FileNotFoundError: The file does not exist.
        CorruptCheckpointError: The file is empty, truncated, corrupt or not
            a PyTorch checkpoint.
        UnsafeCheckpointError: The file holds objects outside the allow-list.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        problem = _file_problem(filename, exc)
        if problem is not None:
            raise _corrupt(filename, problem) from None
        raise _refusal(filename, exc) from None
    except (RuntimeError, EOFError, OSError) as exc:
        problem = _file_problem(filename, exc)
        if problem is None:
            raise
        raise _corrupt(filename, problem) from None


_ENABLED = False


def enable_safe_checkpoint_loading() -> None:
    """Allow-list mmengine's objects and route mmengine's local loader.

    Idempotent. After it, ``mmengine.runner.load_checkpoint``, ``Runner``'s
    ``resume``/``load_from`` and ``Pretrained`` initialisation load mmengine
    checkpoints weights-only, and refuse foreign objects with
    :class:`UnsafeCheckpointError`.
    """
    global _ENABLED
    if _ENABLED:
        return
    torch.serialization.add_safe_globals(mmengine_safe_globals())

    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename, map_location):
        return safe_torch_load(filename, map_location=map_location)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    _ENABLED = True
