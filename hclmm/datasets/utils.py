"""Helpers shared by the scene-object datasets: errors, box checks, image
headers."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmengine import fileio

__all__ = [
    'AnnotationError', 'check_on_error', 'clip_box', 'read_image_size',
    'exif_orientation', 'apply_exif_orientation', 'build_transforms'
]

#: EXIF orientations that swap width and height (a quarter turn, with or
#: without a mirror).
SWAPPING_ORIENTATIONS = (5, 6, 7, 8)

ON_ERROR_CHOICES = ('raise', 'skip')


class AnnotationError(ValueError):
    """A problem in an annotation file, raised at load time.

    The message always names the annotation file and, where there is one, the
    record (image id, annotation id or CSV line) at fault.
    """


def check_on_error(value: str, owner: str) -> str:
    """Validate an ``on_error`` argument.

    Args:
        value (str): The given value.
        owner (str): Name of the class, for the message.

    Returns:
        str: ``value`` when it is ``'raise'`` or ``'skip'``.
    """
    if value not in ON_ERROR_CHOICES:
        raise ValueError(f'{owner}: on_error must be one of '
                         f'{ON_ERROR_CHOICES}, got {value!r}')
    return value


def clip_box(box: Sequence[float], width: float,
             height: float) -> Tuple[float, float, float, float]:
    """Clip an ``(x1, y1, x2, y2)`` box to the image ``[0, w] x [0, h]``."""
    x1, y1, x2, y2 = box
    return (min(max(x1, 0.), width), min(max(y1, 0.), height),
            min(max(x2, 0.), width), min(max(y2, 0.), height))


def exif_orientation(img) -> int:
    """The EXIF orientation (1-8) of an image opened with Pillow.

    Reads only what Pillow parsed with the header (the EXIF block of a JPEG,
    an ``eXIf`` chunk before the pixel data of a PNG, the tags of a TIFF,
    XMP), never the pixel data. Images without the tag, or with a value
    outside 1-8, have orientation 1 (as stored).

    Args:
        img (PIL.Image.Image): An image opened (lazily) with Pillow.

    Returns:
        int: The orientation; 1 means no change.
    """
    from PIL import Image
    try:
        # Image.getexif of the base class: PngImageFile.getexif would decode
        # the whole image to look for an eXIf chunk after the pixel data.
        value = Image.Image.getexif(img).get(0x0112, 1)
    except Exception:  # a broken EXIF block: treat the image as stored
        return 1
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def apply_exif_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a decoded image from its stored frame into the displayed frame.

    The same operations as :func:`PIL.ImageOps.exif_transpose`, on an array
    of shape ``(H, W[, C])``.

    Args:
        img (np.ndarray): The image as stored in the file.
        orientation (int): The EXIF orientation (1-8).

    Returns:
        np.ndarray: The image as displayed (a contiguous array; ``img``
        itself when the orientation is 1).
    """
    if orientation == 2:  # mirrored left-right
        out = img[:, ::-1]
    elif orientation == 3:  # rotated 180 degrees
        out = img[::-1, ::-1]
    elif orientation == 4:  # mirrored top-bottom
        out = img[::-1]
    elif orientation == 5:  # transposed (mirrored along the main diagonal)
        out = img.swapaxes(0, 1)
    elif orientation == 6:  # stored a quarter turn counter-clockwise
        out = np.rot90(img, -1)
    elif orientation == 7:  # transversed (mirrored along the anti-diagonal)
        out = np.rot90(img, 2).swapaxes(0, 1)
    elif orientation == 8:  # stored a quarter turn clockwise
        out = np.rot90(img, 1)
    else:
        return img
    return np.ascontiguousarray(out)


def read_image_size(path: str,
                    backend_args: Optional[dict] = None) -> Tuple[int, int]:
    """Read ``(width, height)`` of an image from its header only.

    Pillow opens images lazily, so only the first bytes are decoded. The
    size is that of the *displayed* image: an EXIF orientation that turns
    the image a quarter (orientations 5-8) swaps width and height, because
    COCO and OpenImages boxes are drawn on the image as displayed and
    :class:`~hclmm.datasets.transforms.LoadSceneImage` decodes it that way.

    Args:
        path (str): Image path (any mmengine file backend).
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Returns:
        tuple[int, int]: width and height, as displayed.

    Raises:
        FileNotFoundError: the image does not exist.
        OSError: the header cannot be parsed.
    """
    from PIL import Image

    def displayed_size(img):
        width, height = img.size
        if exif_orientation(img) in SWAPPING_ORIENTATIONS:
            return height, width
        return width, height

    if backend_args is None and '://' not in path:
        with Image.open(path) as img:
            return displayed_size(img)
    import io
    data = fileio.get(path, backend_args=backend_args)
    with Image.open(io.BytesIO(data)) as img:
        return displayed_size(img)


def build_transforms(transforms, owner: str) -> list:
    """Build a list of transforms (config dicts or callables).

    Config dicts are built with hclmm's ``TRANSFORMS`` registry, which also
    finds the transforms of mmpretrain, mmcv and mmengine.

    Args:
        transforms (Sequence[dict | callable] | None): The transforms.
        owner (str): Name of the caller, for error messages.

    Returns:
        list[callable]: The built transforms.
    """
    from hclmm.registry import TRANSFORMS
    if transforms is None:
        return []
    if isinstance(transforms, dict) or callable(transforms):
        raise TypeError(f'{owner}: expected a list of transforms, got a '
                        f'single {type(transforms).__name__}')
    built = []
    for t in transforms:
        if isinstance(t, dict):
            built.append(TRANSFORMS.build(t))
        elif callable(t):
            built.append(t)
        else:
            raise TypeError(f'{owner}: a transform must be a config dict or a '
                            f'callable, got {type(t).__name__}')
    return built
