"""Image loading for decoding on the accelerator: the encoded JPEG bytes."""
import io
from typing import Optional, Tuple

import torch

from hclmm.registry import TRANSFORMS
from ..utils import SWAPPING_ORIENTATIONS, exif_orientation
from .load_scene_image import LoadSceneImage

__all__ = ['LoadSceneImageBytes', 'jpeg_header']

#: Pillow modes of JPEG files that torchvision decodes to RGB on any device.
DEVICE_DECODABLE_MODES = ('RGB', 'L')


def jpeg_header(data: bytes) -> Optional[Tuple[int, int, int]]:
    """Stored size and EXIF orientation of a JPEG that can be decoded later.

    Only the header is parsed (Pillow opens images lazily).

    Args:
        data (bytes): The file content.

    Returns:
        tuple | None: ``(stored width, stored height, orientation)`` for a
        JPEG in an RGB or grayscale colour space; None for other formats,
        other colour spaces (CMYK, YCCK) and headers Pillow cannot parse.
    """
    if data[:2] != b'\xff\xd8':
        return None
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != 'JPEG' or img.mode not in DEVICE_DECODABLE_MODES:
                return None
            w, h = img.size
            return w, h, exif_orientation(img)
    except Exception:  # a broken header: the CPU decoder reports the file
        return None


@TRANSFORMS.register_module()
class LoadSceneImageBytes(LoadSceneImage):
    """Read an image for decoding in the data preprocessor (GPU view path).

    A JPEG in an RGB or grayscale colour space is not decoded here: ``img``
    is its encoded content as a 1-D ``uint8`` tensor, decoded later for the
    whole batch by
    :class:`~hclmm.models.data_preprocessors.SceneObjectViewPreprocessor`
    (on the GPU with nvjpeg when the model is there). Every other image
    (PNG, CMYK JPEG, a header Pillow cannot parse) is decoded here on the
    CPU exactly as :class:`LoadSceneImage` does (``img`` an ``(H, W, 3)``
    BGR ``uint8`` array in the displayed frame).

    The checks of :class:`LoadSceneImage` apply before anything is shipped:
    missing, empty and truncated files, and a displayed size (from the
    header) that differs from the annotation, raise :class:`ImageLoadError`
    naming the file and the record, or are skipped and counted with
    ``on_error='skip'``.

    **Added Keys:** ``img``, ``img_shape`` and ``ori_shape`` (displayed
    ``(height, width)``), ``img_orientation`` (the EXIF orientation the
    preprocessor applies after decoding; 1 for images decoded here).

    Args:
        **kwargs: Arguments of :class:`LoadSceneImage`. ``to_float32`` is
            not supported (the preprocessor makes float views).
    """

    def __init__(self, **kwargs) -> None:
        if kwargs.get('to_float32'):
            raise ValueError('LoadSceneImageBytes: to_float32 is not '
                             'supported; the data preprocessor makes the '
                             'float views')
        color_type = kwargs.get('color_type', 'color')
        if color_type not in ('color', 'color_ignore_orientation'):
            raise ValueError(
                "LoadSceneImageBytes: color_type must be 'color' or "
                f"'color_ignore_orientation', got {color_type!r}")
        super().__init__(**kwargs)

    def transform(self, results: dict) -> Optional[dict]:
        """Read ``results['img_path']``; decode it only if not a JPEG."""
        data = self.read_bytes(results)
        if data is None:
            return None
        header = jpeg_header(data)
        if header is None:
            out = self.decode(results, data)
            if out is not None:
                out['img_orientation'] = 1
            return out
        w, h, orientation = header
        if self.color_type == 'color_ignore_orientation':
            orientation = 1
        if orientation in SWAPPING_ORIENTATIONS:
            w, h = h, w
        if not self.size_fits(results, w, h):
            return None
        results['img'] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        results['img_shape'] = (h, w)
        results['ori_shape'] = (h, w)
        results['img_orientation'] = orientation
        return results
