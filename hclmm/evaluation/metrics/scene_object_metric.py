"""The zero-shot scene-object metrics in mmengine's Evaluator."""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from hclmm.geometry import Euclidean, check_manifold
from hclmm.registry import METRICS
from ..embedding_knn import embedding_knn_top1
from ..zero_shot import DEFAULT_RETRIEVAL_SCORE, zero_shot_metrics

__all__ = ['SceneObjectMetric']


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


@METRICS.register_module()
class SceneObjectMetric(BaseMetric):
    """Zero-shot scene-object metrics of a model's embeddings.

    Fed by :class:`~hclmm.datasets.SceneObjectCropDataset` (one sample per
    scene or object crop) and a model whose ``predict`` mode writes
    ``embedding``, ``backbone_feat`` and the metainfo ``manifold`` (the
    :class:`~hclmm.geometry.Manifold` object of the embeddings; none:
    Euclidean), as the HCL algorithms and their baseline twins do. Results
    of all processes are gathered and put back in dataset order, so N
    processes report what one does. Reported (prefix ``zero_shot/``): the
    keys of :func:`~hclmm.evaluation.zero_shot_metrics` (the norm
    separation of scenes and objects, the label-count correlation,
    scene -> object retrieval at instance and class level, the
    out-of-context AUROC and the object kNN), plus
    ``object_knn_top1_backbone`` (leave-one-out kNN of the objects on
    L2-normalised backbone features) and the mean norms ``scene_norm`` and
    ``object_norm``. With ``extra_scores``, also every candidate ranking
    and out-of-context score: ``ooc_auroc_by_score`` flattened to
    ``ooc_auroc_<score>`` and ``retrieval_class_map_by_score`` to
    ``retrieval_class_map_<score>``. Undefined values are left out.

    Args:
        ooc_score (str, optional): The score behind ``ooc_auroc``.
            Defaults to the unusual company
            (:data:`~hclmm.evaluation.DEFAULT_OOC_SCORE`).
        retrieval_score (str): The ranking behind ``retrieval_*``. Defaults
            to :data:`~hclmm.evaluation.DEFAULT_RETRIEVAL_SCORE`.
        knn_k (int): Neighbours of the kNN classifiers. Defaults to 1.
        extra_scores (bool): Also report the candidate scores
            (:data:`~hclmm.evaluation.EXTRA_SCORE_KEYS`); the zero-shot
            tool then writes the out-of-context diagnostics too.
            Defaults to False.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Defaults to ``'zero_shot'``.
    """

    default_prefix = 'zero_shot'

    def __init__(self,
                 ooc_score: Optional[str] = None,
                 retrieval_score: Optional[str] = None,
                 knn_k: int = 1,
                 extra_scores: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ooc_score = ooc_score
        self.retrieval_score = retrieval_score or DEFAULT_RETRIEVAL_SCORE
        self.knn_k = int(knn_k)
        self.extra_scores = bool(extra_scores)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            for key in ('embedding', 'scene_index', 'is_scene'):
                if key not in sample:
                    raise KeyError(
                        f'SceneObjectMetric needs "{key}" in every data '
                        'sample: use SceneObjectCropDataset with PackInputs('
                        'meta_keys=SceneObjectCropDataset.META_KEYS) and a '
                        'model with a predict mode (the HCL algorithms)')
            self.results.append(
                dict(
                    index=int(sample['sample_idx']),
                    scene=int(sample['scene_index']),
                    is_scene=bool(sample['is_scene']),
                    label=int(sample.get('object_label', -1)),
                    ooc=int(sample.get('out_of_context', 0)),
                    point=_numpy(sample['embedding']),
                    feat=_numpy(sample['backbone_feat'])
                    if 'backbone_feat' in sample else None,
                    manifold=sample.get('manifold')))

    @staticmethod
    def assemble(results: List[dict]) -> Dict[str, object]:
        """Put the results of :meth:`process` back together as arrays.

        Results are sorted by ``sample_idx`` (dataset order). Scenes keep
        their order; objects follow the dataset order and refer to their
        scene by row.

        Args:
            results (list[dict]): What :meth:`process` stored (gathered
                from all processes).

        Returns:
            dict: ``scene_points`` (N x D float32 tensor), ``object_points``
            (M x D), ``object_scene`` (M scene rows), ``object_labels`` (M
            contiguous categories), ``object_ooc`` (M 0/1 flags),
            ``scene_feats``, ``object_feats`` (N x F and M x F backbone
            features, or None),
            ``scene_samples`` and ``object_samples`` (dataset indices of
            the scenes and objects) and ``manifold`` (the
            :class:`~hclmm.geometry.Manifold` of the points).
        """
        if not results:
            raise ValueError('SceneObjectMetric received no sample')
        results = sorted(results, key=lambda r: r['index'])
        scenes = [r for r in results if r['is_scene']]
        objects = [r for r in results if not r['is_scene']]
        row = {r['scene']: i for i, r in enumerate(scenes)}
        missing = {r['scene'] for r in objects} - set(row)
        if missing:
            raise ValueError(f'{len(missing)} objects belong to scenes that '
                             'were not evaluated (scene_index '
                             f'{sorted(missing)[:5]}...)')
        scene_points = torch.from_numpy(np.stack([r['point'] for r in scenes]))
        has_feats = scenes[0]['feat'] is not None if scenes else False

        def feats(rows):
            if not has_feats or not rows:
                return None
            return torch.from_numpy(
                np.stack([r['feat'] for r in rows]).reshape(len(rows), -1))

        def ints(values):
            return np.array(values, dtype=np.int64)

        return dict(
            scene_points=scene_points,
            object_points=torch.from_numpy(
                np.stack([r['point'] for r in objects]).reshape(
                    len(objects), scene_points.shape[1])),
            object_scene=ints([row[r['scene']] for r in objects]),
            object_labels=ints([r['label'] for r in objects]),
            object_ooc=ints([r['ooc'] for r in objects]),
            scene_feats=feats(scenes),
            object_feats=feats(objects),
            scene_samples=ints([r['index'] for r in scenes]),
            object_samples=ints([r['index'] for r in objects]),
            manifold=check_manifold(results[0]['manifold'] or Euclidean()))

    def report(self, data: Dict[str, object]) -> Dict[str, object]:
        """The zero-shot report (:func:`~hclmm.evaluation.zero_shot_metrics`
        with this metric's options, the keys of ``zero_shot.json``) of what
        :meth:`assemble` returned."""
        return zero_shot_metrics(
            data['scene_points'],
            data['object_points'],
            data['object_scene'],
            data['object_labels'],
            data['manifold'],
            object_ooc=data['object_ooc'],
            scene_feats=data['scene_feats'],
            ooc_score=self.ooc_score,
            retrieval_score=self.retrieval_score,
            knn_k=self.knn_k,
            extra_scores=self.extra_scores)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        data = self.assemble(results)
        return self.scalars(data, self.report(data))

    def scalars(self, data: Dict[str, object],
                report: Dict[str, object]) -> Dict[str, float]:
        """The numbers :meth:`compute_metrics` returns (without the prefix),
        from what :meth:`assemble` returned and its :meth:`report`; the
        zero-shot tool sends these to the visualizer backends."""
        manifold = data['manifold']
        scene_points = data['scene_points']
        object_points = data['object_points']
        labels = data['object_labels']
        metrics = dict(report)
        for key in ('ooc_auroc', 'retrieval_class_map'):
            by_score = metrics.pop(f'{key}_by_score', None) or {}
            for name, value in by_score.items():
                metrics[f'{key}_{name}'] = value
        metrics.pop('ooc_score', None)
        metrics.pop('retrieval_score', None)
        metrics['scene_norm'] = float(
            manifold.dist0(scene_points.double()).mean())
        if len(labels):
            metrics['object_norm'] = float(
                manifold.dist0(object_points.double()).mean())
        if len(labels) > self.knn_k and data['object_feats'] is not None:
            feats = torch.nn.functional.normalize(
                data['object_feats'].double(), dim=1)
            metrics['object_knn_top1_backbone'] = embedding_knn_top1(
                feats, labels, Euclidean(), k=self.knn_k)
        return {
            k: float(v)
            for k, v in metrics.items()
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        }
