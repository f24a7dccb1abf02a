"""Zero-shot scene-object report of a checkpoint on a COCO-format set.

A front end of the config's own evaluation, as ``tools/test.py`` runs it
(:func:`hclmm.apis.zero_shot_from_config`): the ``test_dataloader`` dataset
(every image a scene, every box an object crop, sized by the test pipeline)
on the given file, the model's ``test_step`` and the ``test_evaluator``
(``SceneObjectMetric``). Writes ``OUT_DIR/zero_shot.json``
(docs/zero_shot.md), ``norm_hist.png``, ``poincare_disk.png`` and
``retrieval_examples.png`` (with ``--extra-scores``, every candidate
out-of-context score and ranking, and ``ooc_diagnostics.json`` when the
images carry scene types). The figures and the metric's numbers also go to
the backends of the config's ``visualizer`` (``OUT_DIR/vis_data``: the
``LocalVisBackend``'s ``vis_image/`` and ``scalars.json``; with a
``TensorboardVisBackend``, e.g. ``--vis-backends tensorboard``, TensorBoard's
events file and its projector: the points with a sprite of the crops and
their kind, category and image id). Example::

    python tools/analysis_tools/zero_shot.py \
        configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py \
        work_dirs/epoch_10.pth \
        --data-root data/toy_scenes --ann-file annotations/val.json \
        --data-prefix images/val --out-dir work_dirs/zero_shot
"""
import argparse

import torch
from mmengine.config import DictAction

OPTIONS = [  # flag, type, default, help
    ('--data-root', str, '', 'root of the data set'),
    ('--data-prefix', str, '', 'image folder relative to --data-root, e.g. '
     'val2017 or images/val. Defaults to the data root itself'),
    ('--batch-size', int, 64, 'crops per forward pass. Defaults to 64'),
    ('--img-size', int, None, 'side of the square crops. Defaults to the '
     "size of the config's test pipeline (its view_size)"),
    ('--device', str, None, 'e.g. cpu or cuda:0. Defaults to cuda if there'),
    ('--max-images', int, None, 'use only the first N images of the file'),
    ('--min-box-size', float, 1.0, 'ignore boxes thinner than this many '
     'pixels. Defaults to 1'),
    ('--knn-k', int, 1, 'neighbours voting in object_knn_top1. Defaults to 1'),
    ('--num-workers', int, 0, 'data loading processes. Defaults to 0'),
    ('--num-examples', int, 4, 'scenes shown in retrieval_examples.png. '
     'Defaults to 4'),
    ('--step', int, 0, 'step of the figures and numbers in the visualizer '
     "backends, e.g. the checkpoint's epoch. Defaults to 0"),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Zero-shot scene-object metrics and plots of a '
        'checkpoint on a COCO-format set')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--ann-file', required=True, help='COCO-format json '
                        '(relative to --data-root unless absolute)')
    parser.add_argument('--out-dir', required=True,
                        help='where to write the report')
    for flag, kind, default, text in OPTIONS:
        parser.add_argument(flag, type=kind, default=default, help=text)
    parser.add_argument(
        '--extra-scores', action='store_true',
        help='also report every candidate out-of-context score and '
        'retrieval ranking, and the out-of-context diagnostics')
    parser.add_argument(
        '--vis-backends', nargs='+', choices=('local', 'tensorboard'),
        help="replace the config's visualizer backends (LocalVisBackend, "
        'TensorboardVisBackend)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, e.g. '
        'model.hyp_head.embedder.manifold.c=0.1 or '
        'visualizer.vis_backends.0.type=TensorboardVisBackend')
    args = parser.parse_args(argv)
    for name, low in (('batch_size', 1), ('num_examples', 1),
                      ('img_size', 8), ('max_images', 1), ('step', 0)):
        value = getattr(args, name)
        if value is not None and value < low:
            parser.error(f'--{name.replace("_", "-")} must be >= {low}')
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    return args


def main(argv=None):
    from hclmm.apis import zero_shot_from_config
    args = vars(parse_args(argv))
    result = zero_shot_from_config(**args)
    print(result['summary'], flush=True)
    return result


if __name__ == '__main__':
    main()
