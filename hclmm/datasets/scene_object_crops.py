"""Scenes and their object crops, one sample per crop (zero-shot metrics)."""
from typing import List

from hclmm.registry import DATASETS
from .object_crop import ObjectCropDataset

__all__ = ['SceneObjectCropDataset']


@DATASETS.register_module()
class SceneObjectCropDataset(ObjectCropDataset):
    """Every image as a *scene* sample followed by its boxes as *object*
    samples, for :class:`~hclmm.evaluation.SceneObjectMetric`.

    The COCO parsing and filters are :class:`SceneObjectCocoDataset`'s. Each
    sample has a ``bbox`` to crop (the whole image for a scene), and
    ``scene_index`` (position of its image among the kept images),
    ``is_scene``, ``object_label`` (contiguous category, -1 for scenes) and
    ``out_of_context`` (0/1, from the annotation's ``out_of_context``
    field, 0 when absent). A pipeline of
    :class:`~hclmm.datasets.transforms.LoadSceneImage`,
    :class:`~hclmm.datasets.transforms.CropObjectBox`, a square ``Resize``
    and ``PackInputs`` with those four keys in ``meta_keys`` gives one
    image tensor per sample, so the default collate and the model's data
    preprocessor work as in training.

    Args:
        ann_file (str): COCO json.
        min_box_size (float): Smallest kept box side in pixels.
            Defaults to 1.
        min_boxes (int): Fewest kept boxes an image needs. Defaults to 1.
        **kwargs: See :class:`SceneObjectCocoDataset`.
    """

    #: The ``PackInputs`` meta keys the metric reads.
    META_KEYS = ('sample_idx', 'scene_index', 'is_scene', 'object_label',
                 'out_of_context', 'img_id')

    def __init__(self,
                 ann_file: str,
                 min_box_size: float = 1,
                 min_boxes: int = 1,
                 **kwargs):
        super().__init__(
            ann_file=ann_file,
            min_box_size=min_box_size,
            min_boxes=min_boxes,
            **kwargs)

    def expand_records(self, data_list: List[dict]) -> List[dict]:
        samples = []
        for scene_index, rec in enumerate(data_list):
            instances = rec.pop('instances')
            scene = dict(rec)
            scene.update(
                bbox=[0.0, 0.0, float(rec['width']), float(rec['height'])],
                scene_index=scene_index, is_scene=1, object_label=-1,
                out_of_context=0)
            samples.append(scene)
            for inst in instances:
                sample = dict(rec)
                sample.update(inst)
                sample.update(
                    scene_index=scene_index, is_scene=0,
                    object_label=int(sample.pop('bbox_label')),
                    out_of_context=int(sample.get('out_of_context', 0)))
                samples.append(sample)
        return samples

    def get_gt_labels(self):
        raise NotImplementedError(
            'SceneObjectCropDataset samples are scenes and objects; use '
            'ObjectCropDataset for object classification labels')
