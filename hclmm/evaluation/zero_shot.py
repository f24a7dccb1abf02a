"""Zero-shot scene-object metrics of an embedding (no training involved)."""
import math
from typing import Dict, Optional

import numpy as np
import torch

from hclmm.geometry import Manifold, check_manifold
from .embedding_knn import embedding_knn_top1
from .functional import (auroc, cosine_distance, merge_close_values,
                         recall_at_k, retrieval_average_precision, spearman)
from .ooc_company import unusual_company
from .ooc_scores import OOC_SCORES

__all__ = [
    'ZERO_SHOT_KEYS', 'EXTRA_SCORE_KEYS', 'DEFAULT_OOC_SCORE',
    'RETRIEVAL_SCORES', 'DEFAULT_RETRIEVAL_SCORE', 'retrieval_dist',
    'retrieval_dists',
    'norm_metrics', 'retrieval_metrics', 'ooc_metrics', 'zero_shot_metrics'
]

#: The keys of ``zero_shot.json``, in the order they are written.
ZERO_SHOT_KEYS = ('scene_object_norm_auroc', 'label_count_spearman',
                  'retrieval_map', 'retrieval_recall_at_1',
                  'retrieval_class_map', 'retrieval_class_recall_at_1',
                  'ooc_auroc', 'object_knn_top1', 'num_scenes', 'num_objects')

#: The keys that ``extra_scores=True`` adds: the ranking and out-of-context
#: score in use, and the values of every candidate of
#: :data:`RETRIEVAL_SCORES` and :data:`~hclmm.evaluation.OOC_SCORES`.
EXTRA_SCORE_KEYS = ('retrieval_score', 'retrieval_class_map_by_score',
                    'ooc_score', 'ooc_auroc_by_score')

#: The name, among :data:`~hclmm.evaluation.OOC_SCORES`, of the unusual
#: company score behind ``ooc_auroc``
#: (:func:`~hclmm.evaluation.ooc_company.unusual_company`); ``company``
#: where the scenes' backbone features are not given.
DEFAULT_OOC_SCORE = 'company_backbone'

#: How a scene ranks the objects in retrieval (smaller = nearer):
#: ``distance`` (geodesic), ``excess_distance`` (geodesic distance minus the
#: object's own distance to the origin) and ``direction`` (``1 - cos``).
RETRIEVAL_SCORES = ('distance', 'excess_distance', 'direction')

#: The comparison behind ``retrieval_*`` (chosen by measurement on the toy
#: val split, see docs/zero_shot.md).
DEFAULT_RETRIEVAL_SCORE = 'excess_distance'


def retrieval_dists(scenes: torch.Tensor, objects: torch.Tensor, manifold,
                    scores=RETRIEVAL_SCORES) -> Dict[str, torch.Tensor]:
    """N x M ranking values of objects for scenes (smaller = nearer), one
    matrix per ranking in ``scores``; the geodesic distances are computed
    once for ``distance`` and ``excess_distance``.

    ``excess_distance`` is ``d(scene, object) - d(origin, object)``: how much
    farther the object is from the scene than from the origin. It does not
    grow with the object's norm (an object far out in the scene's direction
    is *nearer* than the origin is), so objects with small norms stop
    being everyone's nearest neighbours; for objects near the boundary it
    tends to the Busemann function of the object's ideal point at the scene.

    Args:
        scenes (Tensor): N x D scene points.
        objects (Tensor): M x D object points.
        manifold (Manifold): The space of the points.
        scores (Sequence[str]): Names from :data:`RETRIEVAL_SCORES`.
            Defaults to all of them.
    """
    unknown = [name for name in scores if name not in RETRIEVAL_SCORES]
    if unknown:
        raise ValueError(f'retrieval score must be one of '
                         f'{RETRIEVAL_SCORES}, got {unknown[0]!r}')
    out = {}
    if 'distance' in scores or 'excess_distance' in scores:
        out['distance'] = manifold.pairwise_dist(scenes, objects)
        out['excess_distance'] = out['distance'] - \
            manifold.dist0(objects)[None]
    if 'direction' in scores:
        out['direction'] = cosine_distance(scenes, objects)
    return {name: out[name] for name in scores}


def retrieval_dist(scenes: torch.Tensor, objects: torch.Tensor,
                   manifold, score: str = DEFAULT_RETRIEVAL_SCORE
                   ) -> torch.Tensor:
    """One ranking of :func:`retrieval_dists` (N x M, smaller = nearer)."""
    return retrieval_dists(scenes, objects, manifold, (score, ))[score]


