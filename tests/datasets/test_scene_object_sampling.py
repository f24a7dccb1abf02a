"""Sampling rules of the scene-object transform on hand-made boxes."""
import math

import numpy as np
import pytest

from hclmm.datasets.transforms import (SceneObjectViews, boxes_hull,
                                       mask_box, sample_context_window,
                                       sample_scene_indices, to_pixel_window)


def _coord_image(width, height):
    """uint8 image whose pixel (y, x) stores x and y (mod 256) and x // 256."""
    yy, xx = np.mgrid[0:height, 0:width]
    return np.stack([xx % 256, yy % 256, xx // 256], axis=-1).astype(np.uint8)


def test_hull_is_tight_reference():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 7))
        xy = rng.uniform(0, 200, (n, 2))
        wh = rng.uniform(1, 80, (n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        # slow reference: scan every box
        ref = [math.inf, math.inf, -math.inf, -math.inf]
        for b in boxes:
            ref = [min(ref[0], b[0]), min(ref[1], b[1]),
                   max(ref[2], b[2]), max(ref[3], b[3])]
        assert boxes_hull(boxes) == pytest.approx(ref)


def test_pixel_window_covers_and_clips():
    assert to_pixel_window((10.2, 5.7, 20.1, 30.0), 100, 50) == (10, 5, 21, 30)
    assert to_pixel_window((-3, -1, 120, 70), 100, 50) == (0, 0, 100, 50)
    # a sub-pixel box still gives at least one pixel
    assert to_pixel_window((99.5, 49.5, 99.7, 49.9), 100, 50) == (99, 49, 100,
                                                                    50)


def test_scene_count_rules():
    np.random.seed(0)
    sizes = []
    for _ in range(4000):
        idx = sample_scene_indices(8, object_index=6, min_k=2, max_k=5)
        assert 6 in idx
        assert len(set(idx)) == len(idx)
        assert all(0 <= i < 8 for i in idx)
        sizes.append(len(idx))
    sizes = np.array(sizes)
    # k is 2..5; one more when the object was not among the k drawn
    assert sizes.min() == 2 and sizes.max() == 6
    # P(6 boxes) = P(k=5) * P(object not drawn) = 1/4 * 3/8
    assert abs((sizes == 6).mean() - 0.25 * 3 / 8) < 0.025
    # P(2 boxes) = P(k=2) * P(object drawn) = 1/4 * 2/8
    assert abs((sizes == 2).mean() - 0.25 * 2 / 8) < 0.025


def test_scene_count_capped_by_available_boxes():
    np.random.seed(1)
    for n in (1, 2, 3):
        for _ in range(200):
            idx = sample_scene_indices(n, object_index=n - 1, min_k=2,
                                       max_k=5)
            assert len(idx) <= n and (n - 1) in idx
    assert {len(sample_scene_indices(3, 0, 2, 5)) for _ in range(300)} == {2,
                                                                          3}
    assert sample_scene_indices(1, 0, 2, 5) == [0]


def test_context_window_contains_box_and_stays_inside_non_square():
    """A 300 x 100 image (wide): the window width may reach 256 but its
    height is capped by the image height (100), never the other way round."""
    np.random.seed(0)
    img_w, img_h = 300, 100
    box = (270.0, 40.0, 290.0, 55.0)  # 20 x 15, near the right edge
    widths, heights = [], []
    for _ in range(2000):
        x1, y1, x2, y2 = sample_context_window(box, img_w, img_h, 256 * 256)
        assert x1 <= box[0] + 1e-9 and y1 <= box[1] + 1e-9
        assert x2 >= box[2] - 1e-9 and y2 >= box[3] - 1e-9
        assert x1 >= -1e-9 and y1 >= -1e-9
        assert x2 <= img_w + 1e-9 and y2 <= img_h + 1e-9
        widths.append(x2 - x1)
        heights.append(y2 - y1)
    assert max(widths) > 200  # width range reaches towards 256
    assert max(heights) > 90  # height range reaches the image height
    assert min(widths) < 40 and min(heights) < 30
    # a tall image: the roles swap
    for _ in range(500):
        x1, y1, x2, y2 = sample_context_window((5, 250, 25, 270), 60, 300,
                                               256 * 256)
        assert 0 <= x1 <= 5 and 25 <= x2 <= 60
        assert 0 <= y1 <= 250 and 270 <= y2 <= 300


def _three_box_sample():
    """A 300x100 coordinate image with three boxes, as transform input."""
    img = _coord_image(300, 100)
    boxes = [[250, 10, 280, 40], [20, 50, 60, 95], [100, 5, 130, 30]]
    results = dict(
        img=img,
        img_id=7,
        instances=[dict(bbox=b, bbox_label=k) for k, b in enumerate(boxes)])
    return img, boxes, results


def test_hyperbolic_object_view_from_window_on_request():
    np.random.seed(1)
    _, boxes, results = _three_box_sample()
    t = _transform(jitter_area=64 * 64, hyp_object_crop='window')
    jittered = 0
    for _ in range(50):
        out = t(dict(results))
        np.testing.assert_array_equal(out['img'][3], out['img'][0])
        gx1, gy1, gx2, gy2 = boxes[out['object_index']]
        jittered += out['img'][3].shape[:2] != (gy2 - gy1, gx2 - gx1)
    assert jittered > 0  # the windows really differ from the boxes
    with pytest.raises(ValueError, match='hyp_object_crop'):
        _transform(hyp_object_crop='scene')


def test_large_box_is_not_jittered():
    box = (0.0, 0.0, 300.0, 250.0)
    assert sample_context_window(box, 400, 300, 256 * 256) == box


def _transform(**kwargs):
    cfg = dict(object_view_pipeline=[], scene_view_pipeline=[])
    cfg.update(kwargs)
    return SceneObjectViews(**cfg)


def test_transform_crops_match_windows_on_non_square_image():
    """The views are exactly the pixels of the reported windows; x is the
    width axis and y the height axis."""
    np.random.seed(0)
    img, boxes, results = _three_box_sample()
    t = _transform(jitter_area=64 * 64)
    for _ in range(100):
        out = t(dict(results))
        assert len(out['img']) == 4
        ox1, oy1, ox2, oy2 = out['object_bbox'].astype(int)
        sx1, sy1, sx2, sy2 = out['scene_bbox'].astype(int)
        obj_view, scene_view = out['img'][0], out['img'][2]
        assert obj_view.shape[:2] == (oy2 - oy1, ox2 - ox1)
        assert scene_view.shape[:2] == (sy2 - sy1, sx2 - sx1)
        # top-left pixel of each crop encodes its coordinates
        assert obj_view[0, 0, 0] == ox1 % 256 and obj_view[0, 0, 1] == oy1
        assert scene_view[-1, -1, 1] == sy2 - 1
        np.testing.assert_array_equal(out['img'][1], obj_view)
        # the hyperbolic object view is the annotated box alone
        gx1, gy1, gx2, gy2 = boxes[out['object_index']]
        np.testing.assert_array_equal(out['img'][3], img[gy1:gy2, gx1:gx2])
        np.testing.assert_array_equal(out['object_gt_bbox'],
                                      boxes[out['object_index']])
        # the object window contains the object box and lies in the image
        assert ox1 <= gx1 and oy1 <= gy1 and ox2 >= gx2 and oy2 >= gy2
        assert 0 <= ox1 and ox2 <= 300 and 0 <= oy1 and oy2 <= 100
        assert out['object_label'] == out['object_index']
        # the scene window contains the object box
        assert sx1 <= gx1 and sy1 <= gy1 and sx2 >= gx2 and sy2 >= gy2
        assert 2 <= out['num_objects'] <= 3
        assert out['num_instances'] == 3


def test_scene_window_is_tight_hull_of_drawn_boxes():
    np.random.seed(2)
    rng = np.random.default_rng(2)
    t = _transform(jitter_area=0)
    for _ in range(200):
        n = int(rng.integers(1, 9))
        xy = rng.uniform(0, 150, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(5, 50, (n, 2))], axis=1)
        s = t.sample_boxes(boxes, 200, 200)
        drawn = boxes[s['scene_indices']]
        x1, y1, x2, y2 = s['scene_window']
        # contains every drawn box
        assert (drawn[:, 0] >= x1).all() and (drawn[:, 1] >= y1).all()
        assert (drawn[:, 2] <= x2).all() and (drawn[:, 3] <= y2).all()
        # tight: each side is within one pixel of some drawn box
        assert drawn[:, 0].min() - x1 < 1 and drawn[:, 1].min() - y1 < 1
        assert x2 - drawn[:, 2].max() < 1 and y2 - drawn[:, 3].max() < 1
        assert s['object_index'] in s['scene_indices']
        assert 1 <= len(s['scene_indices']) <= min(n, 6)
        # without jitter the object window is the object box itself
        assert s['object_window'] == to_pixel_window(
            boxes[s['object_index']], 200, 200)


def test_object_drawn_uniformly():
    np.random.seed(3)
    t = _transform()
    boxes = np.array([[0, 0, 300, 300], [10, 10, 290, 290],
                      [20, 20, 280, 280]], dtype=float)
    counts = np.bincount(
        [t.sample_boxes(boxes, 300, 300)['object_index'] for _ in range(3000)],
        minlength=3)
    assert (np.abs(counts / 3000 - 1 / 3) < 0.04).all()


def test_boxes_outside_loaded_image_are_clipped_or_reported():
    img = _coord_image(50, 40)
    t = _transform()
    out = t(dict(img=img, instances=[dict(bbox=[30, 20, 80, 70],
                                          bbox_label=0)]))
    assert out['object_gt_bbox'].tolist() == [30, 20, 50, 40]
    with pytest.raises(ValueError, match=r'a\.png \(image id 4\): none of '
                       'its 1 boxes lies inside'):
        t(dict(img=img, img_path='a.png', img_id=4,
               instances=[dict(bbox=[60, 0, 80, 10], bbox_label=0)]))
    with pytest.raises(ValueError, match=r'b\.png.*no object boxes'):
        t(dict(img=img, img_path='b.png', img_id=5, instances=[]))
    skipper = _transform(on_error='skip')
    assert skipper(dict(img=img, img_path='b.png', instances=[])) is None
    assert skipper.skipped == 1


def test_without_hyperbolic_views_and_bad_arguments():
    img = _coord_image(64, 64)
    t = SceneObjectViews(object_view_pipeline=[], with_hyperbolic_views=False)
    out = t(dict(img=img, instances=[dict(bbox=[0, 0, 30, 30], bbox_label=1),
                                     dict(bbox=[30, 30, 60, 60],
                                          bbox_label=0)]))
    assert len(out['img']) == 2 and t.num_views == 2
    with pytest.raises(ValueError, match='scene_view_pipeline'):
        SceneObjectViews(object_view_pipeline=[])
    with pytest.raises(ValueError, match='min_scene_boxes'):
        _transform(min_scene_boxes=4, max_scene_boxes=3)
    with pytest.raises(ValueError, match='on_error'):
        _transform(on_error='ignore')


def test_nested_boxes_give_a_scene_equal_to_the_object_and_are_flagged():
    """A dog inside the person's box, the person drawn as the object: the
    scene hull is the person's box itself; the sample is kept (as in the
    reference) and flagged, and both hyperbolic views are the same pixels.
    With the dog as the object the scene is the person's box, larger than
    the object, and not flagged."""
    np.random.seed(4)
    img = _coord_image(200, 160)
    person, dog = [20, 10, 180, 150], [60, 80, 120, 140]
    results = dict(
        img=img, img_shape=(160, 200), ori_shape=(160, 200),
        instances=[dict(bbox=person, bbox_label=0),
                   dict(bbox=dog, bbox_label=1)])
    t = _transform(jitter_area=0)
    seen = set()
    for _ in range(50):
        out = t(dict(results))
        seen.add(out['object_index'])
        assert out['scene_bbox'].tolist() == [20, 10, 180, 150]
        if out['object_index'] == 0:
            assert out['scene_is_object']
            np.testing.assert_array_equal(out['img'][2], out['img'][3])
        else:
            assert not out['scene_is_object']
            assert out['img'][3].shape[:2] == (60, 60)
    assert seen == {0, 1}


def test_mask_object_in_scene_fills_exactly_the_object_box():
    """With ``mask_object_in_scene`` the scene view is the scene window with
    the object's box (and nothing else) filled; the other views and the
    image are untouched."""
    np.random.seed(3)
    img, boxes, results = _three_box_sample()
    original = img.copy()
    t = _transform(jitter_area=64 * 64, mask_object_in_scene=(7, 8, 9))
    for _ in range(30):
        out = t(dict(results))
        sx1, sy1, sx2, sy2 = out['scene_bbox'].astype(int)
        gx1, gy1, gx2, gy2 = boxes[out['object_index']]
        want = img[sy1:sy2, sx1:sx2].copy()
        want[gy1 - sy1:gy2 - sy1, gx1 - sx1:gx2 - sx1] = (7, 8, 9)
        np.testing.assert_array_equal(out['img'][2], want)
        # the object views still show the object
        np.testing.assert_array_equal(out['img'][3], img[gy1:gy2, gx1:gx2])
    np.testing.assert_array_equal(img, original)
    # one value fills every channel
    grey = _transform(mask_object_in_scene=[120])(dict(results))
    gx1, gy1, gx2, gy2 = boxes[grey['object_index']]
    sx1, sy1 = grey['scene_bbox'][:2].astype(int)
    assert (grey['img'][2][gy1 - sy1:gy2 - sy1, gx1 - sx1:gx2 - sx1] ==
            120).all()
    with pytest.raises(ValueError, match='mask_object_in_scene'):
        _transform(mask_object_in_scene=[1, 2])


def test_mask_box_clips_to_the_crop():
    crop = np.zeros((4, 5, 3), np.uint8)
    out = mask_box(crop, (8, 11, 20, 30), origin=(6, 10), fill=np.array([5]))
    assert out is not crop and not crop.any()
    want = np.zeros_like(crop)
    want[1:, 2:] = 5
    np.testing.assert_array_equal(out, want)
    # a box outside the crop changes nothing
    np.testing.assert_array_equal(
        mask_box(crop, (0, 0, 3, 3), origin=(6, 10), fill=np.array([5])),
        crop)
