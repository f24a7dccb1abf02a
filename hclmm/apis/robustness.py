"""Adversarial robustness of frozen pretrained features on object crops.

A linear probe is trained on the frozen backbone by the linear-probe config
of the transfer suite, through mmengine's ``Runner``
(:func:`train_linear_probe`); then the probe's clean accuracy and its
accuracy under an L-infinity PGD attack are measured on the config's
validation crops (:func:`robust_accuracy`). The attack runs in pixel space,
on images scaled to [0, 1] *before* the model's own normalisation, through
the whole frozen pipeline (normalisation, backbone, probe), with a random
start in the budget ball. A sample counts as robust when both the clean
image and the attacked one are classified correctly, so the robust
accuracy never exceeds the clean one.
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
from fractions import Fraction
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from .inference import backbone_state_dict, load_backbone

__all__ = [
    'DEFAULT_PROBE_CONFIG', 'parse_budget', 'budget_text', 'pgd_attack',
    'robust_accuracy', 'pixel_classifier', 'probe_config',
    'train_linear_probe', 'robustness_report'
]


def _packaged_config(name: str) -> str:
    """A config of this package: inside the installed package (``.mim``)
    or, from a source checkout, its ``configs/`` folder."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.join(package, '.mim', 'configs'),
                 osp.join(osp.dirname(package), 'configs')):
        if osp.isfile(osp.join(root, name)):
            return osp.join(root, name)
    return osp.join('configs', name)


#: The transfer suite's linear probe (frozen ResNet-18, toy scenes).
DEFAULT_PROBE_CONFIG = _packaged_config(
    'benchmarks/classification/toy_scenes/'
    'resnet18_linear-1xb32-500it_toy-scenes.py')


def parse_budget(text: str) -> float:
    """A budget written as a number or a fraction, e.g. ``8/255``."""
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f'not a number or fraction: {text!r} (e.g. 8/255 or 0.03)')
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f'a budget on [0, 1] images must lie in [0, 1], got {text}')
    return value


def budget_text(eps: float) -> str:
    """``8/255`` for a budget that is a small fraction, else ``0.03``."""
    frac = Fraction(eps).limit_denominator(1000)
    return f'{frac.numerator}/{frac.denominator}' if \
        abs(float(frac) - eps) < 1e-9 and frac.denominator > 1 else f'{eps:g}'


