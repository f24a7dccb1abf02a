"""mmpretrain's ColorJitter with a hue shift that works under numpy >= 2 and
one Pillow image per call instead of one per step."""
from typing import Optional, Tuple

import cv2
import mmcv
import numpy as np
from mmpretrain.datasets.transforms import \
    ColorJitter as _MMPretrainColorJitter
from PIL import Image, ImageEnhance

from hclmm.registry import TRANSFORMS

__all__ = ['ColorJitter', 'adjust_hue', 'sample_jitter_params']

_BACKENDS = ('pillow', 'cv2')


def _hue_shift(hue_factor: float) -> np.uint8:
    """``int(hue_factor * 255) mod 256``: mmcv's shift of the 0..255 hue
    channel, formed without a negative uint8."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor {hue_factor} is not in [-0.5, 0.5]')
    return np.uint8(int(hue_factor * 255) % 256)


def _hue_rgb_cv2(rgb: np.ndarray, shift: np.uint8) -> np.ndarray:
    """Hue rotation of a contiguous RGB uint8 image with OpenCV's HSV."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)
    hsv[..., 0] += shift  # uint8 wraps around
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


def _hue_pil(pil: Image.Image, shift: np.uint8) -> Image.Image:
    """Hue rotation of an RGB Pillow image with Pillow's HSV."""
    h, s, v = pil.convert('HSV').split()
    lut = [(i + int(shift)) % 256 for i in range(256)]
    return Image.merge('HSV', (h.point(lut), s, v)).convert('RGB')


def adjust_hue(img: np.ndarray, hue_factor: float,
               backend: str = 'pillow') -> np.ndarray:
    """Rotate the hue of a BGR uint8 image by ``hue_factor`` of a turn.

    Same result as :func:`mmcv.adjust_hue` (the hue channel, stored in 0..255,
    is shifted by ``int(hue_factor * 255)`` with wrap-around), but the shift
    is formed as a non-negative integer, so negative factors work under
    numpy >= 2, where ``np.uint8(-12.7)`` raises ``OverflowError``.

    Args:
        img (np.ndarray): BGR image, uint8.
        hue_factor (float): In ``[-0.5, 0.5]``.
        backend (str): ``'pillow'`` or ``'cv2'`` (colour conversion used).
            Defaults to ``'pillow'``.

    Returns:
        np.ndarray: The adjusted image, same dtype as ``img``.
    """
    shift = _hue_shift(hue_factor)
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be 'pillow' or 'cv2', got {backend}")
    dtype = img.dtype
    if backend == 'pillow':
        pil = Image.fromarray(img[..., ::-1].astype(np.uint8), mode='RGB')
        return np.asarray(_hue_pil(pil, shift), dtype=dtype)[..., ::-1]
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += shift
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(dtype)


def sample_jitter_params(jitter: _MMPretrainColorJitter) -> Tuple:
    """Draw the random parameters of a colour jitter.

    The order of the four steps (brightness 0, contrast 1, saturation 2,
    hue 3) is a uniform permutation, and each factor is uniform in its
    range (None for a step the transform leaves out): mmpretrain's
    distributions, drawn from numpy's global generator in mmpretrain's
    order, so a seeded pipeline draws the same numbers as mmpretrain's
    ``ColorJitter``.

    Args:
        jitter (ColorJitter): mmpretrain's (or hclmm's) ``ColorJitter``;
            its ``brightness``, ``contrast``, ``saturation`` and ``hue``
            ranges are read.

    Returns:
        tuple: ``(order, brightness, contrast, saturation, hue)``.
    """
    order = np.random.permutation(4)
    factors = [
        None if bounds is None else np.random.uniform(bounds[0], bounds[1])
        for bounds in (jitter.brightness, jitter.contrast, jitter.saturation,
                       jitter.hue)
    ]
    return (order, *factors)


