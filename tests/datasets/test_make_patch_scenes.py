"""The second scene set: valid COCO files, nested boxes, out-of-context
objects only in val, deterministic output."""
import json
import subprocess
import sys

import numpy as np
from PIL import Image

from hclmm_test_utils import REPO

TOOL = f'{REPO}/tools/dataset_converters/make_patch_scenes.py'


def _make(out, seed=0, *extra):
    subprocess.run([sys.executable, TOOL, '--out', str(out), '--num-train',
                    '12', '--num-val', '12', '--seed', str(seed), *extra],
                   check=True, capture_output=True, timeout=120)
    return {s: json.loads((out / 'annotations' / f'{s}.json').read_text())
            for s in ('train', 'val')}


def _nested(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return bx >= ax and by >= ay and bx + bw <= ax + aw and by + bh <= ay + ah


def test_files_boxes_nesting_and_ooc(tmp_path):
    data = _make(tmp_path / 'a')
    for split, coco in data.items():
        ids = {im['id'] for im in coco['images']}
        assert len(ids) == 12
        for ann in coco['annotations']:
            assert ann['image_id'] in ids
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0 and x >= 0 and y >= 0
            assert x + w <= 128 and y + h <= 128
        for im in coco['images']:
            img = Image.open(tmp_path / 'a' / 'images' / split /
                             im['file_name'])
            assert img.size == (128, 128) and img.mode == 'RGB'
    assert sum(a['out_of_context'] for a in data['train']['annotations']) == 0
    assert sum(a['out_of_context'] for a in data['val']['annotations']) > 0
    # some scenes hold a container with objects nested inside its box
    nested = 0
    for coco in data.values():
        by_image = {}
        for a in coco['annotations']:
            by_image.setdefault(a['image_id'], []).append(a['bbox'])
        for boxes in by_image.values():
            nested += sum(_nested(a, b) for a in boxes for b in boxes
                          if a is not b)
    assert nested > 0
    # deterministic for a seed
    again = _make(tmp_path / 'b')
    assert again == data
    first = data['val']['images'][0]['file_name']
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / 'a/images/val' / first)),
        np.asarray(Image.open(tmp_path / 'b/images/val' / first)))


def test_masks_and_label_maps(tmp_path):
    """Every object has a polygon mask (its box), and the label map shows the
    visible objects by ``category_id``: nested objects over their
    container, 0 elsewhere."""
    data = _make(tmp_path / 'm')
    seen_nested = 0
    for split, coco in data.items():
        by_image = {}
        for a in coco['annotations']:
            by_image.setdefault(a['image_id'], []).append(a)
            (poly, ) = a['segmentation']
            x, y, w, h = a['bbox']
            assert poly == [x, y, x + w, y, x + w, y + h, x, y + h]
        for im in coco['images']:
            sem = np.asarray(
                Image.open(tmp_path / 'm' / 'semantic' / split /
                           im['file_name']))
            assert sem.shape == (128, 128) and sem.dtype == np.uint8
            anns = by_image.get(im['id'], [])
            covered = np.zeros(sem.shape, bool)
            for a in anns:
                x, y, w, h = a['bbox']
                inner = [b for b in anns
                         if b is not a and _nested(a['bbox'], b['bbox'])]
                seen_nested += bool(inner)
                # the box's centre pixel shows the object unless an object
                # nested in it covers that pixel
                cx, cy = x + w // 2, y + h // 2
                if not any(_nested(b['bbox'], [cx, cy, 1, 1])
                           for b in inner):
                    assert sem[cy, cx] == a['category_id']
                covered[y:y + h, x:x + w] = True
            assert (sem[~covered] == 0).all()
            assert set(np.unique(sem[covered])) <= {
                a['category_id'] for a in anns}
    assert seen_nested > 0


def test_fixed_colours_change_only_the_object_colours(tmp_path):
    """The colour control: the same scenes, boxes and label maps, every
    object painted in the two fixed colours."""
    sys.path.insert(0, f'{REPO}/tools/dataset_converters')
    from make_patch_scenes import FIXED_COLOURS
    random = _make(tmp_path / 'random')
    fixed = _make(tmp_path / 'fixed', 0, '--object-colours', 'fixed')
    assert fixed == random
    colours = {tuple(c) for c in FIXED_COLOURS}
    changed = 0
    for im in fixed['train']['images']:
        name = im['file_name']
        sem = np.array(Image.open(tmp_path / 'fixed' / 'semantic' / 'train' /
                                  name))
        assert (sem == np.array(Image.open(
            tmp_path / 'random' / 'semantic' / 'train' / name))).all()
        a = np.array(Image.open(tmp_path / 'random' / 'images' / 'train' /
                                name))
        b = np.array(Image.open(tmp_path / 'fixed' / 'images' / 'train' /
                                name))
        assert (a[sem == 0] == b[sem == 0]).all()  # background untouched
        for ann in fixed['train']['annotations']:
            if ann['image_id'] != im['id']:
                continue
            x, y, w, h = ann['bbox']
            # inside the frame a container draws, every pixel of the
            # object's own label is one of the two colours
            inner = np.zeros_like(sem, bool)
            inner[y + 2:y + h - 2, x + 2:x + w - 2] = True
            pixels = b[inner & (sem == ann['category_id'])]
            assert {tuple(p) for p in pixels} <= colours, name
            changed += len(pixels)
    assert changed > 1000


def test_unknown_colour_mode_is_a_usage_error(tmp_path):
    res = subprocess.run([sys.executable, TOOL, '--out', str(tmp_path),
                          '--object-colours', 'rainbow'],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and 'rainbow' in res.stderr


def test_texture_period_control(tmp_path):
    """The period control: every texture with one period, drawn from the
    same random stream, so the scenes, boxes and label maps stay the same
    and only the object pixels change."""
    sys.path.insert(0, f'{REPO}/tools/dataset_converters')
    from make_patch_scenes import _texture
    rngs = [np.random.default_rng(3) for _ in range(2)]
    drawn = _texture(rngs[0], 'checker', 28, 35)
    fixed = _texture(rngs[1], 'checker', 28, 35, texture_period=7)
    assert rngs[0].random() == rngs[1].random()  # the same stream after
    cells = fixed[::7, ::7, 0]  # a checker of 7 x 7 px cells, alternating
    for y in range(28):
        for x in range(35):
            np.testing.assert_array_equal(fixed[y, x], fixed[y // 7 * 7,
                                                             x // 7 * 7])
    assert (cells[1:] != cells[:-1]).all() and (cells[:, 1:] !=
                                                cells[:, :-1]).all()
    assert not np.array_equal(drawn, fixed)

    default = _make(tmp_path / 'default')
    period = _make(tmp_path / 'period', 0, '--texture-period', '7')
    assert period == default
    changed = 0
    for im in period['train']['images']:
        name = im['file_name']
        sem = np.array(Image.open(tmp_path / 'period' / 'semantic' /
                                  'train' / name))
        assert (sem == np.array(Image.open(
            tmp_path / 'default' / 'semantic' / 'train' / name))).all()
        a, b = (np.array(Image.open(tmp_path / d / 'images' / 'train' /
                                    name)) for d in ('default', 'period'))
        assert (a[sem == 0] == b[sem == 0]).all()
        changed += int((a != b).any(-1).sum())
    assert changed > 1000
    res = subprocess.run([sys.executable, TOOL, '--out', str(tmp_path / 'x'),
                          '--texture-period', '40'],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and '--texture-period' in res.stderr
    assert not (tmp_path / 'x').exists()
