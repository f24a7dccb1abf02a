"""Relabel the boxes of a COCO train/val pair by an attribute of each object.

A frozen-feature probe that reads the class (the suite's ``knn`` and
``linear`` tasks) says how well the features separate the classes, not what
they encode instead. This tool writes copies of a train and a val file in
which every box's category is a bin of one measured attribute of its object,
so that the same probe asks whether the features know that attribute:

- ``size``: the side of the box, ``sqrt(w * h)`` in pixels;
- ``aspect``: ``log(w / h)`` of the box;
- ``lightness``: the mean of R, G and B over the object's pixels;
- ``hue``: the hue of the object's mean colour (equal-width bins of the
  colour circle; the other attributes take the train file's quantiles, so
  their bins are balanced on train).

The object's pixels are those of its box whose label-map value is its
``category_id`` (``--seg-prefix``; without label maps, the whole box).
Bins are cut on the train file and applied to both. E.g. what the frozen
features of a checkpoint know of object size::

    python tools/analysis_tools/attribute_labels.py data/patch_scenes \\
        --ann-train annotations/dev_train.json \\
        --ann-val annotations/dev_val.json --img-prefix images/train/ \\
        --seg-prefix semantic/train/ --attribute size --bins 4
    python tools/benchmarks/transfer.py --tasks knn \\
        --data-root data/patch_scenes \\
        --ann-train annotations/dev_train_size4.json \\
        --ann-val annotations/dev_val_size4.json \\
        --pretrained moco=CKPT random --work-dir work_dirs/attr_size

The files are written next to the inputs, named ``STEM_ATTRIBUTEBINS.json``.
"""
import argparse
import colorsys
import json
import os.path as osp
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
from hclmm.datasets.scene_object_coco import load_coco_json  # noqa: E402

ATTRIBUTES = ('size', 'aspect', 'lightness', 'hue')
PIXEL_ATTRIBUTES = ('lightness', 'hue')


def object_pixels(image, label_map, ann):
    """The RGB values (``N x 3`` float, 0-1) of ``ann``'s object: the pixels
    of its box whose label is its category (every pixel of the box without
    a label map, or where no pixel carries it)."""
    x, y, w, h = (int(round(v)) for v in ann['bbox'])
    box = image[max(y, 0):y + h, max(x, 0):x + w].reshape(-1, 3)
    if not len(box):
        raise ValueError(
            f'annotation {ann.get("id")} (image {ann["image_id"]}): its box '
            f'{ann["bbox"]} has no pixel inside the image; fix or remove it')
    if label_map is not None:
        own = (label_map[max(y, 0):y + h, max(x, 0):x + w].reshape(-1) ==
               ann['category_id'])
        if own.any():
            box = box[own]
    return box.astype(np.float64) / 255.


def attribute(name, ann, pixels=None):
    """The value of attribute ``name`` for one annotation; ``pixels`` from
    :func:`object_pixels` for the colour attributes."""
    w, h = ann['bbox'][2], ann['bbox'][3]
    if name == 'size':
        return float(np.sqrt(w * h))
    if name == 'aspect':
        return float(np.log(w / h))
    mean = pixels.mean(axis=0)
    if name == 'lightness':
        return float(mean.mean())
    return colorsys.rgb_to_hsv(*mean)[0]


