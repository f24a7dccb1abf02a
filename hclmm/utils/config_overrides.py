"""Rules that the training and test tools apply after ``--cfg-options``.

A setting given on the command line must be seen by every rule that depends
on it, so these functions run on the final config, after the overrides are
merged:

* :func:`apply_dataloader_rules`: a dataloader without worker processes
  (``num_workers=0``) cannot keep workers alive (``persistent_workers``) or
  prefetch (``prefetch_factor``); torch refuses both. A collate function
  takes no ``_scope_`` (which a config inherited through ``hclmm::`` gives
  it).
* :func:`follow_training_data`: a val/test dataset whose ``data_root`` is
  None reads the training set's ``data_root``, so retargeting the training
  data (``--cfg-options train_dataloader.dataset.data_root=...``) moves the
  evaluation with it.
* :func:`find_validation_data`: when the validation (or test) annotation
  file does not exist, the training file's sibling whose name contains
  ``val`` takes its place; without one, validation is skipped with a
  warning that names the options to set (evaluation stops with that line).
* :func:`follow_training_budget`: when ``train_cfg.max_epochs`` (or
  ``max_iters``) differs from the config file, the parameter schedulers that
  ended at the file's budget are moved to end at the new one.
"""
import copy
import os
import os.path as osp
from typing import Any, Iterator, List, Optional, Tuple

__all__ = [
    'ScheduleBudgetError', 'apply_dataloader_rules', 'find_validation_data',
    'follow_training_budget', 'follow_training_data', 'snapshot_for_budget',
    'val_sibling'
]

DATALOADER_FIELDS = ('train_dataloader', 'val_dataloader', 'test_dataloader')

# mmengine's default ``end`` of a parameter scheduler: "until training ends"
_INF_END = int(1e9)

# Arguments that place steps inside a scheduler's span; where they sit when
# the span changes cannot be inferred.
_SPAN_DEPENDENT_KEYS = ('milestones', 'periods', 'total_steps',
                        'restart_weights')


class ScheduleBudgetError(ValueError):
    """A scheduler cannot be moved to a new training budget unambiguously."""


def _hook_dataloaders(cfg) -> Iterator[Tuple[str, Any]]:
    for i, hook in enumerate(cfg.get('custom_hooks', None) or []):
        if isinstance(hook, dict) and isinstance(hook.get('dataloader'),
                                                 dict):
            yield f'custom_hooks[{i}].dataloader', hook['dataloader']


def apply_dataloader_rules(cfg) -> List[str]:
    """Drop dataloader options that cannot apply.

    Applied to ``train_dataloader``, ``val_dataloader``, ``test_dataloader``
    and the ``dataloader`` of each entry of ``custom_hooks``: with
    ``num_workers`` 0 (or unset), ``persistent_workers`` is set to False and
    ``prefetch_factor`` to None. The ``_scope_`` key of a ``collate_fn`` is
    removed: mmengine gives it to the first typed dict on each path of a
    config inherited through a scope (``_base_ = ['hclmm::...']``), and its
    runner passes every key of ``collate_fn`` but ``type`` to the function,
    which takes no such argument (functions are found by name).

    Args:
        cfg (mmengine.Config): The merged config, changed in place.

    Returns:
        list[str]: The keys that were changed, e.g.
        ``['train_dataloader.persistent_workers']``.
    """
    loaders = [(f, cfg.get(f, None)) for f in DATALOADER_FIELDS]
    loaders += list(_hook_dataloaders(cfg))
    changed = []
    for name, loader in loaders:
        if not isinstance(loader, dict):
            continue
        collate = loader.get('collate_fn', None)
        if isinstance(collate, dict) and '_scope_' in collate:
            collate.pop('_scope_')
            changed.append(f'{name}.collate_fn._scope_')
        if loader.get('num_workers', 0):
            continue
        if loader.get('persistent_workers', False):
            loader['persistent_workers'] = False
            changed.append(f'{name}.persistent_workers')
        if loader.get('prefetch_factor', None) is not None:
            loader['prefetch_factor'] = None
            changed.append(f'{name}.prefetch_factor')
    return changed


def _train_dataset(cfg) -> Optional[dict]:
    train = cfg.get('train_dataloader', None)
    if isinstance(train, dict) and isinstance(train.get('dataset'), dict):
        return train['dataset']
    return None


