"""Decode a batch and make its scene-object views on the model's device."""
import logging
from typing import Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.logging import print_log
from mmpretrain.models.utils import SelfSupDataPreprocessor
from torchvision.io import ImageReadMode, decode_jpeg
from torchvision.ops import roi_align

from hclmm.datasets.transforms import ImageLoadError, LoadSceneImage
from hclmm.datasets.transforms.view_recipe import param_index
from hclmm.registry import MODELS
from . import view_ops

__all__ = ['SceneObjectViewPreprocessor']

_JITTER_OPS = (view_ops.adjust_brightness, view_ops.adjust_contrast,
               view_ops.adjust_saturation, view_ops.rotate_hue)
_FACTOR_COLUMNS = tuple(
    param_index(n) for n in ('brightness', 'contrast', 'saturation', 'hue'))
_IDENTITY_FACTORS = (1., 1., 1., 0.)
_NEEDED_KEYS = ('view_boxes', 'view_params', 'view_sizes', 'img_shape')


def _orient(img: torch.Tensor, orientation: int) -> torch.Tensor:
    """A ``(C, H, W)`` image from its stored frame to the displayed one
    (the EXIF orientations, as ``hclmm.datasets.utils``)."""
    dims = (-2, -1)
    if orientation == 2:
        return img.flip(-1)
    if orientation == 3:
        return img.flip(dims)
    if orientation == 4:
        return img.flip(-2)
    if orientation == 5:
        return img.transpose(-2, -1)
    if orientation == 6:
        return torch.rot90(img, -1, dims)
    if orientation == 7:
        return torch.rot90(img, 2, dims).transpose(-2, -1)
    if orientation == 8:
        return torch.rot90(img, 1, dims)
    return img


class _HostIndex:
    """Index arrays built on the host, sent to the device in one copy."""

    def __init__(self) -> None:
        self.parts: List[np.ndarray] = []

    def add(self, idx: np.ndarray) -> int:
        self.parts.append(idx)
        return len(self.parts) - 1

    def to(self, device) -> List[torch.Tensor]:
        if not self.parts:
            return []
        flat = torch.from_numpy(np.concatenate(self.parts)).to(
            device, non_blocking=True)
        return list(flat.split([len(p) for p in self.parts]))


