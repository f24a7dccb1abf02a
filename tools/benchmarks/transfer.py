"""Transfer suite: pretrained backbones (and random init) through detection,
segmentation, the linear probe and kNN classification, with the libraries'
own metrics.

For every named pretraining checkpoint the suite extracts the online backbone
(``tools/model_converters/extract_backbone_weights.py``), then trains each
task config once per init and seed through ``tools/train.py`` (one process)
or ``tools/dist_train.sh`` (``--gpus N``, N > 1) and evaluates the last
checkpoint with ``tools/test.py --out FILE --out-item metrics``, whose file
holds the run's metrics. The ``knn`` task trains nothing:
``tools/benchmarks/classification/knn_eval.py`` classifies the val samples
by their nearest train samples in the frozen backbone's features and writes
its json (the seed changes only random init). The results go to
``WORK_DIR/transfer.json``, ``WORK_DIR/transfer.md`` and a figure,
``WORK_DIR/transfer.png``, which goes with the means to the mmengine
visualizer backends of ``--vis-backends`` (``WORK_DIR/vis_data``). The steps
are the functions of :mod:`hclmm.apis.transfer`.

Each run lives in ``WORK_DIR/runs/TASK/INIT/seedS`` with the config it ran
(``WORK_DIR/configs/TASK/INIT.py``, a child of the task config), its log and
``result.json``. A run with a ``result.json`` is not repeated, so re-running
the command resumes, unless the checkpoint of its init is newer than the run
(then the run starts again); a failed run is named (task, init, seed) and the
others still run.

Data (optional): ``--data-root`` retargets every task to a COCO-instances
pair of train and val files. The split comes from the files, the classes from
their ``categories``; image paths are ``--img-prefix`` + ``file_name``, label
maps ``--seg-prefix`` + the image's stem + ``.png`` (pixel value =
``category_id``, 0 = background, 255 = ignore). Where the files are not
directly under a prefix but in one of its subfolders (the toy layout:
``images/train/``, ``semantic/val/``), that subfolder is used. Without
``--data-root`` the task configs run on their own data.

Labels (optional): ``--label-fraction 1 0.1 0.02`` trains every task on a
class-stratified fraction of the training images too (a new subset per
seed, ``WORK_DIR/labels/``), for the same number of steps: the task configs
count iterations, not epochs. The json cells then carry ``label_fraction``
and ``fractions``, and a label-efficiency figure is drawn.

Example (the toy scenes)::

    python tools/benchmarks/transfer.py \\
        --pretrained hcl=work_dirs/demo/hcl/epoch_8.pth \\
                     base=work_dirs/demo/baseline/epoch_8.pth random \\
        --tasks seg det linear \\
        --data-root data/toy_scenes --ann-train annotations/train.json \\
        --ann-val annotations/val.json --img-prefix images/ \\
        --seg-prefix semantic/ --seeds 0 1 --work-dir work_dirs/transfer
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
from hclmm.apis.transfer import (RANDOM, TASKS, VIS_BACKENDS,  # noqa: E402
                                 SuiteError, run_transfer)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Re-running the same command resumes: finished runs are read '
        'back from WORK_DIR/runs, not repeated.')
    parser.add_argument(
        '--pretrained', nargs='+', required=True,
        help=f'NAME=CHECKPOINT (a pretraining checkpoint from '
        f'tools/train.py) or "{RANDOM}" (no pretrained weights)')
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS),
                        default=list(TASKS))
    parser.add_argument(
        '--config', nargs='+', default=[], metavar='TASK=CONFIG',
        help='use CONFIG for TASK instead of the toy default, e.g. '
        'det=configs/benchmarks/mmdetection/coco/'
        'mask-rcnn_r50_fpn_ms-1x_coco.py')
    parser.add_argument('--data-root',
                        help='root of a COCO-format set (without it the '
                        'task configs use their own data)')
    parser.add_argument('--ann-train', default='annotations/train.json')
    parser.add_argument('--ann-val', default='annotations/val.json')
    parser.add_argument('--img-prefix', default='images/')
    parser.add_argument('--seg-prefix', default=None,
                        help='folder of the label maps (needed for seg '
                        'with --data-root)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument(
        '--label-fraction', nargs='+', type=float, default=[1.0],
        metavar='F',
        help='train every task on a class-stratified fraction F of the '
        'training images (a new subset per seed), at the same number of '
        'steps: the task configs are iteration-based, so fewer labels mean '
        'more passes; several values give a label-efficiency curve, e.g. '
        '1 0.1 0.02 (needs --data-root)')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--gpus', type=int, default=1,
                        help='GPUs (or CPU processes) per run; more than one '
                        'launches tools/dist_train.sh and tools/dist_test.sh')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides passed to every run')
    parser.add_argument('--title', default='Transfer')
    parser.add_argument(
        '--vis-backends', nargs='+', choices=list(VIS_BACKENDS),
        default=['local'],
        help='mmengine visualizer backends that get the table at the end: '
        'a figure (also WORK_DIR/transfer.png) and the means as scalars, '
        'under WORK_DIR/vis_data (tensorboard: view with tensorboard '
        '--logdir WORK_DIR)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        _, failures, _ = run_transfer(
            args.work_dir, args.pretrained, args.tasks, seeds=args.seeds,
            label_fractions=args.label_fraction, gpus=args.gpus,
            cfg_options=args.cfg_options, title=args.title,
            vis_backends=args.vis_backends, configs=args.config,
            data_root=args.data_root, ann_train=args.ann_train,
            ann_val=args.ann_val, img_prefix=args.img_prefix,
            seg_prefix=args.seg_prefix)
    except SuiteError as e:
        sys.exit(f'transfer.py: {e}')
    if failures:
        sys.exit(1)


if __name__ == '__main__':
    main()
