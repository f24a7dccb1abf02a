"""A model from a config and a checkpoint, and one pass over a dataloader."""
import re
import sys
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import default_collate

__all__ = [
    'init_model', 'backbone_state_dict', 'load_backbone', 'build_dataloader',
    'extract_features', 'extract_from_config'
]


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               device: str = 'cpu',
               backbone_only: bool = False):
    """The config's model in eval mode on ``device``, and the config.

    Args:
        config (str | Config): The config (file).
        checkpoint (str, optional): Weights to load (weights-only loading
            with hclmm's allow-list). Defaults to None (the model's own
            ``init_weights``, also run before a backbone-only load).
        cfg_options (dict, optional): Overrides merged into the config.
        device (str): Defaults to 'cpu'.
        backbone_only (bool): Load only the backbone (from a pretraining
            checkpoint or an extracted backbone, see :func:`load_backbone`)
            instead of the whole model, strictly. Defaults to False.

    Returns:
        tuple: ``(model, cfg)``.
    """
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint

    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if checkpoint and backbone_only and 'backbone' in cfg.model:
        # the checkpoint replaces the backbone's own (placeholder) init
        cfg.model.backbone.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope') or 'hclmm'):
        model = MODELS.build(cfg.model)
    if not checkpoint or backbone_only:
        # the weights no checkpoint sets (a whole-model load sets them all)
        model.init_weights()
    if checkpoint and backbone_only:
        load_backbone(model, checkpoint)
    elif checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                        logger='silent')
    return model.to(device).eval(), cfg


def backbone_state_dict(checkpoint: str) -> Dict[str, torch.Tensor]:
    """The backbone weights of a pretraining checkpoint (``backbone.*``
    keys; the other keys are dropped) or of an extracted backbone (keys
    without prefix), without prefix."""
    from mmengine.runner import CheckpointLoader
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    if any(k.startswith('backbone.') for k in state):
        return {
            k[len('backbone.'):]: v
            for k, v in state.items() if k.startswith('backbone.')
        }
    return state


def load_backbone(model: nn.Module, checkpoint: str) -> int:
    """Load the backbone weights of ``checkpoint`` into ``model.backbone``.

    Accepts a whole pretraining checkpoint or an extracted backbone (see
    :func:`backbone_state_dict`).

    Returns:
        int: Number of backbone tensors loaded.

    Raises:
        KeyError: the checkpoint lacks some of the backbone's weights.
    """
    state = backbone_state_dict(checkpoint)
    wanted = set(model.backbone.state_dict())
    missing = sorted(wanted - set(state))
    if missing:
        raise KeyError(
            f'{checkpoint} lacks {len(missing)} of the {len(wanted)} backbone '
            f'weights of this config (e.g. {missing[:3]}); is it a '
            'checkpoint of this config?')
    model.backbone.load_state_dict({k: state[k] for k in wanted})
    return len(wanted)


def build_dataloader(dataset, batch_size: int = 64, num_workers: int = 0):
    """An ordered dataloader over ``dataset`` that stacks the inputs as the
    configs' test loaders do (``default_collate``)."""
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=default_collate)


def _progress(loader, desc: Optional[str]):
    if desc is None:
        return loader
    from mmengine.utils import track_iter_progress
    print(f'{desc}: {len(loader.dataset)} samples in {len(loader)} batches',
          file=sys.stderr, flush=True)
    return track_iter_progress((loader, len(loader)), file=sys.stderr)


def _label(sample) -> int:
    label = sample.get('gt_label') if isinstance(sample, dict) else \
        getattr(sample, 'gt_label', None)
    return -1 if label is None else int(torch.as_tensor(label).reshape(-1)[0])


