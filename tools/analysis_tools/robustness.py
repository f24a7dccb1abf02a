"""Adversarial robustness of frozen pretrained features on object crops.

Trains (or loads) a linear probe on the frozen backbone of a checkpoint
with the transfer suite's linear-probe config (``--probe-config``, through
mmengine's Runner: its data, schedule and logs), then reports the probe's
clean accuracy and its accuracy under an L-infinity PGD attack on the
config's validation crops (:func:`hclmm.apis.robustness_report`). Run it on
the checkpoints of a Euclidean and a hyperbolic pretraining (e.g.
``configs/hypcon/simclr_resnet18_1xb32-2e_toy-scenes.py`` and
``configs/hypcon/hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py``) to compare
them. Writes ``OUT_DIR/robustness.json``, ``OUT_DIR/probe.pth`` (the probe
head, tensors only; pass it back with ``--probe`` to skip training) and the
Runner's logs and checkpoint under ``OUT_DIR``.

Example::

    python tools/analysis_tools/robustness.py \\
        configs/hypcon/hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py \\
        work_dirs/hypcon-simclr_resnet18_1xb32-2e_toy-scenes/epoch_2.pth \\
        --data-root data/toy_scenes --eps 8/255 --steps 10 \\
        --out-dir work_dirs/robustness
"""
import argparse

from mmengine.config import DictAction

from hclmm.apis.robustness import DEFAULT_PROBE_CONFIG, parse_budget


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Clean and PGD accuracy of a linear probe on frozen '
        'backbone features of object crops')
    parser.add_argument('config', help='pretraining config of the checkpoint')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file (a whole '
        'pretraining checkpoint or extracted backbone)')
    parser.add_argument(
        '--probe-config', default=DEFAULT_PROBE_CONFIG,
        help='linear-probe config (model, data, schedule). Defaults to the '
        "transfer suite's toy-scenes probe")
    parser.add_argument('--data-root', help="root of the data. Defaults to "
                        "the probe config's")
    parser.add_argument(
        '--ann-file', help='COCO-format json whose boxes train the probe '
        "(relative to --data-root unless absolute). Defaults to the probe "
        "config's")
    parser.add_argument('--data-prefix',
                        help='image folder of --ann-file relative to '
                        '--data-root')
    parser.add_argument(
        '--val-ann-file', help='COCO-format json of the evaluation crops. '
        "Defaults to the probe config's val file")
    parser.add_argument('--val-data-prefix',
                        help='image folder of --val-ann-file')
    parser.add_argument(
        '--min-box-size', type=float, help='ignore boxes thinner than this '
        "(pixels). Defaults to the probe config's")
    parser.add_argument(
        '--eps', type=parse_budget, nargs='+',
        default=[parse_budget('8/255')],
        help='L-infinity budget(s) on [0, 1] pixels, e.g. 8/255 (default) '
        'or several: 4/255 8/255')
    parser.add_argument(
        '--steps', type=int, default=10, help='PGD steps. Defaults to 10')
    parser.add_argument(
        '--step-size', type=parse_budget, default=None,
        help='PGD step size. Defaults to 2.5 * eps / steps')
    parser.add_argument(
        '--no-random-start', action='store_true',
        help='start PGD at the clean image instead of a random point of '
        'the ball')
    parser.add_argument('--probe', default=None,
                        help='probe.pth of an earlier run; skips training')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--seed', type=int, default=0, help='Defaults to 0')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the probe config, e.g. '
        'train_cfg.max_epochs=20 optim_wrapper.optimizer.lr=10')
    parser.add_argument(
        '--out-dir', required=True, help='where to write the report')
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error('--steps must be >= 1')
    return args


def main(argv=None):
    from hclmm.apis import robustness_report
    args = parse_args(argv)
    data = {
        key: getattr(args, key)
        for key in ('data_root', 'ann_file', 'data_prefix', 'val_ann_file',
                    'val_data_prefix', 'min_box_size')
    }
    report = robustness_report(
        args.config, args.checkpoint, args.out_dir, args.eps, args.steps,
        args.step_size, args.no_random_start, args.probe, args.probe_config,
        data, args.cfg_options, args.device, args.seed)
    print(f'robustness of {args.checkpoint} ({report["num_val"]} crops, '
          f'L-inf PGD, {args.steps} steps):')
    print(f'  {"clean accuracy":<24} {report["clean_acc"]:6.2f}%')
    for attack in report['attacks']:
        name = f'robust @ eps {attack["eps_text"]}'
        print(f'  {name:<24} {attack["robust_acc"]:6.2f}%')
    print(f'written:\n  {args.out_dir}/robustness.json\n  '
          f'{report["probe"]["file"]}', flush=True)
    return report


if __name__ == '__main__':
    main()
