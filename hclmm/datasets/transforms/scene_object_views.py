"""The scene-object transform: object crop, scene crop and their views."""
import logging
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmengine.logging import print_log

from hclmm.registry import TRANSFORMS
from ..utils import build_transforms, check_on_error
from .sampling import (boxes_hull, mask_box, sample_context_window,
                       sample_scene_indices, to_pixel_window)

__all__ = ['SceneObjectViews']


@TRANSFORMS.register_module()
class SceneObjectViews(BaseTransform):
    """Sample an object crop and a scene crop and make the training views.

    Per sample, from the (already filtered) ``instances``:

    1. **Object**: one box is picked uniformly. If its area is below
       ``jitter_area``, a random larger window that still contains it is
       taken instead (context jitter, see
       :func:`~hclmm.datasets.transforms.sampling.sample_context_window`).
    2. **Scene**: ``k`` boxes are drawn, ``k`` uniform in
       ``min_scene_boxes .. max_scene_boxes`` (capped by the number of
       boxes), the object box is added if it was not drawn, and the tight
       hull of those boxes is the scene crop. When every drawn box lies
       inside the object box (nested boxes: a dog inside the person's box
       with the person as the object) the hull is the object box itself:
       the sample is kept, as in the reference, and flagged
       ``scene_is_object=True``; its two hyperbolic views are then two
       augmentations of one crop, a pair at the apex of the entailment
       cone, which :class:`~hclmm.models.losses.EntailmentConeLoss` tapers
       to zero instead of letting its gradient grow without bound.
    3. **Views**: ``img`` becomes a list in this fixed order::

           [object view 1, ..., object view N,     # object_view_pipeline
            scene view, object view (hyperbolic)]  # scene_view_pipeline

       with ``N = num_object_views`` (2 for MoCo-style methods). The last
       two are only present with ``with_hyperbolic_views=True``. The
       Euclidean object views are made from the context window of step 1;
       the hyperbolic object view, as in the reference code, from the
       annotated box itself (``hyp_object_crop='box'``), so the object the
       scene is tied to is the object alone, as at zero-shot time.
       With ``mask_object_in_scene`` the object's box is filled in the scene
       view.

    Boxes are clipped to the loaded image; crops use the smallest integer
    pixel window covering a box.

    **Required Keys:** ``img``, ``instances`` (each with ``bbox`` and
    ``bbox_label``).

    **Modified Keys:** ``img`` (a list of views).

    **Added Keys:** ``object_bbox`` (the object window that was cropped),
    ``object_gt_bbox`` (the annotated object box), ``scene_bbox`` (the scene
    window), ``object_label`` (contiguous label of the object),
    ``object_index`` (its index in ``instances``), ``num_objects`` (boxes
    that define the scene crop, the object included), ``num_instances``
    (boxes in the image), ``scene_is_object`` (the scene window equals the
    object box, see step 2). ``img_id`` and ``scene_type`` of the data info are
    left in place. Boxes are ``float32`` arrays ``[x1, y1, x2, y2]`` in
    pixels of the original image.

    Args:
        object_view_pipeline (Sequence[dict | callable]): Transforms for the
            object views of the Euclidean branch (e.g. MoCo v2's
            RandomResizedCrop, colour jitter, grayscale, blur, flip).
        scene_view_pipeline (Sequence[dict | callable], optional):
            Transforms for the scene view and the hyperbolic object view
            (a fixed-size ``Resize`` plus colour/blur/flip, no random crop).
            Required when ``with_hyperbolic_views=True``. Defaults to None.
        num_object_views (int): Views from ``object_view_pipeline``.
            Defaults to 2.
        with_hyperbolic_views (bool): Add the scene view and the hyperbolic
            object view. Defaults to True.
        min_scene_boxes (int): Fewest boxes drawn for the scene.
            Defaults to 2.
        max_scene_boxes (int): Most boxes drawn for the scene.
            Defaults to 5.
        jitter_area (float): Objects smaller than this area (pixels) get a
            random context window. 0 disables the jitter.
            Defaults to 256 * 256.
        hyp_object_crop (str): What the hyperbolic object view is cut from:
            ``'box'`` (the annotated box, the reference's choice) or
            ``'window'`` (the same context window as the Euclidean views).
            Defaults to ``'box'``.
        mask_object_in_scene (Sequence[float], optional): Fill the object's
            box in the scene crop with this value (one, or one per channel
            of the loaded image), so the scene view shows the object's
            *context* only: the scene-object terms then learn which objects
            a context holds instead of finding the object's pixels inside
            the scene (docs/zero_shot.md). None keeps the object visible
            (the reference). Defaults to None.
        on_error (str): What to do with a sample without any usable box:
            ``'raise'`` an error naming the image, or ``'skip'`` (return
            None so the dataset fetches another sample, with a warning).
            Defaults to ``'raise'``.
    """

    def __init__(self,
                 object_view_pipeline: Sequence[Union[dict, Callable]],
                 scene_view_pipeline: Optional[Sequence[Union[
                     dict, Callable]]] = None,
                 num_object_views: int = 2,
                 with_hyperbolic_views: bool = True,
                 min_scene_boxes: int = 2,
                 max_scene_boxes: int = 5,
                 jitter_area: float = 256 * 256,
                 hyp_object_crop: str = 'box',
                 mask_object_in_scene: Optional[Sequence[float]] = None,
                 on_error: str = 'raise') -> None:
        name = 'SceneObjectViews'
        if num_object_views < 1:
            raise ValueError(f'{name}: num_object_views must be >= 1, got '
                             f'{num_object_views}')
        if not 1 <= min_scene_boxes <= max_scene_boxes:
            raise ValueError(
                f'{name}: need 1 <= min_scene_boxes <= max_scene_boxes, got '
                f'{min_scene_boxes} and {max_scene_boxes}')
        if jitter_area < 0:
            raise ValueError(f'{name}: jitter_area must be >= 0, got '
                             f'{jitter_area}')
        if hyp_object_crop not in ('box', 'window'):
            raise ValueError(f"{name}: hyp_object_crop must be 'box' or "
                             f"'window', got {hyp_object_crop!r}")
        if with_hyperbolic_views and scene_view_pipeline is None:
            raise ValueError(f'{name}: with_hyperbolic_views=True needs a '
                             'scene_view_pipeline')
        self.object_pipeline = Compose(
            build_transforms(object_view_pipeline, name))
        self.scene_pipeline = Compose(
            build_transforms(scene_view_pipeline, name)) \
            if scene_view_pipeline is not None else None
        self.num_object_views = int(num_object_views)
        self.with_hyperbolic_views = with_hyperbolic_views
        self.min_scene_boxes = int(min_scene_boxes)
        self.max_scene_boxes = int(max_scene_boxes)
        self.jitter_area = float(jitter_area)
        self.hyp_object_crop = hyp_object_crop
        self.mask_fill = None
        if mask_object_in_scene is not None:
            self.mask_fill = np.asarray(mask_object_in_scene, np.float32)
            if self.mask_fill.ndim != 1 or len(self.mask_fill) not in (1, 3):
                raise ValueError(
                    f'{name}: mask_object_in_scene must be one value or one '
                    f'per channel, got {mask_object_in_scene!r}')
        self.on_error = check_on_error(on_error, name)
        self.skipped = 0

    @property
    def num_views(self) -> int:
        """Length of the ``img`` list this transform produces."""
        return self.num_object_views + (2 if self.with_hyperbolic_views else
                                        0)

    def _fail(self, results: dict, detail: str):
        where = (f"image {results.get('img_path')} "
                 f"(image id {results.get('img_id')})")
        if self.on_error == 'raise':
            raise ValueError(f'SceneObjectViews: {where}: {detail}')
        self.skipped += 1
        print_log(
            f'SceneObjectViews: skipped {where}: {detail}. Skipped so far: '
            f'{self.skipped}',
            logger='current',
            level=logging.WARNING)
        return None

    @staticmethod
    def _view(pipeline: Compose, crop: np.ndarray) -> np.ndarray:
        out = pipeline(
            dict(img=crop.copy(), img_shape=crop.shape[:2],
                 ori_shape=crop.shape[:2]))
        if out is None:
            raise RuntimeError('SceneObjectViews: a view transform returned '
                               'None')
        return out['img']

    def sample_boxes(self, boxes: np.ndarray, img_w: int, img_h: int) -> dict:
        """Draw the object window and the scene window for given boxes.

        Args:
            boxes (np.ndarray): ``(N, 4)`` boxes, ``N >= 1``, inside the
                image.
            img_w (int): Image width.
            img_h (int): Image height.

        Returns:
            dict: ``object_index``, ``object_window`` (the context window),
            ``object_box`` (the box itself) and ``scene_window`` (integer
            pixel windows) and ``scene_indices``.
        """
        n = len(boxes)
        obj = int(np.random.randint(n))
        window = boxes[obj]
        if self.jitter_area > 0:
            window = sample_context_window(window, img_w, img_h,
                                           self.jitter_area)
        scene_idx = sample_scene_indices(n, obj, self.min_scene_boxes,
                                         self.max_scene_boxes)
        hull = boxes_hull(boxes[scene_idx])
        return dict(
            object_index=obj,
            object_window=to_pixel_window(window, img_w, img_h),
            object_box=to_pixel_window(boxes[obj], img_w, img_h),
            scene_window=to_pixel_window(hull, img_w, img_h),
            scene_indices=scene_idx)

    def usable_boxes(self, results: dict, img_w: int, img_h: int):
        """The boxes of ``instances`` clipped to the image, empty ones left
        out.

        Returns:
            tuple | None: ``(boxes, index)``: ``(N, 4)`` float64 boxes and
            their indices in ``instances``; None when the sample was
            skipped (``on_error='skip'``).
        """
        instances = results.get('instances') or []
        if not instances:
            return self._fail(results, 'no object boxes in the sample')
        boxes = np.array([inst['bbox'] for inst in instances],
                         dtype=np.float64).reshape(-1, 4)
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, img_w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, img_h)
        index = np.arange(len(boxes))
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        if not valid.all():
            if not valid.any():
                return self._fail(
                    results, f'none of its {len(boxes)} boxes lies inside '
                    f'the {img_w}x{img_h} image')
            index = np.flatnonzero(valid)
            boxes = boxes[index]
        return boxes, index

    @staticmethod
    def write_sample_fields(results: dict, s: dict, boxes: np.ndarray,
                            index: np.ndarray) -> None:
        """Store the sampled windows and counts (the added keys)."""
        obj = s['object_index']
        results['object_bbox'] = np.array(s['object_window'], np.float32)
        results['object_gt_bbox'] = boxes[obj].astype(np.float32)
        results['scene_bbox'] = np.array(s['scene_window'], np.float32)
        results['object_label'] = int(
            results['instances'][index[obj]]['bbox_label'])
        results['object_index'] = int(index[obj])
        results['num_objects'] = len(s['scene_indices'])
        results['num_instances'] = len(boxes)
        results['scene_is_object'] = s['scene_window'] == s['object_box']

    def transform(self, results: dict) -> Optional[dict]:
        img = results['img']
        img_h, img_w = img.shape[:2]
        usable = self.usable_boxes(results, img_w, img_h)
        if usable is None:
            return None
        boxes, index = usable
        s = self.sample_boxes(boxes, img_w, img_h)
        ox1, oy1, ox2, oy2 = s['object_window']
        sx1, sy1, sx2, sy2 = s['scene_window']
        obj_crop = img[oy1:oy2, ox1:ox2]
        views: List[np.ndarray] = [
            self._view(self.object_pipeline, obj_crop)
            for _ in range(self.num_object_views)
        ]
        if self.with_hyperbolic_views:
            scene_crop = img[sy1:sy2, sx1:sx2]
            if self.mask_fill is not None:
                scene_crop = mask_box(scene_crop, s['object_box'],
                                      (sx1, sy1), self.mask_fill)
            views.append(self._view(self.scene_pipeline, scene_crop))
            if self.hyp_object_crop == 'box':
                bx1, by1, bx2, by2 = s['object_box']
                hyp_obj_crop = img[by1:by2, bx1:bx2]
            else:
                hyp_obj_crop = obj_crop
            views.append(self._view(self.scene_pipeline, hyp_obj_crop))
        results['img'] = views
        self.write_sample_fields(results, s, boxes, index)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'num_object_views={self.num_object_views}, '
                f'with_hyperbolic_views={self.with_hyperbolic_views}, '
                f'scene_boxes={self.min_scene_boxes}..{self.max_scene_boxes}'
                f', jitter_area={self.jitter_area:g}, '
                f'hyp_object_crop={self.hyp_object_crop!r}, '
                f'mask_object_in_scene={self.mask_fill}, '
                f'on_error={self.on_error!r},\n'
                f'  object_view_pipeline={self.object_pipeline},\n'
                f'  scene_view_pipeline={self.scene_pipeline})')
