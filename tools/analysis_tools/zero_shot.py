"""Zero-shot scene-object report of a checkpoint on a COCO-format set.

A front end of the config's own evaluation, as ``tools/test.py`` runs it:
the ``test_dataloader`` dataset (every image a scene, every box an object
crop, sized by the test pipeline) on the given file, the model's
``test_step`` and the ``test_evaluator`` (``SceneObjectMetric``). Writes
``OUT_DIR/zero_shot.json`` (docs/zero_shot.md), ``ooc_diagnostics.json``
when the images carry scene types, ``norm_hist.png``, ``poincare_disk.png``
and ``retrieval_examples.png``. The figures and the metric's numbers also go
to the backends of the config's ``visualizer`` (``OUT_DIR/vis_data``: the
``LocalVisBackend``'s ``vis_image/`` and ``scalars.json``, TensorBoard's
events file with a ``TensorboardVisBackend``). Example::

    python tools/analysis_tools/zero_shot.py \
        configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py \
        work_dirs/epoch_10.pth \
        --data-root data/toy_scenes --ann-file annotations/val.json \
        --data-prefix images/val --out-dir work_dirs/zero_shot
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction

from hclmm.visualization import load_crop  # noqa: F401  (the tool's API)

__all__ = [
    'parse_args', 'build_dataset', 'load_crop', 'embed_dataset',
    'build_model_from_checkpoint', 'run_zero_shot', 'main'
]

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


def _resize(pipeline) -> dict:
    """The test pipeline's ``Resize``: the size of every crop."""
    return next(t for t in pipeline if t['type'] == 'Resize')


def build_dataset(cfg: Config, data_root: str, ann_file: str,
                  data_prefix: str = '', img_size: Optional[int] = None,
                  min_box_size: float = 1.0,
                  max_images: Optional[int] = None):
    """The dataset of ``cfg.test_dataloader`` on another COCO-format file.

    Images without boxes stay (as scenes with no object); ``img_size``
    replaces the size of the test pipeline's ``Resize``; ``max_images``
    keeps the first N images of the file with their objects.
    """
    from hclmm.registry import DATASETS
    from hclmm.utils import register_all_modules
    register_all_modules()
    loader = cfg.get('test_dataloader')
    if not loader:
        raise ValueError(f'{cfg.filename} has no test_dataloader: the '
                         'zero-shot tool reads its dataset and pipeline')
    dataset_cfg = copy.deepcopy(loader['dataset'])
    if img_size is not None:
        _resize(dataset_cfg['pipeline'])['scale'] = (img_size, img_size)
    dataset_cfg.update(
        data_root=data_root, ann_file=ann_file, min_boxes=0,
        data_prefix=dict(img=data_prefix), min_box_size=min_box_size,
        test_mode=True)
    dataset = DATASETS.build(dataset_cfg)
    if max_images is not None:
        # samples are grouped by image: the first N images end where the
        # scene sample of image N starts
        scenes = [dataset.get_data_info(i)['scene_index']
                  for i in range(len(dataset))]
        end = int(np.searchsorted(scenes, max_images, side='left'))
        if end < len(dataset):
            dataset.get_subset_(end)
    return dataset


@torch.no_grad()
def embed_dataset(model, dataset, batch_size: int = 64, knn_k: int = 1,
                  num_workers: int = 0, progress: bool = True,
                  metric=None) -> Dict:
    """Run ``model.test_step`` over the dataset into ``metric`` (default
    ``SceneObjectMetric(knn_k)``) and return its
    :meth:`~hclmm.evaluation.SceneObjectMetric.assemble` output."""
    from mmengine.dataset import default_collate
    from mmengine.evaluator import Evaluator
    from mmengine.utils import track_iter_progress

    from hclmm.evaluation import SceneObjectMetric
    if not callable(getattr(model, 'predict', None)):
        raise TypeError(f'{type(model).__name__} has no predict mode; the '
                        'zero-shot tool needs an HCL model (or its baseline '
                        'twin)')
    metric = metric or SceneObjectMetric(knn_k=knn_k)
    evaluator = Evaluator(metric)
    # default_collate stacks the crops as the configs' test loaders do
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False,
        num_workers=num_workers, collate_fn=default_collate)
    batches = loader
    if progress:
        print(f'embedding {len(dataset)} crops in {len(loader)} batches',
              file=sys.stderr, flush=True)
        batches = track_iter_progress((loader, len(loader)), file=sys.stderr)
    for batch in batches:
        evaluator.process(model.test_step(batch), batch)
    return metric.assemble(metric.results)


def build_model_from_checkpoint(config: str, checkpoint: str,
                                cfg_options=None, device='cpu'):
    """The config's model with the checkpoint's weights (weights-only) in
    eval mode on ``device``, and the config."""
    from mmengine.runner import load_checkpoint

    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval(), cfg