def _finite_or_none(value) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def norm_metrics(scene_norm: np.ndarray, object_norm: np.ndarray,
                 object_scene: np.ndarray, rtol: float = 1e-6) -> Dict:
    """``scene_object_norm_auroc`` (objects the positives, by norm; None
    without objects) and ``label_count_spearman`` (objects per image against
    the scene's norm), norms equal to ``rtol`` counting as ties."""
    out = dict(scene_object_norm_auroc=None)
    if len(object_norm):
        out['scene_object_norm_auroc'] = auroc(
            merge_close_values(np.concatenate([object_norm, scene_norm]),
                               rtol),
            np.r_[np.ones(len(object_norm)), np.zeros(len(scene_norm))])
    counts = np.bincount(object_scene, minlength=len(scene_norm))
    out['label_count_spearman'] = _finite_or_none(
        spearman(counts, merge_close_values(scene_norm, rtol)))
    return out


def _mean_ap(values) -> Optional[float]:
    values = np.concatenate(values)
    return None if np.isnan(values).all() else float(np.nanmean(values))


def retrieval_metrics(scene_points: torch.Tensor,
                      object_points: torch.Tensor, object_scene: np.ndarray,
                      label_index: np.ndarray, manifold: Manifold,
                      retrieval_score: str = DEFAULT_RETRIEVAL_SCORE,
                      chunk_size: int = 1024,
                      extra_scores: bool = False) -> Dict:
    """Scene -> object retrieval: instance level (a scene's own objects are
    relevant) and class level (every object of a category the scene holds),
    mAP and recall@1 under ``retrieval_score``; with ``extra_scores`` also
    the class-level mAP of every ranking of :data:`RETRIEVAL_SCORES`."""
    num_scenes = scene_points.shape[0]
    # has[i, j]: scene i holds an object of category j
    has = np.zeros((num_scenes, label_index.max() + 1), dtype=bool)
    has[object_scene, label_index] = True
    aps, hits, class_hits = [], [], []
    scores = RETRIEVAL_SCORES if extra_scores else (retrieval_score, )
    by_score = {name: [] for name in scores}
    for start in range(0, num_scenes, chunk_size):
        stop = min(start + chunk_size, num_scenes)
        own = object_scene[None, :] == np.arange(start, stop)[:, None]
        same_class = has[start:stop][:, label_index]
        dists = retrieval_dists(scene_points[start:stop], object_points,
                                manifold, scores)
        for name, dist in dists.items():
            dist = dist.double().numpy()
            by_score[name].append(
                retrieval_average_precision(dist, same_class))
            if name == retrieval_score:
                aps.append(retrieval_average_precision(dist, own))
                hits.append(recall_at_k(dist, own, k=1, reduction='none'))
                class_hits.append(
                    recall_at_k(dist, same_class, k=1, reduction='none'))
    out = {}
    for key, ap, hit in (('retrieval', aps, hits),
                         ('retrieval_class', by_score[retrieval_score],
                          class_hits)):
        if _mean_ap(ap) is not None:
            out[f'{key}_map'] = _mean_ap(ap)
            out[f'{key}_recall_at_1'] = float(np.nanmean(
                np.concatenate(hit)))
    if extra_scores:
        out['retrieval_score'] = retrieval_score
        out['retrieval_class_map_by_score'] = {
            name: _finite_or_none(_mean_ap(ap))
            for name, ap in by_score.items()
        }
    return out


def _ooc_auroc(score: np.ndarray, ooc: np.ndarray,
               rtol: float) -> Optional[float]:
    """AUROC of flagging ``ooc`` by ``score`` where it is finite; None when
    one class is empty there."""
    finite = np.isfinite(score)
    if not 0 < ooc[finite].sum() < finite.sum():
        return None
    return auroc(merge_close_values(score[finite], rtol), ooc[finite])


