"""HCL: a hyperbolic scene-object branch added to mmpretrain's SSL algorithms.

:class:`HCLMixin` sits in front of an mmpretrain self-supervised algorithm in
the class hierarchy; each supported base is a written subclass
(:class:`HCLMoCo`, :class:`HCLSimCLR`, :class:`HCLBYOL`,
:class:`HCLDenseCL`) that names its key encoder. The base algorithm's own
``loss`` runs unchanged on the two object views; the mixin adds the
hyperbolic loss between the scene view (online encoder) and the object view
(momentum encoder where the base has one, a stop-gradient online pass
otherwise). State-dict keys stay the base algorithm's (``backbone.*``,
``neck.*``, ``encoder_k.*``...) plus ``hyp_head.*``, so mmpretrain, mmdet and
mmseg tooling reads the checkpoints as usual.

Another two-view algorithm is one more written subclass, e.g.
``class HCLSimSiam(HCLMixin, SimSiam)`` registered in ``MODELS`` (with
:meth:`HCLMixin.key_encoder` returning its momentum encoder, if it has one).
With ``hyp_head=None`` the model is the baseline twin: the same data and
object views, no hyperbolic loss.
"""
import inspect
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmpretrain.models import BYOL, MoCo, SimCLR
from mmpretrain.models.selfsup import DenseCL
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp

from hclmm.geometry import Euclidean
from hclmm.registry import MODELS
from ..utils import global_vector
from ..utils.channels_last import use_channels_last

__all__ = ['HCLMixin', 'HCLMoCo', 'HCLSimCLR', 'HCLBYOL', 'HCLDenseCL']


def ema_like(ema: nn.Module, module: nn.Module) -> nn.Module:
    """A momentum copy of ``module`` built by the same EMA class, with the
    same momentum, schedule and interval as the averaged model ``ema``.

    Updated once per step next to ``ema``, it follows the same schedule
    (e.g. BYOL's cosine momentum), since mmengine's averaged models count
    their own steps.
    """
    cls = type(ema)
    params = inspect.signature(cls.__init__).parameters
    kwargs = {
        name: getattr(ema, name)
        for name in params
        if name not in ('self', 'model', 'device') and hasattr(ema, name)
    }
    return cls(module, **kwargs)


