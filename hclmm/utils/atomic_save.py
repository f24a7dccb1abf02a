"""Atomic writes of local files: readers see the old file or the complete
new one, never a partial file.

A process killed while it writes a file (preemption, the out-of-memory
killer, a Slurm time limit) leaves a truncated file behind. Here the content
goes to a hidden temporary file in the same directory
(``.NAME.tmp-<host>-<pid>-<random>``, never matched by ``*.pth``), is synced
and then renamed over the final name with :func:`os.replace`; the directory
is synced too. Temporary files left by killed writers are removed by the next
commit in the same directory (those of dead processes on the same host).

:class:`~hclmm.engine.hooks.AtomicCheckpointHook` writes checkpoints and the
``last_checkpoint`` pointer this way.
"""
import glob
import os
import os.path as osp
import socket
import uuid
from typing import Callable

__all__ = ['atomic_write', 'commit_file', 'temporary_name']

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


def temporary_name(filename: str) -> str:
    """A hidden name next to ``filename`` for its content in the making
    (``.NAME.tmp-<host>-<pid>-<random>``, never matched by ``*.pth``)."""
    filename = osp.abspath(osp.expanduser(str(filename)))
    return osp.join(
        osp.dirname(filename), f'.{osp.basename(filename)}{_TMP_TAG}'
        f'{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}')


def commit_file(tmp: str, filename: str) -> None:
    """Make the complete file ``tmp`` appear as ``filename`` at once: sync
    its data, rename it over ``filename`` (:func:`os.replace`, atomic on
    POSIX file systems), sync the directory, and remove the temporary files
    that killed writers left there."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, filename)
    dirname = osp.dirname(osp.abspath(filename))
    _fsync_dir(dirname)
    _remove_stale_temps(dirname)


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
    os.makedirs(osp.dirname(filename), exist_ok=True)
    tmp = temporary_name(filename)
    try:
        with open(tmp, 'xb') as f:
            write(f)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    commit_file(tmp, filename)
