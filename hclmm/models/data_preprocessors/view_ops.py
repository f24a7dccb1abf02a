"""Photometric view augmentations on batches of float images, one random
parameter per image.

Images are ``(N, 3, H, W)`` float tensors in ``[0, 255]``, RGB. Each
function takes per-image factors as an ``(N,)`` tensor, so a batch of views
with independent draws is one call (torchvision's functional transforms
take one factor per call, which would tie the draws of a batch together).
The formulas are those of Pillow's ``ImageEnhance`` and HSV conversion
that the CPU pipeline runs (through mmcv), without its rounding to
integers after each step.
"""
import math

import torch
import torch.nn.functional as F

__all__ = [
    'luma', 'adjust_brightness', 'adjust_contrast', 'adjust_saturation',
    'rotate_hue', 'to_grayscale', 'gaussian_blur', 'blur_radius'
]


def _per_image(f: torch.Tensor) -> torch.Tensor:
    return f.reshape(-1, 1, 1, 1)


def luma(x: torch.Tensor) -> torch.Tensor:
    """Pillow's ``L`` conversion (ITU-R 601-2 luma), ``(N, 1, H, W)``."""
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def adjust_brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend with black: ``x * factor``, clipped to ``[0, 255]``."""
    return (x * _per_image(factor)).clamp_(0, 255)


def adjust_contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend with the image's mean grey level (rounded, as Pillow)."""
    mean = luma(x).mean(dim=(1, 2, 3), keepdim=True).round()
    return (mean + _per_image(factor) * (x - mean)).clamp_(0, 255)


def adjust_saturation(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend with the image's own grey version (Pillow's ``Color``)."""
    gray = luma(x)
    return (gray + _per_image(factor) * (x - gray)).clamp_(0, 255)


def rotate_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Turn the hue by ``shift`` (fractions of a full turn) in HSV space.

    Saturation and value are kept. RGB to HSV is the usual hexcone
    formula; HSV to RGB uses ``c_n = v - v s clip(min(k, 4 - k), 0, 1)``
    with ``k = (n + 6 h) mod 6`` and ``n = 5, 3, 1`` for R, G, B.
    """
    r, g, b = x.unbind(1)
    maxc, _ = x.max(dim=1)
    minc, _ = x.min(dim=1)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    hue = torch.where(
        maxc == r, (g - b) / safe,
        torch.where(maxc == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
    hue = torch.where(delta > 0, hue / 6, torch.zeros_like(hue))
    hue6 = ((hue + shift.reshape(-1, 1, 1)) % 1.0) * 6
    # v * s is the chroma maxc - minc
    out = [maxc - delta * _tent((n + hue6) % 6) for n in (5., 3., 1.)]
    return torch.stack(out, dim=1)


def _tent(k: torch.Tensor) -> torch.Tensor:
    return torch.minimum(k, 4 - k).clamp_(0, 1)


def to_grayscale(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted channel sum, repeated on 3 channels; ``weights`` ``(N, 3)``
    in RGB order."""
    gray = (x * weights.reshape(-1, 3, 1, 1)).sum(dim=1, keepdim=True)
    return gray.expand(-1, 3, -1, -1).contiguous()


def blur_radius(max_sigma: float) -> int:
    """Kernel radius (taps on each side) for a standard deviation."""
    return max(1, int(math.ceil(3 * max_sigma)))


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor,
                  radius: int) -> torch.Tensor:
    """Separable Gaussian blur with one standard deviation per image.

    Borders are replicated (as Pillow's box blurs do). ``radius`` is given
    by the caller (:func:`blur_radius` of the largest sigma, known on the
    host), so nothing is read back from the device.

    Args:
        x (torch.Tensor): ``(N, C, H, W)`` images.
        sigma (torch.Tensor): ``(N,)`` standard deviations in pixels.
        radius (int): Taps on each side of the kernel.
    """
    n, c, h, w = x.shape
    taps = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-taps[None]**2 / (2 * sigma.to(x.dtype)[:, None]**2))
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(
        c, dim=0)  # (N * C, K)
    y = F.pad(x.reshape(1, n * c, h, w), (radius, ) * 4, mode='replicate')
    y = F.conv2d(y, kernel[:, None, None, :], groups=n * c)
    y = F.conv2d(y, kernel[:, None, :, None], groups=n * c)
    return y.reshape(n, c, h, w)