def measure(coco, name, data_root, img_prefix, seg_prefix=None):
    """The attribute of every annotation of ``coco``, in its order."""
    anns_of = {}
    for i, ann in enumerate(coco['annotations']):
        w, h = ann['bbox'][2], ann['bbox'][3]
        if w <= 0 or h <= 0:
            raise ValueError(
                f'annotation {ann.get("id")} (image {ann["image_id"]}) has '
                f'an empty box {ann["bbox"]}; remove it from the file')
        anns_of.setdefault(ann['image_id'], []).append(i)
    values = [None] * len(coco['annotations'])
    for img in coco['images']:
        idx = anns_of.get(img['id'], [])
        if not idx:
            continue
        image = label_map = None
        if name in PIXEL_ATTRIBUTES:
            path = osp.join(data_root, img_prefix, img['file_name'])
            if not osp.exists(path):
                raise FileNotFoundError(
                    f'image {img["file_name"]} (id {img["id"]}) not found '
                    f'at {path}; check --data-root and --img-prefix')
            image = np.asarray(Image.open(path).convert('RGB'))
            if seg_prefix is not None:
                stem = osp.splitext(osp.basename(img['file_name']))[0]
                seg = osp.join(data_root, seg_prefix, stem + '.png')
                if not osp.exists(seg):
                    raise FileNotFoundError(
                        f'label map of {img["file_name"]} not found at '
                        f'{seg}; check --seg-prefix')
                label_map = np.asarray(Image.open(seg))
                if label_map.shape[:2] != image.shape[:2]:
                    raise ValueError(
                        f'label map {seg} is {label_map.shape[1]} x '
                        f'{label_map.shape[0]}, its image '
                        f'{img["file_name"]} {image.shape[1]} x '
                        f'{image.shape[0]}; they must match')
        for i in idx:
            ann = coco['annotations'][i]
            pixels = (object_pixels(image, label_map, ann)
                      if image is not None else None)
            values[i] = attribute(name, ann, pixels)
    for ann, v in zip(coco['annotations'], values):
        if v is None:
            raise ValueError(
                f'annotation {ann.get("id")} names image {ann["image_id"]}, '
                f'which the file\'s "images" lack; add it or remove the box')
    return np.array(values, dtype=np.float64)


def bin_edges(name, train_values, bins):
    """The inner edges of ``bins`` bins: equal-width on the hue circle,
    the quantiles of the train values otherwise."""
    if name == 'hue':
        return np.arange(1, bins) / bins
    return np.quantile(train_values, np.arange(1, bins) / bins)


def relabel(coco, values, edges, name):
    """A copy of ``coco`` whose categories are the bins of ``values``."""
    bins = len(edges) + 1
    out = dict(coco)
    out['categories'] = [dict(id=b + 1, name=f'{name}_bin{b}')
                         for b in range(bins)]
    out['annotations'] = [
        dict(ann, category_id=int(np.searchsorted(edges, v, 'right')) + 1)
        for ann, v in zip(coco['annotations'], values)
    ]
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('data_root')
    parser.add_argument('--ann-train', required=True,
                        help='train json, relative to data_root')
    parser.add_argument('--ann-val', required=True,
                        help='val json, relative to data_root')
    parser.add_argument('--img-prefix', default='images/',
                        help='folder of the images, relative to data_root')
    parser.add_argument('--seg-prefix',
                        help='folder of the label maps (STEM.png, value = '
                        'category_id); without it the colour attributes '
                        'read the whole box')
    parser.add_argument('--attribute', choices=ATTRIBUTES, required=True)
    parser.add_argument('--bins', type=int, default=4)
    args = parser.parse_args(argv)
    if args.bins < 2:
        parser.error(f'--bins must be at least 2, got {args.bins}')
    return args


def main(argv=None):
    args = parse_args(argv)
    files = (args.ann_train, args.ann_val)
    try:
        cocos = [load_coco_json(osp.join(args.data_root, f)) for f in files]
        values = [measure(c, args.attribute, args.data_root,
                          args.img_prefix, args.seg_prefix) for c in cocos]
    except (OSError, ValueError) as e:
        sys.exit(f'attribute_labels.py: {e}')
    edges = bin_edges(args.attribute, values[0], args.bins)
    for f, coco, vals in zip(files, cocos, values):
        out = relabel(coco, vals, edges, args.attribute)
        stem = osp.splitext(f)[0]
        path = osp.join(args.data_root,
                        f'{stem}_{args.attribute}{args.bins}.json')
        with open(path, 'w') as fh:
            json.dump(out, fh)
        counts = np.bincount([a['category_id'] - 1
                              for a in out['annotations']],
                             minlength=args.bins)
        print(f'{path}: {len(vals)} boxes, per bin {counts.tolist()} '
              f'(edges {np.round(edges, 3).tolist()})')


if __name__ == '__main__':
    main()
