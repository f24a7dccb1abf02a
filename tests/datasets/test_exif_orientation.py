"""EXIF-rotated JPEGs: sizes, pixels and boxes all in the displayed frame.

COCO and OpenImages boxes are drawn on the image as displayed, i.e. after
its EXIF orientation is applied. The test images are painted in the
displayed frame (four coloured quadrants, one box per quadrant) and stored
turned back, with the Orientation tag 6 ("rotate 90 degrees clockwise to
display"); both datasets, with sizes read from the image header, and
``LoadSceneImage`` + ``CropObjectBox`` must give crops of the colour that
was annotated.
"""
import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from hclmm.datasets import (ObjectCropDataset, SceneObjectCocoDataset,
                            SceneObjectOpenImagesDataset)
from hclmm.datasets.transforms import CropObjectBox, LoadSceneImage
from hclmm.datasets.utils import apply_exif_orientation, read_image_size

# quadrant -> RGB colour, in the displayed frame
COLOURS = dict(
    top_left=(230, 20, 20),
    top_right=(20, 200, 20),
    bottom_left=(20, 20, 230),
    bottom_right=(230, 230, 20))
QUADRANTS = list(COLOURS)
ORIENTATION = 0x0112


def _displayed(width, height):
    img = np.zeros((height, width, 3), np.uint8)
    hw, hh = width // 2, height // 2
    img[:hh, :hw] = COLOURS['top_left']
    img[:hh, hw:] = COLOURS['top_right']
    img[hh:, :hw] = COLOURS['bottom_left']
    img[hh:, hw:] = COLOURS['bottom_right']
    return img


def _boxes(width, height, margin=4):
    """Quadrant -> box ``(x1, y1, x2, y2)`` in the displayed frame."""
    hw, hh = width // 2, height // 2
    return dict(
        top_left=(margin, margin, hw - margin, hh - margin),
        top_right=(hw + margin, margin, width - margin, hh - margin),
        bottom_left=(margin, hh + margin, hw - margin, height - margin),
        bottom_right=(hw + margin, hh + margin, width - margin,
                      height - margin))


