"""The hyperbolic scene-object head of HCL."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from hclmm.registry import MODELS
from ..utils import KeyQueue

__all__ = ['HyperbolicSceneObjectHead', 'HyperbolicSceneObjectAblationHead']


@MODELS.register_module()
class HyperbolicSceneObjectHead(nn.Module):
    """Tie scenes to the objects they contain in hyperbolic space.

    Composed of small parts, each built from its config:

    * ``embedder`` (:class:`~hclmm.models.heads.HyperbolicEmbedder`): the
      manifold, scale normalisation, clipping, norm-only gradients;
    * ``contrast_loss``: a hyperbolic InfoNCE whose query is the scene
      (online encoder), positive key its object (key encoder) and
      negatives a :class:`~hclmm.models.utils.KeyQueue` of earlier object
      keys (HCL, Ge et al. 2023), logged as ``loss_hyp``;
    * ``pair_losses``: named terms on each (scene, object) pair of the
      online encoder, e.g. ``entail``
      (:class:`~hclmm.models.losses.EntailmentConeLoss`), logged as
      ``loss_<name>``; more can be added by config, ``None`` removes one.

    The recipe that forms the hierarchy (the paper's InfoNCE with
    ``scale_norm=3.0``, ``norm_only_grad``, the online pair and the
    entailment cone; docs/hcl.md has the ablation) is a config,
    ``configs/_base_/models/hcl_head.py``; the class defaults are its
    parts' own. The paper's loss alone is ``online_pair=False``,
    ``embedder.scale_norm=None``, ``embedder.norm_only_grad=False``,
    ``pair_losses={}``.

    Besides the losses it logs, per batch: ``scene_norm``/``object_norm``
    (mean distance to the origin), ``scene_sat``/``object_sat`` (fraction
    of points on the clipping sphere or the manifold's edge),
    ``norm_spread`` (standard deviation of all norms), which
    :class:`~hclmm.engine.hooks.HyperbolicSaturationHook` watches, and
    ``proj_norm`` (mean Euclidean norm of the online projections ``u``).

    Args:
        embedder (dict): Config of the embedder. Defaults to
            ``dict(type='HyperbolicEmbedder')``.
        contrast_loss (dict): Config of the contrastive term. Defaults to
            ``dict(type='HyperbolicInfoNCELoss')``.
        pair_losses (dict, optional): Name -> config of pair terms.
            Defaults to None (none).
        queue_len (int): Number of object keys kept as negatives; 0 uses
            the other objects of the (gathered) batch. Defaults to 65536.
        feat_dim (int): Dimension of the projections. Defaults to 128.
        projector (dict, optional): A projection of the head's own applied
            to backbone features (its momentum copy follows the base
            algorithm's EMA class and schedule). None shares the base's
            neck. Defaults to None.
        online_pair (bool): Embed the object views with the online encoder
            too, in one batch with the scenes (shared BatchNorm statistics
            and scale); the pair losses act on that pair with gradient on
            both sides. The InfoNCE keys stay the key encoder's.
            Defaults to True.
    """

    def __init__(self,
                 embedder: dict = dict(type='HyperbolicEmbedder'),
                 contrast_loss: dict = dict(type='HyperbolicInfoNCELoss'),
                 pair_losses: Optional[Dict[str, Optional[dict]]] = None,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 projector: Optional[dict] = None,
                 online_pair: bool = True) -> None:
        super().__init__()
        if queue_len < 0:
            raise ValueError(f'queue_len must be >= 0, got {queue_len}')
        self.online_pair = bool(online_pair)
        self.embedder = MODELS.build(embedder)
        contrast_loss = dict(contrast_loss)
        if queue_len == 0:
            contrast_loss.setdefault('in_batch_negatives', True)
        self.contrast_loss = MODELS.build(contrast_loss)
        self.pair_losses = nn.ModuleDict({
            name: MODELS.build(cfg)
            for name, cfg in (pair_losses or {}).items() if cfg is not None
        })
        self.projector = MODELS.build(projector) if projector else None
        self.feat_dim = feat_dim
        self.queue = None
        if queue_len > 0:
            self.queue = KeyQueue(queue_len, feat_dim)
            with torch.no_grad():
                self.queue.fill_(
                    self.embedder(0.1 * torch.randn(queue_len, feat_dim)))

    @property
    def manifold(self):
        """The manifold object of the embeddings."""
        return self.embedder.manifold

    def to_manifold(self, u: torch.Tensor) -> torch.Tensor:
        """Embed projections with the running scale (evaluation, keys)."""
        return self.embedder(u)

    def hyperbolic_norm(self, x: torch.Tensor) -> torch.Tensor:
        """Distance of manifold points to the origin."""
        return self.manifold.dist0(x)

    def query_and_key(self, scene: torch.Tensor,
                      obj: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The views of the InfoNCE query and key, from the scene and object
        views: the scene is the query (online encoder), its object the key
        (key encoder). The algorithm embeds them in this order."""
        return scene, obj

    def _embed_online(self, query_u, online_key_u):
        """The online side: the query batch, or with ``online_pair`` the
        query and key views together under one scale; points and their
        saturation masks (None for an absent side)."""
        if not self.online_pair:
            query, sat = self.embedder.embed(
                query_u, batch_stats=True,
                direction_grad=self._direction_grad(len(query_u), 0, query_u))
            return query, None, sat, None
        if online_key_u is None:
            raise ValueError('online_pair=True needs online_key_u, the key '
                             'views through the online encoder')
        n = query_u.shape[0]
        pair, sat = self.embedder.embed(
            torch.cat([query_u, online_key_u]),
            batch_stats=True,
            direction_grad=self._direction_grad(n, len(online_key_u),
                                                query_u))
        return pair[:n], pair[n:], sat[:n], sat[n:]

    def _direction_grad(self, n_query: int, n_other: int,
                        like: torch.Tensor) -> Optional[torch.Tensor]:
        """Rows whose direction keeps its gradient under the embedder's
        ``norm_only_grad``: none."""
        return None

    def _scene_object(self, query, other) -> Tuple:
        """(scene side, object side) of (query side, other side)."""
        return query, other

    def loss(self, query_u: torch.Tensor, key_u: torch.Tensor,
             online_key_u: Optional[torch.Tensor] = None) -> Dict:
        """``L_hyp + sum of the pair terms`` from N x D projections: the
        query's (scenes, online), the key's (objects, key encoder) and, with
        ``online_pair``, the key views' through the online encoder; plus the
        statistics. docs/hcl.md has the formula of each line."""
        # x = exp_0(clip_r(u / s)): the online side under one scale s
        query, online_key, query_sat, online_sat = self._embed_online(
            query_u, online_key_u)
        with torch.no_grad():  # x_k: the keys, with the running scale
            key, key_sat = self.embedder.embed(key_u.detach())
        # q_1..q_K: earlier object keys
        negatives = None if self.queue is None else self.queue.filled()
        # L_hyp = w CE([-d(x_q, x_k), -d(x_q, q_j)...] / T, 0)
        losses = dict(loss_hyp=self.contrast_loss(query, key, self.manifold,
                                                  negatives))
        # the pair terms see the online pair, or the key without it
        (scene, scene_sat), (obj, obj_sat) = self._scene_object(
            (query, query_sat),
            (key, key_sat) if online_key is None else (online_key, online_sat))
        for name, term in self.pair_losses.items():
            # e.g. L_entail = w mean max(0, angle(s, o) - aperture(s))
            losses[f'loss_{name}'], stats = term(
                scene, obj, self.manifold, return_stats=True)
            losses.update(stats)
        losses.update(self._stats(scene, obj, scene_sat, obj_sat, query_u))
        if self.queue is not None and self.training:
            self.queue.push(key)
        return losses

    @torch.no_grad()
    def _stats(self, scene, obj, scene_sat, obj_sat, query_u) -> Dict:
        """Norms and saturation of both sides, the curvature when learnt
        and ``proj_norm`` (``|u|`` before the embedder: free to grow
        without ``scale_norm``)."""
        scene_norm = self.manifold.dist0(scene.detach())
        obj_norm = self.manifold.dist0(obj.detach())
        stats = dict(
            scene_norm=scene_norm.mean(),
            object_norm=obj_norm.mean(),
            scene_sat=scene_sat.float().mean(),
            object_sat=obj_sat.float().mean(),
            norm_spread=torch.cat([scene_norm, obj_norm]).std())
        if self.manifold.curvature.learnable:
            stats['curvature'] = self.manifold.c.detach().reshape(())
        stats['proj_norm'] = query_u.detach().norm(dim=-1).mean()
        return stats


@MODELS.register_module()
class HyperbolicSceneObjectAblationHead(HyperbolicSceneObjectHead):
    """The scene-object head with the switches of two ablations.

    Args:
        query (str): ``'scene'`` (as the main head) or ``'object'``: which
            side is the InfoNCE query; with ``'object'`` the algorithm
            passes the object views as the query and the scene views as the
            keys (docs/hcl.md). Defaults to ``'scene'``.
        scene_direction_grad (bool): Under the embedder's
            ``norm_only_grad``, let the hyperbolic terms move the scenes'
            directions too (objects keep norm-only gradients, so their
            directions stay the base loss's). Scenes then point where their
            objects point, which the out-of-context scores read
            (docs/zero_shot.md). Defaults to False.
        **kwargs: The arguments of :class:`HyperbolicSceneObjectHead`.
    """

    def __init__(self,
                 query: str = 'scene',
                 scene_direction_grad: bool = False,
                 **kwargs) -> None:
        if query not in ('scene', 'object'):
            raise ValueError(
                f"query must be 'scene' or 'object', got {query!r}")
        super().__init__(**kwargs)
        self.query = query
        self.scene_direction_grad = bool(scene_direction_grad)

    def _direction_grad(self, n_query, n_other, like):
        """The scene side's rows, with ``scene_direction_grad``."""
        if not self.scene_direction_grad:
            return None
        mask = torch.zeros(n_query + n_other, dtype=torch.bool,
                           device=like.device)
        if self.query == 'scene':
            mask[:n_query] = True
        else:
            mask[n_query:] = True
        return mask

    def query_and_key(self, scene, obj):
        """``(scene, object)``, or ``(object, scene)`` with
        ``query='object'``."""
        return (scene, obj) if self.query == 'scene' else (obj, scene)

    def _scene_object(self, query, other):
        return (query, other) if self.query == 'scene' else (other, query)
