"""Generate the *patch scenes*: a second synthetic scene-object set, built
to differ from the toy scenes, for checking numbers on data nobody tuned on.

Differences from ``make_toy_scenes.py``: objects are **textured patches**
(stripes, checkers, dots, rings, zigzags, noise blobs, crosshatch, spirals)
whose class is their texture, not a colour or a shape (colours are drawn at
random for every object); backgrounds are smooth gradients and cloud noise
instead of periodic textures; object sizes span 14-70 % of the image side;
and about half of the scenes hold a **container** object (a large framed
patch) with one or two smaller objects **nested inside its box**. As in the
toy scenes, a scene type (its background) decides which classes belong, and
the val split holds out-of-context objects (``"out_of_context": 1``).

Output (``DIR`` is ``--out``)::

    DIR/annotations/{train,val}.json   COCO instances: boxes, per-image
                                       ``scene_type``, and each object's
                                       mask as a polygon (its patch is a
                                       rectangle, so the polygon is its box;
                                       a container's polygon covers the
                                       objects nested in it, as an amodal
                                       mask does)
    DIR/images/{train,val}/*.png       RGB scenes
    DIR/semantic/{train,val}/*.png     uint8 label maps of the visible
                                       pixels: 0 = background, the
                                       ``category_id`` on object pixels
                                       (nested objects over their container);
                                       255 is never written

``--num-pool N`` also writes an unlabelled pool of N training scenes
(``annotations/pool.json``, ``images/pool/``; own random stream, no
out-of-context objects) for self-supervised pretraining; ``--pool-only``
writes it next to existing splits without touching them.

Only numpy, Pillow and the standard library; deterministic for a seed (the
label maps and masks are drawn from the objects' boxes and change nothing in
the images).

Example::

    python tools/dataset_converters/make_patch_scenes.py --out data/patch_scenes
"""
import argparse
import json
import os
import os.path as osp
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from make_toy_scenes import (add_pool_arguments,  # noqa: E402
                             check_pool_arguments)

# --object-colours fixed: every texture in these two colours
FIXED_COLOURS = ((235, 235, 235), (25, 25, 25))
CLASSES = ('stripes', 'checker', 'dots', 'rings', 'zigzag', 'blobs',
           'crosshatch', 'spiral')
# scene type: background kind, its two colours, the classes that belong
SCENE_TYPES = (
    ('dawn', 'gradient', ((250, 200, 150), (120, 80, 160)),
     ('stripes', 'dots', 'spiral')),
    ('fog', 'clouds', ((200, 200, 205), (150, 155, 165)),
     ('checker', 'rings', 'blobs')),
    ('forest', 'clouds', ((40, 90, 50), (90, 140, 70)),
     ('zigzag', 'crosshatch', 'dots')),
    ('night', 'gradient', ((10, 15, 40), (60, 60, 110)),
     ('rings', 'spiral', 'stripes')),
)


