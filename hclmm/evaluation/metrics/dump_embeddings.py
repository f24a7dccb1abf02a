"""Each sample's embedding, norm and label written to a pickle file."""
from typing import Sequence

import mmengine
import torch
from mmengine.evaluator import BaseMetric

from hclmm.geometry import Euclidean, check_manifold
from hclmm.registry import METRICS

__all__ = ['DumpEmbeddings']


@METRICS.register_module()
class DumpEmbeddings(BaseMetric):
    """Write every evaluated sample's embedding to a ``.pkl`` file.

    The counterpart of mmengine's ``DumpResults`` (what mmpretrain's
    ``tools/test.py --out FILE --out-item pred`` adds to the evaluator) for
    the scene-object models: the file holds a list of dicts in dataset order
    (``sample_idx``), one per sample, written with ``mmengine.dump`` and
    read back with ``mmengine.load``:

    - ``sample_idx``, ``img_id``, ``scene_index``, ``is_scene``,
      ``out_of_context``: the sample, as
      :class:`~hclmm.datasets.SceneObjectCropDataset` describes it;
    - ``label``: the object's category index (-1 for a scene);
    - ``embedding``: the point (float32 numpy array, in the coordinates of
      the manifold);
    - ``norm``: its distance to the origin on the manifold (``dist0``, the
      norm that ``SceneObjectMetric`` reports);
    - ``manifold``: the manifold's config (``Manifold.config()``, e.g.
      ``{'type': 'PoincareBall', 'c': 0.05}``; ``build_manifold`` turns it
      back into the object).

    Results of all processes are gathered before the file is written, so N
    processes write what one does. It reports no metric.

    Args:
        out_file_path (str): The ``.pkl`` (or ``.pickle``) file to write.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
    """

    def __init__(self, out_file_path: str,
                 collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        if not str(out_file_path).endswith(('.pkl', '.pickle')):
            raise ValueError('DumpEmbeddings writes a pickle file: the '
                             f'output file must end in .pkl, not '
                             f'{out_file_path}')
        self.out_file_path = out_file_path

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        if not data_samples:
            return
        for sample in data_samples:
            if 'embedding' not in sample:
                raise KeyError('DumpEmbeddings needs "embedding" in every '
                               'data sample: a model with a predict mode '
                               '(the HCL algorithms and their twins)')
        # the predict mode gives every sample of a batch the same manifold
        manifold = check_manifold(data_samples[0].get('manifold')
                                  or Euclidean())
        points = torch.stack([
            sample['embedding'].detach().float().cpu()
            for sample in data_samples
        ])
        norms = manifold.dist0(points.double())
        for sample, point, norm in zip(data_samples, points, norms):
            self.results.append(
                dict(
                    sample_idx=int(sample['sample_idx']),
                    img_id=sample.get('img_id'),
                    scene_index=int(sample.get('scene_index', -1)),
                    is_scene=bool(sample.get('is_scene', False)),
                    label=int(sample.get('object_label', -1)),
                    out_of_context=int(sample.get('out_of_context', 0)),
                    embedding=point.numpy(),
                    norm=float(norm),
                    manifold=manifold.config()))

    def compute_metrics(self, results: list) -> dict:
        results = sorted(results, key=lambda r: r['sample_idx'])
        mmengine.dump(results, self.out_file_path)
        return {}

