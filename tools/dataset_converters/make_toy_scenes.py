"""Generate the toy scene-object dataset (hclmm's embedded default data).

Every image is a small synthetic *scene* of one of four scene types. The type
decides the textured background and which object classes may appear in it;
objects are coloured geometric shapes. The validation split additionally
contains *out-of-context* objects: objects whose class does not belong to the
image's scene type, marked ``"out_of_context": 1`` in their annotation.

Output layout (``DIR`` is ``--out``)::

    DIR/annotations/{train,val}.json   COCO instances (polygons, per-image
                                       ``scene_type``/``scene_type_id``)
    DIR/images/{train,val}/*.png       RGB scenes (``--img-format jpg``
                                       for JPEG files)
    DIR/semantic/{train,val}/*.png     uint8 label maps: 0 = background,
                                       class index + 1 on object pixels
                                       (255 is never written; it is free to
                                       be used as the ignore index)
    DIR/meta.json                      classes, scene types, conventions

``--num-pool N`` also writes an unlabelled *pool* of N training scenes
(``annotations/pool.json``, ``images/pool/``; same distribution, its own
random stream, no out-of-context objects) for self-supervised pretraining on
more scenes than are labelled: the pretraining reads its boxes, never its
categories. ``--pool-only`` writes the pool next to existing splits without
touching them.

Only numpy, Pillow and the standard library are used, so generating the
default 800 + 200 images takes seconds. The output is byte-identical for a
given seed and set of arguments.

Example::

    python tools/dataset_converters/make_toy_scenes.py --out data/toy_scenes \
        --preview docs/img/toy_scenes.png
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time

import numpy as np
from PIL import Image, ImageDraw

__all__ = ['CLASSES', 'SCENE_TYPES', 'generate_split', 'make_toy_scenes',
           'add_pool_arguments', 'check_pool_arguments', 'main']

# name, shape, fill colour (RGB)
CLASSES = (
    ('red_circle', 'circle', (220, 40, 40)),
    ('yellow_star', 'star', (245, 210, 30)),
    ('blue_square', 'square', (40, 70, 220)),
    ('green_triangle', 'triangle', (30, 160, 60)),
    ('purple_hexagon', 'hexagon', (150, 50, 190)),
    ('orange_diamond', 'diamond', (250, 130, 20)),
    ('white_cross', 'cross', (245, 245, 245)),
    ('black_pentagon', 'pentagon', (25, 25, 25)),
    ('cyan_ellipse', 'ellipse', (40, 220, 230)),
    ('brown_trapezoid', 'trapezoid', (120, 70, 30)),
)

# name, background texture, base colour, class names that belong to it
SCENE_TYPES = (
    ('meadow', 'grass', (70, 150, 60),
     ('red_circle', 'yellow_star', 'purple_hexagon', 'brown_trapezoid')),
    ('desert', 'dunes', (215, 185, 120),
     ('green_triangle', 'black_pentagon', 'brown_trapezoid', 'blue_square')),
    ('ocean', 'waves', (40, 90, 170),
     ('white_cross', 'orange_diamond', 'yellow_star', 'red_circle')),
    ('city', 'bricks', (130, 130, 135),
     ('blue_square', 'cyan_ellipse', 'orange_diamond', 'white_cross')),
)

SPLIT_SEED_OFFSET = {'train': 0, 'val': 1, 'pool': 3}


def _unit_shape(shape):
    """Polygon vertices of a shape inside the unit box [-1, 1]^2."""
    if shape in ('circle', 'ellipse'):
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        ry = 1.0 if shape == 'circle' else 0.55
        return np.stack([np.cos(t), ry * np.sin(t)], axis=1)
    if shape == 'square':
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
    if shape == 'triangle':
        return np.array([[0, -1], [1, 1], [-1, 1]], dtype=float)
    if shape == 'diamond':
        return np.array([[0, -1], [0.7, 0], [0, 1], [-0.7, 0]], dtype=float)
    if shape in ('hexagon', 'pentagon'):
        n = 6 if shape == 'hexagon' else 5
        t = np.arange(n) * 2 * np.pi / n - np.pi / 2
        return np.stack([np.cos(t), np.sin(t)], axis=1)
    if shape == 'star':
        t = np.arange(10) * np.pi / 5 - np.pi / 2
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.42)
        return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    if shape == 'cross':
        a = 0.33
        return np.array([[-a, -1], [a, -1], [a, -a], [1, -a], [1, a], [a, a],
                         [a, 1], [-a, 1], [-a, a], [-1, a], [-1, -a],
                         [-a, -a]], dtype=float)
    if shape == 'trapezoid':
        return np.array([[-0.5, -0.7], [0.5, -0.7], [1, 0.7], [-1, 0.7]],
                        dtype=float)
    raise ValueError(f'unknown shape {shape!r}')


def _background(rng, texture, base, size):
    """A textured background of ``size`` x ``size`` pixels (uint8 RGB)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    base = np.asarray(base, np.float32) + rng.uniform(-15, 15, 3)
    phase = rng.uniform(0, 2 * np.pi)
    if texture == 'grass':
        freq = rng.uniform(0.6, 1.0)
        pattern = 18 * np.sin(xx * freq + 3 * np.sin(yy * 0.15 + phase))
    elif texture == 'dunes':
        freq = rng.uniform(0.06, 0.1)
        pattern = 22 * np.sin(yy * freq + 6 * np.sin(xx * 0.03 + phase))
    elif texture == 'waves':
        freq = rng.uniform(0.25, 0.35)
        pattern = 25 * np.sin(xx * 0.12 + yy * freq + phase) * \
            np.cos(yy * 0.05)
    elif texture == 'bricks':
        step = int(rng.integers(14, 20))
        row = (yy // (step // 2)).astype(int)
        shift = (row % 2) * (step // 2)
        mortar = ((yy % (step // 2)) < 2) | (((xx + shift) % step) < 2)
        pattern = np.where(mortar, 45.0, -8.0)
    else:
        raise ValueError(f'unknown texture {texture!r}')
    noise = rng.normal(0, 6, (size, size, 1)).astype(np.float32)
    img = base[None, None, :] + pattern[..., None] + noise
    return np.clip(img, 0, 255).astype(np.uint8)


def _polygon(rng, shape, side, aspect):
    """A randomly rotated shape whose bounding box has longer side ``side``
    and whose top-left corner is at the origin."""
    pts = _unit_shape(shape) * np.array([aspect, 1.0 / aspect])
    angle = rng.uniform(-np.pi / 6, np.pi / 6)
    rot = np.array([[np.cos(angle), -np.sin(angle)],
                    [np.sin(angle), np.cos(angle)]])
    pts = pts @ rot.T
    pts -= pts.min(axis=0)
    return pts * (side / pts.max())


def _polygon_area(pts):
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) -
                           np.dot(y, np.roll(x, -1))))


def _overlap(a, b):
    """Intersection over the smaller box's area (catches nesting too)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(smaller, 1e-6)


def _make_scene(rng, img_size, scene_idx, num_objects, ooc_prob, min_obj,
                max_obj):
    """Draw one scene; returns (rgb, semantic, objects)."""
    name, texture, base, members = SCENE_TYPES[scene_idx]
    class_names = [c[0] for c in CLASSES]
    in_ctx = [class_names.index(n) for n in members]
    out_ctx = [i for i in range(len(CLASSES)) if i not in in_ctx]

    img = Image.fromarray(_background(rng, texture, base, img_size))
    sem = Image.new('L', (img_size, img_size), 0)
    draw, sem_draw = ImageDraw.Draw(img), ImageDraw.Draw(sem)
    objects, boxes = [], []
    for _ in range(num_objects):
        ooc = ooc_prob > 0 and rng.random() < ooc_prob
        cls = int(rng.choice(out_ctx if ooc else in_ctx))
        _, shape, colour = CLASSES[cls]
        for _attempt in range(100):
            side = rng.uniform(min_obj, max_obj)
            pts = _polygon(rng, shape, side, rng.uniform(0.8, 1.25))
            ext_w, ext_h = pts.max(axis=0)
            pts += (rng.uniform(0, img_size - ext_w),
                    rng.uniform(0, img_size - ext_h))
            box = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(),
                   pts[:, 1].max())
            if all(_overlap(box, b) < 0.2 for b in boxes):
                break
        else:
            continue  # no free spot for this object
        shade = rng.uniform(0.8, 1.1)
        fill = tuple(int(min(255, c * shade)) for c in colour)
        outline = tuple(int(c * 0.5) for c in fill)
        flat = [(float(x), float(y)) for x, y in pts]
        draw.polygon(flat, fill=fill, outline=outline)
        sem_draw.polygon(flat, fill=cls + 1)
        boxes.append(box)
        objects.append(dict(cls=cls, pts=pts, box=box, ooc=int(ooc)))
    return np.asarray(img), np.asarray(sem), objects


def generate_split(out_dir, split, num_images, seed=0, img_size=128,
                   min_objects=2, max_objects=6, ooc_prob=0.0,
                   min_obj_size=16, max_obj_size=56, img_format='png',
                   progress=False):
    """Generate one split and write its images, label maps and json.

    Args:
        out_dir (str): Root of the dataset.
        split (str): Split name, e.g. ``'train'``.
        num_images (int): Number of images.
        seed (int): Base random seed. Defaults to 0.
        img_size (int): Side length of the square images. Defaults to 128.
        min_objects (int): Fewest objects drawn per image. Defaults to 2.
        max_objects (int): Most objects drawn per image. Defaults to 6.
        ooc_prob (float): Chance that an object is out of context.
            Defaults to 0.0.
        min_obj_size (float): Smallest object side in pixels. Defaults to 16.
        max_obj_size (float): Largest object side in pixels. Defaults to 56.
        img_format (str): ``'png'`` or ``'jpg'`` (quality 90) for the RGB
            images; label maps are always png. Defaults to ``'png'``.
        progress (bool): Show mmengine's progress bar over the images (on
            stderr).
            Defaults to False.

    Returns:
        dict: The COCO instances dict that was written.
    """
    rng = np.random.default_rng([seed, SPLIT_SEED_OFFSET.get(split, 2)])
    img_dir = osp.join(out_dir, 'images', split)
    sem_dir = osp.join(out_dir, 'semantic', split)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(sem_dir, exist_ok=True)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)

    images, annotations = [], []
    ann_id = 1
    indices = range(num_images)
    if progress:
        from mmengine.utils import track_iter_progress
        print(f'{split}: {num_images} images', file=sys.stderr, flush=True)
        indices = track_iter_progress(indices, file=sys.stderr)
    for i in indices:
        scene_idx = int(rng.integers(len(SCENE_TYPES)))
        n = int(rng.integers(min_objects, max_objects + 1))
        rgb, sem, objects = _make_scene(rng, img_size, scene_idx, n, ooc_prob,
                                        min_obj_size, max_obj_size)
        file_name = f'{split}_{i:06d}.{img_format}'
        if img_format == 'jpg':
            Image.fromarray(rgb).save(
                osp.join(img_dir, file_name), quality=90)
        else:
            Image.fromarray(rgb).save(osp.join(img_dir, file_name))
        Image.fromarray(sem).save(osp.join(sem_dir, f'{split}_{i:06d}.png'))
        img_id = i + 1
        images.append(
            dict(
                id=img_id,
                file_name=file_name,
                width=img_size,
                height=img_size,
                scene_type=SCENE_TYPES[scene_idx][0],
                scene_type_id=scene_idx))
        for obj in objects:
            x1, y1, x2, y2 = (round(float(v), 2) for v in obj['box'])
            seg = [round(float(v), 2) for v in obj['pts'].reshape(-1)]
            annotations.append(
                dict(
                    id=ann_id,
                    image_id=img_id,
                    category_id=obj['cls'] + 1,
                    bbox=[x1, y1, round(x2 - x1, 2),
                          round(y2 - y1, 2)],
                    area=round(_polygon_area(obj['pts']), 2),
                    segmentation=[seg],
                    iscrowd=0,
                    out_of_context=obj['ooc']))
            ann_id += 1

    coco = dict(
        info=dict(
            description='hclmm toy scenes', version='1.0',
            year=2024, contributor='hclmm make_toy_scenes.py'),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=[
            dict(id=k + 1, name=c[0], supercategory=c[1])
            for k, c in enumerate(CLASSES)
        ],
        scene_types=[
            dict(id=k, name=s[0], classes=list(s[3]))
            for k, s in enumerate(SCENE_TYPES)
        ])
    with open(osp.join(out_dir, 'annotations', f'{split}.json'), 'w') as f:
        json.dump(coco, f, indent=None, separators=(',', ':'))
    return coco


def draw_preview(out_dir, split, path, num=8, cols=4, scale=2):
    """Save a grid of scenes with their boxes drawn.

    In-context boxes are drawn in yellow, out-of-context ones in red.

    Args:
        out_dir (str): Root of a generated dataset.
        split (str): Which split to show.
        path (str): Output png path.
        num (int): Number of scenes. Defaults to 8.
        cols (int): Scenes per row. Defaults to 4.
        scale (int): Upscaling factor. Defaults to 2.
    """
    with open(osp.join(out_dir, 'annotations', f'{split}.json')) as f:
        coco = json.load(f)
    cats = {c['id']: c['name'] for c in coco['categories']}
    anns = {}
    for ann in coco['annotations']:
        anns.setdefault(ann['image_id'], []).append(ann)
    # prefer scenes that show an out-of-context object
    imgs = sorted(
        coco['images'],
        key=lambda im: -max([a.get('out_of_context', 0)
                             for a in anns.get(im['id'], [])] + [0]))
    imgs = sorted(imgs[:num], key=lambda im: im['id'])
    tiles = []
    for im in imgs:
        tile = Image.open(osp.join(out_dir, 'images', split,
                                   im['file_name'])).convert('RGB')
        tile = tile.resize((tile.width * scale, tile.height * scale),
                           Image.NEAREST)
        draw = ImageDraw.Draw(tile)
        for ann in anns.get(im['id'], []):
            x, y, w, h = (v * scale for v in ann['bbox'])
            colour = (255, 0, 0) if ann.get('out_of_context') else \
                (255, 255, 0)
            draw.rectangle([x, y, x + w, y + h], outline=colour, width=2)
            draw.text((x + 2, y + 1), cats[ann['category_id']], fill=colour)
        framed = Image.new('RGB', (tile.width, tile.height + 14), (0, 0, 0))
        framed.paste(tile, (0, 0))
        ImageDraw.Draw(framed).text(
            (3, tile.height + 1),
            f"{im['file_name']}  scene: {im['scene_type']}",
            fill=(255, 255, 255))
        tiles.append(framed)
    rows = math.ceil(len(tiles) / cols)
    w, h = tiles[0].size
    pad = 4
    grid = Image.new('RGB', (cols * (w + pad) + pad, rows * (h + pad) + pad),
                     (255, 255, 255))
    for k, tile in enumerate(tiles):
        grid.paste(tile, (pad + (k % cols) * (w + pad),
                          pad + (k // cols) * (h + pad)))
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    grid.save(path)


def make_toy_scenes(out_dir, num_train=800, num_val=200, seed=0,
                    img_size=128, min_objects=2, max_objects=6,
                    ooc_ratio=0.15, img_format='png', verbose=False,
                    num_pool=0, pool_only=False):
    """Generate the train and val splits plus ``meta.json``.

    Args:
        out_dir (str): Output root.
        num_train (int): Training images. Defaults to 800.
        num_val (int): Validation images. Defaults to 200.
        seed (int): Random seed. Defaults to 0.
        img_size (int): Image side in pixels. Defaults to 128.
        min_objects (int): Fewest objects per image. Defaults to 2.
        max_objects (int): Most objects per image. Defaults to 6.
        ooc_ratio (float): Fraction of val objects pasted out of context.
            Defaults to 0.15.
        img_format (str): ``'png'`` or ``'jpg'``. Defaults to ``'png'``.
        verbose (bool): Print progress. Defaults to False.
        num_pool (int): Scenes of the unlabelled pretraining pool (split
            ``pool``). Defaults to 0 (none).
        pool_only (bool): Write only the pool, leaving the other splits and
            ``meta.json`` as they are. Defaults to False.

    Returns:
        dict: Summary with per-split image and object counts.
    """
    if img_size < 64:
        raise ValueError(f'--img-size must be at least 64, got {img_size}')
    if img_format not in ('png', 'jpg'):
        raise ValueError(f'--img-format must be png or jpg, got {img_format}')
    if not 1 <= min_objects <= max_objects:
        raise ValueError('need 1 <= min_objects <= max_objects, got '
                         f'{min_objects} and {max_objects}')
    # objects scale with the image: 16-56 px at the default 128 px
    min_obj, max_obj = img_size / 8, img_size * 7 / 16
    if pool_only and num_pool < 1:
        raise ValueError('--pool-only needs --num-pool N with N >= 1')
    splits = [] if pool_only else [('train', num_train, 0.0),
                                   ('val', num_val, ooc_ratio)]
    if num_pool:
        splits.append(('pool', num_pool, 0.0))
    summary = {}
    for split, num, ooc in splits:
        coco = generate_split(
            out_dir, split, num, seed=seed, img_size=img_size,
            min_objects=min_objects, max_objects=max_objects, ooc_prob=ooc,
            min_obj_size=min_obj, max_obj_size=max_obj,
            img_format=img_format, progress=verbose)
        summary[split] = dict(
            images=len(coco['images']),
            objects=len(coco['annotations']),
            out_of_context=sum(a['out_of_context']
                               for a in coco['annotations']))
    if pool_only:
        return summary
    meta = dict(
        classes=[c[0] for c in CLASSES],
        categories=[
            dict(id=k + 1, label=k, name=c[0], shape=c[1], rgb=list(c[2]))
            for k, c in enumerate(CLASSES)
        ],
        scene_types=[
            dict(id=k, name=s[0], background=s[1], classes=list(s[3]))
            for k, s in enumerate(SCENE_TYPES)
        ],
        semantic_labels=dict(
            background=0,
            objects='class index + 1 (category_id)',
            ignore_index=255,
            note='255 is never written by the generator'),
        image_size=img_size,
        seed=seed,
        splits=summary)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return summary


def add_pool_arguments(parser):
    """``--num-pool`` and ``--pool-only``, shared with the patch scenes."""
    parser.add_argument(
        '--num-pool', type=int, default=0,
        help='also write an unlabelled pool of this many training scenes '
        '(split "pool") for self-supervised pretraining')
    parser.add_argument(
        '--pool-only', action='store_true',
        help='write only the pool, leaving existing splits untouched')


def check_pool_arguments(parser, args):
    if args.pool_only and args.num_pool < 1:
        parser.error('--pool-only needs --num-pool N with N >= 1')
    return args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the toy scene-object dataset (COCO format).')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--num-train', type=int, default=800)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--min-objects', type=int, default=2)
    parser.add_argument('--max-objects', type=int, default=6)
    parser.add_argument(
        '--ooc-ratio', type=float, default=0.15,
        help='fraction of val objects pasted out of context')
    parser.add_argument('--img-format', choices=('png', 'jpg'), default='png')
    add_pool_arguments(parser)
    parser.add_argument(
        '--preview', default=None,
        help='also save a png grid of val scenes with boxes to this path')
    return check_pool_arguments(parser, parser.parse_args(argv))


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    print(f'Generating toy scenes into {args.out} ...', flush=True)
    summary = make_toy_scenes(
        args.out, num_train=args.num_train, num_val=args.num_val,
        seed=args.seed, img_size=args.img_size, min_objects=args.min_objects,
        max_objects=args.max_objects, ooc_ratio=args.ooc_ratio,
        img_format=args.img_format, verbose=True, num_pool=args.num_pool,
        pool_only=args.pool_only)
    if args.preview:
        draw_preview(args.out, 'val', args.preview)
    for split, s in summary.items():
        print(f'{split}: {s["images"]} images, {s["objects"]} objects '
              f'({s["out_of_context"]} out of context) -> '
              f'{osp.join(args.out, "annotations", split + ".json")}')
    print(f'Images in {osp.join(args.out, "images")}, label maps in '
          f'{osp.join(args.out, "semantic")}, meta in '
          f'{osp.join(args.out, "meta.json")}'
          + (f', preview {args.preview}' if args.preview else '')
          + f' ({time.time() - start:.1f} s)')


if __name__ == '__main__':
    main()
