"""Semantic segmentation on the images of a COCO-format file (mmseg)."""
import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from hclmm.datasets.scene_object_coco import load_coco_json
from hclmm.datasets.utils import AnnotationError

__all__ = ['CocoSemanticSegDataset']


@DATASETS.register_module()
class CocoSemanticSegDataset(BaseSegDataset):
    """Label maps of the images listed in a COCO instances file.

    The json decides the split (its ``images``) and the classes (its
    ``categories``, sorted by id, after ``'background'``). The label map of
    ``images/x/name.jpg`` is ``<seg_map_path>/x/name.png``: uint8, pixel
    value = ``category_id``, 0 = background, 255 = ignore. Category ids are
    mapped to contiguous labels (``label_map``) when they are not already
    ``1..K``.

    Args:
        ann_file (str): COCO instances json (relative to ``data_root``).
        data_prefix (dict): ``img_path`` and ``seg_map_path`` folders the
            json's ``file_name`` is relative to.
        metainfo (dict, optional): Extra meta information; ``classes``, if
            given, must equal the file's.
        **kwargs: See :class:`mmseg.datasets.BaseSegDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 data_prefix: dict = dict(img_path='', seg_map_path=''),
                 metainfo: Optional[dict] = None,
                 data_root: Optional[str] = None,
                 **kwargs):
        path = ann_file
        if data_root is not None and not osp.isabs(ann_file):
            path = osp.join(data_root, ann_file)
        coco = load_coco_json(path)
        cats = sorted(coco['categories'], key=lambda c: c['id'])
        classes = ('background', ) + tuple(c['name'] for c in cats)
        metainfo = dict(metainfo or {})
        if tuple(metainfo.setdefault('classes', classes)) != classes:
            raise AnnotationError(
                f'{path}: metainfo classes {tuple(metainfo["classes"])} '
                f'differ from the file\'s categories {classes}; drop '
                'metainfo.classes (they come from the file)')
        self._images = coco['images']
        ids = [c['id'] for c in cats]
        # labels 1..K in id order; pixel values that name no category of
        # the file are ignored
        self._seg_label_map = None if ids == list(range(1, len(ids) + 1)) \
            else {v: (ids.index(v) + 1 if v in ids else 255)
                  for v in range(1, 255)}
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            metainfo=metainfo,
            data_root=data_root,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix.get('img_path', '')
        seg_dir = self.data_prefix.get('seg_map_path', '')
        data_list, missing = [], []
        for i, img in enumerate(self._images):
            name = img.get('file_name')
            if not isinstance(name, str):
                raise AnnotationError(
                    f'{self.ann_file}: images[{i}] has no "file_name"')
            seg = osp.join(seg_dir, osp.splitext(name)[0] + '.png')
            if not osp.isfile(seg):
                missing.append(seg)
            data_list.append(
                dict(
                    img_path=osp.join(img_dir, name),
                    seg_map_path=seg,
                    label_map=self._seg_label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
        if missing:
            raise FileNotFoundError(
                f'{self.ann_file}: {len(missing)} of {len(data_list)} images '
                f'have no label map (first: {missing[0]}); label maps are '
                'PNGs named like the images under data_prefix.seg_map_path')
        del self._images  # read once; the data list holds what is needed
        return data_list