def ooc_metrics(scene_points: torch.Tensor, object_points: torch.Tensor,
                object_scene: np.ndarray, ooc: np.ndarray,
                manifold: Manifold, scene_feats=None,
                ooc_score: Optional[str] = None, rtol: float = 1e-6,
                extra_scores: bool = False) -> Dict:
    """``ooc_auroc``: AUROC of flagging the out-of-context objects (``ooc``,
    positives) by the unusual-company score
    (:func:`~hclmm.evaluation.ooc_company.unusual_company`), or by
    ``ooc_score`` of :func:`~hclmm.evaluation.ooc_scores.ooc_scores`. With
    ``extra_scores``, also ``ooc_auroc_by_score`` (the AUROC of every score
    of ``ooc_scores``; None where a score is undefined or one class is
    empty) and ``ooc_score``."""
    feats = None if scene_feats is None else torch.as_tensor(
        scene_feats).detach().double().cpu()
    if not extra_scores and (ooc_score is None or (
            ooc_score == DEFAULT_OOC_SCORE and feats is not None)):
        score = unusual_company(scene_points, object_points, object_scene,
                                feats)
        return dict(ooc_auroc=_ooc_auroc(score, ooc, rtol))
    from .ooc_scores import ooc_scores
    by_score = {
        name: _ooc_auroc(score, ooc, rtol)
        for name, score in ooc_scores(scene_points, object_points,
                                      object_scene, manifold,
                                      scene_feats=feats).items()
    }
    ooc_score = ooc_score or (DEFAULT_OOC_SCORE if feats is not None else
                              'company')
    out = dict(ooc_auroc=by_score[ooc_score])
    if extra_scores:
        out.update(ooc_score=ooc_score, ooc_auroc_by_score=by_score)
    return out


