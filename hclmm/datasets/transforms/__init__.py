from .color_jitter import ColorJitter, adjust_hue, sample_jitter_params
from .crop_object_box import CropObjectBox
from .gaussian_blur import GaussianBlur
from .load_scene_image import ImageLoadError, LoadSceneImage, check_image_bytes
from .load_scene_image_bytes import LoadSceneImageBytes
from .object_multi_view import ObjectMultiView
from .sampling import (boxes_hull, mask_box, sample_context_window,
                       sample_scene_indices, to_pixel_window)
from .scene_object_view_params import SceneObjectViewParams
from .scene_object_views import SceneObjectViews

__all__ = [
    'ColorJitter', 'CropObjectBox', 'GaussianBlur', 'ImageLoadError',
    'LoadSceneImage', 'LoadSceneImageBytes', 'ObjectMultiView',
    'SceneObjectViewParams', 'SceneObjectViews', 'adjust_hue', 'boxes_hull',
    'check_image_bytes', 'mask_box', 'sample_context_window',
    'sample_jitter_params', 'sample_scene_indices', 'to_pixel_window'
]
