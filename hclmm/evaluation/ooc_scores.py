"""Out-of-context scores of objects in their scenes.

Each score is larger for an object that is more likely *out of context*.
All use the embedding's own geometry (a
:class:`~hclmm.geometry.Manifold` object):

- ``distance``: ``d(scene, object)``, the HCL paper's score.
- ``norm_gap_corrected``: ``d(scene, object) - |dist0(object) -
  dist0(scene)|``: the part of the distance that the difference of norms
  (the hierarchy) does not explain.
- ``exterior_angle``: the exterior angle of the entailment cone at the
  scene towards the object; ``cone_violation``: that angle minus the
  cone's half-aperture.
- ``direction``: ``1 - cos(scene, object)`` of the points' coordinates.
- ``context``: mean ``1 - cos`` between the object and the other objects of
  its scene.
- ``company``: the usual company of the object: its ``k`` nearest objects
  (by direction) in *other* scenes are found, and the score is the mean
  ``1 - cos`` between its own scene and their scenes. An object seen in
  other scenes like its own is in context. ``company_distance`` compares
  the scenes by their geodesic distance instead.
- ``company_backbone``: ``company`` with the scenes compared by their
  pooled backbone features (cosine) instead of their embeddings; the
  neighbours are still found by the objects' embedding directions.
- ``company_norm``: the mean of the normalised ranks of
  ``company_backbone`` and ``object_norm`` (the company of an object, and
  HCL's reading of a low norm as uncertainty).
- ``object_norm``: ``-dist0(object)``.

The two backbone scores need the scenes' backbone features; without them
they are NaN (undefined).
"""
from typing import Dict, Optional

import numpy as np
import torch
from scipy.stats import rankdata

from hclmm.geometry import Manifold
from .functional import cosine_distance
from .ooc_company import company_scores

__all__ = ['OOC_SCORES', 'ooc_scores']

#: The score names, in the order they are reported.
OOC_SCORES = ('distance', 'norm_gap_corrected', 'exterior_angle',
              'cone_violation', 'direction', 'context', 'company',
              'company_distance', 'company_backbone', 'company_norm',
              'object_norm')


def _rank01(score: torch.Tensor) -> torch.Tensor:
    """Average ranks scaled to [0, 1] (ties share their mean rank)."""
    ranks = rankdata(score.double().cpu().numpy())
    return score.new_tensor((ranks - 1) / max(len(ranks) - 1, 1))


@torch.no_grad()
def ooc_scores(scene_points: torch.Tensor,
               object_points: torch.Tensor,
               object_scene,
               manifold: Manifold,
               company_k: int = 10,
               cone_k: float = 0.1,
               scene_feats: Optional[torch.Tensor] = None
               ) -> Dict[str, np.ndarray]:
    """Every out-of-context score of :data:`OOC_SCORES` for every object.

    Args:
        scene_points (Tensor): N x D scene embeddings.
        object_points (Tensor): M x D object embeddings.
        object_scene: M indices into the scenes.
        manifold (Manifold): The space of the points.
        company_k (int): Neighbours of the ``company`` score.
            Defaults to 10.
        cone_k (float): Aperture constant of the cones. Defaults to 0.1.
        scene_feats (Tensor, optional): N x F backbone features of the
            scenes (``company_backbone``, ``company_norm``).
            Defaults to None.

    Returns:
        dict: Score name -> M float64 scores (NaN where a score is
        undefined, e.g. ``context`` of an object alone in its scene).
    """
    scene_of = torch.as_tensor(np.asarray(object_scene), dtype=torch.long)
    scenes = scene_points[scene_of]
    objects = object_points
    n_scene, n_object = manifold.dist0(scenes), manifold.dist0(objects)
    d = manifold.dist(scenes, objects)
    angle = manifold.cone_angle(scenes, objects)
    out = dict(
        distance=d,
        norm_gap_corrected=d - (n_object - n_scene).abs(),
        exterior_angle=angle,
        cone_violation=angle - manifold.cone_half_aperture(scenes, cone_k),
        direction=cosine_distance(scenes, objects, pairwise=False),
        object_norm=-n_object)
    same_scene = scene_of[:, None] == scene_of[None, :]
    others = same_scene.clone()
    others.fill_diagonal_(False)
    count = others.sum(1)
    context = (cosine_distance(objects) * others).sum(1) / count.clamp_min(1)
    out['context'] = torch.where(count > 0, context,
                                 torch.full_like(context, float('nan')))
    # the usual company: nearest objects of other scenes
    scene_dists = dict(
        company=cosine_distance(scene_points),
        company_distance=manifold.pairwise_dist(scene_points, scene_points))
    if scene_feats is not None:
        scene_dists['company_backbone'] = cosine_distance(
            torch.as_tensor(scene_feats).to(scene_points))
    undefined = torch.full_like(d, float('nan'))
    out.update(company_backbone=undefined, company_norm=undefined)
    out.update(company_scores(objects, scene_of, scene_dists, company_k))
    if scene_feats is not None:
        out['company_norm'] = (_rank01(out['company_backbone']) +
                               _rank01(out['object_norm'])) / 2
    return {name: out[name].double().cpu().numpy() for name in OOC_SCORES}
