"""Atomic checkpoint writes for mmengine's ``Runner`` and ``CheckpointHook``.

mmengine 0.10.7 writes a checkpoint by opening ``iter_N.pth`` and writing
into it, and ``CheckpointHook`` then rewrites the ``last_checkpoint`` pointer
in place. A process killed while either file is being written (preemption,
out-of-memory killer, a Slurm time limit) leaves a truncated ``iter_N.pth``
or an empty pointer behind, and ``--resume`` then fails or, worse, picks the
broken file. With ``max_keep_ckpts`` the hook also deletes the oldest
checkpoint *before* it writes the new one, so a kill during the write can
leave no usable checkpoint at all.

:func:`enable_atomic_checkpoints` (run when :mod:`hclmm` is imported) makes
both writes atomic for local files:

* a checkpoint is written to a hidden temporary file in the same directory
  (``.iter_N.pth.tmp-<host>-<pid>-<random>``, never matched by ``*.pth``),
  flushed and ``fsync``-ed, then renamed over the final name with
  :func:`os.replace` (atomic on POSIX file systems) and the directory is
  synced. A reader sees either the old file or the complete new one;
* ``CheckpointHook`` writes ``last_checkpoint`` the same way, only *after*
  the checkpoint it names has been renamed into place, and removes the
  checkpoint that falls out of ``max_keep_ckpts`` only after that.

Temporary files left by a killed save are removed by the next successful
save in the same directory (those of dead processes on the same host).
Remote back-ends (``s3://``, ``pavi://``, ...) keep mmengine's own writer.
The patch touches ``save_checkpoint`` where mmengine looks it up
(``mmengine.runner``, ``mmengine.runner.checkpoint`` and
``mmengine.runner.runner``) and ``CheckpointHook._save_checkpoint_with_step``,
and is idempotent.
"""
import glob
import os
import os.path as osp
import socket
import uuid
from typing import Callable, Optional

import torch

__all__ = [
    'atomic_write', 'atomic_save_checkpoint', 'enable_atomic_checkpoints'
]

_TMP_TAG = '.tmp-'


def _host() -> str:
    return socket.gethostname().replace('-', '_').replace(os.sep, '_')


