"""Euclidean projections -> points on a manifold, with the guards that keep
the hyperbolic branch from saturating."""
import math
from typing import Optional, Tuple

import torch
import torch.distributed.nn.functional as dist_nn
import torch.nn as nn
from mmengine.dist import get_world_size

from hclmm.geometry import build_manifold
from hclmm.registry import MODELS

__all__ = ['HyperbolicEmbedder', 'norm_only']


def norm_only(u: torch.Tensor) -> torch.Tensor:
    """``stopgrad(u/|u|) |u|``: the gradient reaches only the norm."""
    norm = u.norm(dim=-1, keepdim=True)
    return (u / norm.clamp_min(1e-12)).detach() * norm


def _log_norm_mean(u: torch.Tensor, gather: bool) -> torch.Tensor:
    """``exp(mean log|u|)`` over the batch, with ``gather`` over the batches
    of all processes; reduced with autograd, so every process's
    projections get the gradient of every process's loss through the shared
    scale and two processes train exactly as one with their joint batch."""
    log_norm = u.norm(dim=-1).clamp_min(1e-12).log()
    totals = torch.stack(
        [log_norm.sum(),
         log_norm.new_tensor(float(log_norm.numel()))])
    if gather and get_world_size() > 1:
        totals = dist_nn.all_reduce(totals)
    return (totals[0] / totals[1]).exp()


