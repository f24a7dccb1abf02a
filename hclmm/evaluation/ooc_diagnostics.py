"""Why an out-of-context score fails: its two halves measured apart.

The ``company`` scores (:mod:`hclmm.evaluation.ooc_scores`) have two
halves: the *neighbour side* (an object's ``k`` nearest objects in other
scenes, by embedding direction) and the *scene side* (how far its own scene
is from the neighbours' scenes). On data whose images carry a scene type
(the generated toy and patch scenes write ``scene_type``), each half can be
replaced by an oracle to see which one loses the signal:

- ``company_oracle_scenes``: the model's neighbours, scenes compared by
  their type (distance 1 between types, 0 within one): the neighbour side
  alone.
- ``company_oracle_neighbours``: neighbours restricted to objects of the
  same category (nearest first), scenes compared by the cosine of their
  backbone features: the scene side alone.
- ``scene_type_pair_auroc``: AUROC of the scenes' backbone cosine distance
  for telling pairs of scenes of different types (positives) from pairs of
  one type: how well the scene side separates types at all.
- ``neighbour_class_purity``: share of the ``k`` neighbours with the
  object's category.
- ``ooc_neighbour_share``: share of out-of-context objects among the
  neighbours of out-of-context objects; ``ooc_rate`` is their share among
  all objects (the value by chance).

All values are AUROCs or shares in [0, 1]; ``None`` where undefined.
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .functional import auroc, cosine_distance

__all__ = ['OOC_DIAGNOSTIC_KEYS', 'ooc_diagnostics', 'report_ooc_diagnostics']

#: The keys of :func:`ooc_diagnostics`, in order.
OOC_DIAGNOSTIC_KEYS = ('company_oracle_scenes', 'company_oracle_neighbours',
                       'scene_type_pair_auroc', 'neighbour_class_purity',
                       'ooc_neighbour_share', 'ooc_rate')


def _auroc_or_none(score: torch.Tensor, positive: np.ndarray
                   ) -> Optional[float]:
    score = score.double().cpu().numpy()
    finite = np.isfinite(score)
    pos = positive[finite]
    if not 0 < pos.sum() < len(pos):
        return None
    return float(auroc(score[finite], pos))


def _nearest(sim: torch.Tensor, allowed: torch.Tensor, k: int):
    """Indices of the ``k`` most similar allowed columns per row and a mask
    of which of them are real (rows may have fewer than ``k`` allowed)."""
    sim = sim.masked_fill(~allowed, float('-inf'))
    k = min(k, sim.shape[1])
    values, index = sim.topk(k, dim=1)
    return index, torch.isfinite(values)


def _mean_over(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    count = valid.sum(1)
    total = (values * valid).sum(1)
    return torch.where(count > 0, total / count.clamp_min(1),
                       torch.full_like(total, float('nan')))


@torch.no_grad()
def ooc_diagnostics(object_points: torch.Tensor,
                    object_scene: Sequence[int],
                    object_labels: Sequence[int],
                    object_ooc: Sequence[int],
                    scene_feats: torch.Tensor,
                    scene_types: Sequence,
                    k: int = 10) -> Dict[str, Optional[float]]:
    """The diagnostics of the module docstring.

    Args:
        object_points (Tensor): M x D object embeddings (their directions
            are used, as by the ``company`` scores).
        object_scene (Sequence[int]): M scene indices.
        object_labels (Sequence[int]): M categories.
        object_ooc (Sequence[int]): M flags, 1 = out of context.
        scene_feats (Tensor): N x F backbone features of the scenes.
        scene_types (Sequence): N scene types (any hashable labels).
        k (int): Neighbours per object. Defaults to 10.

    Returns:
        dict: :data:`OOC_DIAGNOSTIC_KEYS` -> float or None.
    """
    points = torch.as_tensor(object_points).double().cpu()
    feats = torch.as_tensor(scene_feats).double().cpu()
    scene_of = torch.as_tensor(np.asarray(object_scene), dtype=torch.long)
    labels = torch.as_tensor(np.unique(np.asarray(object_labels),
                                       return_inverse=True)[1].reshape(-1))
    ooc = np.asarray(object_ooc).reshape(-1).astype(bool)
    _, type_index = np.unique(np.asarray(scene_types, dtype=object),
                              return_inverse=True)
    types = torch.as_tensor(type_index.reshape(-1))
    if len(types) != len(feats):
        raise ValueError(f'scene_types has {len(types)} entries for '
                         f'{len(feats)} scenes')
    out: Dict[str, Optional[float]] = dict.fromkeys(OOC_DIAGNOSTIC_KEYS)
    if len(points) < 2:
        return out
    unit = F.normalize(points, dim=1)
    sim = unit @ unit.T
    other_scene = scene_of[:, None] != scene_of[None, :]
    scene_dist = cosine_distance(feats)
    type_dist = (types[:, None] != types[None, :]).double()

    nearest, valid = _nearest(sim, other_scene, k)
    own = scene_of[:, None]
    out['company_oracle_scenes'] = _auroc_or_none(
        _mean_over(type_dist[own, scene_of[nearest]], valid), ooc)
    same_class = other_scene & (labels[:, None] == labels[None, :])
    nearest_c, valid_c = _nearest(sim, same_class, k)
    out['company_oracle_neighbours'] = _auroc_or_none(
        _mean_over(scene_dist[own, scene_of[nearest_c]], valid_c), ooc)
    pairs = torch.triu_indices(len(types), len(types), 1)
    out['scene_type_pair_auroc'] = _auroc_or_none(
        scene_dist[pairs[0], pairs[1]],
        type_dist[pairs[0], pairs[1]].numpy().astype(bool))
    if valid.any():
        hits = (labels[nearest] == labels[:, None]) & valid
        out['neighbour_class_purity'] = float(hits.sum() / valid.sum())
        flagged = torch.as_tensor(ooc)
        of_ooc = valid[flagged]
        if of_ooc.any():
            out['ooc_neighbour_share'] = float(
                (flagged[nearest[flagged]] & of_ooc).sum() / of_ooc.sum())
    out['ooc_rate'] = float(ooc.mean())
    return out


def report_ooc_diagnostics(data: Dict, scene_types: Sequence
                           ) -> Optional[Dict[str, Optional[float]]]:
    """:func:`ooc_diagnostics` of what
    :meth:`~hclmm.evaluation.SceneObjectMetric.assemble` returned, or None
    where they do not apply: a scene without a type, no backbone features,
    or no object (or every object) marked out of context."""
    ooc = data['object_ooc']
    if not len(scene_types) or None in list(scene_types) or \
            data['scene_feats'] is None or \
            not 0 < int(np.sum(ooc)) < len(ooc):
        return None
    return ooc_diagnostics(data['object_points'], data['object_scene'],
                           data['object_labels'], ooc, data['scene_feats'],
                           scene_types)

