"""The out-of-context score of the zero-shot report: unusual company.

An object is out of context when the scenes in which objects like it
appear are unlike its own scene. For every object, its ``k`` nearest
objects in *other* scenes are found by the direction of the embeddings
(cosine); the score is the mean distance between the object's own scene
and those neighbours' scenes. The report's ``ooc_auroc`` compares the
scenes by the cosine distance of their pooled backbone features
(:func:`unusual_company`); ``hclmm.evaluation.ooc_scores`` also compares
them by their embeddings.
"""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .functional import cosine_distance

__all__ = ['company_scores', 'unusual_company']


def company_scores(object_points: torch.Tensor, object_scene,
                   scene_dists: Dict[str, torch.Tensor],
                   k: int = 10) -> Dict[str, torch.Tensor]:
    """The mean distance from each object's scene to the scenes of its
    ``k`` nearest objects of other scenes, for each scene distance matrix.

    Args:
        object_points (Tensor): M x D object embeddings.
        object_scene: M scene indices.
        scene_dists (dict[str, Tensor]): Name -> N x N scene distances.
        k (int): Neighbours per object (capped at the fewest objects of
            other scenes that an object has). Defaults to 10.

    Returns:
        dict[str, Tensor]: Name -> M scores (NaN when no object has a
        neighbour in another scene).
    """
    scene_of = torch.as_tensor(np.asarray(object_scene), dtype=torch.long)
    unit = F.normalize(object_points, dim=-1)
    same_scene = scene_of[:, None] == scene_of[None, :]
    sim = (unit @ unit.T).masked_fill(same_scene, float('-inf'))
    k = min(k, int((~same_scene).sum(1).min()) if len(sim) else 0)
    if k == 0:
        undefined = torch.full((len(scene_of), ), float('nan'),
                               dtype=object_points.dtype)
        return {name: undefined for name in scene_dists}
    nearest = sim.topk(k, dim=1).indices
    return {
        name: dist[scene_of[:, None], scene_of[nearest]].mean(1)
        for name, dist in scene_dists.items()
    }


@torch.no_grad()
def unusual_company(scene_points: torch.Tensor, object_points: torch.Tensor,
                    object_scene, scene_feats: Optional[torch.Tensor] = None,
                    k: int = 10) -> np.ndarray:
    """The unusual-company score of every object (larger: more likely out
    of context), scenes compared by the cosine distance of their backbone
    features ``scene_feats`` (of their embeddings without them).

    Returns:
        np.ndarray: M float64 scores.
    """
    scenes = scene_points if scene_feats is None else torch.as_tensor(
        scene_feats).to(scene_points)
    score = company_scores(object_points, object_scene,
                           dict(company=cosine_distance(scenes)), k)
    return score['company'].double().cpu().numpy()
