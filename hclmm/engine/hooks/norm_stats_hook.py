"""Norm statistics of scene and object embeddings during training."""
from typing import Dict, Optional

import torch
from mmengine.dist import all_gather
from mmengine.hooks import Hook

from hclmm.evaluation import embedding_norm
from hclmm.registry import HOOKS
from ._utils import (build_eval_dataloader, log_scalars, preprocess_views,
                     unwrap_model)

__all__ = ['NormStatsHook']


@HOOKS.register_module()
class NormStatsHook(Hook):
    """Log how far scenes and objects lie from the origin while training.

    One batch of a scene-object loader (typically the validation split with
    the training pipeline) is drawn once before training and kept, so the
    numbers are comparable over time. Every ``interval`` iterations (and
    after the last one) the model, in eval mode, embeds the batch's scene
    view and object view and logs, gathered over all processes:

    - ``{prefix}/scene_euclid_mean``, ``_std``, ``{prefix}/object_euclid_*``:
      the Euclidean norm ``|u|`` of the projection that feeds the hyperbolic
      head (``model.online_projection``), when the model has one;
    - ``{prefix}/scene_hyp_mean``, ``_std`` and ``{prefix}/object_hyp_*``:
      the distance to the origin of the ``embed_for_zero_shot`` points under
      the model's geometry (skipped for a Euclidean baseline).

    Standard deviations are population ones (divided by n). HCL should push
    scene norms below object norms.

    Args:
        dataloader (dict): Config of the scene-object loader whose first
            batch is used; its ``inputs`` must be a list of views.
        interval (int): Log every ``interval`` training iterations.
            Defaults to 50.
        scene_view (int): Index of the scene view in ``inputs``.
            Defaults to -2 (``SceneObjectViews`` puts the scene view second
            to last).
        object_view (int): Index of the object view. Defaults to -1.
        prefix (str): Name prefix of the logged scalars. Defaults to 'norm'.
    """

    priority = 'NORMAL'

    def __init__(self,
                 dataloader: dict,
                 interval: int = 50,
                 scene_view: int = -2,
                 object_view: int = -1,
                 prefix: str = 'norm') -> None:
        if int(interval) != interval or interval < 1:
            raise ValueError(f'interval must be a positive integer, got '
                             f'{interval}')
        self.dataloader_cfg = dataloader
        self.interval = int(interval)
        self.scene_view = scene_view
        self.object_view = object_view
        self.prefix = prefix
        self._batch = None
        self.last_stats: Optional[Dict[str, float]] = None

    def before_train(self, runner) -> None:
        loader = build_eval_dataloader(runner, self.dataloader_cfg)
        self._batch = next(iter(loader))
        views = self._batch['inputs']
        if not isinstance(views, (list, tuple)):
            raise TypeError('NormStatsHook needs a list of views as inputs '
                            '(scene and object views, e.g. from '
                            'SceneObjectViews), got a single tensor')
        for index in (self.scene_view, self.object_view):
            if not -len(views) <= index < len(views):
                raise IndexError(f'view index {index} is out of range for '
                                 f'{len(views)} views')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or \
                self.is_last_train_iter(runner):
            self.evaluate(runner, step=runner.iter + 1)

    @staticmethod
    def _stats(values: torch.Tensor) -> torch.Tensor:
        values = torch.cat(all_gather(values.double().contiguous()))
        return torch.stack([values.mean(), values.std(unbiased=False)])

    @torch.no_grad()
    def compute(self, runner) -> Dict[str, float]:
        """Norm statistics of the fixed batch under the current weights."""
        if self._batch is None:
            self.before_train(runner)
        model = unwrap_model(runner.model)
        views = self._batch['inputs']
        was_training = model.training
        model.eval()
        try:
            stats = {}
            for name, index in (('scene', self.scene_view),
                                ('object', self.object_view)):
                images = preprocess_views(model, views[index])
                if hasattr(model, 'online_projection'):
                    u = model.online_projection(images)
                    stats[f'{name}_euclid'] = self._stats(u.norm(dim=-1))
                out = model.embed_for_zero_shot(images)
                if out['manifold'].hyperbolic:
                    norms = embedding_norm(out['points'].double(),
                                           out['manifold'])
                    stats[f'{name}_hyp'] = self._stats(norms)
        finally:
            model.train(was_training)
        scalars = {}
        for key, (mean, std) in stats.items():
            scalars[f'{self.prefix}/{key}_mean'] = float(mean)
            scalars[f'{self.prefix}/{key}_std'] = float(std)
        return scalars

    def evaluate(self, runner, step: Optional[int] = None) -> Dict[str, float]:
        """Compute and log the statistics; returns them."""
        self.last_stats = self.compute(runner)
        log_scalars(
            runner,
            self.last_stats,
            step=runner.iter if step is None else step,
            header='Norm stats:')
        return self.last_stats
