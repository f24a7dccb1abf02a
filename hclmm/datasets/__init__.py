# mmpretrain's transforms (PackInputs, ColorJitter, ...) and datasets must be
# registered before hclmm's registries fall back to them
import mmpretrain.datasets  # noqa: F401

from .base_scene_object import BaseSceneObjectDataset
from .object_crop import ObjectCropDataset
from .scene_object_coco import SceneObjectCocoDataset, load_coco_json
from .scene_object_crops import SceneObjectCropDataset
from .scene_object_openimages import SceneObjectOpenImagesDataset
from .transforms import *  # noqa: F401,F403
from .utils import AnnotationError

__all__ = [
    'SceneObjectCropDataset',
    'AnnotationError', 'BaseSceneObjectDataset', 'ObjectCropDataset',
    'SceneObjectCocoDataset', 'SceneObjectOpenImagesDataset', 'load_coco_json'
]
