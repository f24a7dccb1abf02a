"""Evaluate a checkpoint with the test loop of a config.

The flags follow mmpretrain's ``tools/test.py``: ``--out FILE`` with
``--out-item pred`` (the default) writes each sample's embedding, norm and
label to a ``.pkl`` file (:class:`~hclmm.evaluation.DumpEmbeddings`), with
``--out-item metrics`` the metrics dict (``.json``, ``.yaml`` or ``.pkl``,
by the file's extension).
"""
import argparse
import os
import os.path as osp

import mmengine
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from hclmm.utils import register_all_modules, setup_cpu_distributed
from hclmm.utils.config_checks import (describe_changes,
                                       drop_unusable_dataloader_options,
                                       missing_annotation_file)


def parse_args(argv=None):
    """Parse the command line (``argv``, or ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument(
        '--out',
        help='the file to write the results to: the predictions (a .pkl '
        'file) or the metrics (see --out-item)')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help="what --out holds: 'pred' (the default), each sample's "
        "embedding, norm and label as a list of dicts in a .pkl file; "
        "'metrics', the metrics dict (.json, .yaml or .pkl)")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in the test dataloader')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out FILE to write to')
    if args.out is not None and args.out_item in (None, 'pred') and \
            not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out {args.out}: the predictions are written to a '
                     '.pkl file; for the metrics add --out-item metrics')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args, notes=None):
    """Read ``args.config`` and merge the command line into it.

    The flags are applied first and ``--cfg-options`` is merged over them;
    ``--no-pin-memory`` and the dataloader options that cannot apply
    (:func:`~hclmm.utils.config_checks.drop_unusable_dataloader_options`)
    act on the merged config.

    Args:
        args (argparse.Namespace): The parsed command line.
        notes (list, optional): Receives the changes beyond the config file
            and ``--cfg-options``, as ``key=value`` strings.

    Returns:
        mmengine.Config: The config the runner is built from.

    Raises:
        SystemExit: the config has no test data, or its annotation file
            does not exist (one line naming the file and the keys to set).
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    changes = []
    if args.launcher != cfg.get('launcher', 'none'):
        cfg.launcher = args.launcher
        changes.append(f'launcher={args.launcher}')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
        changes.append(f'work_dir={args.work_dir}')
    cfg.load_from = args.checkpoint
    changes.append(f'load_from={args.checkpoint}')
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
        changes.append(f'work_dir={cfg.work_dir} (the config sets none)')
    if cfg.get('test_dataloader') is None:
        raise SystemExit(f'{args.config} has no test_dataloader to evaluate')
    if args.no_pin_memory:
        cfg.test_dataloader.pin_memory = False
        changes.append('test_dataloader.pin_memory=False (--no-pin-memory)')
    changes += drop_unusable_dataloader_options(cfg)
    problem = missing_annotation_file(cfg, 'test_dataloader')
    if problem is not None:
        raise SystemExit(f'{args.config}: {problem}')
    if notes is not None:
        notes.extend(changes)
    return cfg


def main():
    args = parse_args()
    notes = []
    cfg = build_config(args, notes)
    if setup_cpu_distributed(cfg):
        notes.append('env_cfg.dist_cfg.backend=gloo, model_wrapper_cfg.'
                     'device_ids=None (distributed on the CPU)')
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    runner.logger.info(describe_changes('tools/test.py', notes))
    if args.out and args.out_item in (None, 'pred'):
        from hclmm.evaluation import DumpEmbeddings
        runner.test_evaluator.metrics.append(
            DumpEmbeddings(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item in (None, 'pred'):
        runner.logger.info(f'Embeddings, norms and labels of every sample '
                           f'written to {args.out}')
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)
        runner.logger.info(f'Metrics written to {args.out}')


if __name__ == '__main__':
    main()
