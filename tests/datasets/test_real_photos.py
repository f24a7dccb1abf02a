"""Real photographs through the datasets and the loader.

The fixture (``tests/fixtures/real_photos.py``) holds seven scikit-image
sample photographs as an RGB JPEG, a grayscale PNG, an RGB PNG, a CMYK JPEG,
an EXIF-rotated JPEG (orientation 6, size read from the header), an RGBA PNG
and a grayscale JPEG, with hand-drawn boxes (nested ones, and a crowd box).
Every record must load with both decoding back-ends, in the displayed frame,
with the colours of the photograph, and every box must crop what it frames.
"""
import numpy as np
import pytest

pytest.importorskip('skimage')

from fixtures.real_photos import (ANN_FILE, IMG_PREFIX,  # noqa: E402
                                  PHOTOS, RGBA_BORDER, SIZE_FROM_HEADER,
                                  displayed_pixels, make_real_photos)

from hclmm.datasets import (ObjectCropDataset,  # noqa: E402
                            SceneObjectCocoDataset)
from hclmm.datasets.transforms import (CropObjectBox,  # noqa: E402
                                       LoadSceneImage)

BY_FILE = {p['file']: p for p in PHOTOS}
NUM_BOXES = sum(len(p['boxes']) for p in PHOTOS)
CROWD = [(p['file'], b[1]) for p in PHOTOS for b in p['boxes']
         if len(b) > 2 and b[2]]
# mean absolute difference (0-255) allowed for lossy files; an inverted
# CMYK or a wrong channel order gives > 30
JPEG_TOL = 4.0


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    return make_real_photos(tmp_path_factory.mktemp('real_photos') / 'set')


def _dataset(root, **kwargs):
    return SceneObjectCocoDataset(
        ann_file=ANN_FILE, data_root=root,
        data_prefix=dict(img=IMG_PREFIX), min_box_size=12, min_boxes=2,
        **kwargs)


def _expected_bgr(photo):
    rgb = displayed_pixels(photo['source'])
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    return rgb[..., ::-1].astype(np.float64)


def test_every_record_is_kept_and_the_crowd_box_is_dropped(photos):
    assert len(CROWD) == 1
    ds = _dataset(photos)
    assert len(ds) == len(PHOTOS)
    stats = ds.load_stats
    assert stats['images'] == stats['kept_images'] == len(PHOTOS)
    assert stats['boxes'] == NUM_BOXES
    assert stats['ignored'] == 1  # the crowd box
    assert stats['kept_boxes'] == NUM_BOXES - 1
    # hand-drawn boxes lie inside their (displayed) images: nothing clipped
    assert stats['clipped'] == stats['too_small'] == stats['bad'] == 0
    crowd_file, crowd_box = CROWD[0]
    for info in ds:
        photo = BY_FILE[info['img_path'].rsplit('/', 1)[-1]]
        assert (info['width'], info['height']) == photo['size'], photo['file']
        want = sorted(tuple(float(v) for v in b[1]) for b in photo['boxes']
                      if not (len(b) > 2 and b[2]))
        got = sorted(tuple(i['bbox']) for i in info['instances'])
        assert got == want, photo['file']
        if photo['file'] == crowd_file:
            assert tuple(map(float, crowd_box)) not in got
    # the rotated JPEG has no size in the annotation: the header gave the
    # displayed size (stored 427 wide and 640 high)
    assert SIZE_FROM_HEADER == ('rocket_exif6.jpg', )
    assert BY_FILE['rocket_exif6.jpg']['size'] == (640, 427)


def test_nested_boxes_are_kept_as_drawn(photos):
    ds = _dataset(photos)
    info = next(i for i in ds if i['img_path'].endswith('astronaut.jpg'))
    labels = ds.metainfo['classes']
    boxes = {}
    for inst in info['instances']:
        boxes.setdefault(labels[inst['bbox_label']], []).append(inst['bbox'])
    (person, ), (head, ), (badge, ) = (boxes['person'], boxes['head'],
                                       boxes['badge'])

    def inside(inner, outer):
        return (inner[0] >= outer[0] and inner[1] >= outer[1]
                and inner[2] <= outer[2] and inner[3] <= outer[3])

    assert inside(head, person) and inside(badge, person)
    assert not inside(boxes['helmet'][0], person)  # held out in front


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_every_image_decodes_as_displayed(photos, backend):
    """Size, orientation, channels and colours of every decoded image."""
    ds = _dataset(photos)
    load = LoadSceneImage(imdecode_backend=backend)
    for info in ds:
        photo = BY_FILE[info['img_path'].rsplit('/', 1)[-1]]
        out = load(dict(info))
        assert out is not None, photo['file']
        img = out['img']
        w, h = photo['size']
        assert img.shape == (h, w, 3) and img.dtype == np.uint8, \
            (photo['file'], img.shape)
        want = _expected_bgr(photo)
        diff = np.abs(img.astype(np.float64) - want)
        if photo['kind'].endswith('png'):
            # lossless: exact, the RGBA one included (alpha is dropped, the
            # colour under the transparent border is kept, not composited)
            assert diff.max() == 0, (photo['file'], diff.max())
        else:
            assert diff.mean() < JPEG_TOL, (photo['file'], diff.mean())
        if photo['kind'] == 'rgba_png':
            border = img[:RGBA_BORDER].reshape(-1, 3)
            assert border.std() > 5  # real picture content, not a fill
        if photo['kind'] == 'exif6_jpeg':
            # non-vacuous: the stored (unturned) pixels have another shape,
            # and the display turned the other way would not match
            wrong = np.rot90(np.rot90(want))  # 180 degrees
            assert np.abs(img - wrong).mean() > 5 * JPEG_TOL


def test_every_box_crops_what_it_frames(photos):
    """Each non-crowd box as an object crop equals that part of the
    photograph (same place, same size), CMYK and EXIF-rotated included."""
    ds = ObjectCropDataset(
        ann_file=ANN_FILE, data_root=photos,
        data_prefix=dict(img=IMG_PREFIX), min_box_size=12)
    assert len(ds) == NUM_BOXES - 1
    load, crop = LoadSceneImage(), CropObjectBox()
    expected = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        name = info['img_path'].rsplit('/', 1)[-1]
        photo = BY_FILE[name]
        if name not in expected:
            expected[name] = _expected_bgr(photo)
        out = crop(load(dict(info)))
        x1, y1, x2, y2 = (int(v) for v in info['bbox'])
        assert out['img'].shape[:2] == (y2 - y1, x2 - x1), (name, info['bbox'])
        diff = np.abs(out['img'] - expected[name][y1:y2, x1:x2]).mean()
        assert diff < 2 * JPEG_TOL, (name, info['bbox'], diff)