class HCLMixin:
    """Adds the hyperbolic scene-object branch to an SSL algorithm.

    Inputs are four views, in the order the scene-object transform writes
    them: object view 1, object view 2 (both for the base loss), scene view,
    object view (for the hyperbolic loss).

    Args:
        hyp_head (dict, optional): Config of
            :class:`~hclmm.models.heads.HyperbolicSceneObjectHead`. None builds
            the baseline twin. Defaults to None.
        base_views (int): Number of leading views given to the base loss.
            Defaults to 2.
        channels_last (bool): Keep the convolution weights and the input
            views in channels-last memory format (see
            :func:`~hclmm.models.utils.channels_last.use_channels_last`);
            several times faster convolutions under bfloat16 autocast on
            GPUs with tensor cores, the same numbers up to summation order.
            Defaults to False.
        **kwargs: Arguments of the base algorithm.
    """

    def __init__(self,
                 *args,
                 hyp_head: Optional[dict] = None,
                 base_views: int = 2,
                 channels_last: bool = False,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.channels_last = bool(channels_last)
        self.base_views = base_views
        self.hyp_head = MODELS.build(hyp_head) if hyp_head else None
        # A projector of the head's own gets a momentum copy next to the
        # base algorithm's momentum encoder, averaged the same way.
        self.hyp_projector_k = None
        enc = self.key_encoder()
        if self.hyp_head is not None and self.hyp_head.projector is not None \
                and enc is not None:
            self.hyp_projector_k = ema_like(enc, self.hyp_head.projector)
        if self.channels_last:
            use_channels_last(self)

    # ------------------------------------------------------------------
    def key_encoder(self) -> Optional[nn.Module]:
        """The base's momentum encoder (an averaged ``backbone + neck``), or
        None when it has none: the object key is then a stop-gradient
        online pass. Each written subclass names its own."""
        return None

    def online_projection(self, img: torch.Tensor,
                          return_feats: bool = False):
        """Euclidean projection ``u`` of images through the online encoder
        (and the backbone's feature maps with ``return_feats``)."""
        feats = self.backbone(img)
        if self.hyp_head is not None and self.hyp_head.projector is not None:
            u = global_vector(self.hyp_head.projector(feats))
        else:
            u = global_vector(self.neck(feats))
        return (u, feats) if return_feats else u

    @torch.no_grad()
    def key_projection(self, img: torch.Tensor) -> torch.Tensor:
        """Projection of the object views through the key encoder.

        The momentum encoder where the base has one (with MoCo's batch
        shuffling for BatchNorm), otherwise a stop-gradient online pass.
        """
        enc = self.key_encoder()
        if enc is None:
            return self.online_projection(img).detach()
        img, idx_unshuffle = batch_shuffle_ddp(img)
        if self.hyp_projector_k is not None:
            self.hyp_projector_k.update_parameters(self.hyp_head.projector)
            u = global_vector(self.hyp_projector_k(enc.module[0](img)))
        else:
            u = global_vector(enc(img))
        return batch_unshuffle_ddp(u, idx_unshuffle)

    def _check_views(self, inputs) -> None:
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('HCL expects a list of views, got '
                            f'{type(inputs).__name__}')
        need = self.base_views + (2 if self.hyp_head is not None else 0)
        if len(inputs) < need:
            raise ValueError(
                f'HCL needs {need} views (object view 1, object view 2'
                + (', scene view, object view' if self.hyp_head else '') +
                f') but the data pipeline produced {len(inputs)}; use '
                'SceneObjectViews with the hyperbolic views enabled')

    def loss(self, inputs: List[torch.Tensor], data_samples: list,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Base loss on the object views plus the hyperbolic loss:

        ``(query view, key view) = hyp_head.query_and_key(scene view,
        object view)``, ``u_q = f(query view)`` (online; with
        ``online_pair`` the key view too, in the same batch),
        ``u_k = f_k(key view)`` (key encoder),
        ``losses = hyp_head.loss(u_q, u_k, online u_k)``.
        """
        self._check_views(inputs)
        losses = super().loss(
            list(inputs[:self.base_views]), data_samples, **kwargs)
        # mmengine logs the summed loss as `loss`; a base loss of that name
        # would overwrite it in the log, so it is reported as `loss_base`.
        if 'loss' in losses:
            losses['loss_base'] = losses.pop('loss')
        if self.hyp_head is None:
            return losses
        # the head says which view is the query: the scene for HCL
        query_img, key_img = self.hyp_head.query_and_key(
            *inputs[self.base_views:self.base_views + 2])
        online_key = None
        if self.hyp_head.online_pair:
            # one pass: BatchNorm normalises scenes and objects together
            query_u, online_key = self.online_projection(
                torch.cat([query_img, key_img])).split(query_img.shape[0])
        else:
            query_u = self.online_projection(query_img)
        if online_key is not None and self.key_encoder() is None:
            key_u = online_key.detach()  # the same pass without gradient
        else:
            key_u = self.key_projection(key_img)
        losses.update(self.hyp_head.loss(query_u, key_u, online_key))
        return losses

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """mmpretrain's modes plus ``'predict'`` (see :meth:`predict`)."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: list) -> list:
        """Embed images for the zero-shot metrics (``val_step``/``test_step``).

        Each data sample gets ``embedding`` (the point on the model's
        manifold, or the Euclidean projection for the baseline),
        ``backbone_feat`` (the pooled last backbone stage) and the metainfo
        ``manifold`` (the :class:`~hclmm.geometry.Manifold` of the points,
        a fixed-curvature copy on the CPU, see
        :meth:`~hclmm.geometry.Manifold.fixed_copy`).
        """
        u, feats = self.online_projection(inputs, return_feats=True)
        if self.hyp_head is None:
            points, manifold = u.float(), Euclidean()
        else:
            points = self.hyp_head.to_manifold(u)
            manifold = self.hyp_head.manifold.fixed_copy()
        pooled = global_vector(feats, index=-1).float()
        for i, sample in enumerate(data_samples):
            sample.set_field(points[i], 'embedding')
            sample.set_field(pooled[i], 'backbone_feat')
            sample.set_metainfo(dict(manifold=manifold))
        return data_samples


@MODELS.register_module()
class HCLMoCo(HCLMixin, MoCo):
    """HCL on MoCo (v1/v2): see :class:`HCLMixin` and mmpretrain's MoCo."""

    def key_encoder(self) -> nn.Module:
        """MoCo's momentum encoder."""
        return self.encoder_k


@MODELS.register_module()
class HCLSimCLR(HCLMixin, SimCLR):
    """HCL on SimCLR; the object key is a stop-gradient online pass."""


@MODELS.register_module()
class HCLBYOL(HCLMixin, BYOL):
    """HCL on BYOL; the object key comes from the target network."""

    def key_encoder(self) -> nn.Module:
        """BYOL's target network."""
        return self.target_net


@MODELS.register_module()
class HCLDenseCL(HCLMixin, DenseCL):
    """HCL on DenseCL; uses the global projection of its neck."""

    def key_encoder(self) -> nn.Module:
        """DenseCL's momentum encoder."""
        return self.encoder_k
