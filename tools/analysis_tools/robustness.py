"""Adversarial robustness of frozen pretrained features on object crops.

Trains (or loads) a linear probe on the frozen backbone features of the
object crops of a COCO-format set (every box is one sample, labelled with
its category, as :class:`~hclmm.datasets.ObjectCropDataset`), then reports
the probe's clean accuracy and its accuracy under an L-infinity PGD attack
on the validation crops. The attack runs in pixel space, on images scaled to
[0, 1] *before* the model's own normalisation, through the whole frozen
pipeline (normalisation, backbone, probe), with a random start in the budget
ball. A sample counts as robust when both the clean image and the attacked
one are classified correctly (the clean image lies inside the budget ball),
so the robust accuracy never exceeds the clean one.

Run it on the checkpoints of a Euclidean and a hyperbolic pretraining (e.g.
``configs/hypcon/simclr_resnet18_1xb32-2e_toy-scenes.py`` and
``configs/hypcon/hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py``) to compare
them.
Writes ``OUT_DIR/robustness.json`` and ``OUT_DIR/probe.pth`` (the probe,
tensors only; pass it back with ``--probe`` to skip training).

Example::

    python tools/analysis_tools/robustness.py \\
        configs/hypcon/hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py \\
        work_dirs/hypcon-simclr_resnet18_1xb32-2e_toy-scenes/epoch_2.pth \\
        --data-root data/toy_scenes --ann-file annotations/train.json \\
        --data-prefix images/train --val-ann-file annotations/val.json \\
        --val-data-prefix images/val --eps 8/255 --steps 10 \\
        --out-dir work_dirs/robustness
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
from fractions import Fraction
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    'parse_args', 'parse_budget', 'LinearProbe', 'build_crop_dataset',
    'load_backbone', 'pixel_features', 'pgd_attack', 'train_probe', 'evaluate',
    'main'
]

DEFAULT_IMG_SIZE = 224


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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Clean and PGD accuracy of a linear probe on frozen '
        'backbone features of object crops')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file (a whole '
        'pretraining checkpoint or extracted backbone)')
    parser.add_argument('--data-root', default='', help='root of the data')
    parser.add_argument(
        '--ann-file',
        required=True,
        help='COCO-format json whose boxes train the probe (relative to '
        '--data-root unless absolute)')
    parser.add_argument(
        '--data-prefix',
        default='',
        help='image folder of --ann-file relative to --data-root')
    parser.add_argument(
        '--val-ann-file',
        default=None,
        help='COCO-format json of the evaluation crops. Defaults to a '
        'held-out fifth of the --ann-file crops')
    parser.add_argument(
        '--val-data-prefix',
        default=None,
        help='image folder of --val-ann-file. Defaults to --data-prefix')
    parser.add_argument(
        '--eps',
        type=parse_budget,
        nargs='+',
        default=[parse_budget('8/255')],
        help='L-infinity budget(s) on [0, 1] pixels, e.g. 8/255 (default) '
        'or several: 4/255 8/255')
    parser.add_argument(
        '--steps', type=int, default=10, help='PGD steps. Defaults to 10')
    parser.add_argument(
        '--step-size',
        type=parse_budget,
        default=None,
        help='PGD step size. Defaults to 2.5 * eps / steps')
    parser.add_argument(
        '--no-random-start',
        action='store_true',
        help='start PGD at the clean image instead of a random point of '
        'the ball')
    parser.add_argument(
        '--epochs',
        type=int,
        default=100,
        help='probe training epochs over the cached features. '
        'Defaults to 100')
    parser.add_argument(
        '--lr', type=float, default=0.1, help='probe SGD lr. Defaults to 0.1')
    parser.add_argument(
        '--probe',
        default=None,
        help='probe.pth of an earlier run; skips training')
    parser.add_argument(
        '--img-size',
        type=int,
        default=None,
        help="side of the square crops. Defaults to the config's view_size "
        f'(the side of its views), else {DEFAULT_IMG_SIZE}')
    parser.add_argument(
        '--min-box-size',
        type=float,
        default=None,
        help='ignore boxes thinner than this (pixels). Defaults to the '
        "config's training dataset value if it has one, else 56")
    parser.add_argument(
        '--batch-size', type=int, default=64, help='Defaults to 64')
    parser.add_argument(
        '--num-workers', type=int, default=0, help='Defaults to 0')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--seed', type=int, default=0, help='Defaults to 0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=None,
        metavar='KEY=VALUE',
        help='override settings of the config')
    parser.add_argument(
        '--out-dir', required=True, help='where to write the report')
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error('--steps must be >= 1')
    if args.epochs < 1 and args.probe is None:
        parser.error('--epochs must be >= 1')
    if args.batch_size < 1:
        parser.error('--batch-size must be >= 1')
    if args.img_size is not None and args.img_size < 8:
        parser.error('--img-size must be >= 8')
    return args


def load_backbone(model: nn.Module, checkpoint: str) -> int:
    """Load the backbone weights of ``checkpoint`` into ``model.backbone``.

    Accepts a whole pretraining checkpoint (``backbone.*`` keys; the other
    keys are ignored) or an extracted backbone (keys without prefix). Uses
    mmengine's ``load_checkpoint``, i.e. weights-only ``torch.load`` with
    hclmm's allow-list of mmengine's own objects.

    Returns:
        int: Number of backbone tensors loaded.

    Raises:
        KeyError: the checkpoint lacks some of the backbone's weights.
    """
    import hclmm  # noqa: F401  (allow-lists mmengine's checkpoint objects)
    from mmengine.runner import load_checkpoint
    ckpt = load_checkpoint(
        model.backbone,
        checkpoint,
        map_location='cpu',
        strict=False,
        logger='silent',
        revise_keys=[(r'^module\.', ''), (r'^backbone\.', '')])
    state = ckpt.get('state_dict', ckpt)
    names = {
        re.sub(r'^backbone\.', '', re.sub(r'^module\.', '', k))
        for k in state
    }
    wanted = set(model.backbone.state_dict())
    missing = sorted(wanted - names)
    if missing:
        raise KeyError(
            f'{checkpoint} lacks {len(missing)} of the {len(wanted)} backbone '
            f'weights of this config (e.g. {missing[:3]}); is it a '
            'checkpoint of this config?')
    return len(wanted)


# ------------------------------------------------------------------- data
def build_crop_dataset(data_root: str,
                       ann_file: str,
                       data_prefix: str,
                       img_size: int,
                       min_box_size: float,
                       classes=None):
    """Object crops of a COCO-format file, resized to squares, packed."""
    from hclmm.datasets import ObjectCropDataset
    pipeline = [
        dict(type='LoadSceneImage'),
        dict(type='CropObjectBox', context=0.1),
        dict(type='Resize', scale=(img_size, img_size), backend='pillow'),
        dict(type='PackInputs'),
    ]
    return ObjectCropDataset(
        data_root=data_root,
        ann_file=ann_file,
        data_prefix=dict(img=data_prefix),
        min_box_size=min_box_size,
        min_boxes=1,
        metainfo=None if classes is None else dict(classes=classes),
        pipeline=pipeline)


def _loader(dataset, batch_size, num_workers, shuffle=False):
    from mmengine.dataset import default_collate
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        collate_fn=default_collate)


def _labels(data_samples) -> torch.Tensor:
    return torch.cat([ds.gt_label.reshape(-1) for ds in data_samples])


# ------------------------------------------------------------------ model
def _pool(out) -> torch.Tensor:
    from hclmm.models.utils import global_vector
    return global_vector(out, index=-1)


def pixel_features(model: nn.Module) -> Callable:
    """``f(x)``: frozen backbone features of images ``x`` in [0, 1].

    The images go through the model's own data preprocessor (channel order
    and normalisation, differentiable) and its backbone; spatial maps are
    averaged.
    """

    def forward(x: torch.Tensor) -> torch.Tensor:
        data = model.data_preprocessor(
            dict(inputs=x * 255, data_samples=None), False)
        return _pool(model.backbone(data['inputs']))

    return forward


class LinearProbe(nn.Module):
    """Standardised features followed by a linear classifier.

    Args:
        feat_dim (int): Feature dimension.
        num_classes (int): Number of classes.
    """

    def __init__(self, feat_dim: int, num_classes: int) -> None:
        super().__init__()
        self.register_buffer('mean', torch.zeros(feat_dim))
        self.register_buffer('std', torch.ones(feat_dim))
        self.fc = nn.Linear(feat_dim, num_classes)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc((feats - self.mean) / self.std)


@torch.no_grad()
def extract(forward: Callable, loader, device, desc: str):
    """Features and labels of every crop of ``loader``."""
    from mmengine.utils import track_iter_progress
    feats, labels = [], []
    print(f'{desc}: {len(loader)} batches', file=sys.stderr, flush=True)
    for data in track_iter_progress((loader, len(loader)), file=sys.stderr):
        x = data['inputs'].to(device).float() / 255
        feats.append(forward(x).float().cpu())
        labels.append(_labels(data['data_samples']))
    return torch.cat(feats), torch.cat(labels)


def train_probe(feats: torch.Tensor,
                labels: torch.Tensor,
                num_classes: int,
                epochs: int = 100,
                lr: float = 0.1,
                batch_size: int = 256,
                seed: int = 0) -> LinearProbe:
    """Fit a :class:`LinearProbe` with SGD (momentum 0.9, cosine lr)."""
    gen = torch.Generator().manual_seed(seed)
    probe = LinearProbe(feats.shape[1], num_classes)
    probe.mean.copy_(feats.mean(0))
    probe.std.copy_(feats.std(0, unbiased=False).clamp_min(1e-6))
    optim = torch.optim.SGD(probe.parameters(), lr=lr, momentum=0.9)
    steps = epochs * max(1, -(-len(feats) // batch_size))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, steps)
    for _ in range(epochs):
        order = torch.randperm(len(feats), generator=gen)
        for start in range(0, len(feats), batch_size):
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(probe(feats[idx]), labels[idx])
            optim.zero_grad()
            loss.backward()
            optim.step()
            sched.step()
    return probe.eval()


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


def evaluate(classify: Callable,
             loader,
             budgets: List[float],
             steps: int,
             step_size: Optional[float],
             random_start: bool,
             device,
             seed: int = 0) -> Dict:
    """Clean accuracy and robust accuracy (%) for each budget."""
    from mmengine.utils import track_iter_progress
    gen = torch.Generator().manual_seed(seed)
    total, clean_ok = 0, 0
    robust_ok = [0] * len(budgets)
    print(f'PGD: {len(loader)} batches', file=sys.stderr, flush=True)
    for data in track_iter_progress((loader, len(loader)), file=sys.stderr):
        x = data['inputs'].to(device).float() / 255
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


# ------------------------------------------------------------------- main
def _parse_cfg_options(options):
    if not options:
        return None
    from mmengine.config import DictAction
    namespace = argparse.Namespace()
    DictAction(option_strings=[], dest='cfg')(None, namespace, options)
    return namespace.cfg


def _budget_text(eps: float) -> str:
    frac = Fraction(eps).limit_denominator(1000)
    return f'{frac.numerator}/{frac.denominator}' if \
        abs(float(frac) - eps) < 1e-9 and frac.denominator > 1 else f'{eps:g}'


def main(argv=None) -> Dict:
    args = parse_args(argv)
    import hclmm  # noqa: F401  (safe checkpoint loading; before mmengine)
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.manual_seed(args.seed)
    cfg = Config.fromfile(args.config)
    options = _parse_cfg_options(args.cfg_options)
    if options:
        cfg.merge_from_dict(options)
    img_size = args.img_size or cfg.get('view_size') or DEFAULT_IMG_SIZE
    min_box = args.min_box_size
    if min_box is None:
        dataset_cfg = (cfg.get('train_dataloader') or {}).get('dataset', {})
        min_box = dataset_cfg.get('min_box_size', 56)

    with DefaultScope.overwrite_default_scope('hclmm'):
        model = MODELS.build(cfg.model)
        num_loaded = load_backbone(model, args.checkpoint)
        print(
            f'loaded {num_loaded} backbone tensors from {args.checkpoint}',
            flush=True)
        model = model.to(args.device).eval().requires_grad_(False)
        forward = pixel_features(model)

        train_set = build_crop_dataset(args.data_root, args.ann_file,
                                       args.data_prefix, img_size, min_box)
        classes = train_set.metainfo['classes']
        if args.val_ann_file:
            val_prefix = args.data_prefix if args.val_data_prefix is None \
                else args.val_data_prefix
            val_set = build_crop_dataset(args.data_root, args.val_ann_file,
                                         val_prefix, img_size, min_box,
                                         classes)
            train_part = train_set
        else:
            # deterministic hold-out: every fifth crop
            indices = list(range(len(train_set)))
            val_set = torch.utils.data.Subset(train_set, indices[::5])
            train_part = torch.utils.data.Subset(train_set,
                                                 [i for i in indices if i % 5])
        if len(train_part) == 0 or len(val_set) == 0:
            raise ValueError(
                f'no crops to train or evaluate on ({len(train_part)} train, '
                f'{len(val_set)} val); check the files and --min-box-size')
        print(
            f'{len(train_part)} training and {len(val_set)} evaluation '
            f'crops of {len(classes)} classes, {img_size}x{img_size} px',
            flush=True)

        train_loader = _loader(train_part, args.batch_size, args.num_workers)
        val_loader = _loader(val_set, args.batch_size, args.num_workers)
        os.makedirs(args.out_dir, exist_ok=True)
        probe_file = osp.join(args.out_dir, 'probe.pth')
        if args.probe:
            state = torch.load(
                args.probe, map_location='cpu', weights_only=True)
            probe = LinearProbe(state['mean'].numel(), len(classes))
            probe.load_state_dict(state)
            probe.eval()
            train_acc = None
        else:
            feats, labels = extract(forward, train_loader, args.device,
                                    'features')
            probe = train_probe(
                feats,
                labels,
                len(classes),
                args.epochs,
                args.lr,
                seed=args.seed)
            with torch.no_grad():
                train_acc = 100.0 * float(
                    (probe(feats).argmax(1) == labels).float().mean())
            print(
                f'probe trained for {args.epochs} epochs: train accuracy '
                f'{train_acc:.2f}%',
                flush=True)
        probe = probe.to(args.device).requires_grad_(False)
        torch.save(probe.state_dict(), probe_file)

        def classify(x):
            return probe(forward(x))

        result = evaluate(classify, val_loader, args.eps, args.steps,
                          args.step_size, not args.no_random_start,
                          args.device, args.seed)

    attacks = [
        dict(
            eps=eps,
            eps_text=_budget_text(eps),
            steps=args.steps,
            step_size=2.5 * eps /
            args.steps if args.step_size is None else args.step_size,
            random_start=not args.no_random_start,
            robust_acc=acc) for eps, acc in zip(args.eps, result['robust_acc'])
    ]
    report = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        img_size=img_size,
        num_classes=len(classes),
        num_train=len(train_part),
        num_val=result['num_samples'],
        probe=dict(
            file=probe_file,
            loaded_from=args.probe,
            epochs=None if args.probe else args.epochs,
            lr=None if args.probe else args.lr,
            train_acc=train_acc),
        clean_acc=result['clean_acc'],
        robust_acc=attacks[0]['robust_acc'],
        attacks=attacks)
    json_file = osp.join(args.out_dir, 'robustness.json')
    with open(json_file, 'w') as f:
        json.dump(report, f, indent=2)

    print(f'robustness of {osp.basename(args.checkpoint)} '
          f'({report["num_val"]} crops, L-inf PGD, {args.steps} steps):')
    print(f'  {"clean accuracy":<24} {report["clean_acc"]:6.2f}%')
    for attack in attacks:
        name = f'robust @ eps {attack["eps_text"]}'
        print(f'  {name:<24} {attack["robust_acc"]:6.2f}%')
    print(f'written:\n  {json_file}\n  {probe_file}', flush=True)
    return report


if __name__ == '__main__':
    main()
