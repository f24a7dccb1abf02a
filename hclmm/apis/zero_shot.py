"""The zero-shot scene-object report of a checkpoint (docs/zero_shot.md)."""
import copy
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.config import Config

from .inference import build_dataloader, extract_features, init_model
from .projector import add_projector

__all__ = [
    'crop_resize', 'build_zero_shot_dataset', 'embed_dataset',
    'run_zero_shot', 'zero_shot_from_config', 'zero_shot_summary'
]


def crop_resize(pipeline) -> dict:
    """The ``Resize`` of a test pipeline: the size of every crop."""
    return next(t for t in pipeline if t['type'] == 'Resize')


def build_zero_shot_dataset(cfg: Config, data_root: str, ann_file: str,
                            data_prefix: str = '',
                            img_size: Optional[int] = None,
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
        crop_resize(dataset_cfg['pipeline'])['scale'] = (img_size, img_size)
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


def embed_dataset(model, dataset, batch_size: int = 64, knn_k: int = 1,
                  num_workers: int = 0, progress: bool = True,
                  metric=None) -> Dict:
    """:func:`~hclmm.apis.extract_features` in predict mode over the
    dataset into ``metric`` (default ``SceneObjectMetric(knn_k)``): the
    scenes' and objects' points, features and metadata."""
    from hclmm.evaluation import SceneObjectMetric
    return extract_features(
        model, build_dataloader(dataset, batch_size, num_workers),
        mode='predict', desc='embedding' if progress else None,
        metric=metric or SceneObjectMetric(knn_k=knn_k))


def run_zero_shot(model, dataset, out_dir: str, batch_size: int = 64,
                  knn_k: int = 1, num_workers: int = 0,
                  num_examples: int = 4, progress: bool = True,
                  metric=None, visualizer=None, step: int = 0) -> Dict:
    """Embed, score, write ``zero_shot.json``, the figures and, with the
    metric's ``extra_scores``, ``ooc_diagnostics.json`` (where they apply:
    images with scene types), and send the figures and the metric's
    numbers (prefixed, as the val loop logs them) to ``visualizer``'s
    backends at ``step``; a TensorBoard backend also gets the embeddings in
    its projector (:func:`~hclmm.apis.add_projector`). Returns ``metrics``
    (the json), ``files`` (written paths), ``manifold``, ``c`` and
    ``embeddings`` (the assembled arrays)."""
    from hclmm.evaluation import SceneObjectMetric, report_ooc_diagnostics
    from hclmm.visualization import add_report, plot_zero_shot_report
    os.makedirs(out_dir, exist_ok=True)
    metric = metric or SceneObjectMetric(knn_k=knn_k)
    emb = embed_dataset(model, dataset, batch_size, knn_k, num_workers,
                        progress, metric)
    metrics = metric.report(emb)
    files = dict(json=osp.join(out_dir, 'zero_shot.json'))
    outputs = {files['json']: metrics}
    figures = plot_zero_shot_report(emb, dataset, out_dir, num_examples)
    files.update(figures)
    diagnostics = None
    if metric.extra_scores:
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
            for key, value in metric.scalars(emb, metrics).items()
        }
        add_report(visualizer, figures, scalars, step)
        projector = add_projector(visualizer, emb, dataset, step)
        if projector:
            files['projector'] = projector
    manifold = emb['manifold']
    return dict(metrics=metrics, files=files, manifold=manifold,
                c=manifold.c_value(), embeddings=emb)


def zero_shot_summary(result: Dict, img_size: int, backends: str) -> str:
    """The text a user reads after :func:`run_zero_shot`."""

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


BACKENDS = dict(local='LocalVisBackend', tensorboard='TensorboardVisBackend')


def zero_shot_from_config(config: str, checkpoint: str, out_dir: str,
                          data_root: str, ann_file: str,
                          data_prefix: str = '',
                          cfg_options: Optional[dict] = None,
                          device: str = 'cpu',
                          img_size: Optional[int] = None,
                          min_box_size: float = 1.0,
                          max_images: Optional[int] = None,
                          batch_size: int = 64, knn_k: int = 1,
                          num_workers: int = 0, num_examples: int = 4,
                          step: int = 0, extra_scores: bool = False,
                          vis_backends: Optional[Sequence[str]] = None,
                          progress: bool = True) -> Dict:
    """The report of a checkpoint, as the zero-shot tool writes it.

    The config's model with the checkpoint's weights, its
    ``test_dataloader`` dataset on ``ann_file`` (see
    :func:`build_zero_shot_dataset`), its ``test_evaluator`` (with
    ``knn_k`` and ``extra_scores``) and its ``visualizer`` writing into
    ``out_dir/vis_data`` (``vis_backends``: names of :data:`BACKENDS`
    that replace the config's backends). The arguments are the tool's
    options. Returns what :func:`run_zero_shot` returns, with ``summary``,
    the text the tool prints.
    """
    import matplotlib
    matplotlib.use('Agg')
    from hclmm.registry import METRICS
    from hclmm.visualization import DEFAULT_VISUALIZER, build_report_visualizer
    model, cfg = init_model(config, checkpoint, cfg_options, device)
    dataset = build_zero_shot_dataset(cfg, data_root, ann_file, data_prefix,
                                      img_size, min_box_size, max_images)
    num_scenes = sum(
        dataset.get_data_info(i)['is_scene'] for i in range(len(dataset)))
    print(f'{num_scenes} images and {len(dataset) - num_scenes} objects '
          f'from {dataset.ann_file}', flush=True)
    metric = METRICS.build(
        dict(cfg.test_evaluator, knn_k=knn_k, extra_scores=extra_scores))
    vis_cfg = dict(cfg.get('visualizer') or DEFAULT_VISUALIZER)
    if vis_backends:
        vis_cfg['vis_backends'] = [
            dict(type=BACKENDS[name]) for name in vis_backends
        ]
    visualizer = build_report_visualizer(vis_cfg, out_dir, 'zero_shot')
    try:
        result = run_zero_shot(model, dataset, out_dir, batch_size, knn_k,
                               num_workers, num_examples, progress, metric,
                               visualizer, step)
    finally:
        visualizer.close()
    size = img_size or crop_resize(
        cfg.test_dataloader.dataset.pipeline)['scale'][0]
    backends = [b['type'] for b in vis_cfg.get('vis_backends') or ()]
    result['summary'] = zero_shot_summary(
        result, size, f'{", ".join(backends) or "no backend"} '
        f'in {osp.join(out_dir, "vis_data")}')
    return result
