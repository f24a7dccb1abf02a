"""Common machinery of the scene-object datasets (not registered)."""
import logging
import os.path as osp
from collections import OrderedDict
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from .transforms.load_scene_image import ImageLoadError, LoadSceneImage
from .utils import AnnotationError, build_transforms, check_on_error, clip_box

__all__ = ['BaseSceneObjectDataset']


class BaseSceneObjectDataset(BaseDataset):
    """Base class of datasets whose samples are images with object boxes.

    Subclasses parse their file format into *raw image records* in
    :meth:`load_raw_records`; this class validates, clips and filters the
    boxes and the images in one place, so every format behaves the same:

    - boxes marked ``ignore`` (COCO crowd, OpenImages group-of) are dropped;
    - a box with zero or negative width or height, or one that lies fully
      outside its image, is a *bad record*: with ``on_error='raise'`` it
      raises :class:`AnnotationError` naming the file and the record, with
      ``on_error='skip'`` it is dropped and counted;
    - a box partly outside the image is clipped to the image;
    - a box is kept when both its width and its height are at least
      ``min_box_size`` pixels (after clipping);
    - an image left with fewer than ``min_boxes`` boxes is left out.

    The counts are logged through the current MMLogger and kept in
    :attr:`load_stats`. The dataset length is fixed at load time; nothing is
    resampled at run time because of the filters.

    A raw image record is a dict with ``img_path``, ``img_id``, ``width``,
    ``height``, ``record`` (a human-readable name for error messages), any
    extra image-level fields, and ``instances``: a list of dicts with
    ``bbox`` (pixels, ``x1, y1, x2, y2``), ``bbox_label``, ``category_id``,
    ``record``, optional ``ignore`` and any extra fields.

    Args:
        ann_file (str): Annotation file path, relative to ``data_root``
            unless absolute.
        data_root (str): Root of the dataset. Defaults to ''.
        data_prefix (dict): ``dict(img=...)``: image folder relative to
            ``data_root``. Defaults to ``dict(img='')``.
        min_box_size (float): Smallest kept box side in pixels.
            Defaults to 56.
        min_boxes (int): Fewest kept boxes an image needs to be used.
            Defaults to 2.
        on_error (str): ``'raise'`` or ``'skip'`` for bad records.
            Defaults to ``'raise'``.
        metainfo (dict, optional): Overrides of the meta information; a
            ``classes`` entry selects and orders a subset of the classes.
            Defaults to None.
        pipeline (Sequence[dict | callable]): Transforms, built with hclmm's
            ``TRANSFORMS`` registry. Defaults to ().
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
        max_unreadable_at_start (int): When the pipeline's
            :class:`~hclmm.datasets.transforms.LoadSceneImage` skips broken
            images (``on_error='skip'``) and none of the first this many
            images a process tries can be read, stop with
            :class:`~hclmm.datasets.transforms.ImageLoadError` naming the
            image folder: the folder is wrong (``data_root`` /
            ``data_prefix``), not a few images. Once one image was read the
            check is off. 0 disables it. Defaults to 20.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`
            (``test_mode``, ``lazy_init``, ``indices``, ``serialize_data``,
            ``max_refetch``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 min_box_size: float = 56,
                 min_boxes: int = 2,
                 on_error: str = 'raise',
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 backend_args: Optional[dict] = None,
                 max_unreadable_at_start: int = 20,
                 **kwargs):
        name = type(self).__name__
        if not ann_file:
            raise ValueError(f'{name}: ann_file must be given')
        if min_box_size < 0:
            raise ValueError(
                f'{name}: min_box_size must be >= 0, got {min_box_size}')
        if min_boxes < 0:
            raise ValueError(f'{name}: min_boxes must be >= 0, got '
                             f'{min_boxes}')
        self.min_box_size = float(min_box_size)
        self.min_boxes = int(min_boxes)
        self.on_error = check_on_error(on_error, name)
        self.backend_args = backend_args
        if max_unreadable_at_start < 0:
            raise ValueError(f'{name}: max_unreadable_at_start must be >= 0, '
                             f'got {max_unreadable_at_start}')
        self.max_unreadable_at_start = int(max_unreadable_at_start)
        # per process (each dataloader worker has its own copy)
        self._read_any_image = False
        self._unreadable_at_start = 0
        self.load_stats: dict = {}
        if data_prefix is None:
            data_prefix = dict(img='')
        if 'img' not in data_prefix:
            raise KeyError(f"{name}: data_prefix needs an 'img' key, got "
                           f'{data_prefix}')
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix,
            metainfo=metainfo,
            pipeline=build_transforms(pipeline, name),
            **kwargs)

    # ------------------------------------------------------------------
    # to be implemented by subclasses
    def load_raw_records(self) -> List[dict]:
        """Parse the annotation file into raw image records.

        Also sets ``self._metainfo['classes']``.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------
    @property
    def img_prefix(self) -> str:
        """The image folder."""
        return self.data_prefix['img']

    @property
    def CLASSES(self):
        """Class names in label order."""
        return self._metainfo.get('classes', None)

    def report_bad(self, message: str) -> None:
        """Raise or count one bad record, depending on ``on_error``.

        Args:
            message (str): Full message, naming the file and the record.
        """
        if self.on_error == 'raise':
            raise AnnotationError(message)
        self._bad_messages.append(message)

    def load_data_list(self) -> List[dict]:
        """Load, validate and filter the records."""
        self._bad_messages: List[str] = []
        raw = self.load_raw_records()
        stats = OrderedDict(
            images=len(raw), boxes=0, ignored=0, bad=0, clipped=0,
            too_small=0, images_too_few_boxes=0, kept_images=0, kept_boxes=0)
        data_list = []
        for rec in raw:
            width, height = float(rec['width']), float(rec['height'])
            kept = []
            for inst in rec.pop('instances'):
                stats['boxes'] += 1
                where = (f"{self.ann_file}: {inst.pop('record')} "
                         f"({rec['record']})")
                if inst.pop('ignore', False):
                    stats['ignored'] += 1
                    continue
                x1, y1, x2, y2 = (float(v) for v in inst['bbox'])
                if not all(np.isfinite([x1, y1, x2, y2])):
                    self.report_bad(f'{where}: box {inst["bbox"]} has '
                                    'non-finite coordinates')
                    continue
                if x2 <= x1 or y2 <= y1:
                    self.report_bad(
                        f'{where}: box has zero or negative size '
                        f'(width {x2 - x1:g}, height {y2 - y1:g})')
                    continue
                cx1, cy1, cx2, cy2 = clip_box((x1, y1, x2, y2), width, height)
                if cx2 <= cx1 or cy2 <= cy1:
                    self.report_bad(
                        f'{where}: box [{x1:g}, {y1:g}, {x2:g}, {y2:g}] '
                        f'(x1, y1, x2, y2) lies outside the '
                        f'{width:g}x{height:g} image')
                    continue
                if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
                    stats['clipped'] += 1
                if min(cx2 - cx1, cy2 - cy1) < self.min_box_size:
                    stats['too_small'] += 1
                    continue
                inst['bbox'] = [cx1, cy1, cx2, cy2]
                kept.append(inst)
            if len(kept) < self.min_boxes:
                stats['images_too_few_boxes'] += 1
                continue
            rec.pop('record')
            rec['instances'] = kept
            stats['kept_boxes'] += len(kept)
            data_list.append(self.finalize_record(rec))
        stats['bad'] = len(self._bad_messages)
        stats['kept_images'] = len(data_list)
        self.load_stats = dict(stats)
        self._log_stats()
        if not data_list:
            raise AnnotationError(
                f'{self.ann_file}: no usable sample left after filtering '
                f'({self._stats_line()}). Check the file, or lower '
                f'min_box_size ({self.min_box_size:g}) / min_boxes '
                f'({self.min_boxes}).')
        return self.expand_records(data_list)

    def finalize_record(self, rec: dict) -> dict:
        """Hook to adjust a kept image record. Defaults to identity."""
        return rec

    def expand_records(self, data_list: List[dict]) -> List[dict]:
        """Hook to turn kept image records into samples. Defaults to
        identity (one sample per image)."""
        return data_list

    def _stats_line(self) -> str:
        s = self.load_stats
        return (f"{s['kept_images']}/{s['images']} images and "
                f"{s['kept_boxes']}/{s['boxes']} boxes kept; dropped "
                f"{s['ignored']} crowd/group-of boxes, {s['too_small']} boxes "
                f'smaller than {self.min_box_size:g} px, {s["bad"]} bad '
                f"boxes; clipped {s['clipped']} boxes to their image; left "
                f"out {s['images_too_few_boxes']} images with fewer than "
                f'{self.min_boxes} boxes')

    def _log_stats(self) -> None:
        print_log(
            f'{type(self).__name__} {self.ann_file}: {self._stats_line()}',
            logger='current',
            level=logging.INFO)
        if self._bad_messages:
            shown = '\n  '.join(self._bad_messages[:10])
            more = len(self._bad_messages) - 10
            print_log(
                f'{type(self).__name__}: skipped {len(self._bad_messages)} '
                f'bad records (on_error="skip"):\n  {shown}' +
                (f'\n  ... and {more} more' if more > 0 else ''),
                logger='current',
                level=logging.WARNING)

    def _image_loaders(self) -> List[LoadSceneImage]:
        transforms = getattr(self.pipeline, 'transforms', [])
        return [t for t in transforms if isinstance(t, LoadSceneImage)]

    def prepare_data(self, idx: int):
        """Run the pipeline on sample ``idx``; stop when no image is readable.

        mmengine's ``BaseDataset`` replaces a sample that the pipeline skips
        (None) by a random other one, up to ``max_refetch`` times. When the
        image folder is wrong every image is skipped, so the run would print
        one warning per image and then fail with "Cannot find valid image
        after 1000!". Instead, while this process has not read any image,
        the skips of ``LoadSceneImage`` are counted, and after
        ``max_unreadable_at_start`` of them (or ``max_refetch + 1``, if
        smaller) an :class:`ImageLoadError` names the folder searched.
        """
        if self._read_any_image or not self.max_unreadable_at_start:
            return super().prepare_data(idx)
        loaders = self._image_loaders()
        if not loaders:
            self._read_any_image = True  # nothing to watch
            return super().prepare_data(idx)
        before = sum(sum(t.skipped.values()) for t in loaders)
        data = super().prepare_data(idx)
        if sum(sum(t.skipped.values()) for t in loaders) == before:
            self._read_any_image = True
            return data
        self._unreadable_at_start += 1
        limit = min(self.max_unreadable_at_start, self.max_refetch + 1)
        if self._unreadable_at_start >= limit:
            self._raise_no_readable_image(loaders, idx)
        return data

    def _raise_no_readable_image(self, loaders: List[LoadSceneImage],
                                 idx: int) -> None:
        counts = {}
        for t in loaders:
            for reason, n in t.skipped.items():
                counts[reason] = counts.get(reason, 0) + n
        reasons = ', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))
        folder = self.img_prefix
        where = f'"{folder}"' if folder else 'the paths of the annotation file'
        if folder and '://' not in folder and not osp.isdir(folder):
            where += ', which does not exist'
        example = self.get_data_info(idx).get('img_path')
        raise ImageLoadError(
            f'{type(self).__name__} ({self.ann_file}): none of the first '
            f'{self._unreadable_at_start} images tried could be read '
            f'({reasons}). Images are looked up in the folder {where} '
            f'(data_root + data_prefix["img"]), e.g. "{example}". Check '
            'data_root and data_prefix; on_error="skip" is meant for a few '
            'broken images, not for a wrong folder.')

    def get_cat_ids(self, idx: int) -> List[int]:
        """Contiguous labels of the boxes of sample ``idx``."""
        info = self.get_data_info(idx)
        if 'instances' in info:
            return sorted({int(i['bbox_label']) for i in info['instances']})
        return [int(info['gt_label'])]
