"""Scene-object dataset for OpenImages box annotations."""
import csv
import io
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from mmengine import fileio

from hclmm.registry import DATASETS
from .base_scene_object import BaseSceneObjectDataset
from .utils import AnnotationError, read_image_size

__all__ = ['SceneObjectOpenImagesDataset']

_BOX_REQUIRED = ('ImageID', 'LabelName', 'XMin', 'XMax', 'YMin', 'YMax')
# optional 0/1 flags of the official box file, kept as instance fields
_BOX_FLAGS = OrderedDict(
    IsOccluded='is_occluded',
    IsTruncated='is_truncated',
    IsGroupOf='is_group_of',
    IsDepiction='is_depiction',
    IsInside='is_inside')


def _read_csv_rows(path: str, backend_args: Optional[dict]) -> List[list]:
    if not fileio.exists(path, backend_args=backend_args):
        raise FileNotFoundError(f'file not found: {path}')
    text = fileio.get_text(path, backend_args=backend_args)
    if not text.strip():
        raise AnnotationError(f'{path}: the file is empty')
    return list(csv.reader(io.StringIO(text)))


@DATASETS.register_module()
class SceneObjectOpenImagesDataset(BaseSceneObjectDataset):
    """Images with object boxes from OpenImages box annotations.

    Reads the box CSV (header ``ImageID,Source,LabelName,Confidence,XMin,
    XMax,YMin,YMax,IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside``,
    coordinates as fractions of the image size; only ``ImageID``,
    ``LabelName`` and the four coordinates are required) and the class
    description CSV (``LabelName,DisplayName``, with or without a header
    row). Labels follow the order of the class description file (or of
    ``metainfo['classes']`` given as display names); ``category_id`` is the
    label name (e.g. ``'/m/01g317'``). Group-of boxes are ignored like COCO
    crowd boxes unless ``ignore_group_of=False``; the occluded/truncated/
    depiction/inside flags are kept per instance.

    Image sizes come from ``image_size_file`` (a CSV with the header
    ``ImageID,Width,Height``) when given; images not listed there have their
    size read from the image header (Pillow, header only; the displayed size,
    after the EXIF orientation) at load time.
    Fractions are converted to pixels with that size. An image that cannot
    be found then is a bad record (see ``on_error``).

    See :class:`BaseSceneObjectDataset` for the box checks and filters; the
    data infos have the same layout as those of
    :class:`SceneObjectCocoDataset`, with ``img_id`` the OpenImages
    ``ImageID``.

    Args:
        ann_file (str): Box CSV, relative to ``data_root`` unless absolute.
        class_file (str): Class description CSV, relative to ``data_root``
            unless absolute.
        image_size_file (str, optional): CSV ``ImageID,Width,Height``.
            Defaults to None.
        img_suffix (str): Image file suffix after the ImageID.
            Defaults to ``'.jpg'``.
        ignore_group_of (bool): Ignore group-of boxes. Defaults to True.
        **kwargs: See :class:`BaseSceneObjectDataset`.

    Example:
        >>> dataset = SceneObjectOpenImagesDataset(
        ...     data_root='data/openimages',
        ...     ann_file='annotations/oidv6-train-annotations-bbox.csv',
        ...     class_file='annotations/class-descriptions-boxable.csv',
        ...     data_prefix=dict(img='train/'))
    """

    def __init__(self,
                 ann_file: str,
                 class_file: str = '',
                 image_size_file: Optional[str] = None,
                 img_suffix: str = '.jpg',
                 ignore_group_of: bool = True,
                 data_root: str = '',
                 **kwargs):
        if not class_file:
            raise ValueError(
                'SceneObjectOpenImagesDataset: class_file must be given')
        self.class_file = self._root_join(data_root, class_file)
        self.image_size_file = self._root_join(data_root, image_size_file) \
            if image_size_file else None
        self.img_suffix = img_suffix
        self.ignore_group_of = ignore_group_of
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    @staticmethod
    def _root_join(root: str, path: str) -> str:
        if root and not osp.isabs(path) and '://' not in path:
            return osp.join(root, path)
        return path

    def _load_classes(self) -> Tuple[List[str], List[str]]:
        rows = _read_csv_rows(self.class_file, self.backend_args)
        if rows and [c.strip() for c in rows[0][:2]] == [
                'LabelName', 'DisplayName'
        ]:
            rows = rows[1:]
        mids, names, seen = [], [], set()
        for lineno, row in enumerate(rows, 1):
            if not row:
                continue
            if len(row) < 2:
                raise AnnotationError(
                    f'{self.class_file}: line {lineno}: expected '
                    f'"LabelName,DisplayName", got {",".join(row)!r}')
            mid, name = row[0].strip(), row[1].strip()
            if mid in seen:
                raise AnnotationError(f'{self.class_file}: line {lineno}: '
                                      f'duplicate label name {mid}')
            seen.add(mid)
            mids.append(mid)
            names.append(name)
        if not mids:
            raise AnnotationError(f'{self.class_file}: no classes listed')
        return mids, names

    def _load_sizes(self) -> Dict[str, Tuple[float, float]]:
        if not self.image_size_file:
            return {}
        path = self.image_size_file
        rows = _read_csv_rows(path, self.backend_args)
        header = [c.strip() for c in rows[0]]
        try:
            ci, cw, ch = (header.index(k)
                          for k in ('ImageID', 'Width', 'Height'))
        except ValueError:
            raise AnnotationError(
                f'{path}: image size file needs the header '
                f'"ImageID,Width,Height", got {",".join(header)!r}') from None
        sizes = {}
        for lineno, row in enumerate(rows[1:], 2):
            if not row:
                continue
            try:
                w, h = float(row[cw]), float(row[ch])
                img_id = row[ci]
            except (IndexError, ValueError):
                raise AnnotationError(
                    f'{path}: line {lineno}: cannot parse '
                    f'{",".join(row)!r} as ImageID,Width,Height') from None
            if w <= 0 or h <= 0:
                raise AnnotationError(
                    f'{path}: line {lineno} (ImageID {img_id}): width and '
                    f'height must be positive, got {w:g} x {h:g}')
            sizes[img_id] = (int(w) if w.is_integer() else w,
                             int(h) if h.is_integer() else h)
        return sizes

    def load_raw_records(self) -> List[dict]:
        mids, names = self._load_classes()
        wanted = self._metainfo.get('classes')
        if wanted is not None:
            name_to_mid = dict(zip(names, mids))
            unknown = [n for n in wanted if n not in name_to_mid]
            if unknown:
                raise AnnotationError(
                    f'{self.class_file}: metainfo classes {unknown} are not '
                    'in the class description file')
            used = [name_to_mid[n] for n in wanted]
            names = list(wanted)
        else:
            used = mids
        all_mids = set(mids)
        mid2label = {m: i for i, m in enumerate(used)}
        self._metainfo['classes'] = tuple(names)
        self._metainfo['category_ids'] = tuple(used)
        sizes = self._load_sizes()

        ann_file = self.ann_file
        rows = _read_csv_rows(ann_file, self.backend_args)
        header = [c.strip() for c in rows[0]]
        missing = [k for k in _BOX_REQUIRED if k not in header]
        if missing:
            raise AnnotationError(
                f'{ann_file}: not an OpenImages box file (header lacks '
                f'{missing}; got {",".join(header)!r})')
        col = {k: i for i, k in enumerate(header)}

        records: 'OrderedDict[str, dict]' = OrderedDict()
        for lineno, row in enumerate(rows[1:], 2):
            if not row:
                continue
            if len(row) != len(header):
                raise AnnotationError(
                    f'{ann_file}: line {lineno}: expected {len(header)} '
                    f'columns, got {len(row)}')
            img_id, mid = row[col['ImageID']], row[col['LabelName']]
            where = f'{ann_file}: line {lineno} (ImageID {img_id})'
            if mid not in all_mids:
                raise AnnotationError(
                    f'{where}: label {mid} is not in {self.class_file}')
            try:
                xmin, xmax, ymin, ymax = (
                    float(row[col[k]]) for k in ('XMin', 'XMax', 'YMin',
                                                 'YMax'))
                flags = {
                    v: int(float(row[col[k]]))
                    for k, v in _BOX_FLAGS.items() if k in col
                }
            except ValueError:
                raise AnnotationError(
                    f'{where}: cannot parse the coordinates/flags of '
                    f'{",".join(row)!r}') from None
            rec = records.get(img_id)
            if rec is None:
                rec = dict(
                    img_path=osp.join(self.img_prefix,
                                      img_id + self.img_suffix),
                    img_id=img_id,
                    record=f'ImageID {img_id}',
                    instances=[])
                records[img_id] = rec
            if mid not in mid2label:
                continue  # a class left out through metainfo['classes']
            inst = dict(
                bbox=(xmin, ymin, xmax, ymax),  # fractions for now
                bbox_label=mid2label[mid],
                category_id=mid,
                record=f'line {lineno}',
                ignore=self.ignore_group_of and
                flags.get('is_group_of', 0) == 1)
            inst.update(flags)
            rec['instances'].append(inst)

        out = []
        for img_id, rec in records.items():
            if img_id in sizes:
                w, h = sizes[img_id]
            else:
                try:
                    w, h = read_image_size(rec['img_path'], self.backend_args)
                except Exception as e:
                    self.report_bad(
                        f'{ann_file}: ImageID {img_id}: no size in '
                        f'{self.image_size_file or "an image size file"} and '
                        f'the image header of {rec["img_path"]} cannot be '
                        f'read ({type(e).__name__}: {e})')
                    continue
            rec['width'], rec['height'] = w, h
            for inst in rec['instances']:
                xmin, ymin, xmax, ymax = inst['bbox']
                inst['bbox'] = [xmin * w, ymin * h, xmax * w, ymax * h]
            out.append(rec)
        return out
