"""Train a model from an hclmm (or any OpenMMLab) config.

Flag-compatible with mmpretrain's ``tools/train.py``. On machines without
CUDA a distributed launch (``--launcher pytorch``) runs on the CPU with gloo.
"""
import argparse
import logging
import os
import os.path as osp
from copy import deepcopy

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from hclmm.utils import register_all_modules, setup_cpu_distributed
from hclmm.utils.config_overrides import (ScheduleBudgetError,
                                          apply_dataloader_rules,
                                          find_validation_data,
                                          follow_training_budget,
                                          follow_training_data,
                                          snapshot_for_budget)


def parse_args(argv=None):
    """Parse the command line (``argv``, or ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a value, from '
        'the latest checkpoint in the work directory')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training (needs a GPU): '
        'bfloat16 autocast without loss scaling on GPUs that have it, '
        'float16 with a dynamic loss scaler elsewhere (see --amp-dtype)')
    parser.add_argument(
        '--amp-dtype',
        choices=['auto', 'bfloat16', 'float16'],
        default=None,
        help='autocast dtype for --amp (implies it); default: the '
        "config's optim_wrapper.dtype, else 'auto'")
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual over the base batch size')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in the dataloaders')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='disable persistent_workers in the dataloaders')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs, e.g. '
        'train_dataloader.batch_size=32 optim_wrapper.optimizer.lr=0.03')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_amp(cfg, dtype=None, cuda=None, bf16=None):
    """Turn the config's optimiser wrapper into mixed precision (``--amp``).

    The wrapper becomes hclmm's ``MixedPrecisionOptimWrapper`` (mmengine's
    ``AmpOptimWrapper`` without a loss scaler in bfloat16) with the dtype
    resolved for this machine: ``dtype``, else the config's
    ``optim_wrapper.dtype``, else ``'auto'`` (bfloat16 where the GPU has
    it, float16 with a dynamic loss scaler elsewhere).

    Args:
        cfg (mmengine.Config): Changed in place.
        dtype (str, optional): ``'auto'``, ``'bfloat16'`` or ``'float16'``.
        cuda (bool, optional): Whether CUDA is available; None asks torch.
        bf16 (bool, optional): Whether the GPU computes in bfloat16; None
            asks torch.

    Returns:
        str: The chosen dtype, ``'bfloat16'`` or ``'float16'``.
    """
    from hclmm.engine.optimizers import resolve_amp_dtype
    if cuda is None:
        import torch
        cuda = torch.cuda.is_available()
    if not cuda:
        raise SystemExit('--amp needs a CUDA device; none is available. '
                         'Train in float32 on the CPU (drop --amp).')
    requested = dtype or cfg.optim_wrapper.get('dtype', None) or 'auto'
    if requested == 'float32':
        requested = 'auto'  # --amp asks for mixed precision
    try:
        chosen = resolve_amp_dtype(requested, cuda=True, bf16=bf16)
    except ValueError as e:
        raise SystemExit(f'--amp: {e}') from None
    cfg.optim_wrapper.type = 'MixedPrecisionOptimWrapper'
    cfg.optim_wrapper.dtype = chosen
    if chosen == 'float16':
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    return chosen


def merge_args(cfg, args, notes=None, warns=None):
    """Merge command-line arguments into the config.

    The flags are applied first and ``--cfg-options`` is merged over them;
    every rule that depends on a value that ``--cfg-options`` may set (the
    dataloader defaults and worker rules, ``--auto-scale-lr``, the schedule
    following a changed ``train_cfg.max_epochs``/``max_iters``, the
    validation data following the training data) runs after the merge.

    Args:
        cfg (mmengine.Config): The config read from ``args.config``.
        args (argparse.Namespace): The parsed command line.
        notes (list, optional): Receives lines to log once the runner
            exists (what was changed beyond the overrides themselves).
        warns (list, optional): Receives warnings to log once the runner
            exists (validation skipped for want of a validation file).

    Returns:
        mmengine.Config: ``cfg``, changed in place.
    """
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp or args.amp_dtype:
        apply_amp(cfg, args.amp_dtype)

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    file_budget = snapshot_for_budget(cfg)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise SystemExit(
                f'--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size'
                f'=...)` in the config {args.config}')
        cfg.auto_scale_lr.enable = True

    default_dataloader_cfg = ConfigDict(
        pin_memory=True,
        persistent_workers=True,
    )
    # Self-supervised and classification batches stack into tensors; mmdet
    # and mmseg batches hold images of different sizes and keep mmengine's
    # default (pseudo_collate).
    if cfg.get('default_scope', 'mmpretrain') in ('mmpretrain', 'hclmm'):
        default_dataloader_cfg.collate_fn = dict(type='default_collate')

    def set_default_dataloader_cfg(field):
        if cfg.get(field, None) is None:
            return
        dataloader_cfg = deepcopy(default_dataloader_cfg)
        dataloader_cfg.update(cfg[field])
        if args.no_pin_memory:
            dataloader_cfg.pin_memory = False
        if args.no_persistent_workers:
            dataloader_cfg.persistent_workers = False
        cfg[field] = dataloader_cfg

    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_default_dataloader_cfg(field)
    # no persistent workers (or prefetching) without worker processes
    apply_dataloader_rules(cfg)
    # evaluation follows the (possibly retargeted) training data, and takes
    # the training file's val sibling when its own file is missing
    follow_training_data(cfg, file_budget)
    note, problem = find_validation_data(cfg, 'val_dataloader')
    if problem is not None:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
        line = (f'validation skipped: {problem}. Name a validation file '
                'with --cfg-options val_dataloader.dataset.ann_file=FILE '
                '(relative to the data root; its images: '
                'val_dataloader.dataset.data_prefix.img=FOLDER), or turn '
                'validation off with --no-validate')
        if warns is None:
            print_log(line, logger='current', level=logging.WARNING)
        else:
            warns.append(line)
    if note is not None and notes is not None:
        notes.append(note)

    try:
        lines = follow_training_budget(cfg, file_budget)
    except ScheduleBudgetError as e:
        raise SystemExit(f'{args.config}: {e}') from None
    if notes is not None:
        notes.extend(lines)
    return cfg


def build_config(args, notes=None, warns=None):
    """Read ``args.config`` and merge the command line into it.

    Args:
        args (argparse.Namespace): The parsed command line.
        notes (list, optional): See :func:`merge_args`.
        warns (list, optional): See :func:`merge_args`.

    Returns:
        mmengine.Config: The config the runner is built from.
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    return merge_args(cfg, args, notes, warns)


def main():
    args = parse_args()
    notes, warns = [], []
    cfg = build_config(args, notes, warns)
    setup_cpu_distributed(cfg)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    for line in notes:
        runner.logger.info(line)
    for line in warns:
        runner.logger.warning(line)
    runner.train()
    runner.logger.info(f'Training finished ({get_world_size()} process(es)); '
                       f'checkpoints and logs are in '
                       f'{osp.abspath(runner.work_dir)}')


if __name__ == '__main__':
    main()