@MODELS.register_module()
class SceneObjectViewPreprocessor(SelfSupDataPreprocessor):
    """The GPU view path: decode JPEGs and make all views of a batch at once.

    Fed by ``LoadSceneImageBytes`` -> ``SceneObjectViewParams`` ->
    ``PackInputs(meta_keys=(..., 'view_boxes', 'view_params',
    'view_sizes', 'img_orientation', 'img_shape'))`` with
    ``collate_fn=dict(type='pseudo_collate')``. For such a batch:

    1. the JPEG bytes of all samples are decoded in one call of
       :func:`torchvision.io.decode_jpeg` on the model's device (nvjpeg on
       CUDA); images the workers decoded themselves (PNG, CMYK JPEG) are
       moved there; the EXIF orientation is applied and the size checked
       against ``img_shape``;
    2. the images are stacked (borders replicated into the padding) and
       every view box of every sample is cut and resized by one
       :func:`torchvision.ops.roi_align` call per output size (bilinear,
       ``aligned=True``, adaptive sampling, which averages several samples
       per output pixel when shrinking);
    3. the photometric steps follow the sampled parameters, each one batched
       over the views that use it: colour jitter in its sampled order,
       grayscale, Gaussian blur, horizontal flip (see
       :mod:`~hclmm.models.data_preprocessors.view_ops`);
    4. views are normalised with ``mean``/``std`` (RGB order).

    ``inputs`` becomes the list of ``(N, 3, H, W)`` float tensors in the
    view order of :class:`~hclmm.datasets.transforms.SceneObjectViews`, as
    the CPU path gives them to the model. Other batches (the CPU path, the
    zero-shot crops) pass through :class:`SelfSupDataPreprocessor`
    unchanged, so ``to_rgb=True`` still refers to their BGR images.

    A JPEG the device decoder rejects is decoded on the CPU (OpenCV); if
    that fails too, :class:`~hclmm.datasets.transforms.ImageLoadError`
    names the file and the record. CPU fallbacks are counted in
    :attr:`cpu_decoded` and logged.

    Args:
        mean (Sequence[float]): Per-channel mean, RGB order.
        std (Sequence[float]): Per-channel standard deviation, RGB order.
        to_rgb (bool): For batches of the CPU path (BGR images).
            Defaults to True.
        **kwargs: Other arguments of :class:`SelfSupDataPreprocessor`.
    """

    def __init__(self,
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 to_rgb: bool = True,
                 **kwargs) -> None:
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, **kwargs)
        self.cpu_decoded = 0

    # ------------------------------------------------------------------
    @staticmethod
    def is_view_batch(data: dict) -> bool:
        """Whether ``data`` comes from the GPU view path's pipeline."""
        samples = data.get('data_samples') if isinstance(data, dict) \
            else None
        return bool(samples) and 'view_boxes' in samples[0]

    @staticmethod
    def _where(sample) -> str:
        return (f"image {sample.get('img_path')} ("
                f'{LoadSceneImage.describe_record(sample.metainfo)})')

    def _decode_one(self, data: torch.Tensor, sample) -> torch.Tensor:
        try:
            return decode_jpeg(data, mode=ImageReadMode.RGB,
                               device=self._device)
        except RuntimeError as err:
            first = err
        img = None
        try:  # OpenCV reads some files libjpeg/nvjpeg refuse
            img = mmcv.imfrombytes(data.numpy().tobytes(),
                                   flag='color_ignore_orientation')
        except Exception:  # decoders raise many different types
            img = None
        if img is None or img.size == 0:
            raise ImageLoadError(
                f'cannot use {self._where(sample)}: unreadable: '
                f'{type(first).__name__}: {first}')
        self.cpu_decoded += 1
        print_log(
            f'SceneObjectViewPreprocessor: decoded {self._where(sample)} on '
            f'the CPU ({first}). CPU-decoded so far: {self.cpu_decoded}',
            logger='current', level=logging.WARNING)
        return torch.from_numpy(np.ascontiguousarray(
            img[..., ::-1].transpose(2, 0, 1))).to(self._device)

    def decode(self, inputs: List[torch.Tensor],
               samples: list) -> List[torch.Tensor]:
        """``(3, H, W)`` uint8 RGB images, displayed frame, on the device."""
        jpeg = [i for i, t in enumerate(inputs) if t.ndim == 1]
        images: List[Optional[torch.Tensor]] = [None] * len(inputs)
        if jpeg:
            try:
                decoded = decode_jpeg([inputs[i] for i in jpeg],
                                      mode=ImageReadMode.RGB,
                                      device=self._device)
            except RuntimeError:  # find the file(s) at fault one by one
                decoded = [self._decode_one(inputs[i], samples[i])
                           for i in jpeg]
            for i, img in zip(jpeg, decoded):
                images[i] = _orient(img, int(samples[i].get(
                    'img_orientation', 1)))
        for i, t in enumerate(inputs):
            if t.ndim == 3:  # decoded by the worker: BGR, displayed frame
                images[i] = t.to(self._device, non_blocking=True).flip(0)
            elif t.ndim != 1:
                raise ValueError(
                    f'SceneObjectViewPreprocessor: {self._where(samples[i])}'
                    f': expected encoded bytes or a (3, H, W) image, got a '
                    f'tensor of shape {tuple(t.shape)}')
            h, w = (int(v) for v in samples[i].img_shape[:2])
            if tuple(images[i].shape[-2:]) != (h, w):
                raise ImageLoadError(
                    f'cannot use {self._where(samples[i])}: size_mismatch: '
                    f'the header gives {w}x{h} (width x height) but the '
                    f'decoded image is {images[i].shape[-1]}x'
                    f'{images[i].shape[-2]}')
        return images

    def _stack(self, images: List[torch.Tensor]) -> torch.Tensor:
        """One float batch; the row and column after each image repeat its
        last ones, so bilinear sampling at the border reads the image."""
        height = max(int(img.shape[-2]) for img in images)
        width = max(int(img.shape[-1]) for img in images)
        batch = torch.zeros((len(images), 3, height + 1, width + 1),
                            dtype=torch.float32, device=self._device)
        for b, img in enumerate(images):
            h, w = img.shape[-2:]
            batch[b, :, :h, :w] = img
            batch[b, :, :h, w] = batch[b, :, :h, w - 1]
            batch[b, :, h, :w + 1] = batch[b, :, h - 1, :w + 1]
        return batch

    def _augment(self, x: torch.Tensor, params: np.ndarray,
                 params_dev: torch.Tensor) -> torch.Tensor:
        """Photometric steps on ``x`` (K views) with host params ``(K, P)``
        (for the choice of views) and the same on the device."""
        col = param_index
        index = _HostIndex()
        jitter_on = params[:, col('jitter')] > 0
        steps = []  # (kind, index slot, argument)
        for t in range(4):
            order = params[:, col(f'order{t}')]
            for k in range(4):
                idx = np.flatnonzero(jitter_on & (order == k))
                if idx.size and not np.all(params[idx, _FACTOR_COLUMNS[k]]
                                           == _IDENTITY_FACTORS[k]):
                    steps.append(('jitter', index.add(idx), k))
        idx = np.flatnonzero(params[:, col('gray')] > 0)
        if idx.size:
            steps.append(('gray', index.add(idx), None))
        idx = np.flatnonzero(params[:, col('blur_sigma')] > 0)
        if idx.size:
            radius = view_ops.blur_radius(
                float(params[idx, col('blur_sigma')].max()))
            steps.append(('blur', index.add(idx), radius))
        idx = np.flatnonzero(params[:, col('flip')] > 0)
        if idx.size:
            steps.append(('flip', index.add(idx), None))
        dev_index = index.to(x.device)
        for kind, slot, arg in steps:
            sel = dev_index[slot]
            sub, p = x.index_select(0, sel), params_dev.index_select(0, sel)
            if kind == 'jitter':
                sub = _JITTER_OPS[arg](sub, p[:, _FACTOR_COLUMNS[arg]])
            elif kind == 'gray':
                weights = p[:, col('gray_r'):col('gray_b') + 1]
                sub = view_ops.to_grayscale(sub, weights)
            elif kind == 'blur':
                sub = view_ops.gaussian_blur(sub, p[:, col('blur_sigma')],
                                             arg)
            else:
                sub = sub.flip(-1)
            x.index_copy_(0, sel, sub)
        return x

    @staticmethod
    def _fill_masks(x: torch.Tensor, params: np.ndarray,
                    rois: torch.Tensor,
                    params_dev: torch.Tensor) -> torch.Tensor:
        """Fill the mask box of the views that have one (``mask`` in their
        parameters): every output pixel whose centre falls inside the box,
        in image coordinates, gets the fill colour."""
        col = param_index
        idx = np.flatnonzero(params[:, col('mask')] > 0)
        if not idx.size:
            return x
        height, width = x.shape[-2:]
        sel = torch.from_numpy(idx).to(x.device)
        box = rois.index_select(0, sel)[:, 1:5]
        p = params_dev.index_select(0, sel)
        m = p[:, col('mask_x1'):col('mask_y2') + 1]
        fill = p[:, col('mask_r'):col('mask_b') + 1]
        steps_x = (torch.arange(width, device=x.device) + 0.5) / width
        steps_y = (torch.arange(height, device=x.device) + 0.5) / height
        cx = box[:, :1] + steps_x * (box[:, 2:3] - box[:, :1])
        cy = box[:, 1:2] + steps_y * (box[:, 3:4] - box[:, 1:2])
        in_x = (cx >= m[:, :1]) & (cx < m[:, 2:3])
        in_y = (cy >= m[:, 1:2]) & (cy < m[:, 3:4])
        inside = (in_y[:, :, None] & in_x[:, None, :])[:, None]
        sub = torch.where(inside, fill[:, :, None, None].to(x.dtype),
                          x.index_select(0, sel))
        return x.index_copy(0, sel, sub)

    def make_views(self, inputs: List[torch.Tensor],
                   samples: list) -> List[torch.Tensor]:
        """The list of normalised ``(N, 3, H, W)`` views of a batch."""
        for s in samples:
            missing = [k for k in _NEEDED_KEYS if k not in s]
            if missing:
                raise KeyError(
                    f'SceneObjectViewPreprocessor: {self._where(s)} has no '
                    f'{missing} in its data sample; pack it with PackInputs('
                    f"meta_keys=(..., 'view_boxes', 'view_params', "
                    f"'view_sizes', 'img_orientation', 'img_shape'))")
        sizes = np.asarray(samples[0].view_sizes)
        if any(not np.array_equal(np.asarray(s.view_sizes), sizes)
               for s in samples):
            raise ValueError('SceneObjectViewPreprocessor: the samples of a '
                             'batch have different view sizes')
        batch = self._stack(self.decode(inputs, samples))
        num, num_views = len(samples), len(sizes)
        boxes = np.stack([np.asarray(s.view_boxes, np.float32)
                          for s in samples])  # (N, V, 4)
        params = np.stack([np.asarray(s.view_params, np.float32)
                           for s in samples])  # (N, V, P)
        views: Dict[int, torch.Tensor] = {}
        for size in sorted({tuple(int(v) for v in hw) for hw in sizes}):
            vids = [v for v in range(num_views) if tuple(sizes[v]) == size]
            # view-major rows: (v0: all samples), (v1: all samples), ...
            rois = np.concatenate([
                np.concatenate([np.arange(num, dtype=np.float32)[:, None],
                                boxes[:, v]], axis=1) for v in vids
            ])
            host = np.concatenate([params[:, v] for v in vids])
            rois_dev = torch.from_numpy(rois).to(self._device,
                                                 non_blocking=True)
            params_dev = torch.from_numpy(host).to(self._device,
                                                   non_blocking=True)
            out = roi_align(batch, rois_dev, output_size=size,
                            spatial_scale=1.0, sampling_ratio=-1,
                            aligned=True)
            out = self._fill_masks(out, host, rois_dev, params_dev)
            out = self._augment(out, host, params_dev)
            if self._enable_normalize:
                out = (out - self.mean) / self.std
            for j, v in enumerate(vids):
                views[v] = out[j * num:(j + 1) * num]
        return [views[v] for v in range(num_views)]

    def forward(self, data: dict, training: bool = False) -> dict:
        """Views of a GPU-path batch; anything else as
        :class:`SelfSupDataPreprocessor` does."""
        if not self.is_view_batch(data):
            return super().forward(data, training)
        inputs, samples = data['inputs'], data['data_samples']
        if isinstance(inputs, torch.Tensor):
            raise TypeError(
                'SceneObjectViewPreprocessor: the encoded images were '
                'stacked into one tensor; use '
                "collate_fn=dict(type='pseudo_collate') with the GPU views")
        # mmengine runs the preprocessor inside the optimiser's autocast
        # context; the views are made in float32 (convolutions would
        # otherwise return bfloat16/float16 halves of the batch)
        with torch.autocast(self._device.type, enabled=False):
            views = self.make_views(list(inputs), list(samples))
        return {'inputs': views, 'data_samples': self.cast_data(samples)}