def _fsync_dir(dirname: str) -> None:
    """Persist a rename: sync the directory entry (best effort)."""
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_stale_temps(dirname: str) -> None:
    """Remove temporary files of killed saves (this host, dead processes)."""
    host = _host()
    for path in glob.glob(osp.join(dirname, f'.*{_TMP_TAG}{host}-*')):
        try:
            pid = int(osp.basename(path).rsplit(_TMP_TAG, 1)[1].split('-')[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            try:
                os.remove(path)
            except OSError:
                pass


def atomic_write(filename: str, write: Callable) -> None:
    """Write a local file so that readers never see a partial file.

    ``write(f)`` fills a temporary file (opened ``'xb'``) in the directory of
    ``filename``; the file is flushed and fsync-ed and then renamed over
    ``filename``. If ``write`` fails, or the process dies, ``filename`` keeps
    its previous content (or stays absent).

    Args:
        filename (str): Destination path.
        write (callable): Called with the open binary file object.
    """
    filename = osp.abspath(osp.expanduser(str(filename)))
    dirname = osp.dirname(filename)
    os.makedirs(dirname, exist_ok=True)
    tmp = osp.join(
        dirname, f'.{osp.basename(filename)}{_TMP_TAG}{_host()}-'
        f'{os.getpid()}-{uuid.uuid4().hex[:8]}')
    try:
        with open(tmp, 'xb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(dirname)
    _remove_stale_temps(dirname)


def _is_local(filename: str, file_client_args, backend_args) -> bool:
    if file_client_args is not None or '://' in str(filename):
        return False
    from mmengine.fileio import LocalBackend, get_file_backend
    return isinstance(
        get_file_backend(str(filename), backend_args=backend_args),
        LocalBackend)


_ORIGINAL_SAVE: Optional[Callable] = None


def atomic_save_checkpoint(checkpoint: dict,
                           filename: str,
                           file_client_args: Optional[dict] = None,
                           backend_args: Optional[dict] = None) -> None:
    """Drop-in for ``mmengine.runner.checkpoint.save_checkpoint``.

    Local files are written atomically (see :func:`atomic_write`), streamed
    straight into the file; other back-ends use mmengine's writer.

    Args:
        checkpoint (dict): What to save.
        filename (str): Destination.
        file_client_args (dict, optional): Deprecated mmengine argument;
            when given, mmengine's writer is used. Defaults to None.
        backend_args (dict, optional): mmengine file back-end arguments.
            Defaults to None.
    """
    if not _is_local(filename, file_client_args, backend_args):
        return _ORIGINAL_SAVE(
            checkpoint,
            filename,
            file_client_args=file_client_args,
            backend_args=backend_args)
    # torch.save's pickle protocol 2 is kept on purpose: torch's weights-only
    # unpickler does not read the opcodes of protocols 3-5 (SHORT_BINBYTES,
    # FRAME), so a newer protocol would make checkpoints unloadable.
    atomic_write(filename, lambda f: torch.save(checkpoint, f))


atomic_save_checkpoint._hclmm_atomic = True


def _save_checkpoint_with_step(self, runner, step, meta):
    """``CheckpointHook._save_checkpoint_with_step`` in a crash-safe order.

    Same bookkeeping as mmengine's (``keep_ckpt_ids``, ``last_ckpt`` in the
    message hub, the arguments of ``runner.save_checkpoint``); the order is:
    write the new checkpoint, point ``last_checkpoint`` at it (atomically),
    then delete the checkpoint that fell out of ``max_keep_ckpts``.
    """
    from mmengine.dist import is_main_process
    outdated = None
    if self.max_keep_ckpts > 0 and not (len(self.keep_ckpt_ids) > 0 and
                                        self.keep_ckpt_ids[-1] == step):
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated = self.keep_ckpt_ids.popleft()
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))

    ckpt_filename = self.filename_tmpl.format(step)
    self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
    runner.message_hub.update_info('last_ckpt', self.last_ckpt)

    runner.save_checkpoint(
        self.out_dir,
        ckpt_filename,
        self.file_client_args,
        save_optimizer=self.save_optimizer,
        save_param_scheduler=self.save_param_scheduler,
        meta=meta,
        by_epoch=self.by_epoch,
        backend_args=self.backend_args,
        **self.args)

    if not is_main_process():
        return
    text = str(self.last_ckpt)
    atomic_write(
        osp.join(runner.work_dir, 'last_checkpoint'),
        lambda f: f.write(text.encode('utf-8')))
    if outdated is not None:
        path = self.file_backend.join_path(
            self.out_dir, self.filename_tmpl.format(outdated))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(path)


_save_checkpoint_with_step._hclmm_atomic = True


def enable_atomic_checkpoints() -> None:
    """Make mmengine's checkpoint and ``last_checkpoint`` writes atomic.

    Idempotent; runs when :mod:`hclmm` is imported.
    """
    global _ORIGINAL_SAVE
    import mmengine.runner as mm_runner
    import mmengine.runner.checkpoint as mm_checkpoint
    import mmengine.runner.runner as mm_runner_module
    from mmengine.hooks import CheckpointHook

    if not getattr(mm_checkpoint.save_checkpoint, '_hclmm_atomic', False):
        _ORIGINAL_SAVE = mm_checkpoint.save_checkpoint
    for module in (mm_checkpoint, mm_runner, mm_runner_module):
        if getattr(module, 'save_checkpoint', None) is not None:
            module.save_checkpoint = atomic_save_checkpoint
    CheckpointHook._save_checkpoint_with_step = _save_checkpoint_with_step


enable_atomic_checkpoints()
