"""A view pipeline read as parameters: what the GPU view path samples.

:func:`parse_view_pipeline` reads the transforms of a scene-object view
pipeline (the same list the CPU path runs) and :func:`sample_view_params`
draws their random parameters from the transforms' settings with hclmm's
own code (public methods of the transforms where they have one), from the
same distributions and generators as the CPU pipeline and in its order, so
both paths sample from the same distributions (and, for the same seed,
draw the same numbers).

A view's parameters are one float32 row laid out as :data:`VIEW_PARAM_FIELDS`:
``jitter`` (1 if colour jitter is applied), ``order0..order3`` (the order
of brightness 0, contrast 1, saturation 2, hue 3), the four factors
(identity when off: 1, 1, 1, 0), ``gray`` (1 if converted to grayscale),
``gray_r/g/b`` (normalised weights in RGB order), ``blur_sigma`` (0 when
no blur), ``flip`` (1 for a horizontal flip), and ``mask`` (1 when a box of
the view is filled before the photometric steps, see
``SceneObjectViews(mask_object_in_scene=...)``) with that box
``mask_x1..mask_y2`` (image pixels) and its fill ``mask_r/g/b``.
"""
import random
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import RandomApply, RandomFlip, RandomGrayscale, Resize
from mmpretrain.datasets.transforms import ColorJitter as _ColorJitter
from mmpretrain.datasets.transforms import GaussianBlur, RandomResizedCrop

from .color_jitter import sample_jitter_params

__all__ = [
    'VIEW_PARAM_FIELDS', 'ViewRecipe', 'parse_view_pipeline',
    'sample_view_params', 'param_index', 'recipe_sizes'
]

VIEW_PARAM_FIELDS = ('jitter', 'order0', 'order1', 'order2', 'order3',
                     'brightness', 'contrast', 'saturation', 'hue', 'gray',
                     'gray_r', 'gray_g', 'gray_b', 'blur_sigma', 'flip',
                     'mask', 'mask_x1', 'mask_y1', 'mask_x2', 'mask_y2',
                     'mask_r', 'mask_g', 'mask_b')
_IDENTITY = dict(order0=0, order1=1, order2=2, order3=3, brightness=1,
                 contrast=1, saturation=1, gray_r=1 / 3, gray_g=1 / 3,
                 gray_b=1 / 3)
# order of the photometric steps after the crop, as the CPU configs list them
_STEP_ORDER = ('jitter', 'gray', 'blur', 'flip')


def param_index(name: str) -> int:
    """Column of the field ``name`` in a view's parameter row."""
    return VIEW_PARAM_FIELDS.index(name)


class ViewRecipe(NamedTuple):
    """The transforms of one view pipeline, by role."""
    size: Tuple[int, int]  # output (height, width)
    crop: Optional[RandomResizedCrop]  # None: resize the whole window
    # (the RandomApply around it or None, the ColorJitter)
    jitter: Optional[Tuple[Optional[RandomApply], _ColorJitter]]
    gray: Optional[RandomGrayscale]
    blur: Optional[GaussianBlur]
    flip: Optional[RandomFlip]


def _unsupported(where: str, t, why: str) -> ValueError:
    return ValueError(f'{where}: {type(t).__name__} {why}; the GPU view path '
                      'supports RandomResizedCrop or Resize (bilinear, fixed '
                      'size) followed by ColorJitter (optionally in '
                      'RandomApply), RandomGrayscale (keep_channels=True), '
                      'GaussianBlur and RandomFlip (horizontal), in this '
                      'order')


def _geometry(t, where: str) -> Tuple[Tuple[int, int], Optional[object]]:
    if isinstance(t, RandomResizedCrop):
        if t.interpolation != 'bilinear':
            raise _unsupported(where, t, f'with interpolation '
                               f'{t.interpolation!r} (only bilinear)')
        return (int(t.scale[0]), int(t.scale[1])), t  # (h, w)
    if isinstance(t, Resize):
        if t.keep_ratio or t.scale is None or \
                getattr(t, 'interpolation', 'bilinear') != 'bilinear':
            raise _unsupported(where, t, 'must have a fixed scale, '
                               'keep_ratio=False and bilinear interpolation')
        return (int(t.scale[1]), int(t.scale[0])), None  # scale is (w, h)
    raise _unsupported(where, t, 'cannot be the first step')


def _step(t, where: str):
    """``(role, value)`` of a photometric transform."""
    if isinstance(t, RandomApply):
        inner = list(t.transforms.transforms)
        if len(inner) != 1 or not isinstance(inner[0], _ColorJitter):
            raise _unsupported(where, t, 'may only wrap one ColorJitter')
        return 'jitter', (t, inner[0])
    if isinstance(t, _ColorJitter):
        return 'jitter', (None, t)
    if isinstance(t, RandomGrayscale):
        if not t.keep_channels or t.color_format != 'bgr':
            raise _unsupported(where, t, 'needs keep_channels=True and '
                               "color_format='bgr'")
        return 'gray', t
    if isinstance(t, GaussianBlur):
        return 'blur', t
    if isinstance(t, RandomFlip):
        if t.direction != 'horizontal' or not isinstance(t.prob, float):
            raise _unsupported(where, t, 'must flip horizontally with one '
                               'probability')
        return 'flip', t
    raise _unsupported(where, t, 'is not supported')