@TRANSFORMS.register_module()
class ColorJitter(_MMPretrainColorJitter):
    """Randomly change brightness, contrast, saturation and hue.

    Drop-in replacement of mmpretrain's ``ColorJitter`` registered in
    hclmm's scope under the same name, so that configs with
    ``default_scope='hclmm'`` (mmpretrain's own pipelines included) get it.
    With its defaults it has mmpretrain's numerics: the same arguments, the
    same random draws (:func:`sample_jitter_params`) and the same images,
    bit for bit. Differences:

    * the hue step (:func:`adjust_hue`) works for negative factors: mmcv's
      raises ``OverflowError`` for every negative hue factor under
      numpy >= 2, which breaks the MoCo v2 augmentation (``hue=0.1``) about
      40 % of the time;
    * with the ``pillow`` backend the image is converted to Pillow once per
      call, not once per step: brightness, contrast and saturation are
      Pillow's ``ImageEnhance`` on that image (bit-identical to mmcv's);
    * ``hue_backend='cv2'``, which a config asks for by name (hclmm's
      scene-object pipelines do), takes OpenCV's HSV conversion for the hue
      step: about a tenth of Pillow's cost, and other numerics, by rounding
      (less than a grey level on average; both 8-bit HSV round trips are
      lossy: at a hue factor of 0 each moves pixels by about half a level).

    Args:
        brightness (float | Sequence[float]): See mmpretrain. Defaults to 0.
        contrast (float | Sequence[float]): See mmpretrain. Defaults to 0.
        saturation (float | Sequence[float]): See mmpretrain. Defaults to 0.
        hue (float | Sequence[float]): See mmpretrain. Defaults to 0.
        backend (str): ``'pillow'`` or ``'cv2'`` for brightness, contrast and
            saturation. Defaults to ``'pillow'``.
        hue_backend (str, optional): ``'pillow'`` or ``'cv2'`` for the hue
            step; None uses ``backend``. Defaults to None (mmpretrain's
            numerics).
    """

    def __init__(self, *args, hue_backend: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.backend not in _BACKENDS:
            raise ValueError(
                f"backend must be 'pillow' or 'cv2', got {self.backend!r}")
        if hue_backend is not None and hue_backend not in _BACKENDS:
            raise ValueError("hue_backend must be 'pillow', 'cv2' or None, "
                             f'got {hue_backend!r}')
        self.hue_backend = hue_backend or self.backend

    def transform(self, results: dict) -> dict:
        order, brightness, contrast, saturation, hue = \
            sample_jitter_params(self)
        factors = {0: brightness, 1: contrast, 2: saturation, 3: hue}
        steps = [(int(i), factors[int(i)]) for i in order
                 if factors[int(i)] is not None]
        if self.backend == 'pillow' and results['img'].dtype == np.uint8:
            results['img'] = self._jitter_pillow(results['img'], steps)
        else:
            results['img'] = self._jitter_mmcv(results['img'], steps)
        return results

    def _jitter_mmcv(self, img: np.ndarray, steps) -> np.ndarray:
        """mmcv's functions step by step (``cv2`` backend)."""
        for index, factor in steps:
            if index == 0:
                img = mmcv.adjust_brightness(img, factor,
                                             backend=self.backend)
            elif index == 1:
                img = mmcv.adjust_contrast(img, factor, backend=self.backend)
            elif index == 2:
                img = mmcv.adjust_color(
                    img, alpha=factor, backend=self.backend)
            else:
                img = adjust_hue(img, factor, backend=self.hue_backend)
        return img

    def _jitter_pillow(self, img: np.ndarray, steps) -> np.ndarray:
        """All steps on one RGB image: a Pillow image for the enhancers, an
        RGB array for OpenCV's hue step; one conversion in and one out."""
        enhancers = (ImageEnhance.Brightness, ImageEnhance.Contrast,
                     ImageEnhance.Color)
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        pil = None
        for index, factor in steps:
            if index < 3:
                if pil is None:
                    pil = Image.fromarray(rgb, mode='RGB')
                pil = enhancers[index](pil).enhance(factor)
            elif self.hue_backend == 'pillow':
                if pil is None:
                    pil = Image.fromarray(rgb, mode='RGB')
                pil = _hue_pil(pil, _hue_shift(factor))
            else:
                if pil is not None:
                    rgb, pil = np.asarray(pil), None
                rgb = _hue_rgb_cv2(rgb, _hue_shift(factor))
        if pil is not None:
            rgb = np.asarray(pil)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f', hue_backend={self.hue_backend})'
