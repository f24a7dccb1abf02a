"""An id written as a string where the ids are numbers is named as such.

A COCO file whose annotations say ``"image_id": "1"`` while its images have
``"id": 1`` (a common slip of converters) used to give ``refers to image id
1, which is not in "images"``, which reads as a contradiction. The ids are
now shown with ``repr`` and the message says that the types differ.
"""
import pytest
from dataset_helpers import coco_dict, write_json

from hclmm.datasets import AnnotationError, SceneObjectCocoDataset


def _load(tmp_path, coco):
    ann = write_json(tmp_path / 'ann.json', coco)
    return SceneObjectCocoDataset(
        ann_file=ann, data_prefix=dict(img=str(tmp_path)), min_box_size=1)


def test_string_image_id_against_int_ids(tmp_path):
    coco = coco_dict([(1, 'a.png', 100, 100)], [
        dict(image_id='1', bbox=[0, 0, 60, 60], category_id=1),
    ])
    with pytest.raises(AnnotationError) as e:
        _load(tmp_path, coco)
    msg = str(e.value)
    assert str(tmp_path / 'ann.json') in msg
    assert "annotation id 1: refers to image id '1', which is not in " \
        '"images"' in msg
    assert "the types differ: the image id here is '1' (str), " \
        '"images" has 1 (int)' in msg


def test_int_image_id_against_string_ids(tmp_path):
    coco = coco_dict([('img-7', 'a.png', 100, 100), ('7', 'b.png', 100, 100)],
                     [dict(image_id=7, bbox=[0, 0, 60, 60], category_id=1)])
    with pytest.raises(AnnotationError) as e:
        _load(tmp_path, coco)
    msg = str(e.value)
    assert 'refers to image id 7, which' in msg
    assert "the image id here is 7 (int), \"images\" has '7' (str)" in msg


def test_missing_id_of_another_type_says_so(tmp_path):
    coco = coco_dict([(1, 'a.png', 100, 100)], [
        dict(image_id='x9', bbox=[0, 0, 60, 60], category_id=1),
    ])
    with pytest.raises(AnnotationError) as e:
        _load(tmp_path, coco)
    msg = str(e.value)
    assert "refers to image id 'x9'" in msg
    assert 'the image id here is a str, the ids in "images" are int' in msg


def test_missing_id_of_the_same_type_has_no_type_remark(tmp_path):
    coco = coco_dict([(1, 'a.png', 100, 100)], [
        dict(image_id=9, bbox=[0, 0, 60, 60], category_id=1),
    ])
    with pytest.raises(AnnotationError) as e:
        _load(tmp_path, coco)
    msg = str(e.value)
    assert msg.endswith('refers to image id 9, which is not in "images"')


def test_string_category_id_against_int_ids(tmp_path):
    coco = coco_dict([(1, 'a.png', 100, 100)], [
        dict(image_id=1, bbox=[0, 0, 60, 60], category_id='3'),
    ])
    with pytest.raises(AnnotationError) as e:
        _load(tmp_path, coco)
    msg = str(e.value)
    assert "(image id 1): unknown category id '3'" in msg
    assert "the types differ: the category id here is '3' (str), " \
        '"categories" has 3 (int)' in msg