@torch.no_grad()
def extract_features(model: nn.Module,
                     dataloader,
                     mode: str = 'backbone',
                     desc: Optional[str] = 'extracting features',
                     metric=None) -> Dict[str, object]:
    """Run every batch of ``dataloader`` through ``model``, in order.

    - ``mode='backbone'``: ``model.data_preprocessor`` and
      ``model.extract_feat`` (backbone and neck), the last output
      global-average pooled: returns ``feats`` (N x C float32 on the CPU),
      ``labels`` (N int64 ``gt_label``, -1 where a sample has none) and
      ``sample_idx`` (N dataset indices, -1 where unknown).
    - ``mode='predict'``: ``model.test_step`` (the HCL algorithms' predict
      mode writes ``embedding``, ``backbone_feat`` and the ``manifold``
      into every data sample); the data samples go into ``metric``'s
      ``process`` through mmengine's ``Evaluator`` and the result is what
      ``metric.assemble`` returns (points, features and metadata of the
      scenes and objects, see
      :meth:`~hclmm.evaluation.SceneObjectMetric.assemble`).

    Args:
        model (nn.Module): The model, in eval mode.
        dataloader: Yields mmengine batches (``inputs``, ``data_samples``).
        mode (str): ``'backbone'`` or ``'predict'``. Defaults to 'backbone'.
        desc (str, optional): Progress text; None: no progress bar.
            Defaults to 'extracting features'.
        metric (BaseMetric, optional): The metric of ``'predict'`` mode.
            Defaults to a ``SceneObjectMetric``.

    Returns:
        dict: The features and their metadata.
    """
    if mode not in ('backbone', 'predict'):
        raise ValueError(f"mode must be 'backbone' or 'predict', got {mode!r}")
    if mode == 'predict':
        from mmengine.evaluator import Evaluator

        from hclmm.evaluation import SceneObjectMetric
        if not callable(getattr(model, 'predict', None)):
            raise TypeError(f'{type(model).__name__} has no predict mode; '
                            'the scene-object metrics need an HCL model (or '
                            'its baseline twin)')
        metric = metric or SceneObjectMetric()
        evaluator = Evaluator(metric)
        for batch in _progress(dataloader, desc):
            evaluator.process(model.test_step(batch), batch)
        return metric.assemble(metric.results)
    from hclmm.models.utils import global_vector
    feats, labels, indices = [], [], []
    device = next(model.parameters()).device
    for batch in _progress(dataloader, desc):
        data = model.data_preprocessor(batch, False)
        out = model.extract_feat(data['inputs'].to(device))
        feats.append(global_vector(out, index=-1).flatten(1).float().cpu())
        samples: Sequence = data['data_samples'] or []
        labels += [_label(s) for s in samples]
        indices += [int(s.get('sample_idx', -1)) for s in samples]
    return dict(
        feats=torch.cat(feats),
        labels=torch.tensor(labels, dtype=torch.long),
        sample_idx=torch.tensor(indices, dtype=torch.long))


def extract_from_config(config: Union[str, Config],
                        checkpoint: Optional[str] = None,
                        dataloader=None,
                        mode: str = 'backbone',
                        cfg_options: Optional[dict] = None,
                        device: str = 'cpu',
                        desc: Optional[str] = 'extracting features'
                        ) -> Dict[str, object]:
    """Features and metadata of a checkpoint, in one call.

    The config's model with the checkpoint (its backbone only in
    ``'backbone'`` mode: a pretraining checkpoint or an extracted backbone
    into, e.g., a benchmark config's classifier; the whole model in
    ``'predict'`` mode), run by :func:`extract_features` over
    ``dataloader`` or the config's own ``test_dataloader`` (with the
    config's ``test_evaluator`` in ``'predict'`` mode).

    Args:
        config (str | Config): The config (file).
        checkpoint (str, optional): The weights. Defaults to None.
        dataloader (DataLoader | dict, optional): A dataloader or its
            config. Defaults to the config's ``test_dataloader``.
        mode (str): ``'backbone'`` or ``'predict'``. Defaults to
            'backbone'.
        cfg_options (dict, optional): Overrides of the config.
        device (str): Defaults to 'cpu'.
        desc (str, optional): Progress text; None: no progress bar.

    Returns:
        dict: What :func:`extract_features` returns.
    """
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from hclmm.registry import METRICS
    model, cfg = init_model(config, checkpoint, cfg_options, device,
                            backbone_only=mode == 'backbone')
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope') or 'hclmm'):
        if dataloader is None or isinstance(dataloader, dict):
            dataloader = Runner.build_dataloader(
                dataloader or cfg.test_dataloader)
        metric = METRICS.build(cfg.test_evaluator) \
            if mode == 'predict' else None
        return extract_features(model, dataloader, mode, desc, metric)
