from .scene_object_view_preprocessor import SceneObjectViewPreprocessor

__all__ = ['SceneObjectViewPreprocessor']
