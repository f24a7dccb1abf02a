from .dump_embeddings import DumpEmbeddings
from .scene_object_metric import SceneObjectMetric

__all__ = ['DumpEmbeddings', 'SceneObjectMetric']
