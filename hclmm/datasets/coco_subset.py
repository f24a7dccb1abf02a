"""Class-stratified subsets of a COCO-format annotation file.

Used for label-scarce transfer (``tools/benchmarks/transfer.py
--label-fraction``) and for cutting a development split out of a training
file (``tools/dataset_converters/split_coco.py``), so that a fraction of the
images keeps every class that the whole file has.
"""
import json
import os
import os.path as osp
from collections import Counter, defaultdict
from typing import Dict, List, Sequence, Tuple

import numpy as np

__all__ = [
    'image_strata', 'stratified_split', 'coco_subset', 'write_coco_split'
]


def image_strata(coco: dict) -> Dict[int, int]:
    """The stratum of every image: its rarest category.

    A scene holds several classes; stratifying by the rarest one keeps rare
    classes in small subsets. Rarity is the number of images a category
    appears in; ties go to the smaller category id. Images without
    annotations form stratum ``-1``.

    Args:
        coco (dict): A COCO instances file (``images``, ``annotations``).

    Returns:
        dict: ``{image_id: category_id or -1}``.
    """
    cats_of = defaultdict(set)
    for ann in coco['annotations']:
        cats_of[ann['image_id']].add(ann['category_id'])
    images_per_cat = Counter(c for cats in cats_of.values() for c in cats)
    return {
        img['id']: min(cats_of[img['id']],
                       key=lambda c: (images_per_cat[c], c))
        if cats_of[img['id']] else -1
        for img in coco['images']
    }


def stratified_split(coco: dict, fraction: float,
                     seed: int) -> Tuple[List[int], List[int]]:
    """Split the images into a ``fraction`` and the rest, per stratum.

    Each stratum (:func:`image_strata`) is shuffled with ``seed`` and its
    first ``max(1, round(fraction * n))`` images are taken (all of them for
    ``fraction`` 1), so every class that the file has stays in the subset.

    Args:
        coco (dict): A COCO instances file.
        fraction (float): In ``(0, 1]``.
        seed (int): Seed of the shuffle; the same seed gives the same split.

    Returns:
        tuple: ``(taken, rest)``, image ids sorted ascending.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    by_stratum = defaultdict(list)
    for img_id, stratum in image_strata(coco).items():
        by_stratum[stratum].append(img_id)
    rng = np.random.default_rng(seed)
    taken = []
    for stratum in sorted(by_stratum):
        ids = sorted(by_stratum[stratum])
        order = rng.permutation(len(ids))
        keep = len(ids) if fraction == 1 else max(
            1, int(round(fraction * len(ids))))
        taken += [ids[i] for i in order[:keep]]
    taken = sorted(taken)
    chosen = set(taken)
    rest = sorted(img['id'] for img in coco['images']
                  if img['id'] not in chosen)
    return taken, rest


def coco_subset(coco: dict, image_ids: Sequence[int]) -> dict:
    """The file restricted to ``image_ids`` (images and their annotations;
    categories and other top-level keys unchanged)."""
    keep = set(image_ids)
    out = dict(coco)
    out['images'] = [img for img in coco['images'] if img['id'] in keep]
    out['annotations'] = [
        ann for ann in coco['annotations'] if ann['image_id'] in keep
    ]
    return out


def write_coco_split(ann_file: str, fraction: float, seed: int,
                     out_file: str, rest_file: str = None) -> dict:
    """Write the stratified ``fraction`` of ``ann_file`` (and optionally the
    rest) as COCO files.

    Args:
        ann_file (str): The COCO instances file to split.
        fraction (float): In ``(0, 1]``.
        seed (int): Seed of the split.
        out_file (str): Where the subset goes.
        rest_file (str, optional): Where the other images go.

    Returns:
        dict: ``num_images``, ``num_annotations`` and ``classes`` (the
        number of categories with at least one annotation) of each written
        file, under ``'subset'`` and ``'rest'``.
    """
    with open(ann_file) as f:
        coco = json.load(f)
    taken, rest = stratified_split(coco, fraction, seed)
    summary = {}
    for name, ids, path in (('subset', taken, out_file),
                            ('rest', rest, rest_file)):
        if path is None:
            continue
        part = coco_subset(coco, ids)
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(part, f)
        summary[name] = dict(
            num_images=len(part['images']),
            num_annotations=len(part['annotations']),
            classes=len({a['category_id'] for a in part['annotations']}))
    return summary
