"""mmengine's ``CheckpointHook`` with crash-safe saves."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from hclmm.registry import HOOKS
from hclmm.utils.atomic_save import atomic_write, commit_file, temporary_name

__all__ = ['AtomicCheckpointHook']


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves survive a kill at any moment.

    mmengine 0.10.7's hook writes ``iter_N.pth`` in place, rewrites the
    ``last_checkpoint`` pointer in place and, with ``max_keep_ckpts``,
    deletes the oldest checkpoint *before* it writes the new one: a process
    killed meanwhile (preemption, the out-of-memory killer, a time limit)
    leaves a truncated checkpoint, an empty pointer or no usable checkpoint
    at all, and ``--resume`` fails or picks the broken file. Here, for local
    work dirs:

    1. the checkpoint is written under a hidden temporary name and renamed
       into place once complete (:func:`hclmm.utils.atomic_save.commit_file`);
    2. only then ``last_checkpoint`` is rewritten, atomically, to name it;
    3. only then the checkpoint that fell out of ``max_keep_ckpts`` is
       deleted.

    Arguments, bookkeeping (``keep_ckpt_ids``, ``last_ckpt`` in the message
    hub) and file names are mmengine's; remote back-ends (``s3://``, ...)
    keep mmengine's writer. The configs name it in ``default_hooks``
    (``configs/_base_/default_runtime.py``).
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = None
        if self.max_keep_ckpts > 0 and not (len(self.keep_ckpt_ids) > 0 and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        local = isinstance(self.file_backend, LocalBackend)
        tmp = temporary_name(self.last_ckpt) if local else None
        runner.save_checkpoint(
            self.out_dir,
            osp.basename(tmp) if local else ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)

        if not is_main_process():
            return
        if local:
            commit_file(tmp, self.last_ckpt)
        text = str(self.last_ckpt)
        atomic_write(
            osp.join(runner.work_dir, 'last_checkpoint'),
            lambda f: f.write(text.encode('utf-8')))
        if outdated is not None:
            self._remove(self.filename_tmpl.format(outdated))

    def _remove(self, filename: str) -> None:
        path = self.file_backend.join_path(self.out_dir, filename)
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(path)
