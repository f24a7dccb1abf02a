"""M views of one object crop, or M crops of one image."""
import copy
from typing import List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform, Compose

from hclmm.registry import TRANSFORMS
from .crop_object_box import CropObjectBox

__all__ = ['ObjectMultiView']


@TRANSFORMS.register_module()
class ObjectMultiView(BaseTransform):
    """M >= 2 augmented views of a sample, for multi-view contrast.

    For an object sample (the box key present, as given by
    :class:`~hclmm.datasets.ObjectCropDataset`), every view crops the box
    with its own context margin, drawn uniformly from ``context_range``
    (see :class:`CropObjectBox`), and then runs ``transforms``: M views of
    the object in slightly different surroundings. Without a box (or with
    ``context_range=None``) every view runs ``transforms`` on the whole
    image: M crops of the image, as mmpretrain's ``MultiView``.

    **Required Keys:** ``img`` (and the box key for object views).

    **Modified Keys:** ``img`` (a list of M images).

    Args:
        transforms (list[dict]): The view pipeline (e.g. RandomResizedCrop,
            colour jitter, flip).
        num_views (int): M, >= 2. Defaults to 2.
        context_range (tuple[float, float], optional): Range of the context
            margin per view, as a fraction of the box size; None: no object
            crop. Defaults to ``(0.0, 0.3)``.
        bbox_key (str): Key of the box. Defaults to ``'bbox'``.
    """

    def __init__(self,
                 transforms: List[dict],
                 num_views: int = 2,
                 context_range: Optional[Sequence[float]] = (0.0, 0.3),
                 bbox_key: str = 'bbox') -> None:
        if not isinstance(num_views, int) or num_views < 2:
            raise ValueError(f'ObjectMultiView: num_views must be an int >= '
                             f'2, got {num_views!r}')
        if context_range is not None and not (
                len(context_range) == 2
                and 0 <= context_range[0] <= context_range[1]):
            raise ValueError('ObjectMultiView: context_range must be (low, '
                             f'high) with 0 <= low <= high, got '
                             f'{context_range!r}')
        self.pipeline = Compose(transforms)
        self.num_views = num_views
        self.context_range = None if context_range is None else tuple(
            float(c) for c in context_range)
        self.bbox_key = bbox_key

    def _view(self, results: dict) -> np.ndarray:
        view = copy.deepcopy(results)
        if self.context_range is not None and self.bbox_key in view:
            context = np.random.uniform(*self.context_range)
            view = CropObjectBox(self.bbox_key, context).transform(view)
        return self.pipeline(view)['img']

    def transform(self, results: dict) -> dict:
        results['img'] = [self._view(results) for _ in range(self.num_views)]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_views={self.num_views}, '
                f'context_range={self.context_range}, '
                f'pipeline={self.pipeline})')