def follow_training_data(cfg, file_cfg=None) -> List[str]:
    """Move val/test datasets to the training set's ``data_root``.

    A val/test dataset follows the training data when its ``data_root`` is
    None, or, given the config as read from the file, when it is the file's
    training ``data_root`` and the training root was changed (so a COCO
    config whose splits both name ``data/coco/`` follows
    ``--cfg-options train_dataloader.dataset.data_root=...`` too).

    Args:
        cfg (mmengine.Config): The merged config, changed in place.
        file_cfg (dict, optional): :func:`snapshot_for_budget` of the config
            as read from the file (its ``train_data_root`` is read).

    Returns:
        list[str]: The keys that were set, e.g.
        ``['val_dataloader.dataset.data_root']``.
    """
    train = _train_dataset(cfg)
    root = None if train is None else train.get('data_root', None)
    file_root = (file_cfg or {}).get('train_data_root', None)
    moved = file_root is not None and root != file_root
    changed = []
    for field in ('val_dataloader', 'test_dataloader'):
        loader = cfg.get(field, None)
        if root is None or not isinstance(loader, dict) or \
                not isinstance(loader.get('dataset'), dict):
            continue
        dataset = loader['dataset']
        if 'data_root' not in dataset:
            continue
        own = dataset['data_root']
        if own is None or (moved and own == file_root):
            dataset['data_root'] = root
            changed.append(f'{field}.dataset.data_root')
    return changed


def _local_path(root, path) -> Optional[str]:
    """``path`` under ``root`` as a dataset joins them, or None when either
    is not a local path (e.g. the URL of a remote file backend)."""
    if not isinstance(path, str) or not isinstance(root, (str, type(None))):
        return None
    if '://' in path or (root is not None and '://' in root):
        return None
    return path if root is None or osp.isabs(path) else osp.join(root, path)


def val_sibling(train_file: str) -> Tuple[Optional[str], List[str]]:
    """The validation file that lies beside a training annotation file.

    The rule: ``train`` replaced by ``val`` in the file name
    (``annotations/train.json`` -> ``annotations/val.json``,
    ``instances_train2017.json`` -> ``instances_val2017.json``) when that
    file exists; otherwise the only other file of the folder with the same
    extension whose name contains ``val``.

    Args:
        train_file (str): Path of the training annotation file.

    Returns:
        tuple[str | None, list[str]]: The sibling's path (None when there is
        none, or several and no ``train`` -> ``val`` match) and the
        candidates that were found.
    """
    folder, name = osp.split(train_file)
    if 'train' in name:
        direct = osp.join(folder, name.replace('train', 'val'))
        if osp.isfile(direct):
            return direct, [direct]
    try:
        names = sorted(os.listdir(folder or '.'))
    except OSError:
        return None, []
    ext = osp.splitext(name)[1]
    found = [
        osp.join(folder, n) for n in names
        if n != name and 'val' in n.lower() and n.endswith(ext)
        and osp.isfile(osp.join(folder, n))
    ]
    return (found[0] if len(found) == 1 else None), found


