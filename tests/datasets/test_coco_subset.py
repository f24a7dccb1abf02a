"""Class-stratified subsets of a COCO file (label-scarce transfer, the
development split): every class kept, the same seed the same subset, the
two parts of a split complementary, and the tool writes real files."""
import json
import subprocess
import sys
from collections import Counter

import pytest

from hclmm_test_utils import REPO
from hclmm.datasets.coco_subset import (coco_subset, image_strata,
                                        stratified_split, write_coco_split)


def _coco(num_images=200, seed=0):
    """Scenes of 1-4 objects; class 9 is rare (in about 1 of 40 images)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    images, anns = [], []
    for i in range(1, num_images + 1):
        images.append(dict(id=i, file_name=f'{i}.png', width=64, height=64))
        cats = list(rng.integers(1, 9, size=rng.integers(1, 5)))
        if i % 40 == 0:
            cats.append(9)
        for c in cats:
            anns.append(dict(id=len(anns) + 1, image_id=i,
                             category_id=int(c), bbox=[0, 0, 8, 8],
                             area=64, iscrowd=0))
    cats = [dict(id=c, name=f'c{c}') for c in range(1, 10)]
    return dict(images=images, annotations=anns, categories=cats)


def test_strata_are_the_rarest_class():
    coco = _coco()
    strata = image_strata(coco)
    assert [strata[i] for i in (40, 80, 120, 160, 200)] == [9] * 5
    assert Counter(strata.values())[9] == 5
    empty = dict(coco, images=coco['images'] + [dict(id=999)])
    assert image_strata(empty)[999] == -1


@pytest.mark.parametrize('fraction', [0.02, 0.1, 0.5])
def test_every_class_survives_and_the_size_follows_the_fraction(fraction):
    coco = _coco()
    taken, rest = stratified_split(coco, fraction, seed=0)
    sub = coco_subset(coco, taken)
    assert {a['category_id'] for a in sub['annotations']} == set(range(1, 10))
    # round(fraction * n) per stratum (at least one): within one image per
    # stratum (9 classes) of fraction * 200
    assert abs(len(taken) - fraction * 200) <= 9
    assert sorted(taken + rest) == list(range(1, 201))
    assert not set(taken) & set(rest)
    assert all(a['image_id'] in set(taken) for a in sub['annotations'])
    assert sub['categories'] == coco['categories']


def test_seeds_decide_the_subset():
    coco = _coco()
    a, _ = stratified_split(coco, 0.1, seed=0)
    b, _ = stratified_split(coco, 0.1, seed=0)
    c, _ = stratified_split(coco, 0.1, seed=1)
    assert a == b and a != c
    assert stratified_split(coco, 1.0, seed=3)[0] == list(range(1, 201))
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match='fraction must be in'):
            stratified_split(coco, bad, seed=0)


def test_split_tool_writes_both_files(tmp_path):
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps(_coco()))
    out, rest = tmp_path / 'dev' / 'a.json', tmp_path / 'dev' / 'b.json'
    proc = subprocess.run(
        [sys.executable, 'tools/dataset_converters/split_coco.py', str(ann),
         '--fraction', '0.75', '--seed', '0', '--out', str(out), '--rest',
         str(rest)], cwd=REPO, capture_output=True, text=True, check=True)
    a, b = json.loads(out.read_text()), json.loads(rest.read_text())
    assert len(a['images']) + len(b['images']) == 200
    assert f'{out}: {len(a["images"])} images' in proc.stdout
    assert len(a['annotations']) + len(b['annotations']) == len(
        _coco()['annotations'])
    summary = write_coco_split(str(ann), 0.75, 0, str(tmp_path / 'c.json'))
    assert summary['subset']['num_images'] == len(a['images'])
    assert 'rest' not in summary
    bad = subprocess.run(
        [sys.executable, 'tools/dataset_converters/split_coco.py', str(ann),
         '--fraction', '0', '--out', str(out)], cwd=REPO,
        capture_output=True, text=True)
    assert bad.returncode == 2 and '--fraction must be in (0, 1]' in \
        bad.stderr
