"""Scene-object dataset for COCO instance annotations."""
import json
import os.path as osp
from typing import List

from mmengine import fileio

from hclmm.registry import DATASETS
from .base_scene_object import BaseSceneObjectDataset
from .utils import AnnotationError, read_image_size

__all__ = ['SceneObjectCocoDataset', 'load_coco_json']

# image and annotation fields that are parsed explicitly; every other field
# of a record is kept as an extra field of the data info / instance
_IMAGE_STD_KEYS = ('id', 'file_name', 'width', 'height', 'license',
                   'coco_url', 'flickr_url', 'date_captured')
_ANN_STD_KEYS = ('id', 'image_id', 'bbox', 'category_id', 'iscrowd', 'area',
                 'segmentation')


def load_coco_json(ann_file: str, backend_args=None) -> dict:
    """Read a COCO instances file and check its top-level structure.

    Args:
        ann_file (str): Path of the json file.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Returns:
        dict: The parsed json.

    Raises:
        FileNotFoundError: the file does not exist.
        AnnotationError: the file is empty, not json, or not a COCO
            instances file.
    """
    if not fileio.exists(ann_file, backend_args=backend_args):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    text = fileio.get_text(ann_file, backend_args=backend_args)
    if not text.strip():
        raise AnnotationError(f'{ann_file}: the annotation file is empty')
    try:
        coco = json.loads(text)
    except json.JSONDecodeError as e:
        raise AnnotationError(f'{ann_file}: not a valid json file ({e})') \
            from None
    if not isinstance(coco, dict):
        raise AnnotationError(
            f'{ann_file}: not a COCO instances file (top level is a '
            f'{type(coco).__name__}, expected an object with "images", '
            '"annotations" and "categories")')
    missing = [k for k in ('images', 'annotations', 'categories')
               if k not in coco]
    if missing:
        raise AnnotationError(
            f'{ann_file}: not a COCO instances file (missing top-level '
            f'keys {missing})')
    for k in ('images', 'annotations', 'categories'):
        if not isinstance(coco[k], list):
            raise AnnotationError(f'{ann_file}: "{k}" must be a list, got '
                                  f'{type(coco[k]).__name__}')
    if not coco['images']:
        raise AnnotationError(f'{ann_file}: the file lists no images')
    if not coco['categories']:
        raise AnnotationError(f'{ann_file}: the file lists no categories')
    return coco


def _id_mismatch(value, known, what: str, section: str) -> str:
    """Explain why the id ``value`` is not among the ``known`` ids.

    Ids are shown with ``repr`` so that their type is visible (``'1'`` is a
    string, ``1`` a number); when an id of another type has the same text,
    the explanation says that the types differ.

    Args:
        value: The id that was looked up.
        known (Iterable): The ids of the section.
        what (str): What the id names, e.g. ``'image'``.
        section (str): The section of the file, e.g. ``'images'``.

    Returns:
        str: The explanation, or ``''`` when there is nothing to add.
    """
    same_text = [k for k in known if str(k) == str(value)]
    if same_text:
        other = same_text[0]
        return (f'the types differ: the {what} id here is {value!r} '
                f'({type(value).__name__}), "{section}" has {other!r} '
                f'({type(other).__name__}); write the ids with one type')
    kinds = sorted({type(k).__name__ for k in known})
    if kinds and type(value).__name__ not in kinds:
        return (f'the {what} id here is a {type(value).__name__}, the ids '
                f'in "{section}" are {" / ".join(kinds)}')
    return ''


def _require(record, keys, where):
    if not isinstance(record, dict):
        raise AnnotationError(f'{where}: expected an object, got '
                              f'{type(record).__name__}')
    missing = [k for k in keys if k not in record]
    if missing:
        raise AnnotationError(f'{where}: missing keys {missing}')


