"""The hyperbolic scene-object head of HCL."""
import copy
import math
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.distributed.nn.functional as dist_nn
from mmengine.dist import all_gather, get_world_size

from hclmm.registry import MODELS
from ..utils import (Curvature, cone_angle, cone_half_aperture, origin_dist,
                     to_manifold)

__all__ = ['HyperbolicSceneObjectHead']


def _norm_only(u: torch.Tensor) -> torch.Tensor:
    """``stopgrad(u/|u|) |u|``: the gradient reaches only the norm."""
    norm = u.norm(dim=-1, keepdim=True)
    return (u / norm.clamp_min(1e-12)).detach() * norm


@MODELS.register_module()
class HyperbolicSceneObjectHead(nn.Module):
    """Pull a scene towards an object it contains in hyperbolic space.

    The scene (online encoder) and the object (momentum encoder, or a
    stop-gradient online pass) arrive as Euclidean projections ``u``. Each is
    clipped to radius ``clip_r`` (``u * min(1, r/|u|)``), mapped to the
    manifold with the exponential map at the origin and, on the Poincare ball,
    projected inside its boundary. The loss is a hyperbolic InfoNCE whose
    logits are ``-d(scene, key) / T``: the scene's own object is the positive,
    a queue of hyperbolic object keys from earlier batches (gathered across
    processes) are the negatives.

    Args:
        loss (dict): Config of the hyperbolic InfoNCE loss. Defaults to
            ``dict(type='HyperbolicInfoNCELoss', temperature=0.2)``.
        manifold (str): ``'poincare'`` or ``'lorentz'``.
            Defaults to ``'poincare'``.
        curvature (float): The curvature magnitude ``c`` of the space
            (curvature ``-c``). Defaults to 0.05 (the reference recipe).
        learn_curvature (bool): Learn ``log c``, clamped to
            ``[c/10, 10c]``. Defaults to False.
        clip_r (float, optional): Feature clipping radius applied before the
            exponential map (Guo et al. 2022). On the ball the distance of
            ``exp_0(u)`` to the origin is ``2|u|``, so it also caps the
            hyperbolic norm at ``2 * clip_r`` and keeps points off the
            boundary, where the gradient of ``exp_0`` vanishes. None disables
            clipping, as in the reference code. Defaults to 2.3.
        loss_weight (float): Weight ``w_h`` of the loss. Defaults to 0.1.
        queue_len (int): Number of hyperbolic object keys kept as negatives;
            0 uses the other objects of the (gathered) batch instead.
            Defaults to 65536.
        feat_dim (int): Dimension of the projections. Defaults to 128.
        projector (dict, optional): Config of a projection of the head's own
            (e.g. ``dict(type='NonLinearNeck', ...)``) applied to backbone
            features. None shares the base algorithm's neck.
            Defaults to None.
        norm_only_grad (bool): Let the gradient reach only the norm of the
            query projection (and of the online key projection with
            ``online_pair``): ``u <- stopgrad(u/|u|) |u|``, so directions are
            learnt by the base loss alone. Defaults to False.
        feature_scale (float): Factor ``alpha`` applied to projections before
            clipping and the exponential map (MERU scales by a learnable
            ``alpha`` initialised to ``1/sqrt(D)`` so that training starts
            near the origin, where norms still respond to the loss).
            Defaults to 1.0.
        learn_feature_scale (bool): Learn ``log alpha``. Defaults to False.
        query (str): Which side is the query (online encoder, gradient) of
            the hyperbolic InfoNCE: ``'scene'`` as in the reference (the key
            is the object from the momentum encoder, the queue holds
            objects), or ``'object'`` (the key is the scene, the queue holds
            scenes). The InfoNCE pushes the query side away from the origin
            relative to the key side, but on the toy scenes neither choice
            alone separates scene from object norms by content (see
            docs/hcl.md; ``entailment_weight`` with ``online_pair`` does).
            Defaults to ``'scene'``.
        scale_norm (float, optional): Target typical radius ``rho`` of the
            projections (after ``feature_scale``, before clipping). In
            training every query batch is divided by its geometric-mean norm
            ``exp(mean log|u|)`` (over the batches of all processes, with
            gradient; robust to a few huge projections, unlike a root mean
            square) and multiplied by ``rho``, so the loss cannot grow all
            norms together, only move them relative to one another; a
            running value of that scale (momentum ``scale_momentum``, kept
            in checkpoints) scales the keys and every embedding in
            evaluation. Without it the hyperbolic InfoNCE
            inflates the common scale of all projections until every point
            reaches the clipping sphere, where clipping removes the radial
            gradient and all norms become equal (see docs/hcl.md). None
            disables it, as in the reference code. Defaults to None.
        scale_momentum (float): Momentum of the running scale.
            Defaults to 0.1.
        entailment_weight (float): Weight of an entailment-cone term
            (Ganea et al. 2018, as MERU uses for text over images): the
            object must lie in the hyperbolic cone whose apex is its scene,
            ``max(0, angle(scene, object) - half_aperture(scene))``. Cones
            narrow away from the origin, so the term asks for scenes nearer
            the origin than their objects; it is not in the HCL paper.
            Poincare ball only. 0 disables it. Defaults to 0.
        entailment_k (float): Aperture constant ``k`` of the cones.
            Defaults to 0.1.
        online_pair (bool): Also embed the key side's images with the online
            encoder (one more forward and backward pass). The online pair
            then shares one scale (``scale_norm`` over both sides, so scene
            norms can move against object norms), the entailment term acts
            on it with gradient on both sides, and the logged norms are
            those of the online pair. The InfoNCE keys stay the momentum
            encoder's. Defaults to False.
    """

    def __init__(self,
                 loss: Optional[dict] = None,
                 manifold: str = 'poincare',
                 curvature: float = 0.05,
                 learn_curvature: bool = False,
                 clip_r: Optional[float] = 2.3,
                 loss_weight: float = 0.1,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 projector: Optional[dict] = None,
                 norm_only_grad: bool = False,
                 feature_scale: float = 1.0,
                 learn_feature_scale: bool = False,
                 query: str = 'scene',
                 scale_norm: Optional[float] = None,
                 scale_momentum: float = 0.1,
                 entailment_weight: float = 0.0,
                 entailment_k: float = 0.1,
                 online_pair: bool = False) -> None:
        super().__init__()
        self.online_pair = bool(online_pair)
        if entailment_weight < 0:
            raise ValueError(f'entailment_weight must be >= 0, got '
                             f'{entailment_weight}')
        if entailment_weight > 0 and manifold != 'poincare':
            raise ValueError('entailment_weight > 0 needs the Poincare ball '
                             f'(manifold={manifold!r})')
        if not entailment_k > 0:
            raise ValueError(f'entailment_k must be > 0, got {entailment_k}')
        self.entailment_weight = float(entailment_weight)
        self.entailment_k = float(entailment_k)
        if scale_norm is not None and not scale_norm > 0:
            raise ValueError(f'scale_norm must be > 0 or None, got '
                             f'{scale_norm}')
        if not 0 < scale_momentum <= 1:
            raise ValueError(f'scale_momentum must be in (0, 1], got '
                             f'{scale_momentum}')
        self.scale_norm = scale_norm
        self.scale_momentum = float(scale_momentum)
        # 0 = not yet measured; the first training batch sets it
        self.register_buffer('running_scale', torch.zeros(()))
        if manifold not in ('poincare', 'lorentz'):
            raise ValueError(
                f"manifold must be 'poincare' or 'lorentz', got {manifold!r}")
        if curvature <= 0:
            raise ValueError(f'curvature must be > 0, got {curvature}')
        if clip_r is not None and clip_r <= 0:
            raise ValueError(f'clip_r must be > 0 or None, got {clip_r}')
        if queue_len < 0:
            raise ValueError(f'queue_len must be >= 0, got {queue_len}')
        if query not in ('scene', 'object'):
            raise ValueError(
                f"query must be 'scene' or 'object', got {query!r}")
        self.query = query
        if not feature_scale > 0:
            raise ValueError(
                f'feature_scale must be > 0, got {feature_scale}')
        log_scale = torch.tensor(math.log(feature_scale))
        if learn_feature_scale:
            self.log_feature_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_feature_scale', log_scale)
        self.manifold = manifold
        self.clip_r = clip_r
        self.loss_weight = float(loss_weight)
        self.norm_only_grad = norm_only_grad
        self.curvature = Curvature(curvature, learnable=learn_curvature)
        loss = dict(type='HyperbolicInfoNCELoss', temperature=0.2) \
            if loss is None else dict(loss)
        loss.setdefault('manifold', manifold)
        if queue_len == 0:
            loss.setdefault('in_batch_negatives', True)
        if loss['manifold'] != manifold:
            raise ValueError(f'loss.manifold={loss["manifold"]!r} differs from '
                             f'the head manifold {manifold!r}')
        self.loss_module = MODELS.build(loss)
        self.projector = MODELS.build(projector) if projector else None

        self.queue_len = queue_len
        self.feat_dim = feat_dim
        if queue_len > 0:
            with torch.no_grad():
                init = self.to_manifold(0.1 * torch.randn(queue_len, feat_dim))
            self.register_buffer('queue', init)
            self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))

    def momentum_projector(self) -> Optional[nn.Module]:
        """A frozen copy of the projector, for momentum (key) encoders."""
        if self.projector is None:
            return None
        proj_k = copy.deepcopy(self.projector)
        proj_k.requires_grad_(False)
        return proj_k

    @staticmethod
    def _batch_scale(u: torch.Tensor, gather: bool = True) -> torch.Tensor:
        """Geometric mean of the norms of a batch of projections; with
        ``gather``, over the whole batch of all processes. The sum is
        reduced with autograd, so every process's projections get the
        gradient of every process's loss through the shared scale, and two
        processes train exactly as one with their joint batch."""
        log_norm = u.norm(dim=-1).clamp_min(1e-12).log()
        totals = torch.stack([log_norm.sum(), log_norm.new_tensor(
            float(log_norm.numel()))])
        if gather and get_world_size() > 1:
            totals = dist_nn.all_reduce(totals)
        return (totals[0] / totals[1]).exp()

    def normalise_scale(self, u: torch.Tensor,
                        batch_stats: bool = False) -> torch.Tensor:
        """Rescale projections to the typical radius ``scale_norm`` (no-op
        without it): by the batch's own geometric-mean norm (gathered over
        processes, with gradient, updating the running scale) when
        ``batch_stats`` and in training, else by the running scale.

        The running scale is 0 until the first training batch; tensor ops
        (no ``float()``) keep the step free of device synchronisation.
        """
        if self.scale_norm is None:
            return u
        measured = self.running_scale > 0
        if batch_stats and self.training:
            scale = self._batch_scale(u)
            with torch.no_grad():
                self.running_scale.copy_(torch.where(
                    measured,
                    self.running_scale.lerp(scale.detach(),
                                            self.scale_momentum),
                    scale.detach()))
            return u * (self.scale_norm / scale)
        # never trained: measure this batch locally, without recording it
        scale = torch.where(measured, self.running_scale,
                            self._batch_scale(u.detach(), gather=False))
        return u * (self.scale_norm / scale)

    def to_manifold(self, u: torch.Tensor,
                    batch_stats: bool = False) -> torch.Tensor:
        """Scale, clip, map with ``exp_0`` and (Poincare) project; float32.

        ``batch_stats``: the query side in training (see ``scale_norm``).
        """
        u = u.float() * self.log_feature_scale.float().exp()
        with torch.autocast(device_type=u.device.type, enabled=False):
            u = self.normalise_scale(u, batch_stats)
        return to_manifold(u, self.curvature(), self.manifold, self.clip_r)

    def hyperbolic_norm(self, x: torch.Tensor) -> torch.Tensor:
        """Distance of manifold points to the origin."""
        return origin_dist(x, self.curvature(), self.manifold)

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys: torch.Tensor) -> None:
        keys = torch.cat(all_gather(keys.contiguous()), dim=0)
        n = keys.shape[0]
        if n >= self.queue_len:
            self.queue.copy_(keys[-self.queue_len:])
            self.queue_ptr[0] = 0
            return
        ptr = int(self.queue_ptr)
        idx = (torch.arange(n, device=keys.device) + ptr) % self.queue_len
        self.queue[idx] = keys.to(self.queue.dtype)
        self.queue_ptr[0] = (ptr + n) % self.queue_len

    def loss(self,
             query_u: torch.Tensor,
             key_u: torch.Tensor,
             online_key_u: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        """Hyperbolic scene-object loss and the norms of both sides.

        Args:
            query_u (Tensor): N x D Euclidean projections of the query views
                (the scenes, or the objects with ``query='object'``; online
                encoder, carries the gradient).
            key_u (Tensor): N x D Euclidean projections of the key views
                (the other side; no gradient).
            online_key_u (Tensor, optional): N x D projections of the key
                views through the online encoder (with gradient); required
                with ``online_pair=True``.

        Returns:
            dict: ``loss_hyp`` (weighted), ``loss_entail`` (weighted, with
            ``entailment_weight > 0``), ``scene_norm`` and ``object_norm``
            (mean hyperbolic distance to the origin) and, with a learnable
            curvature, ``curvature``.
        """
        if self.norm_only_grad:
            query_u = _norm_only(query_u)
            if online_key_u is not None:
                online_key_u = _norm_only(online_key_u)
        if self.online_pair:
            if online_key_u is None:
                raise ValueError('online_pair=True needs online_key_u, the '
                                 'key views through the online encoder')
            n = query_u.shape[0]
            pair = self.to_manifold(
                torch.cat([query_u, online_key_u]), batch_stats=True)
            query, online_key = pair[:n], pair[n:]
        else:
            query = self.to_manifold(query_u, batch_stats=True)
            online_key = None
        with torch.no_grad():
            key = self.to_manifold(key_u.detach())
        c = self.curvature()
        if self.queue_len > 0:
            loss = self.loss_module(
                query, key, c, queue=self.queue.clone().detach())
        else:
            loss = self.loss_module(query, key, c)
        losses = dict(loss_hyp=self.loss_weight * loss)
        q_name, k_name = ('scene', 'object') if self.query == 'scene' \
            else ('object', 'scene')
        other = key if online_key is None else online_key
        if self.entailment_weight > 0:
            scene, obj = (query, other) if self.query == 'scene' else \
                (other, query)
            violation = cone_angle(scene, obj, c) - cone_half_aperture(
                scene, c, self.entailment_k)
            losses['loss_entail'] = self.entailment_weight * \
                violation.clamp_min(0).mean()
        with torch.no_grad():
            losses[f'{q_name}_norm'] = self.hyperbolic_norm(query).mean()
            losses[f'{k_name}_norm'] = self.hyperbolic_norm(other).mean()
            if self.curvature.learnable:
                losses['curvature'] = c.detach().reshape(())
        if self.queue_len > 0 and self.training:
            self._dequeue_and_enqueue(key)
        return losses
