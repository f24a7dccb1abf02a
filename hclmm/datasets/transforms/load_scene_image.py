"""Image loading that names the file and the record when it fails."""
import io
import logging
from collections import Counter
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log

from hclmm.registry import TRANSFORMS
from ..utils import apply_exif_orientation, check_on_error, exif_orientation

__all__ = ['LoadSceneImage', 'ImageLoadError', 'check_image_bytes']


class ImageLoadError(OSError):
    """An image could not be used; the message names the file and record."""


def check_image_bytes(data: bytes) -> Optional[str]:
    """Cheap structural check for empty and truncated JPEG/PNG files.

    Decoders often return a partly grey image for a truncated file instead
    of failing, so this looks at the container: a JPEG must have an
    end-of-image marker after its last start-of-scan marker, a PNG must end
    with its ``IEND`` chunk. Other formats are left to the decoder.

    Args:
        data (bytes): The file content.

    Returns:
        str | None: A reason (``'empty file'``, ``'truncated ...'``) or None
        when nothing is wrong.
    """
    if not data:
        return 'empty file'
    if data[:2] == b'\xff\xd8':
        sos = data.rfind(b'\xff\xda')
        if sos < 0 or data.find(b'\xff\xd9', sos) < 0:
            return 'truncated JPEG (no end-of-image marker)'
    elif data[:8] == b'\x89PNG\r\n\x1a\n':
        if data.rfind(b'IEND', max(0, len(data) - 64)) < 0:
            return 'truncated PNG (no IEND chunk)'
    return None


def image_bytes_orientation(data: bytes) -> int:
    """The EXIF orientation (1-8) of an encoded image, from its header.

    Args:
        data (bytes): The file content.

    Returns:
        int: The orientation; 1 when there is none or the header cannot be
        parsed (the decoder then reports the file).
    """
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:
            return exif_orientation(img)
    except Exception:
        return 1


# mmcv decoding flags that apply the EXIF orientation themselves (cv2 and
# Pillow back-ends), and their orientation-blind twins.
_BLIND_FLAGS = {
    'color': 'color_ignore_orientation',
    'grayscale': 'grayscale_ignore_orientation',
}