def run_zero_shot(model, dataset, out_dir: str, batch_size: int = 64,
                  knn_k: int = 1, num_workers: int = 0,
                  num_examples: int = 4, progress: bool = True,
                  metric=None, visualizer=None, step: int = 0) -> Dict:
    """Embed, score, write ``zero_shot.json``, the diagnostics and the
    figures, and send the figures and the metric's numbers (prefixed, as
    the val loop logs them) to ``visualizer``'s backends at ``step``.
    Returns ``metrics`` (the json), ``files`` (written paths), ``manifold``,
    ``c`` and ``embeddings`` (the assembled arrays)."""
    from hclmm.evaluation import (ZERO_SHOT_KEYS, SceneObjectMetric,
                                  report_ooc_diagnostics)
    from hclmm.visualization import add_report, plot_zero_shot_report
    os.makedirs(out_dir, exist_ok=True)
    metric = metric or SceneObjectMetric(knn_k=knn_k)
    emb = embed_dataset(model, dataset, batch_size, knn_k, num_workers,
                        progress, metric)
    report = metric.report(emb)
    metrics = {key: report[key] for key in ZERO_SHOT_KEYS}
    files = dict(json=osp.join(out_dir, 'zero_shot.json'))
    outputs = {files['json']: metrics}
    figures = plot_zero_shot_report(emb, dataset, out_dir, num_examples)
    files.update(figures)
    diagnostics = report_ooc_diagnostics(emb, [
        info.get('scene_type') for info in map(dataset.get_data_info,
                                               range(len(dataset)))
        if info['is_scene']])
    if diagnostics is not None:
        files['ooc_diagnostics'] = osp.join(out_dir, 'ooc_diagnostics.json')
        outputs[files['ooc_diagnostics']] = diagnostics
    for path, content in outputs.items():
        with open(path, 'w') as f:
            json.dump(content, f, indent=2)
    if visualizer is not None:
        scalars = {
            f'{metric.prefix}/{key}': value
            for key, value in metric.scalars(emb, report).items()
        }
        add_report(visualizer, figures, scalars, step)
    manifold = emb['manifold']
    return dict(metrics=metrics, files=files, manifold=manifold,
                c=manifold.c_value(), embeddings=emb)


def _summary(result: Dict, img_size: int, backends: str) -> str:

    def text(value):
        return 'null' if value is None else (
            f'{value:.4f}' if isinstance(value, float) else str(value))

    lines = [f'zero-shot report ({result["manifold"].describe()}, crops '
             f'{img_size}x{img_size}):']
    for key, value in result['metrics'].items():
        if isinstance(value, dict):
            lines.append(f'  {key}:')
            lines += [f'    {k:<24} {text(v)}' for k, v in value.items()]
        else:
            lines.append(f'  {key:<26} {text(value)}')
    lines.append('written:')
    lines += [f'  {path}' for path in result['files'].values()]
    lines.append(f'figures and numbers sent to {backends}')
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    import matplotlib
    matplotlib.use('Agg')
    from hclmm.registry import METRICS
    from hclmm.visualization import (DEFAULT_VISUALIZER,
                                     build_report_visualizer)
    model, cfg = build_model_from_checkpoint(args.config, args.checkpoint,
                                             args.cfg_options, args.device)
    dataset = build_dataset(cfg, args.data_root, args.ann_file,
                            args.data_prefix, args.img_size,
                            args.min_box_size, args.max_images)
    num_scenes = sum(
        dataset.get_data_info(i)['is_scene'] for i in range(len(dataset)))
    print(f'{num_scenes} images and {len(dataset) - num_scenes} objects '
          f'from {dataset.ann_file}', flush=True)
    metric = METRICS.build(dict(cfg.test_evaluator, knn_k=args.knn_k))
    vis_cfg = cfg.get('visualizer') or DEFAULT_VISUALIZER
    visualizer = build_report_visualizer(vis_cfg, args.out_dir, 'zero_shot')
    try:
        result = run_zero_shot(model, dataset, args.out_dir, args.batch_size,
                               args.knn_k, args.num_workers,
                               args.num_examples, metric=metric,
                               visualizer=visualizer, step=args.step)
    finally:
        visualizer.close()
    size = args.img_size or _resize(
        cfg.test_dataloader.dataset.pipeline)['scale'][0]
    backends = [b['type'] for b in vis_cfg.get('vis_backends') or ()]
    print(_summary(result, size, f'{", ".join(backends) or "no backend"} '
                   f'in {osp.join(args.out_dir, "vis_data")}'), flush=True)
    return result


if __name__ == '__main__':
    main()
