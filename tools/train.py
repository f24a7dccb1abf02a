"""Train a model from an hclmm (or any OpenMMLab) config.

Flag-compatible with mmpretrain's ``tools/train.py``. On machines without
CUDA a distributed launch (``--launcher pytorch``) runs on the CPU with gloo.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.dist import get_world_size
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from hclmm.utils import register_all_modules, setup_cpu_distributed
from hclmm.utils.config_checks import (DATALOADER_FIELDS, describe_changes,
                                       drop_unusable_dataloader_options,
                                       missing_annotation_file,
                                       scheduler_past_the_budget)


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


def merge_args(cfg, args, notes=None):
    """Merge command-line arguments into the config.

    The flags are applied first and ``--cfg-options`` is merged over them;
    ``--auto-scale-lr``, ``--no-pin-memory``, ``--no-persistent-workers``
    and the dataloader options that cannot apply
    (:func:`~hclmm.utils.config_checks.drop_unusable_dataloader_options`)
    act on the merged config. Nothing else is changed; the config dumped
    into the work directory is the one that runs.

    Args:
        cfg (mmengine.Config): The config read from ``args.config``.
        args (argparse.Namespace): The parsed command line.
        notes (list, optional): Receives the changes beyond the config file
            and ``--cfg-options``, as ``key=value`` strings (logged in one
            line once the runner exists).

    Returns:
        mmengine.Config: ``cfg``, changed in place.

    Raises:
        SystemExit: an annotation file of the training or validation data
            does not exist, or a scheduler that ends with the training
            begins after it (one line naming what and the keys to set).
    """
    changes = []
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
        changes.append('val_cfg=None, val_dataloader=None, '
                       'val_evaluator=None (--no-validate)')

    if args.launcher != cfg.get('launcher', 'none'):
        cfg.launcher = args.launcher
        changes.append(f'launcher={args.launcher}')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
        changes.append(f'work_dir={args.work_dir}')

    if args.amp or args.amp_dtype:
        dtype = apply_amp(cfg, args.amp_dtype)
        changes.append(f'optim_wrapper.type={cfg.optim_wrapper.type}, '
                       f'optim_wrapper.dtype={dtype} (--amp)')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
        changes.append('resume=True (--resume)')
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
        changes.append(f'resume=True, load_from={args.resume} (--resume)')

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
        changes.append(f'work_dir={cfg.work_dir} (the config sets none)')

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise SystemExit(
                f'--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size'
                f'=...)` in the config {args.config}')
        cfg.auto_scale_lr.enable = True
        changes.append('auto_scale_lr.enable=True (--auto-scale-lr)')

    for field in DATALOADER_FIELDS:
        if cfg.get(field, None) is None:
            continue
        if args.no_pin_memory:
            cfg[field].pin_memory = False
            changes.append(f'{field}.pin_memory=False (--no-pin-memory)')
        if args.no_persistent_workers:
            cfg[field].persistent_workers = False
            changes.append(f'{field}.persistent_workers=False '
                           '(--no-persistent-workers)')
    changes += drop_unusable_dataloader_options(cfg)

    for problem in (missing_annotation_file(cfg, 'train_dataloader'),
                    missing_annotation_file(cfg, 'val_dataloader'),
                    scheduler_past_the_budget(cfg)):
        if problem is not None:
            raise SystemExit(f'{args.config}: {problem}')
    if notes is not None:
        notes.extend(changes)
    return cfg


def build_config(args, notes=None):
    """Read ``args.config`` and merge the command line into it.

    Args:
        args (argparse.Namespace): The parsed command line.
        notes (list, optional): See :func:`merge_args`.

    Returns:
        mmengine.Config: The config the runner is built from.
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    return merge_args(cfg, args, notes)


def main():
    args = parse_args()
    notes = []
    cfg = build_config(args, notes)
    if setup_cpu_distributed(cfg):
        notes.append('env_cfg.dist_cfg.backend=gloo, model_wrapper_cfg.'
                     'device_ids=None (distributed on the CPU)')

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    line = describe_changes('tools/train.py', notes)
    if line is not None:
        runner.logger.info(line)
    runner.train()
    runner.logger.info(f'Training finished ({get_world_size()} process(es)); '
                       f'checkpoints and logs are in '
                       f'{osp.abspath(runner.work_dir)}')


if __name__ == '__main__':
    main()