def _clouds(rng, size, colours):
    small = rng.random((size // 16 + 2, size // 16 + 2))
    img = np.array(Image.fromarray((small * 255).astype(np.uint8)).resize(
        (size, size), Image.BICUBIC), dtype=np.float32)[..., None] / 255
    a, b = (np.array(c, np.float32) for c in colours)
    return a * (1 - img) + b * img


def _gradient(rng, size, colours):
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / size
    t = (np.cos(angle) * xx + np.sin(angle) * yy)
    t = ((t - t.min()) / (np.ptp(t) + 1e-6))[..., None]
    a, b = (np.array(c, np.float32) for c in colours)
    return a * (1 - t) + b * t


def _texture(rng, cls, h, w, object_colours='random', texture_period=None):
    """A ``h`` x ``w`` patch of class ``cls`` in two random colours
    (``object_colours='fixed'``: in :data:`FIXED_COLOURS`, with the random
    colours still drawn so that everything else is the same scene), its
    period drawn from 5-9 px (``texture_period``: that period for every
    object, the random one still drawn)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(5, 9)
    if texture_period is not None:
        period = texture_period
    if cls == 'stripes':
        m = np.sin(xx * 2 * np.pi / period) > 0
    elif cls == 'checker':
        m = ((xx // period).astype(int) + (yy // period).astype(int)) % 2 == 0
    elif cls == 'dots':
        m = ((xx % period - period / 2)**2 +
             (yy % period - period / 2)**2) < (period / 3.2)**2
    elif cls == 'rings':
        r = np.hypot(xx - w / 2, yy - h / 2)
        m = np.sin(r * 2 * np.pi / period) > 0
    elif cls == 'zigzag':
        m = np.sin((yy + 3 * np.abs((xx % period) - period / 2)) * 2 *
                   np.pi / period) > 0
    elif cls == 'blobs':
        small = rng.random((h // 6 + 2, w // 6 + 2))
        m = np.array(Image.fromarray((small * 255).astype(np.uint8)).resize(
            (w, h), Image.BICUBIC)) > 128
    elif cls == 'crosshatch':
        m = (np.sin((xx + yy) * 2 * np.pi / period) > 0.6) | \
            (np.sin((xx - yy) * 2 * np.pi / period) > 0.6)
    elif cls == 'spiral':
        r = np.hypot(xx - w / 2, yy - h / 2)
        t = np.arctan2(yy - h / 2, xx - w / 2)
        m = np.sin(r * 2 * np.pi / period - 3 * t) > 0
    else:
        raise ValueError(f'unknown class {cls!r}')
    fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    while np.abs(fg.astype(int) - bg.astype(int)).sum() < 200:
        bg = rng.integers(0, 256, 3)
    if object_colours == 'fixed':
        fg, bg = (np.array(c) for c in FIXED_COLOURS)
    return np.where(m[..., None], fg, bg).astype(np.float32)


def _free_spot(rng, taken, w, h, size, inside=None):
    x0, y0, x1, y1 = inside or (0, 0, size, size)
    for _ in range(60):
        if x1 - x0 <= w or y1 - y0 <= h:
            return None
        x = int(rng.integers(x0, x1 - w))
        y = int(rng.integers(y0, y1 - h))
        box = (x, y, x + w, y + h)
        if all(box[2] <= t[0] or box[0] >= t[2] or box[3] <= t[1]
               or box[1] >= t[3] for t in taken):
            return box
    return None


def make_scene(rng, size, type_idx, ooc_prob, object_colours='random',
               texture_period=None):
    """One scene: (uint8 RGB image, list of objects); ``object_colours`` and
    ``texture_period``: see :func:`_texture`."""
    _, kind, colours, members = SCENE_TYPES[type_idx]
    img = (_gradient if kind == 'gradient' else _clouds)(rng, size, colours)
    img += rng.normal(0, 4, img.shape)
    others = [c for c in CLASSES if c not in members]
    objects, taken = [], []

    def pick():
        ooc = ooc_prob > 0 and rng.random() < ooc_prob
        return (str(rng.choice(others if ooc else members)), int(ooc))

    def paint(box, cls):
        x1, y1, x2, y2 = box
        img[y1:y2, x1:x2] = _texture(rng, cls, y2 - y1, x2 - x1,
                                     object_colours, texture_period)

    if rng.random() < 0.5:  # a container with nested objects
        side = int(rng.uniform(0.45, 0.7) * size)
        box = _free_spot(rng, taken, side, int(side * rng.uniform(0.8, 1.2)),
                         size)
        if box is not None:
            cls, ooc = pick()
            paint(box, cls)
            x1, y1, x2, y2 = box
            img[y1:y2, x1:x1 + 2] = img[y1:y2, x2 - 2:x2] = 20
            img[y1:y1 + 2, x1:x2] = img[y2 - 2:y2, x1:x2] = 20
            objects.append(dict(cls=cls, ooc=ooc, box=box))
            taken.append(box)
            inner_taken = []
            for _ in range(int(rng.integers(1, 3))):
                s = int(rng.uniform(0.14, 0.22) * size)
                inner = _free_spot(rng, inner_taken, s, s, size,
                                   inside=(x1 + 3, y1 + 3, x2 - 3, y2 - 3))
                if inner is None:
                    continue
                cls, ooc = pick()
                paint(inner, cls)
                objects.append(dict(cls=cls, ooc=ooc, box=inner))
                inner_taken.append(inner)
    for _ in range(int(rng.integers(2, 5))):
        s = int(rng.uniform(0.14, 0.35) * size)
        box = _free_spot(rng, taken, s, int(s * rng.uniform(0.7, 1.4)), size)
        if box is None:
            continue
        cls, ooc = pick()
        paint(box, cls)
        objects.append(dict(cls=cls, ooc=ooc, box=box))
        taken.append(box)
    return np.clip(img, 0, 255).astype(np.uint8), objects


def semantic_map(objects, size):
    """The label map of a scene: each object's box filled with its
    ``category_id`` in the order the objects were painted, so that nested
    objects cover their container as they do in the image."""
    sem = np.zeros((size, size), np.uint8)
    for obj in objects:
        x1, y1, x2, y2 = obj['box']
        sem[y1:y2, x1:x2] = CLASSES.index(obj['cls']) + 1
    return sem


def check_controls(object_colours, texture_period):
    """Raise ``ValueError`` for a colour mode or texture period that
    :func:`make_patch_scenes` does not take."""
    if object_colours not in ('random', 'fixed'):
        raise ValueError(f'object_colours must be "random" or "fixed", got '
                         f'{object_colours!r}')
    if texture_period is not None and not 2 <= texture_period <= 32:
        raise ValueError(f'the texture period (--texture-period) must be '
                         f'2-32 pixels, got {texture_period:g}')


def make_patch_scenes(out_dir, num_train=800, num_val=200, seed=0,
                      img_size=128, ooc_ratio=0.15, progress=False,
                      num_pool=0, pool_only=False, object_colours='random',
                      texture_period=None):
    """Write the train and val splits, and a pool of ``num_pool`` unlabelled
    training scenes when it is above 0 (``pool_only``: the pool alone);
    returns the per-split counts. ``object_colours='fixed'`` paints every
    texture in the same two colours, ``texture_period`` gives every texture
    that period in pixels (the same scenes otherwise).
    ``progress`` shows mmengine's progress bar over the images (on
    stderr)."""
    check_controls(object_colours, texture_period)
    if pool_only and num_pool < 1:
        raise ValueError('--pool-only needs --num-pool N with N >= 1')
    splits = [] if pool_only else [('train', num_train, 0.0, 0),
                                   ('val', num_val, ooc_ratio, 1)]
    if num_pool:
        splits.append(('pool', num_pool, 0.0, 3))
    stats = {}
    for split, num, ooc_prob, offset in splits:
        rng = np.random.default_rng(seed * 1000 + 7 + offset)
        img_dir = osp.join(out_dir, 'images', split)
        sem_dir = osp.join(out_dir, 'semantic', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(sem_dir, exist_ok=True)
        images, anns = [], []
        indices = range(num)
        if progress:
            from mmengine.utils import track_iter_progress
            print(f'{split}: {num} images', file=sys.stderr, flush=True)
            indices = track_iter_progress(indices, file=sys.stderr)
        for i in indices:
            type_idx = int(rng.integers(len(SCENE_TYPES)))
            img, objects = make_scene(rng, img_size, type_idx, ooc_prob,
                                      object_colours, texture_period)
            name = f'{split}_{i:05d}.png'
            Image.fromarray(img).save(osp.join(img_dir, name))
            Image.fromarray(semantic_map(objects, img_size)).save(
                osp.join(sem_dir, name))
            images.append(dict(id=i + 1, file_name=name, width=img_size,
                               height=img_size,
                               scene_type=SCENE_TYPES[type_idx][0]))
            for obj in objects:
                x1, y1, x2, y2 = obj['box']
                anns.append(dict(
                    id=len(anns) + 1, image_id=i + 1,
                    category_id=CLASSES.index(obj['cls']) + 1,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=float((x2 - x1) * (y2 - y1)), iscrowd=0,
                    segmentation=[[x1, y1, x2, y1, x2, y2, x1, y2]],
                    out_of_context=obj['ooc']))
        cats = [dict(id=k + 1, name=c) for k, c in enumerate(CLASSES)]
        os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
        with open(osp.join(out_dir, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=anns, categories=cats), f)
        stats[split] = dict(images=num, objects=len(anns),
                            out_of_context=sum(a['out_of_context']
                                               for a in anns))
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--num-train', type=int, default=800)
    parser.add_argument('--num-val', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--ooc-ratio', type=float, default=0.15)
    parser.add_argument(
        '--object-colours', choices=('random', 'fixed'), default='random',
        help='random: two random colours per object (the class is the '
        'texture alone); fixed: every texture in the same two colours, '
        'the same scenes otherwise (a control: no colour that tells one '
        'object from another)')
    parser.add_argument(
        '--texture-period', type=float, metavar='PX',
        help='every texture with this period in pixels (2-32) instead of '
        'one drawn from 5-9 px per object, the same scenes otherwise (a '
        'control: no period that tells one object from another)')
    add_pool_arguments(parser)
    args = check_pool_arguments(parser, parser.parse_args())
    try:
        check_controls(args.object_colours, args.texture_period)
    except ValueError as e:
        parser.error(str(e))
    stats = make_patch_scenes(args.out, args.num_train, args.num_val,
                              args.seed, args.img_size, args.ooc_ratio,
                              progress=True, num_pool=args.num_pool,
                              pool_only=args.pool_only,
                              object_colours=args.object_colours,
                              texture_period=args.texture_period)
    for split, s in stats.items():
        print(f'{split}: {s["images"]} images, {s["objects"]} objects '
              f'({s["out_of_context"]} out of context) -> '
              f'{osp.join(args.out, "annotations", split + ".json")}')


if __name__ == '__main__':
    main()