def find_validation_data(cfg, field: str = 'val_dataloader'
                         ) -> Tuple[Optional[str], Optional[str]]:
    """Point an evaluation dataset whose file is missing at the training
    file's ``val`` sibling.

    Applies when the annotation file of ``cfg[field].dataset`` does not
    exist while the training file does, and both datasets share one
    ``data_root`` (the evaluation follows the training data, see
    :func:`follow_training_data`). The sibling is found by
    :func:`val_sibling`; its images are looked up in the dataset's own
    ``data_prefix.img`` when that folder exists, else in the training
    prefix with ``train`` replaced by ``val``, else in the training prefix.

    Args:
        cfg (mmengine.Config): The merged config, changed in place when a
            sibling is taken.
        field (str): ``'val_dataloader'`` or ``'test_dataloader'``.

    Returns:
        tuple[str | None, str | None]: A line saying which file was taken,
        and a line saying what was looked for when no file was found (the
        caller skips the evaluation or stops); both None when there is
        nothing to do.
    """
    loader = cfg.get(field, None)
    train = _train_dataset(cfg)
    if train is None or not isinstance(loader, dict) or \
            not isinstance(loader.get('dataset'), dict):
        return None, None
    dataset = loader['dataset']
    root = dataset.get('data_root', None)
    path = _local_path(root, dataset.get('ann_file', None))
    if path is None or osp.exists(path):
        return None, None
    train_path = _local_path(train.get('data_root', None),
                             train.get('ann_file', None))
    if train_path is None or not osp.isfile(train_path):
        return None, None  # the training set reports its own missing file
    if root != train.get('data_root', None):
        return None, (f'{field}: {path} does not exist (its data_root '
                      f'{root} is not the training data\'s)')
    sibling, found = val_sibling(train_path)
    if sibling is None:
        what = ('none' if not found else 'several: ' +
                ', '.join(osp.basename(f) for f in found))
        return None, (f'{field}: {path} does not exist and the training '
                      f'file {train_path} has no single sibling whose name '
                      f'contains "val" ({what})')
    ann_file = sibling if root is None else osp.relpath(sibling, root)
    dataset['ann_file'] = ann_file
    note = f'{field}: {path} does not exist; using {sibling}, the ' \
        'sibling of the training file'
    prefix = dataset.get('data_prefix', None)
    img = prefix.get('img', None) if isinstance(prefix, dict) else None
    img_dir = _local_path(root, img)
    if img_dir is not None and not osp.isdir(img_dir):
        train_prefix = train.get('data_prefix', None)
        train_img = train_prefix.get('img', None) \
            if isinstance(train_prefix, dict) else None
        for candidate in ([train_img.replace('train', 'val'), train_img]
                          if isinstance(train_img, str) else []):
            if osp.isdir(_local_path(root, candidate)):
                prefix['img'] = candidate
                note += f', images in {_local_path(root, candidate)}'
                break
    return note, None


def _schedulers(param_scheduler, path='param_scheduler'):
    """``(key path, scheduler dict)`` of a ``param_scheduler`` config.

    Accepts one scheduler, a list of them, or a dict of such lists keyed by
    optimizer name (mmengine's form for several optimizers).
    """
    if param_scheduler is None:
        return
    if isinstance(param_scheduler, dict) and 'type' in param_scheduler:
        yield path, param_scheduler
    elif isinstance(param_scheduler, dict):
        for name, sub in param_scheduler.items():
            yield from _schedulers(sub, f'{path}.{name}')
    elif isinstance(param_scheduler, (list, tuple)):
        for i, sub in enumerate(param_scheduler):
            if isinstance(sub, dict):
                yield f'{path}.{i}', sub


def _lookup(root, path: str):
    """The entry at a dotted path of :func:`_schedulers`, or None."""
    node = root
    for part in path.split('.')[1:]:
        try:
            node = node[int(part)] if isinstance(node, (list, tuple)) \
                else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return node


def _same(a, b) -> bool:
    return _plain(a) == _plain(b)


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _budget(train_cfg) -> Optional[Tuple[str, Any]]:
    if not isinstance(train_cfg, dict):
        return None
    for key in ('max_epochs', 'max_iters'):
        if train_cfg.get(key) is not None:
            return key, train_cfg[key]
    return None