def _write_rotated_jpeg(path, width, height):
    """A JPEG that displays as ``_displayed(width, height)``; orientation 6.

    Orientation 6 means: turn the stored image 90 degrees clockwise to show
    it, so the stored pixels are the displayed ones turned counter-clockwise
    (``height`` wide and ``width`` high).
    """
    stored = Image.fromarray(_displayed(width, height)).transpose(
        Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    path.parent.mkdir(parents=True, exist_ok=True)
    stored.save(str(path), 'JPEG', quality=95, subsampling=0, exif=exif)
    with Image.open(str(path)) as check:
        assert check.size == (height, width)  # stored turned
        assert check.getexif()[ORIENTATION] == 6
        shown = np.asarray(ImageOps.exif_transpose(check))
    assert np.abs(shown.astype(int) - _displayed(width, height)).max() < 40
    return str(path)


def _assert_colour(crop_bgr, quadrant, what):
    got = crop_bgr.reshape(-1, 3).mean(0)[::-1]  # to RGB
    want = np.array(COLOURS[quadrant], float)
    assert np.abs(got - want).max() < 20, \
        f'{what}: crop of the {quadrant} box has colour {got.round()}, ' \
        f'expected {want}'


SIZES = [pytest.param(64, 40, id='non-square'),
         pytest.param(48, 48, id='square')]


def test_array_orientation_matches_pillow():
    stored = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(5, 3, 3)
    for orientation in range(1, 9):
        img = Image.fromarray(stored)
        exif = img.getexif()
        exif[ORIENTATION] = orientation
        img.info['exif'] = exif.tobytes()
        want = np.asarray(ImageOps.exif_transpose(img))
        got = apply_exif_orientation(stored, orientation)
        np.testing.assert_array_equal(got, want, err_msg=str(orientation))
        assert got.flags['C_CONTIGUOUS']


@pytest.mark.parametrize('width, height', SIZES)
def test_header_size_is_the_displayed_size(tmp_path, width, height):
    path = _write_rotated_jpeg(tmp_path / 'r.jpg', width, height)
    assert read_image_size(path) == (width, height)
    assert read_image_size(path, backend_args=dict(backend='local')) == \
        (width, height)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
@pytest.mark.parametrize('width, height', SIZES)
def test_load_scene_image_decodes_the_displayed_frame(tmp_path, width, height,
                                                      backend):
    path = _write_rotated_jpeg(tmp_path / 'r.jpg', width, height)
    out = LoadSceneImage(imdecode_backend=backend)(
        dict(img_path=path, width=width, height=height))
    assert out['img'].shape == (height, width, 3)
    assert out['img_shape'] == (height, width)
    want_bgr = _displayed(width, height)[..., ::-1].astype(int)
    assert np.abs(out['img'].astype(int) - want_bgr).max() < 60
    # the stored pixels on request (boxes drawn on the stored image)
    raw = LoadSceneImage(color_type='color_ignore_orientation',
                         imdecode_backend=backend, check_size=False)(
                             dict(img_path=path))
    assert raw['img'].shape == (width, height, 3)


@pytest.mark.parametrize('with_size', [False, True],
                         ids=['size-from-header', 'size-in-json'])
@pytest.mark.parametrize('width, height', SIZES)
def test_coco_crops_show_the_annotated_content(tmp_path, width, height,
                                               with_size):
    _write_rotated_jpeg(tmp_path / 'imgs' / 'r.jpg', width, height)
    image = dict(id=1, file_name='r.jpg')
    if with_size:
        image.update(width=width, height=height)
    anns = []
    for k, (quadrant, (x1, y1, x2, y2)) in enumerate(
            _boxes(width, height).items(), 1):
        anns.append(dict(id=k, image_id=1, category_id=k, iscrowd=0,
                         bbox=[x1, y1, x2 - x1, y2 - y1]))
    coco = dict(images=[image], annotations=anns,
                categories=[dict(id=k, name=q)
                            for k, q in enumerate(QUADRANTS, 1)])
    ann_file = tmp_path / 'ann.json'
    ann_file.write_text(json.dumps(coco))

    scenes = SceneObjectCocoDataset(
        ann_file=str(ann_file), data_prefix=dict(img=str(tmp_path / 'imgs')),
        min_box_size=1, min_boxes=1)
    info = scenes.get_data_info(0)
    assert (info['width'], info['height']) == (width, height)
    assert len(info['instances']) == 4  # nothing clipped away

    crops = ObjectCropDataset(
        ann_file=str(ann_file), data_prefix=dict(img=str(tmp_path / 'imgs')),
        min_box_size=1,
        pipeline=[dict(type='LoadSceneImage'), dict(type='CropObjectBox')])
    assert len(crops) == 4
    for i in range(4):
        out = crops[i]
        quadrant = crops.metainfo['classes'][out['gt_label']]
        x1, y1, x2, y2 = _boxes(width, height)[quadrant]
        assert out['img'].shape[:2] == (y2 - y1, x2 - x1)
        _assert_colour(out['img'], quadrant, 'COCO')


@pytest.mark.parametrize('width, height', SIZES)
def test_openimages_crops_show_the_annotated_content(tmp_path, width, height):
    _write_rotated_jpeg(tmp_path / 'images' / 'r1.jpg', width, height)
    header = 'ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax'
    rows, classes = [header], []
    for k, (quadrant, (x1, y1, x2, y2)) in enumerate(
            _boxes(width, height).items()):
        classes.append(f'/m/{k},{quadrant}')
        rows.append(f'r1,xclick,/m/{k},1,{x1 / width},{x2 / width},'
                    f'{y1 / height},{y2 / height}')
    (tmp_path / 'boxes.csv').write_text('\n'.join(rows) + '\n')
    (tmp_path / 'classes.csv').write_text('\n'.join(classes) + '\n')

    ds = SceneObjectOpenImagesDataset(  # no image_size_file: header sizes
        data_root=str(tmp_path), ann_file='boxes.csv',
        class_file='classes.csv', data_prefix=dict(img='images'),
        min_box_size=1, min_boxes=1)
    info = ds.get_data_info(0)
    assert (info['width'], info['height']) == (width, height)
    loaded = LoadSceneImage()(dict(info))
    assert loaded['img'].shape == (height, width, 3)
    assert len(info['instances']) == 4
    for inst in info['instances']:
        quadrant = ds.metainfo['classes'][inst['bbox_label']]
        np.testing.assert_allclose(inst['bbox'],
                                   _boxes(width, height)[quadrant])
        out = CropObjectBox()(dict(loaded, bbox=inst['bbox']))
        _assert_colour(out['img'], quadrant, 'OpenImages')