@TRANSFORMS.register_module()
class LoadSceneImage(BaseTransform):
    """Load an image; a missing, unreadable or truncated file is reported.

    Same output as mmcv's ``LoadImageFromFile`` (``img`` as a uint8 BGR
    array, ``img_shape``, ``ori_shape``). When the image cannot be used:

    - ``on_error='raise'``: raise :class:`ImageLoadError` naming the file
      and the record (image id, and annotation id for object crops);
    - ``on_error='skip'``: return None, so that mmengine's ``BaseDataset``
      fetches another sample, and log a warning with the file, the reason
      and the running count of skipped images per reason (counted per
      dataloader worker; also kept in :attr:`skipped`).

    Reasons: ``missing`` (no such file), ``unreadable`` (empty file or the
    decoder fails), ``truncated`` (JPEG/PNG cut short, see
    :func:`check_image_bytes`) and ``size_mismatch`` (the decoded size
    differs from the ``width``/``height`` of the annotation, which would put
    the boxes in the wrong place).

    The image is returned as displayed: its EXIF orientation is read from
    the header and applied here, whatever the decoding back-end, so that it
    matches the boxes (drawn on the displayed image in COCO and OpenImages)
    and the sizes that the datasets read from image headers. With a
    ``color_type`` ending in ``_ignore_orientation`` the stored pixels are
    returned unturned (for sets whose boxes refer to the stored pixels).

    **Required Keys:** ``img_path``; optional ``img_id``, ``ann_id``,
    ``width``, ``height``.

    **Added Keys:** ``img``, ``img_shape``, ``ori_shape``.

    Args:
        on_error (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        color_type (str): Flag of :func:`mmcv.imfrombytes`.
            Defaults to ``'color'``.
        imdecode_backend (str): Decoder of :func:`mmcv.imfrombytes`.
            Defaults to ``'cv2'``.
        check_truncated (bool): Run :func:`check_image_bytes`.
            Defaults to True.
        check_size (bool): Compare the decoded size with the annotation.
            Defaults to True.
        to_float32 (bool): Return a float32 image. Defaults to False.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
    """

    REASONS = ('missing', 'unreadable', 'truncated', 'size_mismatch')

    def __init__(self,
                 on_error: str = 'raise',
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 check_truncated: bool = True,
                 check_size: bool = True,
                 to_float32: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.on_error = check_on_error(on_error, 'LoadSceneImage')
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.check_truncated = check_truncated
        self.check_size = check_size
        self.to_float32 = to_float32
        self.backend_args = backend_args
        self.skipped: Counter = Counter()

    @staticmethod
    def describe_record(results: dict) -> str:
        """Human-readable name of the record behind ``results``."""
        parts = []
        if results.get('img_id') is not None:
            parts.append(f'image id {results["img_id"]}')
        if results.get('ann_id') is not None:
            parts.append(f'annotation id {results["ann_id"]}')
        if not parts and results.get('sample_idx') is not None:
            parts.append(f'sample {results["sample_idx"]}')
        return ', '.join(parts) or 'unknown record'

    def _fail(self, results: dict, reason: str, detail: str):
        path = results.get('img_path')
        record = self.describe_record(results)
        if self.on_error == 'raise':
            raise ImageLoadError(
                f'cannot use image {path} ({record}): {reason}: {detail}')
        self.skipped[reason] += 1
        counts = ', '.join(f'{k}: {self.skipped[k]}' for k in self.REASONS
                           if self.skipped[k])
        print_log(
            f'LoadSceneImage: skipped image {path} ({record}): {reason}: '
            f'{detail}. Skipped so far: {sum(self.skipped.values())} '
            f'({counts})',
            logger='current',
            level=logging.WARNING)
        return None

    def read_bytes(self, results: dict) -> Optional[bytes]:
        """Read and check the file content of ``results['img_path']``.

        Returns:
            bytes | None: The content; None when the image was skipped
            (``on_error='skip'``).
        """
        if 'img_path' not in results:
            raise KeyError('LoadSceneImage: the data info has no "img_path" '
                           f'({self.describe_record(results)})')
        path = results['img_path']
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            return self._fail(results, 'missing', 'no such file')
        except OSError as e:
            return self._fail(results, 'unreadable', str(e))
        if not data:
            return self._fail(results, 'unreadable', 'empty file')
        if self.check_truncated:
            problem = check_image_bytes(data)
            if problem is not None:
                return self._fail(results, 'truncated', problem)
        return data

    def size_fits(self, results: dict, w: int, h: int) -> bool:
        """Compare a displayed image size with the annotation's.

        Returns:
            bool: True when the size fits (or is not checked); False when
            the image was skipped (``on_error='skip'``).
        """
        if self.check_size and 'width' in results and 'height' in results:
            aw, ah = results['width'], results['height']
            if abs(aw - w) > 1 or abs(ah - h) > 1:
                self._fail(
                    results, 'size_mismatch',
                    f'the annotation gives {aw:g}x{ah:g} (width x height) '
                    f'but the image is {w}x{h}')
                return False
        return True

    def decode(self, results: dict, data: bytes) -> Optional[dict]:
        """Decode ``data`` into ``results['img']`` (displayed frame)."""
        # decode the stored pixels, then turn them as the EXIF tag says
        orientation, flag = 1, self.color_type
        if not (isinstance(flag, str)
                and flag.endswith('_ignore_orientation')):
            orientation = image_bytes_orientation(data)
            backend = self.imdecode_backend or \
                getattr(mmcv.image.io, 'imread_backend', 'cv2')
            if backend in ('cv2', 'pillow'):
                flag = _BLIND_FLAGS.get(flag, flag)
        try:
            img = mmcv.imfrombytes(
                data, flag=flag, backend=self.imdecode_backend)
        except Exception as e:  # decoders raise many different types
            return self._fail(results, 'unreadable',
                              f'{type(e).__name__}: {e}')
        if img is None or img.size == 0:
            return self._fail(results, 'unreadable',
                              'the decoder returned no image')
        img = apply_exif_orientation(img, orientation)
        h, w = img.shape[:2]
        if not self.size_fits(results, w, h):
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = (h, w)
        results['ori_shape'] = (h, w)
        return results

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']``."""
        data = self.read_bytes(results)
        if data is None:
            return None
        return self.decode(results, data)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(on_error={self.on_error!r}, '
                f'color_type={self.color_type!r}, '
                f'imdecode_backend={self.imdecode_backend!r}, '
                f'check_truncated={self.check_truncated}, '
                f'check_size={self.check_size})')