@DATASETS.register_module()
class SceneObjectCocoDataset(BaseSceneObjectDataset):
    """Images with object boxes from a COCO instances json.

    Works for COCO 2017 and any COCO-format custom set (for example the toy
    scenes of ``tools/dataset_converters/make_toy_scenes.py``). Crowd boxes
    are ignored. Labels are contiguous indices over the categories sorted by
    id (or the order of ``metainfo['classes']`` when given, which also
    restricts the classes used). Extra image fields (such as ``scene_type``)
    are copied into the data info and extra annotation fields (such as
    ``out_of_context``) into each instance; the ``segmentation`` and
    ``area`` fields are not kept. When an image record lacks ``width`` or
    ``height``, they are read from the image header (the displayed size,
    after the EXIF orientation, the frame the boxes are drawn in).

    See :class:`BaseSceneObjectDataset` for the box checks and filters. Each
    data info holds ``img_path``, ``img_id``, ``width``, ``height``,
    ``instances`` (a list of ``dict(bbox=[x1, y1, x2, y2], bbox_label=int,
    category_id=int, ann_id=int, ...)``) and the extra image fields.

    Args:
        ann_file (str): COCO json, relative to ``data_root`` unless absolute.
        **kwargs: See :class:`BaseSceneObjectDataset`
            (``data_root``, ``data_prefix=dict(img=...)``, ``min_box_size=56``,
            ``min_boxes=2``, ``on_error='raise'``, ``pipeline``,
            ``test_mode``, ``lazy_init`` ...).

    Example:
        >>> dataset = SceneObjectCocoDataset(
        ...     data_root='data/coco',
        ...     ann_file='annotations/instances_train2017.json',
        ...     data_prefix=dict(img='train2017/'))
    """

    def load_raw_records(self) -> List[dict]:
        ann_file = self.ann_file
        coco = load_coco_json(ann_file, self.backend_args)

        cats = {}
        for i, cat in enumerate(coco['categories']):
            where = f'{ann_file}: categories[{i}]'
            _require(cat, ('id', 'name'), where)
            if cat['id'] in cats:
                raise AnnotationError(
                    f'{where}: duplicate category id {cat["id"]}')
            cats[cat['id']] = cat['name']
        cat_ids = sorted(cats)
        wanted = self._metainfo.get('classes')
        if wanted is not None:
            name_to_id = {cats[c]: c for c in cat_ids}
            unknown = [n for n in wanted if n not in name_to_id]
            if unknown:
                raise AnnotationError(
                    f'{ann_file}: metainfo classes {unknown} are not '
                    f'categories of this file')
            cat_ids = [name_to_id[n] for n in wanted]
        cat2label = {c: i for i, c in enumerate(cat_ids)}
        self._metainfo['classes'] = tuple(cats[c] for c in cat_ids)
        self._metainfo['category_ids'] = tuple(cat_ids)
        if 'scene_types' in coco and 'scene_types' not in self._metainfo:
            self._metainfo['scene_types'] = tuple(
                s['name'] if isinstance(s, dict) else s
                for s in coco['scene_types'])

        records, by_id = [], {}
        for i, img in enumerate(coco['images']):
            where = f'{ann_file}: images[{i}]'
            if isinstance(img, dict) and 'id' in img:
                where += f' (image id {img["id"]})'
            _require(img, ('id', 'file_name'), where)
            img_id = img['id']
            if img_id in by_id:
                raise AnnotationError(
                    f'{ann_file}: image id {img_id}: duplicate image id')
            img_path = osp.join(self.img_prefix, img['file_name']) \
                if self.img_prefix else img['file_name']
            rec = dict(
                img_path=img_path,
                img_id=img_id,
                record=f'image id {img_id}, {img["file_name"]}',
                instances=[])
            if 'width' in img and 'height' in img:
                rec['width'], rec['height'] = img['width'], img['height']
                if not (isinstance(rec['width'], (int, float))
                        and isinstance(rec['height'], (int, float))
                        and rec['width'] > 0 and rec['height'] > 0):
                    raise AnnotationError(
                        f'{ann_file}: image id {img_id}: width/height must '
                        f'be positive numbers, got {rec["width"]!r} x '
                        f'{rec["height"]!r}')
            else:
                try:
                    rec['width'], rec['height'] = read_image_size(
                        img_path, self.backend_args)
                except Exception as e:  # missing or unreadable image
                    self.report_bad(
                        f'{ann_file}: image id {img_id}: no width/height in '
                        f'the record and the image header of {img_path} '
                        f'cannot be read ({type(e).__name__}: {e})')
                    rec['skip'] = True
            for k, v in img.items():
                if k not in _IMAGE_STD_KEYS:
                    rec[k] = v
            by_id[img_id] = rec
            records.append(rec)

        for i, ann in enumerate(coco['annotations']):
            _require(ann, ('id', 'image_id', 'bbox', 'category_id'),
                     f'{ann_file}: annotations[{i}]' +
                     (f' (annotation id {ann["id"]})'
                      if isinstance(ann, dict) and 'id' in ann else ''))
            where = f'{ann_file}: annotation id {ann["id"]!r}'
            rec = by_id.get(ann['image_id'])
            if rec is None:
                why = _id_mismatch(ann['image_id'], by_id, 'image', 'images')
                raise AnnotationError(
                    f'{where}: refers to image id {ann["image_id"]!r}, which '
                    f'is not in "images"' + (f' ({why})' if why else ''))
            cat_id = ann['category_id']
            if cat_id not in cats:
                why = _id_mismatch(cat_id, cats, 'category', 'categories')
                raise AnnotationError(
                    f'{where} (image id {ann["image_id"]!r}): unknown '
                    f'category id {cat_id!r}' + (f' ({why})' if why else ''))
            if cat_id not in cat2label:
                continue  # a class left out through metainfo['classes']
            bbox = ann['bbox']
            if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4 and
                    all(isinstance(v, (int, float)) for v in bbox)):
                raise AnnotationError(
                    f'{where} (image id {ann["image_id"]}): bbox must be 4 '
                    f'numbers [x, y, w, h], got {bbox!r}')
            x, y, w, h = bbox
            inst = dict(
                bbox=[x, y, x + w, y + h],
                bbox_label=cat2label[cat_id],
                category_id=cat_id,
                ann_id=ann['id'],
                ignore=bool(ann.get('iscrowd', 0)),
                record=f'annotation id {ann["id"]}')
            for k, v in ann.items():
                if k not in _ANN_STD_KEYS:
                    inst[k] = v
            rec['instances'].append(inst)
        return [r for r in records if not r.pop('skip', False)]
