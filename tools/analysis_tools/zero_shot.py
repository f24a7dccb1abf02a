"""Zero-shot scene-object report of a checkpoint on a COCO-format set.

Every image is embedded whole (the *scene*) and every box is embedded as a
crop (an *object*), both resized to ``--img-size`` squares and normalised by
the model's own data preprocessor. The model's ``embed_for_zero_shot`` says
which geometry the points live in (Poincare ball, Lorentz hyperboloid or
Euclidean for a baseline) and its curvature; all norms and distances use it.

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
import math
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import DictAction

__all__ = [
    'parse_args', 'load_coco_scene_objects', 'SceneObjectCrops',
    'embed_scene_objects', 'find_scene_view_size', 'run_zero_shot', 'main'
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
        'model.hyp_head.curvature=0.1')
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
def load_coco_scene_objects(ann_file: str,
                            max_images: Optional[int] = None,
                            min_box_size: float = 1.0) -> Dict:
    """Read the images and boxes of a COCO-format annotation file.

    Crowd boxes (``iscrowd=1``) and boxes thinner than ``min_box_size`` are
    ignored. Images without boxes stay (as scenes with no object). Objects are
    ordered by image, then by their order in the file.

    Args:
        ann_file (str): Path of the json file.
        max_images (int, optional): Keep only the first N images.
            Defaults to None (all).
        min_box_size (float): Smallest box side kept, in pixels.
            Defaults to 1.

    Returns:
        dict: ``images`` (list of dicts with ``file_name`` and optional
        ``scene_type``), ``object_scene`` (M image indices), ``object_bbox``
        (M x 4, x y w h), ``object_label`` (M category ids), ``object_ooc``
        (M 0/1 flags, or None when the file has no ``out_of_context`` key)
        and ``categories`` (id -> name).
    """
    with open(ann_file) as f:
        coco = json.load(f)
    for key in ('images', 'annotations'):
        if key not in coco:
            raise ValueError(f'{ann_file} is not a COCO-format file: it has '
                             f'no "{key}" list')
    images = coco['images'][:max_images] if max_images else coco['images']
    index_of = {img['id']: i for i, img in enumerate(images)}
    per_image: List[List[dict]] = [[] for _ in images]
    has_ooc = False
    for ann in coco['annotations']:
        has_ooc = has_ooc or 'out_of_context' in ann
        i = index_of.get(ann['image_id'])
        if i is None or ann.get('iscrowd', 0):
            continue
        w, h = ann['bbox'][2:]
        if w < min_box_size or h < min_box_size:
            continue
        per_image[i].append(ann)
    anns = [a for group in per_image for a in group]
    return dict(
        images=images,
        object_scene=np.array(
            [i for i, group in enumerate(per_image) for _ in group],
            dtype=np.int64),
        object_bbox=np.array([a['bbox'] for a in anns],
                             dtype=np.float64).reshape(-1, 4),
        object_label=np.array([a['category_id'] for a in anns],
                              dtype=np.int64),
        object_ooc=np.array([int(a.get('out_of_context', 0)) for a in anns],
                            dtype=np.int64) if has_ooc else None,
        categories={
            c['id']: c.get('name', str(c['id']))
            for c in coco.get('categories', [])
        })


def _read_image(path: str) -> np.ndarray:
    import mmcv
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'image {path} not found; check --data-root and --data-prefix')
    img = mmcv.imread(path, 'color')  # BGR, as mmpretrain's loaders
    if img is None:
        raise ValueError(f'could not decode image {path}')
    return img


def _crop(img: np.ndarray, bbox) -> np.ndarray:
    height, width = img.shape[:2]
    x, y, w, h = bbox
    x1 = int(np.clip(math.floor(x), 0, width - 1))
    y1 = int(np.clip(math.floor(y), 0, height - 1))
    x2 = int(np.clip(math.ceil(x + w), x1 + 1, width))
    y2 = int(np.clip(math.ceil(y + h), y1 + 1, height))
    return img[y1:y2, x1:x2]


class SceneObjectCrops(torch.utils.data.Dataset):
    """One item per image: the resized scene and its resized box crops.

    Args:
        data (dict): The output of :func:`load_coco_scene_objects`.
        img_dir (str): Folder that the images' ``file_name`` is relative to.
        img_size (int): Side of the square crops.
    """

    def __init__(self, data: Dict, img_dir: str, img_size: int) -> None:
        self.data = data
        self.img_dir = img_dir
        self.img_size = img_size
        scene = data['object_scene']
        self.first = np.searchsorted(scene, np.arange(len(data['images'])))
        self.last = np.searchsorted(
            scene, np.arange(len(data['images'])), side='right')

    def __len__(self) -> int:
        return len(self.data['images'])

    def image_path(self, index: int) -> str:
        return osp.join(self.img_dir, self.data['images'][index]['file_name'])

    def resize(self, img: np.ndarray) -> np.ndarray:
        import mmcv
        return mmcv.imresize(img, (self.img_size, self.img_size))

    def __getitem__(self, index: int) -> Dict:
        img = _read_image(self.image_path(index))
        crops = [self.resize(img)] + [
            self.resize(_crop(img, box)) for box in self.data['object_bbox']
            [self.first[index]:self.last[index]]
        ]
        stack = np.stack(crops).transpose(0, 3, 1, 2)  # K x 3 x S x S
        return dict(index=index, crops=torch.from_numpy(stack.copy()))


# ------------------------------------------------------------ embedding
@torch.no_grad()
def _embed_batch(model, crops: torch.Tensor, device) -> Dict:
    data = model.data_preprocessor(
        dict(inputs=crops.to(device), data_samples=None), False)
    out = model.embed_for_zero_shot(data['inputs'])
    return dict(
        points=out['points'].detach().float().cpu(),
        manifold=out['manifold'].cpu())


@torch.no_grad()
def embed_scene_objects(model,
                        dataset: SceneObjectCrops,
                        batch_size: int = 64,
                        device='cpu',
                        num_workers: int = 0,
                        progress: bool = True) -> Dict:
    """Embed every scene and object of ``dataset`` with ``model``.

    Args:
        model (nn.Module): A model with ``data_preprocessor`` and
            ``embed_for_zero_shot``.
        dataset (SceneObjectCrops): The crops.
        batch_size (int): Crops per forward pass. Defaults to 64.
        device: Device of the model. Defaults to 'cpu'.
        num_workers (int): Data loading processes. Defaults to 0.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``scene_points`` (N x D), ``object_points`` (M x D), both
        float32 on the CPU, ``manifold`` and ``c``.
    """
    from tqdm import tqdm
    if not hasattr(model, 'embed_for_zero_shot'):
        raise TypeError(f'{type(model).__name__} has no embed_for_zero_shot; '
                        'the zero-shot tool needs an HCL model (or its '
                        'baseline twin)')
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=None, shuffle=False, num_workers=num_workers)
    scenes, objects = [], []
    pending, pending_is_scene = [], []
    geometry = {}

    def flush():
        crops = torch.cat(pending)
        is_scene = torch.cat(pending_is_scene)
        for start in range(0, crops.shape[0], batch_size):
            out = _embed_batch(model, crops[start:start + batch_size], device)
            key = (out['manifold'].name, out['manifold'].c_value())
            geometry.setdefault('key', key)
            geometry.setdefault('manifold', out['manifold'])
            if geometry['key'] != key:
                raise RuntimeError(f'the model changed geometry between '
                                   f'batches: {geometry["key"]} vs {key}')
            flags = is_scene[start:start + batch_size]
            scenes.append(out['points'][flags])
            objects.append(out['points'][~flags])
        pending.clear()
        pending_is_scene.clear()

    num_pending = 0
    bar = tqdm(
        total=len(dataset),
        desc='embedding',
        unit='img',
        disable=not progress,
        file=sys.stderr)
    for item in loader:
        crops = item['crops']
        flags = torch.zeros(crops.shape[0], dtype=torch.bool)
        flags[0] = True
        pending.append(crops)
        pending_is_scene.append(flags)
        num_pending += crops.shape[0]
        if num_pending >= batch_size:
            flush()
            num_pending = 0
        bar.update(1)
    if pending:
        flush()
    bar.close()
    if not scenes:
        raise ValueError('the annotation file holds no image')
    return dict(
        scene_points=torch.cat(scenes),
        object_points=torch.cat(objects),
        manifold=geometry['manifold'],
        c=geometry['key'][1])


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
def _disk_plot(emb, data, norms, out_file, max_scenes=400, max_objects=2000):
    from hclmm.visualization import disk_coordinates, plot_disk_view
    rng = np.random.default_rng(0)
    num_scenes = emb['scene_points'].shape[0]
    scenes = np.sort(
        rng.choice(num_scenes, min(num_scenes, max_scenes), replace=False))
    objects = np.flatnonzero(np.isin(data['object_scene'], scenes))
    if len(objects) > max_objects:
        objects = np.sort(rng.choice(objects, max_objects, replace=False))
    points = torch.cat(
        [emb['scene_points'][scenes],
         emb['object_points'][objects]]).numpy()
    radii = np.concatenate(
        [norms['scene'][scenes], norms['object'][objects]])
    # Lorentz points are stored as space components: their direction is the
    # direction of the point seen from the hyperboloid's origin.
    xy = disk_coordinates(points, radii, emb['manifold'])
    scene_pos = {s: i for i, s in enumerate(scenes)}
    links = [(scene_pos[data['object_scene'][o]], j)
             for j, o in enumerate(objects)
             if data['object_scene'][o] in scenes[:8]]
    geometry = _geometry_text(emb)
    title = (f'{geometry}: radius = distance to the origin, '
             'direction = PCA of directions')
    if not emb['manifold'].hyperbolic:
        title = f'{geometry}: radius / max radius, direction = PCA'
    plot_disk_view(
        xy[:len(scenes)],
        xy[len(scenes):],
        out_file,
        links=links,
        title=title + '\n(lines: 8 scenes and their objects)',
        boundary_label='boundary (infinitely far)'
        if emb['manifold'].hyperbolic else 'max norm')


def _geometry_text(emb) -> str:
    return emb['manifold'].describe()


def _retrieval_plot(emb, data, dataset, out_file, num_examples, top_k=5):
    from hclmm.evaluation import embedding_pairwise_dist
    from hclmm.visualization import plot_retrieval_examples
    counts = np.bincount(
        data['object_scene'], minlength=len(data['images']))
    candidates = np.flatnonzero(counts > 0)
    if len(candidates) == 0 or emb['object_points'].shape[0] == 0:
        return None
    picks = candidates[np.linspace(
        0, len(candidates) - 1, min(num_examples, len(candidates))).astype(
            int)]
    dist = embedding_pairwise_dist(emb['scene_points'][picks].double(),
                                   emb['object_points'].double(),
                                   emb['manifold'], emb['c']).numpy()
    examples, cache = [], {}

    def load(i):
        if i not in cache:
            cache[i] = _read_image(dataset.image_path(i))
        return cache[i]

    for row, scene in zip(dist, picks):
        order = np.argsort(row, kind='stable')[:top_k]
        neighbours = []
        for o in order:
            owner = int(data['object_scene'][o])
            crop = dataset.resize(_crop(load(owner), data['object_bbox'][o]))
            label = data['categories'].get(
                int(data['object_label'][o]), str(data['object_label'][o]))
            if data['object_ooc'] is not None and data['object_ooc'][o]:
                label += ' (ooc)'
            neighbours.append(
                dict(
                    image=crop[..., ::-1],
                    dist=float(row[o]),
                    hit=owner == scene,
                    label=label))
        info = data['images'][scene]
        name = osp.basename(info['file_name'])
        if info.get('scene_type'):
            name += f"\n{info['scene_type']}"
        examples.append(
            dict(
                scene=dataset.resize(load(scene))[..., ::-1],
                name=name,
                neighbours=neighbours))
    return plot_retrieval_examples(
        examples,
        out_file,
        title=f'nearest objects by {_geometry_text(emb)} distance '
        '(green: the scene\'s own object, red: another image\'s)')


# ----------------------------------------------------------------- main
def run_zero_shot(model,
                  data: Dict,
                  img_dir: str,
                  out_dir: str,
                  img_size: int = DEFAULT_IMG_SIZE,
                  batch_size: int = 64,
                  device='cpu',
                  knn_k: int = 1,
                  num_workers: int = 0,
                  num_examples: int = 4,
                  progress: bool = True) -> Dict:
    """Embed, compute the metrics, write ``zero_shot.json`` and the plots.

    Args:
        model (nn.Module): A model with ``embed_for_zero_shot``.
        data (dict): The output of :func:`load_coco_scene_objects`.
        img_dir (str): Folder of the images.
        out_dir (str): Output folder (created).
        img_size (int): Crop side. Defaults to 224.
        batch_size (int): Crops per forward pass. Defaults to 64.
        device: Model device. Defaults to 'cpu'.
        knn_k (int): kNN neighbours. Defaults to 1.
        num_workers (int): Loader processes. Defaults to 0.
        num_examples (int): Scenes in the retrieval figure. Defaults to 4.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``metrics`` (what was written to json), ``files`` (written
        paths), ``manifold`` and ``c``.
    """
    from hclmm.evaluation import (ZERO_SHOT_KEYS, embedding_norm,
                                  merge_close_values, zero_shot_metrics)
    from hclmm.visualization import plot_norm_histogram
    os.makedirs(out_dir, exist_ok=True)
    dataset = SceneObjectCrops(data, img_dir, img_size)
    emb = embed_scene_objects(
        model,
        dataset,
        batch_size=batch_size,
        device=device,
        num_workers=num_workers,
        progress=progress)
    metrics = zero_shot_metrics(
        emb['scene_points'],
        emb['object_points'],
        data['object_scene'],
        data['object_label'],
        emb['manifold'],
        emb['c'],
        object_ooc=data['object_ooc'],
        knn_k=knn_k)
    metrics = {key: metrics[key] for key in ZERO_SHOT_KEYS}
    files = dict(json=osp.join(out_dir, 'zero_shot.json'))
    with open(files['json'], 'w') as f:
        json.dump(metrics, f, indent=2)

    norms = dict(
        scene=embedding_norm(emb['scene_points'].double(), emb['manifold'],
                             emb['c']).numpy(),
        object=embedding_norm(emb['object_points'].double(), emb['manifold'],
                              emb['c']).numpy())
    xlabel = 'hyperbolic distance to the origin' \
        if emb['manifold'].hyperbolic else 'Euclidean norm'
    # norms equal up to float32 noise are drawn (and counted) as equal
    merged = merge_close_values(
        np.concatenate([norms['scene'], norms['object']]))
    files['norm_hist'] = plot_norm_histogram(
        merged[:len(norms['scene'])],
        merged[len(norms['scene']):],
        osp.join(out_dir, 'norm_hist.png'),
        xlabel=xlabel,
        title=f'norms of scenes and objects, {_geometry_text(emb)}')
    files['poincare_disk'] = osp.join(out_dir, 'poincare_disk.png')
    _disk_plot(emb, data, norms, files['poincare_disk'])
    examples = _retrieval_plot(emb, data, dataset,
                               osp.join(out_dir, 'retrieval_examples.png'),
                               num_examples)
    if examples:
        files['retrieval_examples'] = examples
    return dict(
        metrics=metrics,
        files=files,
        manifold=emb['manifold'],
        c=emb['c'])


def _summary(result: Dict, img_size: int) -> str:
    lines = [
        f'zero-shot report ({_geometry_text(result)}, crops '
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
    ann_file = args.ann_file if osp.isabs(args.ann_file) else osp.join(
        args.data_root, args.ann_file)
    data = load_coco_scene_objects(ann_file, args.max_images,
                                   args.min_box_size)
    print(f'{len(data["images"])} images and {len(data["object_label"])} '
          f'objects from {ann_file}', flush=True)
    result = run_zero_shot(
        model,
        data,
        osp.join(args.data_root, args.data_prefix),
        args.out_dir,
        img_size=img_size,
        batch_size=args.batch_size,
        device=args.device,
        knn_k=args.knn_k,
        num_workers=args.num_workers,
        num_examples=args.num_examples)
    print(_summary(result, img_size), flush=True)
    return result


if __name__ == '__main__':
    main()
