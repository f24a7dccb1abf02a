"""A wrong image folder in skip mode stops early with one clear message.

With ``on_error='skip'`` and a wrong ``data_prefix`` every image is missing;
mmengine's ``BaseDataset`` would fetch 1,000 other samples (one warning each)
and then fail with "Cannot find valid image after 1000!". The dataset now
stops after the first ``max_unreadable_at_start`` failures with an
``ImageLoadError`` that names the folder searched.
"""
import os.path as osp

import numpy as np
import pytest
from dataset_helpers import coco_dict, write_image, write_json

from hclmm.datasets import ObjectCropDataset, SceneObjectCocoDataset
from hclmm.datasets.transforms import ImageLoadError


def _toy(toy_root, prefix, **kwargs):
    return SceneObjectCocoDataset(
        data_root=toy_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img=prefix),
        min_box_size=1,
        min_boxes=1,
        pipeline=[dict(type='LoadSceneImage', on_error='skip')],
        **kwargs)


def test_wrong_prefix_stops_after_the_first_images(toy_root):
    ds = _toy(toy_root, 'images/nope/')
    folder = osp.join(toy_root, 'images/nope/')
    with pytest.raises(ImageLoadError) as e:
        ds[0]
    msg = str(e.value)
    assert 'none of the first 20 images tried could be read (missing: 20)' \
        in msg, msg
    assert f'the folder "{folder}", which does not exist' in msg
    assert 'data_root' in msg and 'data_prefix' in msg
    assert 'annotations/train.json' in msg
    # 20 skips, not 1,001
    assert sum(ds.pipeline.transforms[0].skipped.values()) == 20


def test_limit_is_configurable_and_can_be_switched_off(toy_root):
    ds = _toy(toy_root, 'images/val/', max_unreadable_at_start=3)
    with pytest.raises(ImageLoadError, match='none of the first 3 images'):
        ds[0]  # the folder exists, but holds other files
    off = _toy(toy_root, 'images/nope/', max_unreadable_at_start=0,
               max_refetch=5)
    with pytest.raises(Exception, match='Cannot find valid image after 5'):
        off[0]
    with pytest.raises(ValueError, match='max_unreadable_at_start'):
        _toy(toy_root, 'images/nope/', max_unreadable_at_start=-1)


def test_smaller_max_refetch_still_gives_the_clear_message(toy_root):
    ds = _toy(toy_root, 'images/nope/', max_refetch=4)
    with pytest.raises(ImageLoadError, match='none of the first 5 images'):
        ds[0]


def test_a_few_broken_images_are_still_skipped(tmp_path):
    d = tmp_path / 'imgs'
    for k in range(2, 9):
        write_image(d / f'{k}.png', 80, 80, seed=k)
    coco = coco_dict(
        images=[(k, f'{k}.png', 80, 80) for k in range(1, 9)],
        annotations=[dict(image_id=k, bbox=[0, 0, 60, 60], category_id=1)
                     for k in range(1, 9)])
    ann = write_json(tmp_path / 'ann.json', coco)
    ds = ObjectCropDataset(
        ann_file=ann, data_prefix=dict(img=str(d)), min_box_size=1,
        max_unreadable_at_start=1,
        pipeline=[dict(type='LoadSceneImage', on_error='skip')])
    np.random.seed(0)
    assert ds[1]['img'].shape == (80, 80, 3)  # read: the check is off now
    out = ds[0]  # image 1 is missing: another sample comes back
    assert out is not None and out['img_id'] != 1
    assert ds.pipeline.transforms[0].skipped['missing'] == 1
