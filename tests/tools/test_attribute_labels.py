"""tools/analysis_tools/attribute_labels.py on real files: scenes whose
objects' sizes, shapes and colours are known, label maps that hide part of
an object, and bad input."""
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hclmm_test_utils import run_cli

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'attribute_labels.py'
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _ann(i, image_id, cat, bbox):
    return dict(id=i, image_id=image_id, category_id=cat, bbox=bbox,
                area=bbox[2] * bbox[3], iscrowd=0)


@pytest.fixture
def scenes(tmp_path):
    """Two scenes. a.png: a red 10 x 20 box (class 1) and a 16 x 16 box
    (class 2) green in its top half, blue in its bottom half, where the
    label map gives the bottom half to class 1 (an object in front).
    b.png: a blue 30 x 30 box (class 1). train.json has both scenes,
    val.json the first."""
    (tmp_path / 'images').mkdir()
    (tmp_path / 'semantic').mkdir()
    a = np.full((40, 40, 3), 128, np.uint8)
    a[2:22, 2:12] = RED
    a[20:28, 20:36] = GREEN
    a[28:36, 20:36] = BLUE
    seg_a = np.zeros((40, 40), np.uint8)
    seg_a[2:22, 2:12] = 1
    seg_a[20:28, 20:36] = 2
    seg_a[28:36, 20:36] = 1
    b = np.full((40, 40, 3), 128, np.uint8)
    b[0:30, 0:30] = BLUE
    seg_b = np.zeros((40, 40), np.uint8)
    seg_b[0:30, 0:30] = 1
    for name, img, seg in (('a', a, seg_a), ('b', b, seg_b)):
        Image.fromarray(img).save(tmp_path / 'images' / f'{name}.png')
        Image.fromarray(seg).save(tmp_path / 'semantic' / f'{name}.png')
    images = [dict(id=1, file_name='a.png', width=40, height=40),
              dict(id=2, file_name='b.png', width=40, height=40)]
    anns = [_ann(1, 1, 1, [2, 2, 10, 20]), _ann(2, 1, 2, [20, 20, 16, 16]),
            _ann(3, 2, 1, [0, 0, 30, 30])]
    cats = [dict(id=1, name='one'), dict(id=2, name='two')]
    (tmp_path / 'ann').mkdir()
    for name, keep in (('train', {1, 2}), ('val', {1})):
        coco = dict(images=[i for i in images if i['id'] in keep],
                    annotations=[a for a in anns if a['image_id'] in keep],
                    categories=cats)
        (tmp_path / 'ann' / f'{name}.json').write_text(json.dumps(coco))
    return tmp_path


def _run(root, *extra, check=True):
    return run_cli([sys.executable, str(TOOL), str(root), '--ann-train',
                    'ann/train.json', '--ann-val', 'ann/val.json',
                    '--img-prefix', 'images/', *extra], check=check)


def _cats(path):
    coco = json.loads(Path(path).read_text())
    return ([a['category_id'] for a in coco['annotations']],
            [c['name'] for c in coco['categories']])


def test_size_bins_are_cut_on_train_and_applied_to_val(scenes):
    _run(scenes, '--attribute', 'size', '--bins', '2')
    # sides sqrt(10 * 20) = 14.1, 16 and 30: the train median 16 is the edge,
    # and a value on the edge goes to the upper bin
    train, names = _cats(scenes / 'ann' / 'train_size2.json')
    assert train == [1, 2, 2]
    assert names == ['size_bin0', 'size_bin1']
    val, _ = _cats(scenes / 'ann' / 'val_size2.json')
    assert val == [1, 2]
    # boxes, ids and images are those of the input
    src = json.loads((scenes / 'ann' / 'train.json').read_text())
    out = json.loads((scenes / 'ann' / 'train_size2.json').read_text())
    assert out['images'] == src['images']
    assert [(a['id'], a['bbox']) for a in out['annotations']] == \
        [(a['id'], a['bbox']) for a in src['annotations']]


def test_hue_reads_the_objects_own_pixels_through_the_label_map(scenes):
    _run(scenes, '--attribute', 'hue', '--bins', '4', '--seg-prefix',
         'semantic/')
    # red 0 -> bin 0, green 1/3 -> bin 1 (its blue half belongs to class 1),
    # blue 2/3 -> bin 2
    assert _cats(scenes / 'ann' / 'train_hue4.json')[0] == [1, 2, 3]
    # without label maps the second box is half green, half blue: mean
    # (0, 0.5, 0.5), hue 1/2 -> bin 2
    _run(scenes, '--attribute', 'hue', '--bins', '4')
    assert _cats(scenes / 'ann' / 'train_hue4.json')[0] == [1, 3, 3]


def test_values_of_each_attribute(scenes):
    spec = _load_tool()
    coco = json.loads((scenes / 'ann' / 'train.json').read_text())
    size = spec.measure(coco, 'size', str(scenes), 'images/')
    np.testing.assert_allclose(size, [math.sqrt(200), 16, 30])
    aspect = spec.measure(coco, 'aspect', str(scenes), 'images/')
    np.testing.assert_allclose(aspect, [math.log(0.5), 0, 0])
    light = spec.measure(coco, 'lightness', str(scenes), 'images/',
                         'semantic/')
    np.testing.assert_allclose(light, [1 / 3, 1 / 3, 1 / 3])
    edges = spec.bin_edges('lightness', np.array([0., 1., 2., 3.]), 4)
    np.testing.assert_allclose(edges, [0.75, 1.5, 2.25])


def _load_tool():
    spec = importlib.util.spec_from_file_location('attribute_labels', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _set_val_box(root, bbox):
    coco = json.loads((root / 'ann' / 'val.json').read_text())
    coco['annotations'][1]['bbox'] = bbox
    (root / 'ann' / 'val.json').write_text(json.dumps(coco))


def _fails(root, *args, says):
    proc = _run(root, *args, check=False)
    assert proc.returncode == 1, proc.stderr
    for words in says:
        assert words in proc.stderr, proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not list((root / 'ann').glob('*_*.json'))


def test_a_missing_image_is_named(scenes):
    (scenes / 'images' / 'b.png').unlink()
    _fails(scenes, '--attribute', 'hue', says=('b.png', '--img-prefix'))


def test_an_empty_box_is_named(scenes):
    _set_val_box(scenes, [20, 20, 0, 16])
    _fails(scenes, '--attribute', 'size', says=('annotation 2', 'empty box'))


def test_a_box_outside_its_image_is_named(scenes):
    _set_val_box(scenes, [50, 50, 8, 8])
    _fails(scenes, '--attribute', 'lightness',
           says=('annotation 2', 'no pixel inside'))


def test_a_label_map_of_another_size_is_named(scenes):
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(
        scenes / 'semantic' / 'a.png')
    _fails(scenes, '--attribute', 'hue', '--seg-prefix', 'semantic/',
           says=('a.png', 'must match'))


def test_fewer_than_two_bins_is_a_usage_error(scenes):
    proc = _run(scenes, '--attribute', 'size', '--bins', '1', check=False)
    assert proc.returncode == 2 and '--bins' in proc.stderr


def test_a_box_of_an_unlisted_image_is_named(scenes):
    coco = json.loads((scenes / 'ann' / 'val.json').read_text())
    coco['annotations'][1]['image_id'] = 7
    (scenes / 'ann' / 'val.json').write_text(json.dumps(coco))
    _fails(scenes, '--attribute', 'size', says=('annotation 2', 'image 7'))