def parse_view_pipeline(transforms: Sequence, where: str) -> ViewRecipe:
    """Read a built view pipeline (a list of transform objects).

    Args:
        transforms (Sequence): The transforms, e.g. ``Compose.transforms``.
        where (str): Name for error messages.

    Returns:
        ViewRecipe: The recipe; a ``ValueError`` names any transform the
        GPU view path cannot reproduce.
    """
    if not transforms:
        raise ValueError(f'{where}: the view pipeline is empty')
    size, crop = _geometry(transforms[0], where)
    steps, last = {}, -1
    for t in transforms[1:]:
        role, value = _step(t, where)
        pos = _STEP_ORDER.index(role)
        if role in steps or pos < last:
            raise _unsupported(where, t, 'is repeated or out of order')
        steps[role], last = value, pos
    return ViewRecipe(size, crop, steps.get('jitter'), steps.get('gray'),
                      steps.get('blur'), steps.get('flip'))


def _flips(prob: float) -> bool:
    """Whether a horizontal ``RandomFlip(prob=prob)`` flips: mmcv's draw,
    ``np.random.choice`` between the direction (``prob``) and no flip."""
    return np.random.choice(2, p=[prob, 1. - prob]) == 0


def sample_view_params(recipe: ViewRecipe,
                       window: Sequence[int],
                       mask: Optional[Tuple[Sequence[float],
                                            Sequence[float]]] = None
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one view's crop box and photometric parameters.

    The random numbers come from the generators the CPU pipeline draws
    them from (numpy's global one; Python's ``random`` for the grayscale
    coin), in the order it draws them when it makes this view from the crop
    ``window``.

    Args:
        recipe (ViewRecipe): From :func:`parse_view_pipeline`.
        window (Sequence[int]): Integer crop ``(x1, y1, x2, y2)`` in image
            pixels (what the CPU path cuts out before the view pipeline).
        mask (tuple, optional): ``(box, fill_rgb)``: an image-pixel box to
            fill with ``fill_rgb`` before the photometric steps.
            Defaults to None.

    Returns:
        tuple: ``box`` (4,) float32, the region of the image the view shows
        (pixel edges, ``x`` along the width), and ``params`` float32 laid
        out as :data:`VIEW_PARAM_FIELDS`.
    """
    x1, y1, x2, y2 = (int(v) for v in window)
    box = [x1, y1, x2, y2]
    if recipe.crop is not None:
        # only the shape of the crop is read
        shape_only = np.empty((y2 - y1, x2 - x1, 0), np.uint8)
        off_h, off_w, th, tw = recipe.crop.rand_crop_params(shape_only)
        box = [x1 + off_w, y1 + off_h, x1 + off_w + tw, y1 + off_h + th]
    p = dict(_IDENTITY)
    if recipe.jitter is not None:
        wrapper, cj = recipe.jitter
        if wrapper is None or wrapper.random_apply():
            order, b, c, s, h = sample_jitter_params(cj)
            p['jitter'] = 1
            p.update({f'order{i}': int(k) for i, k in enumerate(order)})
            for name, v in zip(('brightness', 'contrast', 'saturation',
                                'hue'), (b, c, s, h)):
                if v is not None:
                    p[name] = v
    # mmcv's RandomGrayscale tosses Python's random.random()
    if recipe.gray is not None and random.random() < recipe.gray.prob:
        w = np.asarray(recipe.gray.channel_weights, np.float64)
        w = w / w.sum()
        p.update(gray=1, gray_r=w[2], gray_g=w[1], gray_b=w[0])  # BGR in
    if recipe.blur is not None and not recipe.blur.random_disable():
        p['blur_sigma'] = recipe.blur.radius \
            if recipe.blur.radius is not None \
            else recipe.blur.random_magnitude()
    if recipe.flip is not None and _flips(recipe.flip.prob):
        p['flip'] = 1
    if mask is not None:
        (mx1, my1, mx2, my2), fill = mask
        p.update(mask=1, mask_x1=mx1, mask_y1=my1, mask_x2=mx2, mask_y2=my2,
                 mask_r=fill[0], mask_g=fill[1], mask_b=fill[2])
    row = np.array([float(p.get(name, 0)) for name in VIEW_PARAM_FIELDS],
                   np.float32)
    return np.array(box, np.float32), row


def recipe_sizes(recipes: List[ViewRecipe]) -> np.ndarray:
    """``(V, 2)`` output sizes ``(height, width)`` of a list of views."""
    return np.array([r.size for r in recipes], np.int64).reshape(-1, 2)
