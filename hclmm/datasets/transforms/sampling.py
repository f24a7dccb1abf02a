"""Box sampling rules of the scene-object transform (pure functions).

All boxes are ``(x1, y1, x2, y2)`` in pixels; ``x`` runs along the image
width and ``y`` along its height. Random numbers come from numpy's global
generator (``np.random``), which mmengine seeds per worker, as mmcv's
transforms do.
"""
import math
from typing import List, Sequence, Tuple

import numpy as np

__all__ = [
    'to_pixel_window', 'sample_context_window', 'sample_scene_indices',
    'boxes_hull', 'mask_box'
]

Box = Tuple[float, float, float, float]


def to_pixel_window(box: Sequence[float], img_w: int,
                    img_h: int) -> Tuple[int, int, int, int]:
    """Smallest integer window that covers ``box``, clipped to the image.

    Args:
        box (Sequence[float]): ``(x1, y1, x2, y2)``.
        img_w (int): Image width.
        img_h (int): Image height.

    Returns:
        tuple[int, int, int, int]: ``(x1, y1, x2, y2)`` with
        ``0 <= x1 < x2 <= img_w`` and ``0 <= y1 < y2 <= img_h``.
    """
    x1 = min(max(int(math.floor(box[0])), 0), img_w - 1)
    y1 = min(max(int(math.floor(box[1])), 0), img_h - 1)
    x2 = max(min(int(math.ceil(box[2])), img_w), x1 + 1)
    y2 = max(min(int(math.ceil(box[3])), img_h), y1 + 1)
    return x1, y1, x2, y2


def sample_context_window(box: Sequence[float], img_w: float, img_h: float,
                          jitter_area: float) -> Box:
    """Context jitter: a random window that contains a small box.

    A box whose area is at least ``jitter_area`` is returned unchanged.
    Otherwise, with ``s = sqrt(jitter_area)``, the window width is drawn
    uniformly from ``[w, max(w, min(s, img_w))]`` and the window height
    from ``[h, max(h, min(s, img_h))]`` (width against the image width,
    height against the image height), and the window is placed uniformly
    among the positions that contain the box and stay inside the image.

    Args:
        box (Sequence[float]): The object box, inside the image.
        img_w (float): Image width.
        img_h (float): Image height.
        jitter_area (float): Boxes smaller than this area get context.

    Returns:
        tuple: The window ``(x1, y1, x2, y2)``.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    if w * h >= jitter_area:
        return x1, y1, x2, y2
    side = math.sqrt(jitter_area)
    win_w = np.random.uniform(w, max(w, min(side, img_w)))
    win_h = np.random.uniform(h, max(h, min(side, img_h)))
    # left edge: contain the box (<= x1, >= x2 - win_w), stay inside the
    # image (>= 0, <= img_w - win_w)
    lo_x, hi_x = max(0.0, x2 - win_w), min(x1, img_w - win_w)
    lo_y, hi_y = max(0.0, y2 - win_h), min(y1, img_h - win_h)
    wx1 = np.random.uniform(lo_x, max(lo_x, hi_x))
    wy1 = np.random.uniform(lo_y, max(lo_y, hi_y))
    return wx1, wy1, wx1 + win_w, wy1 + win_h


def sample_scene_indices(num_boxes: int, object_index: int, min_k: int,
                         max_k: int) -> List[int]:
    """Pick the boxes whose hull is the scene crop.

    ``k`` is drawn uniformly from ``min_k .. max_k`` (both capped by
    ``num_boxes``), ``k`` distinct boxes are drawn uniformly, and the object
    box is added when it was not drawn.

    Args:
        num_boxes (int): Number of boxes in the image (>= 1).
        object_index (int): Index of the object box.
        min_k (int): Fewest boxes drawn.
        max_k (int): Most boxes drawn.

    Returns:
        list[int]: Sorted box indices; always contains ``object_index``.
    """
    hi = min(max_k, num_boxes)
    lo = min(min_k, hi)
    k = np.random.randint(lo, hi + 1)
    chosen = set(np.random.choice(num_boxes, size=k, replace=False).tolist())
    chosen.add(int(object_index))
    return sorted(chosen)


def boxes_hull(boxes: np.ndarray) -> Box:
    """Tight hull ``(min x1, min y1, max x2, max y2)`` of ``(N, 4)`` boxes."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max()))


def mask_box(crop: np.ndarray, box, origin, fill) -> np.ndarray:
    """A copy of ``crop`` with ``box`` filled with ``fill``.

    Args:
        crop (np.ndarray): H x W (x C) image crop.
        box (Sequence[int]): ``[x1, y1, x2, y2]`` pixel window in the
            coordinates of the full image.
        origin (Sequence[int]): ``(x, y)`` of the crop's top-left pixel in
            the full image.
        fill (np.ndarray): One value, or one per channel.

    Returns:
        np.ndarray: The masked copy (same dtype); the part of ``box`` outside
        the crop is ignored.
    """
    out = crop.copy()
    ox, oy = origin
    h, w = crop.shape[:2]
    x1, x2 = max(0, box[0] - ox), min(w, box[2] - ox)
    y1, y2 = max(0, box[1] - oy), min(h, box[3] - oy)
    if x1 < x2 and y1 < y2:
        out[y1:y2, x1:x2] = np.asarray(fill).astype(out.dtype)
    return out
