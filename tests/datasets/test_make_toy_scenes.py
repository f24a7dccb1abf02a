"""The toy scene generator: determinism, COCO validity, label maps."""
import json
import os

import numpy as np
import pytest
from dataset_helpers import load_toy_generator
from PIL import Image
from pycocotools.coco import COCO

gen = load_toy_generator()


def _all_files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, 'rb') as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


def test_same_seed_gives_identical_bytes(tmp_path, capsys):
    args = ['--num-train', '5', '--num-val', '4', '--img-size', '64',
            '--seed', '7']
    gen.main(['--out', str(tmp_path / 'a')] + args)
    printed, progress = capsys.readouterr()
    gen.main(['--out', str(tmp_path / 'b')] + args)
    a, b = _all_files(tmp_path / 'a'), _all_files(tmp_path / 'b')
    assert sorted(a) == sorted(b)
    assert len([k for k in a if k.startswith('images')]) == 9
    assert all(a[k] == b[k] for k in a)
    gen.main(['--out', str(tmp_path / 'c')] + args[:-1] + ['8'])
    c = _all_files(tmp_path / 'c')
    assert c['annotations/train.json'] != a['annotations/train.json']
    # the summary names what was written where
    assert 'train: 5 images' in printed and 'val: 4 images' in printed
    assert str(tmp_path / 'a' / 'annotations' / 'train.json') in printed
    # mmengine's progress bar over each split's images, on stderr
    assert '] 5/5, ' in progress and '] 4/4, ' in progress


def test_coco_validity_and_label_maps(toy_root):
    meta = json.load(open(os.path.join(toy_root, 'meta.json')))
    scene_classes = {s['name']: set(s['classes']) for s in meta['scene_types']}
    assert len(meta['classes']) == 10 and len(scene_classes) == 4
    for split in ('train', 'val'):
        coco = COCO(os.path.join(toy_root, 'annotations', f'{split}.json'))
        names = {c['id']: c['name'] for c in coco.loadCats(coco.getCatIds())}
        assert list(names.values()) == meta['classes']
        for img_id in coco.getImgIds():
            img = coco.loadImgs(img_id)[0]
            assert img['scene_type'] in scene_classes
            assert (img['width'], img['height']) == (64, 64)
            rgb = Image.open(os.path.join(toy_root, 'images', split,
                                          img['file_name']))
            sem = np.asarray(Image.open(os.path.join(
                toy_root, 'semantic', split, img['file_name'])))
            assert rgb.size == (64, 64) and rgb.mode == 'RGB'
            assert sem.dtype == np.uint8 and sem.shape == (64, 64)
            assert set(np.unique(sem)) <= set(range(11))
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
            assert 2 <= len(anns) <= 6
            for ann in anns:
                x, y, w, h = ann['bbox']
                assert 0 <= x and 0 <= y
                assert x + w <= 64 + 1e-6 and y + h <= 64 + 1e-6
                # 16-56 px at 128 px is 8-28 px at 64 px
                assert 8 - 0.01 <= max(w, h) <= 28 + 0.01
                mask = coco.annToMask(ann).astype(bool)
                # the polygon agrees with the label map where not occluded
                assert (sem[mask] == ann['category_id']).mean() > 0.6
                name = names[ann['category_id']]
                in_scene = name in scene_classes[img['scene_type']]
                assert in_scene != bool(ann['out_of_context'])
                if split == 'train':
                    assert ann['out_of_context'] == 0


def test_out_of_context_share_in_val(tmp_path):
    coco = gen.generate_split(
        str(tmp_path), 'val', 60, seed=0, img_size=64, ooc_prob=0.15,
        min_obj_size=8, max_obj_size=28)
    flags = [a['out_of_context'] for a in coco['annotations']]
    assert 0.07 < np.mean(flags) < 0.25


def test_preview_and_bad_arguments(tmp_path):
    gen.make_toy_scenes(str(tmp_path), num_train=1, num_val=3, img_size=64)
    gen.draw_preview(str(tmp_path), 'val', str(tmp_path / 'p.png'), num=3,
                     cols=3)
    img = Image.open(tmp_path / 'p.png')
    assert img.size[0] > 3 * 64 * 2 and img.size[1] > 64 * 2
    with pytest.raises(ValueError, match='img-size'):
        gen.make_toy_scenes(str(tmp_path), img_size=32)
    with pytest.raises(ValueError, match='min_objects'):
        gen.make_toy_scenes(str(tmp_path), min_objects=4, max_objects=3)
