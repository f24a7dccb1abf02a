"""HCL: a hyperbolic scene-object branch added to mmpretrain's SSL algorithms.

Composition by configuration: :class:`HCLMixin` sits in front of any
mmpretrain self-supervised algorithm in the class hierarchy. The base
algorithm's own ``loss`` runs unchanged on the two object views; the mixin
adds the hyperbolic loss between the scene view (online encoder) and the
object view (momentum encoder where the base has one, a stop-gradient online
pass otherwise). State-dict keys stay the base algorithm's (``backbone.*``,
``neck.*``, ``encoder_k.*``...) plus ``hyp_head.*``, so mmpretrain, mmdet and
mmseg tooling reads the checkpoints as usual.

Configs name ``type='HCLMoCo'``, ``'HCLSimCLR'``, ``'HCLBYOL'``,
``'HCLDenseCL'``, or ``type='HCL', base_type='mmpretrain.<Algorithm>'`` for
any other two-view algorithm. With ``hyp_head=None`` the model is the
baseline twin: the same data and object views, no hyperbolic loss.
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmpretrain.models import BYOL, MoCo, SimCLR
from mmpretrain.models.selfsup import DenseCL
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp

from hclmm.registry import MODELS

__all__ = [
    'HCLMixin', 'HCLMoCo', 'HCLSimCLR', 'HCLBYOL', 'HCLDenseCL', 'HCL',
    'build_hcl_class'
]

# Attribute names of the momentum (key) encoder in mmpretrain's algorithms.
_MOMENTUM_ENCODERS = ('encoder_k', 'target_net', 'momentum_encoder')


def _first(out):
    """The global projection from a neck/encoder output (tuple or tensor)."""
    while isinstance(out, (tuple, list)):
        out = out[0]
    if out.dim() > 2:
        out = torch.flatten(nn.functional.adaptive_avg_pool2d(out, 1), 1)
    return out


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
        **kwargs: Arguments of the base algorithm.
    """

    def __init__(self,
                 *args,
                 hyp_head: Optional[dict] = None,
                 base_views: int = 2,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.base_views = base_views
        self.hyp_head = MODELS.build(hyp_head) if hyp_head else None
        # With a projector of its own the head needs a momentum copy of it
        # next to the base algorithm's momentum encoder.
        self.hyp_projector_k = None
        if self.hyp_head is not None and self.hyp_head.projector is not None \
                and self._momentum_encoder() is not None:
            self.hyp_projector_k = self.hyp_head.momentum_projector()

    # ------------------------------------------------------------------
    def _momentum_encoder(self):
        for name in _MOMENTUM_ENCODERS:
            enc = getattr(self, name, None)
            if enc is not None:
                return enc
        return None

    def _momentum_value(self) -> float:
        enc = self._momentum_encoder()
        return float(getattr(enc, 'momentum', 0.001))

    def online_projection(self, img: torch.Tensor) -> torch.Tensor:
        """Euclidean projection ``u`` of images through the online encoder."""
        feats = self.backbone(img)
        if self.hyp_head is not None and self.hyp_head.projector is not None:
            return _first(self.hyp_head.projector(feats))
        return _first(self.neck(feats))

    @torch.no_grad()
    def key_projection(self, img: torch.Tensor) -> torch.Tensor:
        """Projection of the object views through the key encoder.

        The momentum encoder where the base has one (with MoCo's batch
        shuffling for BatchNorm), otherwise a stop-gradient online pass.
        """
        enc = self._momentum_encoder()
        if enc is None:
            return self.online_projection(img).detach()
        img, idx_unshuffle = batch_shuffle_ddp(img)
        if self.hyp_projector_k is not None:
            # momentum copies track the online weights with the base's rate
            m = self._momentum_value()
            for p_k, p_q in zip(self.hyp_projector_k.parameters(),
                                self.hyp_head.projector.parameters()):
                p_k.mul_(1 - m).add_(p_q.detach(), alpha=m)
            backbone_k = enc.module[0]
            u = _first(self.hyp_projector_k(backbone_k(img)))
        else:
            u = _first(enc(img))
        return batch_unshuffle_ddp(u, idx_unshuffle)

    def loss(self, inputs: List[torch.Tensor], data_samples: list,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Base loss on the object views plus the hyperbolic loss."""
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
        losses = super().loss(
            list(inputs[:self.base_views]), data_samples, **kwargs)
        # mmengine logs the summed loss as `loss`; a base loss of that name
        # would overwrite it in the log, so it is reported as `loss_base`.
        if 'loss' in losses:
            losses['loss_base'] = losses.pop('loss')
        if self.hyp_head is None:
            return losses
        query_img, key_img = inputs[self.base_views], inputs[self.base_views + 1]
        if self.hyp_head.query == 'object':
            query_img, key_img = key_img, query_img
        # the query through the online encoder, the key through the key encoder
        if self.hyp_head.online_pair:
            # one pass, so BatchNorm normalises scenes and objects together
            # and their norms can differ as they will at evaluation
            both = self.online_projection(torch.cat([query_img, key_img]))
            query_u, online_key = both.split(query_img.shape[0])
        else:
            query_u, online_key = self.online_projection(query_img), None
        if online_key is not None and self._momentum_encoder() is None:
            # the key would be the same online pass without gradient
            key_u = online_key.detach()
        else:
            key_u = self.key_projection(key_img)
        losses.update(self.hyp_head.loss(query_u, key_u, online_key))
        return losses

    @torch.no_grad()
    def embed_for_zero_shot(self, inputs: torch.Tensor) -> dict:
        """Embed normalised images with the model's own geometry.

        Returns:
            dict: ``points`` (N x D float32 on the manifold, or the Euclidean
            projection for the baseline), ``manifold`` (``'poincare'``,
            ``'lorentz'`` or ``'euclidean'``) and ``c`` (float or None).
        """
        u = self.online_projection(inputs)
        if self.hyp_head is None:
            return dict(points=u.float(), manifold='euclidean', c=None)
        return dict(
            points=self.hyp_head.to_manifold(u),
            manifold=self.hyp_head.manifold,
            c=float(self.hyp_head.curvature()))


_CLASS_CACHE: Dict[type, type] = {}


def build_hcl_class(base_cls: type) -> type:
    """The HCL class for an mmpretrain algorithm class (cached)."""
    if issubclass(base_cls, HCLMixin):
        return base_cls
    if base_cls not in _CLASS_CACHE:
        _CLASS_CACHE[base_cls] = type(f'HCL{base_cls.__name__}',
                                      (HCLMixin, base_cls),
                                      {'__module__': __name__})
    return _CLASS_CACHE[base_cls]


@MODELS.register_module()
class HCLMoCo(HCLMixin, MoCo):
    """HCL on MoCo (v1/v2): see :class:`HCLMixin` and mmpretrain's MoCo."""


@MODELS.register_module()
class HCLSimCLR(HCLMixin, SimCLR):
    """HCL on SimCLR; the object key is a stop-gradient online pass."""


@MODELS.register_module()
class HCLBYOL(HCLMixin, BYOL):
    """HCL on BYOL; the object key comes from the target network."""


@MODELS.register_module()
class HCLDenseCL(HCLMixin, DenseCL):
    """HCL on DenseCL; uses the global projection of its neck."""


for _cls in (HCLMoCo, HCLSimCLR, HCLBYOL, HCLDenseCL):
    _CLASS_CACHE[_cls.__mro__[2]] = _cls


@MODELS.register_module(name='HCL')
def HCL(base_type: str = 'mmpretrain.MoCo', **kwargs):
    """Build HCL on any mmpretrain two-view algorithm named by ``base_type``.

    Args:
        base_type (str): Registry name of the base algorithm, e.g.
            ``'mmpretrain.MoCo'``. Defaults to ``'mmpretrain.MoCo'``.
        **kwargs: ``hyp_head``, ``base_views`` and the base's arguments.
    """
    base_cls = MODELS.get(base_type)
    if base_cls is None:
        raise KeyError(f'base_type {base_type!r} is not a registered model')
    return build_hcl_class(base_cls)(**kwargs)