def follow_training_budget(cfg, file_cfg) -> List[str]:
    """Move the schedulers that ended at the file's budget to the new one.

    When ``train_cfg.max_epochs`` (epoch-based loop) or
    ``train_cfg.max_iters`` (iteration-based loop) of ``cfg`` differs from
    ``file_cfg``, each parameter scheduler counted in the same unit
    (``by_epoch=True`` for epochs, ``False`` for iterations) is examined:

    - a scheduler that ends at the old budget (``end`` equal to it, or no
      ``end`` and ``begin + T_max`` equal to it) is moved to end at the new
      one; a ``T_max`` equal to ``end - begin`` keeps that relation;
    - a scheduler that begins at or after a smaller new budget never runs
      and is left as it is;
    - a scheduler changed by the overrides themselves, and one in the other
      unit, are left as they are.

    A scheduler that cannot be moved unambiguously (``T_max`` not equal to
    ``end - begin``, steps placed inside the span such as ``milestones``, or
    a span that a smaller budget would cut short) raises
    :class:`ScheduleBudgetError` naming the keys to set with
    ``--cfg-options``.

    Args:
        cfg (mmengine.Config): The merged config, changed in place.
        file_cfg (mmengine.Config | dict): The config as read from the file
            (before the overrides); only ``train_cfg`` and
            ``param_scheduler`` are read.

    Returns:
        list[str]: One line describing the change, or an empty list when the
        budget is the file's or no scheduler had to move.

    Raises:
        ScheduleBudgetError: a scheduler cannot be moved unambiguously.
    """
    new = _budget(cfg.get('train_cfg', None))
    old = _budget(file_cfg.get('train_cfg', None))
    if new is None or old is None or new[0] != old[0] or new[1] == old[1]:
        return []
    key, new_budget = new
    old_budget = old[1]
    by_epoch = key == 'max_epochs'
    budget_name = f'train_cfg.{key}'
    file_schedulers = file_cfg.get('param_scheduler', None)

    moves, notes, problems = [], [], []
    for path, sched in _schedulers(cfg.get('param_scheduler', None)):
        original = _lookup(file_schedulers, path)
        if original is None or not _same(original, sched):
            continue  # set by the overrides: the user's choice
        if bool(sched.get('by_epoch', True)) != by_epoch:
            continue
        kind = sched.get('type', 'scheduler')
        begin = sched.get('begin', 0)
        end = sched.get('end', _INF_END)
        t_max = sched.get('T_max', None)
        open_end = end is None or end >= _INF_END
        if open_end:
            ends_at_budget = t_max is not None and begin + t_max == old_budget
        else:
            ends_at_budget = end == old_budget
        keys = [f'{path}.end'] + ([f'{path}.T_max'] if t_max is not None
                                  else [])
        if begin >= new_budget:
            if ends_at_budget or (not open_end and end > new_budget):
                notes.append(f'{path} ({kind}) begins at {begin}, not '
                             f'before the new budget: it will not run')
            continue
        if not ends_at_budget:
            if not open_end and new_budget < end <= old_budget:
                problems.append(
                    f'{path} ({kind}, begin={begin}, end={end}) would be '
                    f'cut short by the new budget; set {" and ".join(keys)}')
            continue
        span_keys = [k for k in _SPAN_DEPENDENT_KEYS if k in sched]
        if span_keys:
            problems.append(
                f'{path} ({kind}) ends at the old budget but its '
                f'{", ".join(span_keys)} place steps inside its span; set '
                + ' and '.join([f'{path}.{k}' for k in span_keys] + keys))
            continue
        old_span = (old_budget if open_end else end) - begin
        if t_max is not None and t_max != old_span:
            problems.append(
                f'{path} ({kind}, begin={begin}, end={end}) has T_max='
                f'{t_max}, not end - begin = {old_span}; set '
                + ' and '.join(keys))
            continue
        change = []
        if not open_end:
            change.append(f'end {end} -> {new_budget}')
        if t_max is not None:
            change.append(f'T_max {t_max} -> {new_budget - begin}')
        moves.append((sched, open_end, t_max is not None, begin,
                      f'{path} ({kind}) ' + ', '.join(change)))

    if problems:
        raise ScheduleBudgetError(
            f'{budget_name} was changed from {old_budget} to {new_budget}, '
            'but the parameter schedule cannot follow it unambiguously: '
            + '; '.join(problems) + '. Set them with --cfg-options '
            'KEY=VALUE, or keep the budget of the config file.')
    for sched, open_end, has_t_max, begin, _ in moves:
        if not open_end:
            sched['end'] = new_budget
        if has_t_max:
            sched['T_max'] = new_budget - begin
    if not moves and not notes:
        return []
    parts = [m[-1] for m in moves] + notes
    return [f'{budget_name} is {new_budget} instead of the config file\'s '
            f'{old_budget}; the parameter schedule follows: '
            + '; '.join(parts)]


def snapshot_for_budget(cfg) -> dict:
    """What :func:`follow_training_budget` and :func:`follow_training_data`
    need from the unmerged config.

    Args:
        cfg (mmengine.Config): The config as read from the file.

    Returns:
        dict: Deep copies of ``train_cfg`` and ``param_scheduler``, and
        ``train_data_root`` (the training dataset's ``data_root``, which
        :func:`follow_training_data` reads).
    """
    train = _train_dataset(cfg)
    return dict(
        train_cfg=copy.deepcopy(cfg.get('train_cfg', None)),
        param_scheduler=copy.deepcopy(cfg.get('param_scheduler', None)),
        train_data_root=None if train is None else train.get(
            'data_root', None))
