"""Evaluate a checkpoint with the test loop of a config (mmpretrain-style)."""
import argparse
import os
import os.path as osp

import mmengine
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from hclmm.utils import register_all_modules, setup_cpu_distributed
from hclmm.utils.config_overrides import (apply_dataloader_rules,
                                          follow_training_data)


def parse_args(argv=None):
    """Parse the command line (``argv``, or ``sys.argv[1:]`` when None)."""
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument('--out', help='write the metrics to this json file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
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


def build_config(args):
    """Read ``args.config`` and merge the command line into it.

    ``--cfg-options`` is merged first; the rules that depend on the values
    it may set (no persistent workers without workers) run after it.

    Args:
        args (argparse.Namespace): The parsed command line.

    Returns:
        mmengine.Config: The config the runner is built from.
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if cfg.get('test_dataloader') is None:
        raise SystemExit(f'{args.config} has no test_dataloader to evaluate')
    apply_dataloader_rules(cfg)
    follow_training_data(cfg)
    return cfg


def main():
    args = parse_args()
    cfg = build_config(args)
    setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    metrics = runner.test()
    if args.out:
        mmengine.dump(metrics, args.out)
        runner.logger.info(f'Metrics written to {args.out}')


if __name__ == '__main__':
    main()
