"""What ``tools/train.py`` and ``tools/test.py`` check and change in a config.

The config that runs is ``Config.fromfile(CONFIG)`` with the command's
``--cfg-options`` merged in; the tools add only what their flags ask for and
the two dataloader settings below, and log every change in one line
(:func:`describe_changes`):

* :func:`drop_unusable_dataloader_options`: a dataloader without worker
  processes (``num_workers=0``) cannot keep workers alive
  (``persistent_workers``) or prefetch (``prefetch_factor``), which torch
  refuses; a ``collate_fn`` takes no ``_scope_``, which mmengine gives it in
  a config inherited through ``hclmm::``.
* :func:`missing_annotation_file`: a dataset whose annotation file does not
  exist stops the tool before the model is built, with one line that names
  the file and the ``--cfg-options`` keys to set.
* :func:`scheduler_past_the_budget`: a parameter scheduler without ``end``
  ends with the training (mmengine's Runner gives it ``train_cfg.max_epochs``
  or ``max_iters``); one that begins at or after that budget stops the
  training tool the same way.
"""
import os.path as osp
from typing import Iterator, List, Optional, Tuple

__all__ = [
    'DATALOADER_FIELDS', 'describe_changes',
    'drop_unusable_dataloader_options', 'missing_annotation_file',
    'scheduler_past_the_budget'
]

DATALOADER_FIELDS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _dataloaders(cfg) -> Iterator[Tuple[str, dict]]:
    for field in DATALOADER_FIELDS:
        loader = cfg.get(field, None)
        if isinstance(loader, dict):
            yield field, loader
    for i, hook in enumerate(cfg.get('custom_hooks', None) or []):
        if isinstance(hook, dict) and isinstance(hook.get('dataloader'),
                                                 dict):
            yield f'custom_hooks.{i}.dataloader', hook['dataloader']


def drop_unusable_dataloader_options(cfg) -> List[str]:
    """Turn off the dataloader options that cannot apply.

    Applied to ``train_dataloader``, ``val_dataloader``, ``test_dataloader``
    and the ``dataloader`` of each entry of ``custom_hooks``: with
    ``num_workers`` 0 (or unset), ``persistent_workers=True`` becomes False
    and a ``prefetch_factor`` becomes None. The ``_scope_`` key of a
    ``collate_fn`` is removed: mmengine gives it to the first typed dict on
    each path of a config inherited through a scope
    (``_base_ = ['hclmm::...']``), and its runner passes every key of
    ``collate_fn`` but ``type`` to the function.

    Args:
        cfg (mmengine.Config): The merged config, changed in place.

    Returns:
        list[str]: The changes as ``key=value (reason)``, e.g.
        ``['train_dataloader.persistent_workers=False (num_workers=0)']``.
    """
    changes = []
    for name, loader in _dataloaders(cfg):
        collate = loader.get('collate_fn', None)
        if isinstance(collate, dict) and '_scope_' in collate:
            collate.pop('_scope_')
            changes.append(f'{name}.collate_fn._scope_ removed (a collate '
                           'function takes no scope)')
        if loader.get('num_workers', 0):
            continue
        if loader.get('persistent_workers', False):
            loader['persistent_workers'] = False
            changes.append(f'{name}.persistent_workers=False '
                           '(num_workers=0)')
        if loader.get('prefetch_factor', None) is not None:
            loader['prefetch_factor'] = None
            changes.append(f'{name}.prefetch_factor=None (num_workers=0)')
    return changes


def _annotation_files(dataset: dict, key: str) -> Iterator[Tuple[str, str]]:
    """``(key of ann_file, local path)`` of a dataset config and of the
    datasets it wraps (``dataset``, ``datasets``)."""
    ann_file = dataset.get('ann_file', None)
    root = dataset.get('data_root', None)
    if isinstance(ann_file, str) and ann_file and \
            isinstance(root, (str, type(None))) and '://' not in ann_file \
            and (root is None or '://' not in root):
        path = ann_file if root is None or osp.isabs(ann_file) \
            else osp.join(root, ann_file)
        yield key, path
    inner = dataset.get('dataset', None)
    if isinstance(inner, dict):
        yield from _annotation_files(inner, f'{key}.dataset')
    for i, sub in enumerate(dataset.get('datasets', None) or []):
        if isinstance(sub, dict):
            yield from _annotation_files(sub, f'{key}.datasets.{i}')