@torch.no_grad()
def zero_shot_metrics(scene_points: torch.Tensor,
                      object_points: torch.Tensor,
                      object_scene,
                      object_labels,
                      manifold: Manifold,
                      object_ooc=None,
                      scene_feats=None,
                      ooc_score: Optional[str] = None,
                      retrieval_score: str = DEFAULT_RETRIEVAL_SCORE,
                      knn_k: int = 1,
                      chunk_size: int = 1024,
                      rtol: float = 1e-6,
                      extra_scores: bool = False) -> Dict[str, object]:
    """Scene-object metrics of embedded scenes and their objects.

    Every quantity uses the embedding's own geometry, the
    :class:`~hclmm.geometry.Manifold` object of the points: "norm" is the
    distance to the origin (``dist0``) and "distance" the geodesic distance.

    - ``scene_object_norm_auroc``: AUROC of telling objects (positives) from
      scenes by their norm; above 0.5 when objects lie farther from the
      origin than scenes.
    - ``label_count_spearman``: Spearman correlation between the number of
      objects of an image and the norm of its scene embedding (sign kept;
      HCL expects it negative: busier scenes sit nearer the origin).
    - ``retrieval_map``: every scene queries all objects ranked by
      ``retrieval_score`` (:func:`retrieval_dist`); its own objects are
      relevant. Mean average precision over scenes with
      at least one object.
    - ``retrieval_recall_at_1``: fraction of those scenes whose nearest
      object is one of their own.
    - ``retrieval_class_map``, ``retrieval_class_recall_at_1``: the same
      with every object of a category present in the scene relevant (the
      instance-level task is ill-posed among identical-looking objects of
      one category).
    - ``ooc_auroc``: AUROC of flagging out-of-context objects (positives)
      by their unusual company
      (:func:`~hclmm.evaluation.ooc_company.unusual_company`: how far the
      object's scene is from the scenes of its nearest look-alikes). None
      when no object is marked (or every object is).
    - ``object_knn_top1``: leave-one-out accuracy of predicting an object's
      category from its nearest other object(s) (``knn_k`` of them, 1 by
      default).
    - ``num_scenes``, ``num_objects``.
    - With ``extra_scores`` (:data:`EXTRA_SCORE_KEYS`):
      ``retrieval_class_map_by_score``, the class-level mAP of every
      ranking of :data:`RETRIEVAL_SCORES`; ``ooc_auroc_by_score``, score
      name -> AUROC of each score of
      :func:`~hclmm.evaluation.ooc_scores.ooc_scores`; the names of the
      ranking and the score in use.

    Ties are handled as in :mod:`hclmm.evaluation.functional`. Norms and
    scene-object distances that agree to ``rtol`` (relative to the largest)
    count as ties: float32 embeddings cannot resolve smaller differences, and
    without this, points that all sit on the clipping sphere would give an
    AUROC decided by rounding noise instead of 0.5. Undefined values (too
    few samples, a constant input) are None. Distances are
    computed in float64: near the boundary of the ball (where embeddings of
    an unclipped hyperbolic head end up) float32 distances are meaningless.

    Args:
        scene_points (Tensor): N x D scene embeddings.
        object_points (Tensor): M x D object embeddings.
        object_scene: M indices into the scenes: the image of every object.
        object_labels: M category labels.
        manifold (Manifold): The space of the points.
        object_ooc: Optional M flags (1 = out of context). Defaults to None.
        scene_feats: Optional N x F backbone features of the scenes, for
            the ``company_backbone`` and ``company_norm`` scores (None:
            those are undefined). Defaults to None.
        ooc_score (str, optional): The score behind ``ooc_auroc``, one of
            :data:`~hclmm.evaluation.ooc_scores.OOC_SCORES`. None: unusual
            company (:data:`DEFAULT_OOC_SCORE`, or ``'company'`` without
            ``scene_feats``). Defaults to None.
        retrieval_score (str): The ranking behind ``retrieval_*``, one of
            :data:`RETRIEVAL_SCORES`. Defaults to
            :data:`DEFAULT_RETRIEVAL_SCORE`.
        knn_k (int): Neighbours of the kNN classifier. Defaults to 1.
        chunk_size (int): Rows of distance matrices computed at once, which
            bounds memory to ``chunk_size x M`` floats. Defaults to 1024.
        rtol (float): Relative tolerance under which norms (and distances
            to the own scene) count as equal. Defaults to 1e-6.
        extra_scores (bool): Also report :data:`EXTRA_SCORE_KEYS`.
            Defaults to False.

    Returns:
        dict: The values under :data:`ZERO_SHOT_KEYS` (and
        :data:`EXTRA_SCORE_KEYS`): floats, ints, strings or None.
    """
    check_manifold(manifold)
    if retrieval_score not in RETRIEVAL_SCORES:
        raise ValueError(f'retrieval_score must be one of {RETRIEVAL_SCORES}'
                         f', got {retrieval_score!r}')
    if ooc_score is not None and ooc_score not in OOC_SCORES:
        raise ValueError(f'ooc_score must be one of {OOC_SCORES}, got '
                         f'{ooc_score!r}')
    # float64: points of a barely trained model sit at the edge of the ball,
    # where float32 distances lose all their digits.
    scene_points = torch.as_tensor(scene_points).detach().double().cpu()
    object_points = torch.as_tensor(object_points).detach().double().cpu()
    num_scenes, num_objects = scene_points.shape[0], object_points.shape[0]
    object_scene = np.asarray(object_scene, dtype=np.int64).reshape(-1)
    object_labels = np.asarray(object_labels).reshape(-1)
    if object_scene.shape != (num_objects, ) or \
            object_labels.shape != (num_objects, ):
        raise ValueError('object_scene and object_labels need one entry per '
                         f'object ({num_objects}), got {object_scene.shape} '
                         f'and {object_labels.shape}')
    if num_objects and (object_scene.min() < 0
                        or object_scene.max() >= num_scenes):
        raise ValueError('object_scene holds indices outside [0, '
                         f'{num_scenes})')
    out = dict.fromkeys(ZERO_SHOT_KEYS +
                        (EXTRA_SCORE_KEYS if extra_scores else ()))
    out['num_scenes'] = int(num_scenes)
    out['num_objects'] = int(num_objects)
    if num_scenes == 0:
        return out

    scene_norm = manifold.dist0(scene_points).double().numpy()
    object_norm = manifold.dist0(object_points).double().numpy()
    out.update(norm_metrics(scene_norm, object_norm, object_scene, rtol))
    if num_objects == 0:
        return out
    label_index = np.unique(object_labels, return_inverse=True)[1]
    out.update(
        retrieval_metrics(scene_points, object_points, object_scene,
                          label_index.reshape(-1), manifold,
                          retrieval_score, chunk_size, extra_scores))
    if object_ooc is not None:
        ooc = np.asarray(object_ooc).reshape(-1).astype(bool)
        if ooc.shape != (num_objects, ):
            raise ValueError(f'object_ooc needs {num_objects} entries, got '
                             f'{ooc.shape}')
        if 0 < ooc.sum() < num_objects:
            out.update(
                ooc_metrics(scene_points, object_points, object_scene, ooc,
                            manifold, scene_feats, ooc_score, rtol,
                            extra_scores))
    if num_objects > knn_k:
        out['object_knn_top1'] = embedding_knn_top1(
            object_points, object_labels, manifold, k=knn_k,
            chunk_size=chunk_size)
    return out
