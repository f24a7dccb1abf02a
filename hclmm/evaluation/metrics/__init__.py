from .scene_object_metric import SceneObjectMetric

__all__ = ['SceneObjectMetric']