def pgd_attack(classify: Callable,
               x: torch.Tensor,
               y: torch.Tensor,
               eps: float,
               steps: int = 10,
               step_size: Optional[float] = None,
               random_start: bool = True,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """L-infinity PGD (Madry et al., 2018) on images in [0, 1].

    Ascends the cross-entropy with signed gradient steps and projects back
    onto ``{x' : |x' - x|_inf <= eps, 0 <= x' <= 1}`` after each step.

    Args:
        classify (Callable): Images in [0, 1] -> logits.
        x (Tensor): Clean images in [0, 1], N x C x H x W.
        y (Tensor): Labels, (N, ).
        eps (float): Budget.
        steps (int): Number of steps. Defaults to 10.
        step_size (float, optional): Step size. Defaults to 2.5 eps / steps.
        random_start (bool): Start at a uniform random point of the ball.
            Defaults to True.
        generator (torch.Generator, optional): Random start generator.

    Returns:
        Tensor: Adversarial images, detached.
    """
    if eps == 0:
        return x.detach()
    step_size = 2.5 * eps / steps if step_size is None else step_size
    x = x.detach()
    x_adv = x.clone()
    if random_start:
        noise = torch.rand(x.shape, generator=generator).to(x)
        x_adv = (x + (2 * noise - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(classify(x_adv), y)
        grad, = torch.autograd.grad(loss, x_adv)
        x_adv = x_adv.detach() + step_size * grad.sign()
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
    return x_adv.detach()


def _labels(data_samples) -> torch.Tensor:
    return torch.cat([ds.gt_label.reshape(-1) for ds in data_samples])


def robust_accuracy(classify: Callable,
                    loader,
                    budgets: Sequence[float],
                    steps: int = 10,
                    step_size: Optional[float] = None,
                    random_start: bool = True,
                    device='cpu',
                    seed: int = 0) -> Dict:
    """Clean accuracy and robust accuracy (%) for each budget.

    Returns:
        dict: ``num_samples``, ``clean_acc`` and ``robust_acc`` (one per
        budget).
    """
    from mmengine.utils import track_iter_progress
    gen = torch.Generator().manual_seed(seed)
    total, clean_ok = 0, 0
    robust_ok = [0] * len(budgets)
    print(f'PGD: {len(loader)} batches', file=sys.stderr, flush=True)
    for data in track_iter_progress((loader, len(loader)), file=sys.stderr):
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):  # pseudo_collate
            inputs = torch.stack(inputs)
        x = inputs.to(device).float() / 255
        y = _labels(data['data_samples']).to(device)
        with torch.no_grad():
            clean = classify(x).argmax(1) == y
        total += len(y)
        clean_ok += int(clean.sum())
        for i, eps in enumerate(budgets):
            x_adv = pgd_attack(classify, x, y, eps, steps, step_size,
                               random_start, gen)
            with torch.no_grad():
                adv = classify(x_adv).argmax(1) == y
            robust_ok[i] += int((clean & adv).sum())
    return dict(
        num_samples=total,
        clean_acc=100.0 * clean_ok / total,
        robust_acc=[100.0 * r / total for r in robust_ok])


def pixel_classifier(model: nn.Module) -> Callable:
    """``f(x)``: logits of an mmpretrain classifier for images ``x`` in
    [0, 1], through its own data preprocessor (channel order and
    normalisation, differentiable), backbone, neck and head."""

    def classify(x: torch.Tensor) -> torch.Tensor:
        data = model.data_preprocessor(
            dict(inputs=x * 255, data_samples=None), False)
        return model(data['inputs'], mode='tensor')

    return classify


def probe_config(config: str = DEFAULT_PROBE_CONFIG,
                 cfg_options: Optional[dict] = None,
                 data: Optional[dict] = None) -> Config:
    """The linear-probe config with ``cfg_options`` and the data overrides
    ``data`` merged in (``data_root`` for both loaders, ``ann_file``,
    ``data_prefix``, ``val_ann_file``, ``val_data_prefix``,
    ``min_box_size``; None values are left to the config)."""
    cfg = Config.fromfile(config)
    data = {k: v for k, v in (data or {}).items() if v is not None}
    over = {}
    for split, loader in (('', 'train_dataloader'),
                          ('val_', 'val_dataloader')):
        key = f'{loader}.dataset'
        if 'data_root' in data:
            over[f'{key}.data_root'] = data['data_root']
        if 'min_box_size' in data:
            over[f'{key}.min_box_size'] = data['min_box_size']
        if f'{split}ann_file' in data:
            over[f'{key}.ann_file'] = data[f'{split}ann_file']
        if f'{split}data_prefix' in data:
            over[f'{key}.data_prefix'] = dict(img=data[f'{split}data_prefix'])
    over.update(cfg_options or {})
    if over:
        print('probe config ' + osp.basename(config) + ' with ' + ', '.join(
            f'{k}={v}' for k, v in over.items()), flush=True)
        cfg.merge_from_dict(over)
    return cfg


def train_linear_probe(cfg: Config, checkpoint: str, work_dir: str,
                       probe: Optional[str] = None):
    """Train the linear probe of ``cfg`` on the frozen backbone of
    ``checkpoint`` with mmengine's ``Runner`` (the config's schedule,
    logging and validation), or load the probe head ``probe`` instead.

    The backbone weights are written to ``WORK_DIR/backbone.pth`` and set as
    the backbone's ``init_cfg``; a checkpoint that lacks some of them is
    refused before training. The trained head is saved as plain tensors to
    ``WORK_DIR/probe.pth`` (pass it back as ``probe`` to skip training).

    Returns:
        tuple: ``(model, metrics, runner)``: the classifier in eval mode,
        the Runner's last validation numbers (None when loaded) and the
        Runner (its dataloaders).
    """
    from mmengine.runner import Runner
    os.makedirs(work_dir, exist_ok=True)
    cfg = copy.deepcopy(cfg)
    backbone_file = osp.join(work_dir, 'backbone.pth')
    torch.save(backbone_state_dict(checkpoint), backbone_file)
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=backbone_file, prefix=None)
    cfg.work_dir = work_dir
    if probe is not None:
        cfg.train_cfg = cfg.param_scheduler = cfg.optim_wrapper = None
        cfg.train_dataloader = None
    runner = Runner.from_cfg(cfg)
    model = runner.model
    num = load_backbone(model, checkpoint)  # names what is missing
    print(f'loaded {num} backbone tensors from {checkpoint}', flush=True)
    metrics = None
    if probe is None:
        runner.train()
        metrics = _last_val(osp.join(runner.log_dir, 'vis_data',
                                     'scalars.json'))
    else:
        model.head.load_state_dict(
            torch.load(probe, map_location='cpu', weights_only=True))
    torch.save(model.head.state_dict(), osp.join(work_dir, 'probe.pth'))
    return model.eval().requires_grad_(False), metrics, runner


def _last_val(scalars_file: str) -> Optional[Dict[str, float]]:
    """The last validation record of mmengine's ``scalars.json``."""
    if not osp.isfile(scalars_file):
        return None
    last = None
    with open(scalars_file) as f:
        for line in f:
            rec = json.loads(line)
            if any(k.startswith('accuracy') for k in rec):
                last = rec
    return last


def robustness_report(config: str, checkpoint: str, out_dir: str,
                      eps: List[float], steps: int = 10,
                      step_size: Optional[float] = None,
                      no_random_start: bool = False,
                      probe: Optional[str] = None,
                      probe_config_file: str = DEFAULT_PROBE_CONFIG,
                      data: Optional[dict] = None,
                      cfg_options: Optional[dict] = None,
                      device: str = 'cpu', seed: int = 0) -> Dict:
    """The robustness tool: probe (trained or loaded), PGD on the probe
    config's val crops, ``OUT_DIR/robustness.json``; returns its content.

    ``config`` is the pretraining config of ``checkpoint``: its backbone
    must be the probe config's (type and depth).
    """
    pre = Config.fromfile(config).model.get('backbone', {})
    cfg = probe_config(probe_config_file, dict(
        cfg_options or {}, **{'randomness.seed': seed}), data)
    got = cfg.model.backbone
    if (pre.get('type'), pre.get('depth')) != (got.get('type'),
                                               got.get('depth')):
        raise ValueError(
            f'{config} pretrains a {pre.get("type")}-{pre.get("depth")} but '
            f'the probe config {probe_config_file} holds a '
            f'{got.get("type")}-{got.get("depth")}: pass a matching '
            '--probe-config')
    torch.manual_seed(seed)
    model, val, runner = train_linear_probe(cfg, checkpoint, out_dir, probe)
    model = model.to(device)
    classes = runner.val_dataloader.dataset.metainfo['classes']
    result = robust_accuracy(pixel_classifier(model), runner.val_dataloader,
                             eps, steps, step_size, not no_random_start,
                             device, seed)
    attacks = [
        dict(eps=e, eps_text=budget_text(e), steps=steps,
             step_size=2.5 * e / steps if step_size is None else step_size,
             random_start=not no_random_start, robust_acc=acc)
        for e, acc in zip(eps, result['robust_acc'])
    ]
    report = dict(
        config=config, checkpoint=checkpoint, probe_config=probe_config_file,
        num_classes=len(classes),
        num_train=None if probe else len(runner.train_dataloader.dataset),
        num_val=result['num_samples'],
        probe=dict(file=osp.join(out_dir, 'probe.pth'), loaded_from=probe,
                   val_acc=None if val is None else val.get(
                       'accuracy/top1')),
        clean_acc=result['clean_acc'],
        robust_acc=attacks[0]['robust_acc'],
        attacks=attacks)
    with open(osp.join(out_dir, 'robustness.json'), 'w') as f:
        json.dump(report, f, indent=2)
    return report
