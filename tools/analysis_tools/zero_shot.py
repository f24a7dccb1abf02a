"""Zero-shot scene-object report of a checkpoint on a COCO-format set.

The front end of the Evaluator's zero-shot metric: the set is read as a
``SceneObjectCropDataset`` (every image a *scene*, every box an *object*
crop, both resized to ``--img-size`` squares), embedded by the model's
``test_step`` (its data preprocessor and ``predict`` mode, which also says
which geometry the points live in) and assembled by ``SceneObjectMetric``;
all norms and distances use the model's geometry.

Writes ``OUT_DIR/zero_shot.json`` (the metrics, see docs/zero_shot.md) and
three figures: ``norm_hist.png``, ``poincare_disk.png`` and
``retrieval_examples.png``.

Example::

    python tools/analysis_tools/zero_shot.py \
        configs/hcl/hcl-mocov2_resnet18_toy-scenes.py work_dirs/epoch_10.pth \
        --data-root data/toy_scenes --ann-file annotations/val.json \
        --data-prefix images/val --out-dir work_dirs/zero_shot
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import DictAction

__all__ = [
    'parse_args', 'build_dataset', 'load_crop', 'embed_dataset',
    'find_scene_view_size', 'build_model_from_checkpoint', 'run_zero_shot',
    'main'
]

DEFAULT_IMG_SIZE = 224
# Arguments of a resize-like transform that give its output size.
_SIZE_KEYS = ('scale', 'size', 'crop_size')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Zero-shot scene-object metrics and plots of a '
        'checkpoint on a COCO-format set')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--data-root', default='', help='root of the data set')
    parser.add_argument(
        '--ann-file',
        required=True,
        help='COCO-format json (relative to --data-root unless absolute)')
    parser.add_argument(
        '--data-prefix',
        default='',
        help='folder of the images relative to --data-root, e.g. val2017 '
        'or images/val. Defaults to the data root itself')
    parser.add_argument(
        '--out-dir', required=True, help='where to write the report')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=64,
        help='crops (scenes and objects) per forward pass. Defaults to 64')
    parser.add_argument(
        '--img-size',
        type=int,
        default=None,
        help='side of the square every scene and object is resized to. '
        'Defaults to the scene view size of the config if it can be found, '
        f'else {DEFAULT_IMG_SIZE}')
    parser.add_argument(
        '--device',
        default=None,
        help='device, e.g. cpu or cuda:0. Defaults to cuda when available')
    parser.add_argument(
        '--max-images',
        type=int,
        default=None,
        help='use only the first N images of the annotation file')
    parser.add_argument(
        '--min-box-size',
        type=float,
        default=1.0,
        help='ignore boxes whose width or height is below this many pixels. '
        'Defaults to 1')
    parser.add_argument(
        '--knn-k',
        type=int,
        default=1,
        help='neighbours voting in object_knn_top1. Defaults to 1')
    parser.add_argument(
        '--num-workers',
        type=int,
        default=0,
        help='data loading processes. Defaults to 0')
    parser.add_argument(
        '--num-examples',
        type=int,
        default=4,
        help='scenes shown in retrieval_examples.png. Defaults to 4')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'model.hyp_head.embedder.manifold.c=0.1')
    args = parser.parse_args(argv)
    for name in ('batch_size', 'num_examples'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.img_size is not None and args.img_size < 8:
        parser.error('--img-size must be >= 8')
    if args.max_images is not None and args.max_images < 1:
        parser.error('--max-images must be >= 1')
    return args


# ----------------------------------------------------------------- data
def build_dataset(data_root: str,
                  ann_file: str,
                  data_prefix: str = '',
                  img_size: int = DEFAULT_IMG_SIZE,
                  min_box_size: float = 1.0,
                  max_images: Optional[int] = None):
    """The scene and object crops of a COCO-format set, as the Evaluator
    reads them.

    A :class:`~hclmm.datasets.SceneObjectCropDataset` (every image a scene
    sample followed by its boxes; crowd boxes and boxes thinner than
    ``min_box_size`` left out, images without boxes kept as scenes with no
    object) with the pipeline ``LoadSceneImage`` -> ``CropObjectBox`` ->
    square ``Resize`` -> ``PackInputs``.

    Args:
        data_root (str): Root of the data set.
        ann_file (str): COCO json, relative to ``data_root`` unless absolute.
        data_prefix (str): Image folder relative to ``data_root``.
        img_size (int): Side of the square crops. Defaults to 224.
        min_box_size (float): Smallest kept box side in pixels.
            Defaults to 1.
        max_images (int, optional): Keep only the first N images of the
            file (with their objects). Defaults to None (all).

    Returns:
        SceneObjectCropDataset: The dataset.
    """
    from hclmm.datasets import SceneObjectCropDataset
    from hclmm.utils import register_all_modules
    register_all_modules()
    pipeline = [
        dict(type='LoadSceneImage'),
        dict(type='CropObjectBox'),
        dict(type='Resize', scale=(img_size, img_size)),
        dict(type='PackInputs', meta_keys=SceneObjectCropDataset.META_KEYS),
    ]
    dataset = SceneObjectCropDataset(
        data_root=data_root,
        ann_file=ann_file,
        data_prefix=dict(img=data_prefix),
        min_box_size=min_box_size,
        min_boxes=0,
        pipeline=pipeline,
        test_mode=True)
    if max_images is not None:
        # samples are grouped by image: the first N images end where the
        # scene sample of image N starts
        scene_index = [
            dataset.get_data_info(i)['scene_index']
            for i in range(len(dataset))
        ]
        end = int(np.searchsorted(scene_index, max_images, side='left'))
        if end < len(dataset):
            dataset.get_subset_(end)
    return dataset


def load_crop(dataset, index: int) -> np.ndarray:
    """The resized crop of sample ``index`` (BGR), by the dataset's own
    loading, cropping and resizing transforms."""
    results = dataset.get_data_info(index)
    for transform in dataset.pipeline.transforms:
        if type(transform).__name__ == 'PackInputs':
            break
        results = transform(results)
    return results['img']


# ------------------------------------------------------------ embedding
@torch.no_grad()
def embed_dataset(model,
                  dataset,
                  batch_size: int = 64,
                  knn_k: int = 1,
                  num_workers: int = 0,
                  progress: bool = True) -> Dict:
    """Embed every sample with ``model.test_step`` and assemble the
    results as :class:`~hclmm.evaluation.SceneObjectMetric` does.

    Args:
        model (BaseModel): A model whose ``predict`` mode writes
            ``embedding`` and the metainfo ``manifold`` (the HCL algorithms
            and their baseline twins).
        dataset (SceneObjectCropDataset): The crops.
        batch_size (int): Crops per forward pass. Defaults to 64.
        knn_k (int): kNN neighbours of the metric. Defaults to 1.
        num_workers (int): Loader processes. Defaults to 0.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: The output of :meth:`SceneObjectMetric.assemble`.
    """
    from mmengine.dataset import default_collate
    from mmengine.evaluator import Evaluator
    from tqdm import tqdm

    from hclmm.evaluation import SceneObjectMetric
    if not callable(getattr(model, 'test_step', None)) or not callable(
            getattr(model, 'predict', None)):
        raise TypeError(f'{type(model).__name__} has no predict mode; the '
                        'zero-shot tool needs an HCL model (or its baseline '
                        'twin)')
    metric = SceneObjectMetric(knn_k=knn_k)
    evaluator = Evaluator(metric)
    # default_collate stacks the crops as the configs' test loaders do:
    # SelfSupDataPreprocessor reads a list of tensors as a list of views
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=default_collate)
    with tqdm(
            total=len(dataset),
            desc='embedding',
            unit='crop',
            disable=not progress,
            file=sys.stderr) as bar:
        for batch in loader:
            evaluator.process(model.test_step(batch), batch)
            bar.update(len(batch['data_samples']))
    return SceneObjectMetric.assemble(metric.results)


# --------------------------------------------------------------- config
def find_scene_view_size(cfg) -> Optional[int]:
    """Size of the scene view in a config's training pipeline, if present.

    Looks through ``train_dataloader.dataset`` (nested datasets and pipelines
    included) for a transform argument that names a scene size
    (``scene_size``, ...) or a scene view pipeline (``scene_view_pipeline``,
    as :class:`~hclmm.datasets.transforms.SceneObjectViews` has) and returns
    the first resize ``scale``/``size`` found in it.

    Args:
        cfg (Config | dict): The config.

    Returns:
        int | None: The side length, or None when nothing was found.
    """

    def as_int(value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (int, float)) for v in value):
            return int(value[0])
        return None

    def transforms(node):
        if isinstance(node, dict):
            if 'type' in node:
                yield node
            for value in node.values():
                yield from transforms(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                yield from transforms(value)

    dataloader = cfg.get('train_dataloader') or {}
    for t in transforms(dataloader.get('dataset', {})):
        for key, value in t.items():
            if 'scene' not in key:
                continue
            if key.endswith('size') and as_int(value) is not None:
                return as_int(value)
            if isinstance(value, (list, tuple)):
                for inner in transforms(value):
                    for size_key in _SIZE_KEYS:
                        if as_int(inner.get(size_key)) is not None:
                            return as_int(inner[size_key])
    return None


def build_model_from_checkpoint(config: str,
                                checkpoint: str,
                                cfg_options=None,
                                device='cpu'):
    """Build the config's model and load a checkpoint (weights only).

    Returns:
        tuple: The model in eval mode on ``device`` and the config.
    """
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint

    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(cfg.model)
    # mmengine reads the file with torch.load(weights_only=True); importing
    # hclmm allow-lists exactly the extra objects mmengine writes.
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device).eval(), cfg


# ---------------------------------------------------------------- plots
def _disk_plot(emb, norms, out_file, max_scenes=400, max_objects=2000):
    from hclmm.visualization import disk_coordinates, plot_disk_view
    rng = np.random.default_rng(0)
    manifold, owner = emb['manifold'], emb['object_scene']
    num_scenes = emb['scene_points'].shape[0]
    scenes = np.sort(
        rng.choice(num_scenes, min(num_scenes, max_scenes), replace=False))
    objects = np.flatnonzero(np.isin(owner, scenes))
    if len(objects) > max_objects:
        objects = np.sort(rng.choice(objects, max_objects, replace=False))
    points = torch.cat(
        [emb['scene_points'][scenes],
         emb['object_points'][objects]]).numpy()
    radii = np.concatenate(
        [norms['scene'][scenes], norms['object'][objects]])
    # Lorentz points are stored as space components: their direction is the
    # direction of the point seen from the hyperboloid's origin.
    xy = disk_coordinates(points, radii, manifold)
    scene_pos = {s: i for i, s in enumerate(scenes)}
    links = [(scene_pos[owner[o]], j) for j, o in enumerate(objects)
             if owner[o] in scenes[:8]]
    title = (f'{manifold.describe()}: radius = distance to the origin, '
             'direction = PCA of directions')
    if not manifold.hyperbolic:
        title = f'{manifold.describe()}: radius / max radius, direction = PCA'
    plot_disk_view(
        xy[:len(scenes)],
        xy[len(scenes):],
        out_file,
        links=links,
        title=title + '\n(lines: 8 scenes and their objects)',
        boundary_label='boundary (infinitely far)'
        if manifold.hyperbolic else 'max norm')


def _retrieval_plot(emb, dataset, out_file, num_examples, top_k=5):
    from hclmm.evaluation import DEFAULT_RETRIEVAL_SCORE, retrieval_dist
    from hclmm.visualization import plot_retrieval_examples
    owner = emb['object_scene']
    counts = np.bincount(owner, minlength=emb['scene_points'].shape[0])
    candidates = np.flatnonzero(counts > 0)
    if len(candidates) == 0:
        return None
    picks = candidates[np.linspace(
        0, len(candidates) - 1, min(num_examples, len(candidates))).astype(
            int)]
    # ranked as retrieval_map ranks them
    dist = retrieval_dist(emb['scene_points'][picks].double(),
                          emb['object_points'].double(), emb['manifold'],
                          DEFAULT_RETRIEVAL_SCORE).numpy()
    classes = dataset.metainfo.get('classes') or ()
    examples = []
    for row, scene in zip(dist, picks):
        neighbours = []
        for o in np.argsort(row, kind='stable')[:top_k]:
            label = int(emb['object_labels'][o])
            text = classes[label] if label < len(classes) else str(label)
            if emb['object_ooc'][o]:
                text += ' (ooc)'
            neighbours.append(
                dict(
                    image=load_crop(dataset,
                                    emb['object_samples'][o])[..., ::-1],
                    dist=float(row[o]),
                    hit=owner[o] == scene,
                    label=text))
        info = dataset.get_data_info(emb['scene_samples'][scene])
        name = osp.basename(info['img_path'])
        if info.get('scene_type'):
            name += f"\n{info['scene_type']}"
        examples.append(
            dict(
                scene=load_crop(dataset, emb['scene_samples'][scene])[...,
                                                                      ::-1],
                name=name,
                neighbours=neighbours))
    return plot_retrieval_examples(
        examples,
        out_file,
        title=f'nearest objects by {DEFAULT_RETRIEVAL_SCORE} '
        f'({emb["manifold"].describe()}; green: the scene\'s own object, '
        'red: another image\'s)')


def _ooc_diagnostics(emb: Dict, dataset) -> Optional[Dict]:
    """The out-of-context diagnostics (docs/zero_shot.md) when every image
    has a ``scene_type`` and some objects are marked out of context."""
    from hclmm.evaluation import ooc_diagnostics
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    types = [info.get('scene_type') for info in infos if info['is_scene']]
    ooc = emb['object_ooc']
    if not types or any(t is None for t in types) or ooc is None or \
            not 0 < int(np.sum(ooc)) < len(ooc) or \
            emb['scene_feats'] is None:
        return None
    return ooc_diagnostics(emb['object_points'], emb['object_scene'],
                           emb['object_labels'], ooc, emb['scene_feats'],
                           types)


# ----------------------------------------------------------------- main
def run_zero_shot(model,
                  dataset,
                  out_dir: str,
                  batch_size: int = 64,
                  knn_k: int = 1,
                  num_workers: int = 0,
                  num_examples: int = 4,
                  progress: bool = True) -> Dict:
    """Embed, compute the metrics, write ``zero_shot.json`` and the plots.

    Args:
        model (BaseModel): A model with a ``predict`` mode, on its device.
        dataset (SceneObjectCropDataset): See :func:`build_dataset`.
        out_dir (str): Output folder (created).
        batch_size (int): Crops per forward pass. Defaults to 64.
        knn_k (int): kNN neighbours. Defaults to 1.
        num_workers (int): Loader processes. Defaults to 0.
        num_examples (int): Scenes in the retrieval figure. Defaults to 4.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``metrics`` (what was written to json), ``files`` (written
        paths), ``manifold``, ``c`` and ``embeddings`` (the arrays of
        :meth:`~hclmm.evaluation.SceneObjectMetric.assemble`).
    """
    from hclmm.evaluation import (ZERO_SHOT_KEYS, merge_close_values,
                                  zero_shot_metrics)
    from hclmm.visualization import plot_norm_histogram
    os.makedirs(out_dir, exist_ok=True)
    emb = embed_dataset(
        model,
        dataset,
        batch_size=batch_size,
        knn_k=knn_k,
        num_workers=num_workers,
        progress=progress)
    manifold = emb['manifold']
    metrics = zero_shot_metrics(
        emb['scene_points'],
        emb['object_points'],
        emb['object_scene'],
        emb['object_labels'],
        manifold,
        object_ooc=emb['object_ooc'],
        scene_feats=emb['scene_feats'],
        knn_k=knn_k)
    metrics = {key: metrics[key] for key in ZERO_SHOT_KEYS}
    files = dict(json=osp.join(out_dir, 'zero_shot.json'))
    with open(files['json'], 'w') as f:
        json.dump(metrics, f, indent=2)

    norms = {
        kind: manifold.dist0(emb[f'{kind}_points'].double()).numpy()
        for kind in ('scene', 'object')
    }
    xlabel = 'hyperbolic distance to the origin' \
        if manifold.hyperbolic else 'Euclidean norm'
    # norms equal up to float32 noise are drawn (and counted) as equal
    merged = merge_close_values(
        np.concatenate([norms['scene'], norms['object']]))
    files['norm_hist'] = plot_norm_histogram(
        merged[:len(norms['scene'])],
        merged[len(norms['scene']):],
        osp.join(out_dir, 'norm_hist.png'),
        xlabel=xlabel,
        title=f'norms of scenes and objects, {manifold.describe()}')
    files['poincare_disk'] = osp.join(out_dir, 'poincare_disk.png')
    _disk_plot(emb, norms, files['poincare_disk'])
    examples = _retrieval_plot(emb, dataset,
                               osp.join(out_dir, 'retrieval_examples.png'),
                               num_examples)
    if examples:
        files['retrieval_examples'] = examples
    diagnostics = _ooc_diagnostics(emb, dataset)
    if diagnostics is not None:
        files['ooc_diagnostics'] = osp.join(out_dir, 'ooc_diagnostics.json')
        with open(files['ooc_diagnostics'], 'w') as f:
            json.dump(diagnostics, f, indent=2)
    return dict(
        metrics=metrics,
        files=files,
        manifold=manifold,
        c=manifold.c_value(),
        embeddings=emb)


def _summary(result: Dict, img_size: int) -> str:
    lines = [
        f'zero-shot report ({result["manifold"].describe()}, crops '
        f'{img_size}x{img_size}):'
    ]

    def text(value):
        return 'null' if value is None else (
            f'{value:.4f}' if isinstance(value, float) else str(value))

    for key, value in result['metrics'].items():
        if isinstance(value, dict):
            lines.append(f'  {key}:')
            lines += [f'    {k:<24} {text(v)}' for k, v in value.items()]
        else:
            lines.append(f'  {key:<26} {text(value)}')
    lines.append('written:')
    lines += [f'  {path}' for path in result['files'].values()]
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    import matplotlib
    matplotlib.use('Agg')
    model, cfg = build_model_from_checkpoint(args.config, args.checkpoint,
                                             args.cfg_options, args.device)
    img_size = args.img_size or find_scene_view_size(cfg) or DEFAULT_IMG_SIZE
    dataset = build_dataset(
        args.data_root,
        args.ann_file,
        args.data_prefix,
        img_size=img_size,
        min_box_size=args.min_box_size,
        max_images=args.max_images)
    num_scenes = sum(
        dataset.get_data_info(i)['is_scene'] for i in range(len(dataset)))
    print(f'{num_scenes} images and {len(dataset) - num_scenes} objects '
          f'from {dataset.ann_file}', flush=True)
    result = run_zero_shot(
        model,
        dataset,
        args.out_dir,
        batch_size=args.batch_size,
        knn_k=args.knn_k,
        num_workers=args.num_workers,
        num_examples=args.num_examples)
    print(_summary(result, img_size), flush=True)
    return result


if __name__ == '__main__':
    main()