@MODELS.register_module()
class HyperbolicEmbedder(nn.Module):
    """Map Euclidean projections ``u`` to points on a manifold.

    In order: ``u <- alpha u`` (``feature_scale``); with ``norm_only_grad``
    the gradient reaches only ``|u|``; with ``scale_norm`` the batch is
    rescaled to the typical distance ``rho``; feature clipping
    ``u <- u min(1, t/|u|)``; the exponential map at the origin and the
    manifold's projection. All of it in float32 at least (float64 inputs
    stay float64). ``clip_r`` and
    ``scale_norm`` are hyperbolic distances to the origin (Euclidean
    distances in flat space): the same settings give the same norms
    ``dist0`` on the Poincare ball and on the Lorentz model, whose
    exponential maps differ by a factor 2 (``t = manifold.tangent_norm(r)``).

    Args:
        manifold (dict): Config of the manifold object. Defaults to
            ``dict(type='PoincareBall', c=0.05)`` (the HCL reference).
        clip_r (float, optional): Feature clipping radius (Guo et al.
            2022), as a distance to the origin on the manifold: features are
            clipped to the length ``manifold.tangent_norm(clip_r)`` (``r/2``
            on the Poincare ball, ``r`` on the Lorentz model and in flat
            space), so every point lies within ``clip_r`` of the origin on
            every model. None disables it. Defaults to 4.6 (the HCL
            reference's Euclidean radius 2.3 on the ball).
        scale_norm (float, optional): Target typical distance to the origin
            ``rho``: in training each batch with ``batch_stats`` is divided
            by its geometric-mean norm ``exp(mean log|u|)`` (over all
            processes, with gradient) and multiplied by
            ``manifold.tangent_norm(rho)``, so the loss cannot grow all
            norms together until every point sits on the clipping sphere; a
            running value of that scale (momentum ``scale_momentum``, a
            buffer kept in checkpoints) scales keys and evaluation
            embeddings. None disables it (the reference). Defaults to None.
        scale_momentum (float): Momentum of the running scale, in (0, 1].
            Defaults to 0.1.
        feature_scale (float): Fixed factor ``alpha`` (MERU initialises a
            learnable one to ``1/sqrt(D)``). Defaults to 1.0.
        learn_feature_scale (bool): Learn ``log alpha``. Defaults to False.
        norm_only_grad (bool): ``u <- stopgrad(u/|u|) |u|`` on inputs that
            carry a gradient, so the hyperbolic terms move only norms and
            directions are left to the base loss. Defaults to False.
    """

    def __init__(self,
                 manifold: Optional[dict] = None,
                 clip_r: Optional[float] = 4.6,
                 scale_norm: Optional[float] = None,
                 scale_momentum: float = 0.1,
                 feature_scale: float = 1.0,
                 learn_feature_scale: bool = False,
                 norm_only_grad: bool = False) -> None:
        super().__init__()
        if clip_r is not None and not clip_r > 0:
            raise ValueError(f'clip_r must be > 0 or None, got {clip_r}')
        if scale_norm is not None and not scale_norm > 0:
            raise ValueError(f'scale_norm must be > 0 or None, got '
                             f'{scale_norm}')
        if not 0 < scale_momentum <= 1:
            raise ValueError(f'scale_momentum must be in (0, 1], got '
                             f'{scale_momentum}')
        if not feature_scale > 0:
            raise ValueError(f'feature_scale must be > 0, got '
                             f'{feature_scale}')
        self.manifold = build_manifold(
            dict(type='PoincareBall', c=0.05) if manifold is None else
            manifold)
        self.clip_r = clip_r
        self.scale_norm = scale_norm
        self.scale_momentum = float(scale_momentum)
        self.norm_only_grad = bool(norm_only_grad)
        log_scale = torch.tensor(math.log(feature_scale))
        if learn_feature_scale:
            self.log_feature_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_feature_scale', log_scale)
        # 0 = not measured yet; the first training batch sets it
        self.register_buffer('running_scale', torch.zeros(()))

    def normalise_scale(self, u: torch.Tensor,
                        batch_stats: bool = False) -> torch.Tensor:
        """Rescale to the typical radius ``scale_norm`` (see the class
        docstring). Tensor ops only: no device synchronisation."""
        if self.scale_norm is None:
            return u
        measured = self.running_scale > 0
        if batch_stats and self.training:
            scale = _log_norm_mean(u, gather=True)
            with torch.no_grad():
                self.running_scale.copy_(
                    torch.where(
                        measured,
                        self.running_scale.lerp(scale.detach(),
                                                self.scale_momentum),
                        scale.detach()))
        else:
            # never trained: this batch's own scale, without recording it
            scale = torch.where(measured, self.running_scale,
                                _log_norm_mean(u.detach(), gather=False))
        return u * (self.manifold.tangent_norm(self.scale_norm) / scale)

    def embed(self,
              u: torch.Tensor,
              batch_stats: bool = False,
              direction_grad: Optional[torch.Tensor] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Points and a boolean mask of the saturated ones.

        Args:
            u (Tensor): N x D Euclidean projections.
            batch_stats (bool): Rescale by this batch's own scale (the
                online side in training) instead of the running scale.
            direction_grad (Tensor, optional): N booleans: rows whose
                direction keeps its gradient under ``norm_only_grad`` (the
                scenes, when the head trains scene directions). None: no
                row does.

        Returns:
            tuple[Tensor, Tensor]: N x D float32 (or float64) points; N
            booleans, True where the point sits on the clipping sphere (or, without
            clipping, at the edge of the manifold's domain), where the
            radial gradient vanishes.
        """
        with torch.autocast(device_type=u.device.type, enabled=False):
            # half precision goes up to float32; float64 stays float64
            dtype = torch.promote_types(u.dtype, torch.float32)
            u = u.to(dtype) * self.log_feature_scale.to(dtype).exp()
            if self.norm_only_grad and u.requires_grad:
                u = norm_only(u) if direction_grad is None else torch.where(
                    direction_grad[:, None], u, norm_only(u))
            u = self.normalise_scale(u, batch_stats)
            points = self.manifold.to_manifold(u, self.clip_r)
        with torch.no_grad():
            if self.clip_r is not None:
                radius = self.manifold.tangent_norm(self.clip_r)
                saturated = u.detach().norm(dim=-1) >= radius * (1 - 1e-4)
            else:
                saturated = self.manifold.at_boundary(points)
        return points, saturated

    def forward(self, u: torch.Tensor,
                batch_stats: bool = False) -> torch.Tensor:
        """Points on the manifold (see :meth:`embed`)."""
        return self.embed(u, batch_stats)[0]

    def extra_repr(self) -> str:
        return (f'clip_r={self.clip_r}, scale_norm={self.scale_norm}, '
                f'norm_only_grad={self.norm_only_grad}')
