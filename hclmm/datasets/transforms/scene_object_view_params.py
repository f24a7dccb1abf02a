"""The scene-object transform of the GPU view path: geometry only."""
from typing import Optional

import numpy as np

from hclmm.registry import TRANSFORMS
from .scene_object_views import SceneObjectViews
from .view_recipe import parse_view_pipeline, recipe_sizes, sample_view_params

__all__ = ['SceneObjectViewParams']


@TRANSFORMS.register_module()
class SceneObjectViewParams(SceneObjectViews):
    """Sample what :class:`SceneObjectViews` samples, but cut nothing.

    Takes the same arguments as :class:`SceneObjectViews` and draws the same
    random numbers in the same order (object box, context window, scene
    hull, then per view the random-resized-crop box, colour jitter,
    grayscale, blur and flip parameters, with the view transforms' own
    methods), so both paths sample from the same distributions. The views
    themselves are made for the whole batch by
    :class:`~hclmm.models.data_preprocessors.SceneObjectViewPreprocessor`.

    The image is not needed here: only ``img_shape`` (from
    :class:`LoadSceneImageBytes` or :class:`LoadSceneImage`); ``img`` is
    left as it is.

    **Added Keys:** those of :class:`SceneObjectViews`, plus
    ``view_boxes`` (``(V, 4)`` float32, the image region each view shows,
    pixel edges ``x1, y1, x2, y2``), ``view_params`` (``(V, 15)`` float32,
    see :data:`~hclmm.datasets.transforms.view_recipe.VIEW_PARAM_FIELDS`)
    and ``view_sizes`` (``(V, 2)`` int64 output ``height, width``), in the
    view order of :class:`SceneObjectViews`. Pack them with
    ``PackInputs(meta_keys=(..., 'view_boxes', 'view_params',
    'view_sizes', 'img_orientation', 'img_shape'))``.

    Args:
        **kwargs: Arguments of :class:`SceneObjectViews`. The view
            pipelines may hold RandomResizedCrop or Resize, then
            ColorJitter (optionally in RandomApply), RandomGrayscale,
            GaussianBlur and RandomFlip, in this order; anything else is
            rejected with an error naming it.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.object_recipe = parse_view_pipeline(
            self.object_pipeline.transforms,
            'SceneObjectViewParams: object_view_pipeline')
        self.scene_recipe = parse_view_pipeline(
            self.scene_pipeline.transforms,
            'SceneObjectViewParams: scene_view_pipeline') \
            if self.with_hyperbolic_views else None
        recipes = [self.object_recipe] * self.num_object_views
        if self.with_hyperbolic_views:
            recipes += [self.scene_recipe] * 2
        self.view_sizes = recipe_sizes(recipes)

    def transform(self, results: dict) -> Optional[dict]:
        if 'img_shape' not in results:
            raise KeyError('SceneObjectViewParams: no "img_shape" in the '
                           'results; load the image with LoadSceneImageBytes '
                           'first')
        img_h, img_w = results['img_shape'][:2]
        usable = self.usable_boxes(results, img_w, img_h)
        if usable is None:
            return None
        boxes, index = usable
        s = self.sample_boxes(boxes, img_w, img_h)
        jobs = [(self.object_recipe, s['object_window'])] * \
            self.num_object_views
        if self.with_hyperbolic_views:
            hyp_obj = s['object_box'] if self.hyp_object_crop == 'box' \
                else s['object_window']
            jobs += [(self.scene_recipe, s['scene_window']),
                     (self.scene_recipe, hyp_obj)]
        masks = [None] * len(jobs)
        if self.with_hyperbolic_views and self.mask_fill is not None:
            # the fill is given in the loaded image's (BGR) channel order
            fill = np.broadcast_to(self.mask_fill, (3, ))[::-1]
            masks[self.num_object_views] = (s['object_box'], fill)
        drawn = [
            sample_view_params(recipe, win, mask)
            for (recipe, win), mask in zip(jobs, masks)
        ]
        results['view_boxes'] = np.stack([box for box, _ in drawn])
        results['view_params'] = np.stack([p for _, p in drawn])
        results['view_sizes'] = self.view_sizes.copy()
        results.setdefault('img_orientation', 1)
        self.write_sample_fields(results, s, boxes, index)
        return results