def missing_annotation_file(cfg, field: str) -> Optional[str]:
    """The line that stops a tool when a dataset's annotation file is
    missing.

    Args:
        cfg (mmengine.Config): The merged config.
        field (str): ``'train_dataloader'``, ``'val_dataloader'`` or
            ``'test_dataloader'``; a field that is None is not checked.

    Returns:
        str | None: One line naming the missing file and the
        ``--cfg-options`` keys to set, or None when every local annotation
        file of the field's dataset exists (remote paths are not checked).
    """
    loader = cfg.get(field, None)
    if not isinstance(loader, dict) or \
            not isinstance(loader.get('dataset'), dict):
        return None
    for key, path in _annotation_files(loader['dataset'], f'{field}.dataset'):
        if osp.exists(path):
            continue
        line = (f'{key}.ann_file: {path} does not exist. Set --cfg-options '
                f'{key}.data_root=DIR (the data root) or {key}.ann_file=FILE')
        if field == 'val_dataloader':
            line += (', or train without validation: --cfg-options '
                     'val_cfg=None val_dataloader=None val_evaluator=None')
        return line
    return None


def _schedulers(param_scheduler, path='param_scheduler'):
    """``(key path, scheduler dict)`` of a ``param_scheduler`` config: one
    scheduler, a list, or a dict of lists keyed by optimizer name."""
    if isinstance(param_scheduler, dict) and 'type' in param_scheduler:
        yield path, param_scheduler
    elif isinstance(param_scheduler, dict):
        for name, sub in param_scheduler.items():
            yield from _schedulers(sub, f'{path}.{name}')
    elif isinstance(param_scheduler, (list, tuple)):
        for i, sub in enumerate(param_scheduler):
            if isinstance(sub, dict):
                yield f'{path}.{i}', sub


def scheduler_past_the_budget(cfg) -> Optional[str]:
    """The line that stops training when a scheduler that ends with the
    training begins at or after its end.

    mmengine's Runner gives a scheduler without ``end`` the training's
    ``train_cfg.max_epochs`` (``by_epoch=True``) or ``max_iters``, and a
    scheduler refuses an ``end`` that is not after its ``begin``; e.g. a
    cosine that begins after one warm-up epoch, in a one-epoch run.

    Args:
        cfg (mmengine.Config): The merged config.

    Returns:
        str | None: One line naming the scheduler and the keys to set, or
        None.
    """
    train_cfg = cfg.get('train_cfg', None) or {}
    for path, sched in _schedulers(cfg.get('param_scheduler', None)):
        if sched.get('end', None) is not None:
            continue
        key = 'max_epochs' if sched.get('by_epoch', True) else 'max_iters'
        budget = train_cfg.get(key, None)
        begin = sched.get('begin', 0)
        if budget is not None and begin >= budget:
            return (f'{path} ({sched.get("type")}) begins at {begin} and '
                    f'ends with the training, train_cfg.{key}={budget}, '
                    'which is not after its begin. Set --cfg-options '
                    f'{path}.begin=B (below {budget}), a longer '
                    f'train_cfg.{key}, or param_scheduler=[] (a constant '
                    'learning rate)')
    return None


def describe_changes(tool: str, changes: List[str]) -> Optional[str]:
    """One line that lists what a tool set beyond the config file and
    ``--cfg-options`` (None when it set nothing).

    Args:
        tool (str): The tool's name, e.g. ``'tools/train.py'``.
        changes (list[str]): The changes, e.g. ``['work_dir=work_dirs/x']``.

    Returns:
        str | None: e.g. ``'tools/train.py set, beyond the config file and
        --cfg-options: work_dir=work_dirs/x; ...'``.
    """
    if not changes:
        return None
    return (f'{tool} set, beyond the config file and --cfg-options: '
            + '; '.join(changes))
