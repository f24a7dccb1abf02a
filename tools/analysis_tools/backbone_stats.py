"""Weight and activation scale of ResNet backbones, side by side.

A pretrained backbone can differ from a random one in scale as well as in
what it represents: larger or smaller weights, BatchNorm scales (gamma) far
from 1, residual branches that no longer start at zero, running statistics
from other images. Any of these changes how fine-tuning moves it. This tool
prints, per stage, for every backbone given:

- ``w rms``: root mean square of the convolution weights;
- ``gamma``: mean |gamma| of the BatchNorms, and of the last BatchNorm of
  each residual block (``res gamma``, zero in a random ResNet with
  ``zero_init_residual``);
- ``run var``: mean running variance of the BatchNorms;
- ``act rms``: root mean square of the stage's output on ``--images``
  (train-mode BatchNorm, the statistics of the batch, as in fine-tuning);
- ``moved`` (with ``--init-config``): ``|W - W0| / |W0|`` of the stage's
  convolutions, from the weights the pretraining run started from (rebuilt
  from its config and seed; two independent initialisations give about
  1.4).

Example (the suite's extracted backbones and a random ResNet-18)::

    python tools/analysis_tools/backbone_stats.py \\
        --backbone moco=work_dirs/transfer/backbones/moco.pth random \\
        --images data/toy_scenes/images/train --out stats.md \\
        --init-config configs/hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py
"""
import argparse
import glob
import os.path as osp

import numpy as np
import torch

STAGES = ('stem', 'layer1', 'layer2', 'layer3', 'layer4')


def build_backbone(depth, path, seed):
    """mmpretrain's ResNet (the toy configs' backbone), random or loaded
    from an extracted backbone file (``backbone.`` keys are stripped)."""
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(seed)
    model = ResNet(depth=depth)
    model.init_weights()
    if path is not None:
        from hclmm.utils import safe_torch_load
        state = safe_torch_load(path)
        state = state.get('state_dict', state)
        if any(k.startswith('backbone.') for k in state):
            state = {k[len('backbone.'):]: v for k, v in state.items()
                     if k.startswith('backbone.')}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing:
            raise SystemExit(f'{path}: {len(missing)} backbone tensors '
                             f'missing, e.g. {missing[0]}')
    return model


def initial_backbone(config):
    """The backbone a pretraining run of ``config`` started from: its
    model built and initialised after seeding with the config's
    ``randomness``, as mmengine's Runner does before the first step."""
    from mmengine.config import Config
    from mmengine.runner import set_random_seed

    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    randomness = cfg.get('randomness') or {}
    if randomness.get('seed') is None:
        raise SystemExit(f'--init-config {config}: no randomness.seed, so '
                         'the initial weights cannot be rebuilt')
    set_random_seed(randomness['seed'],
                    deterministic=randomness.get('deterministic', False))
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.backbone


def weight_change(model, start):
    """Per stage, ``|W - W0| / |W0|`` over the convolution weights."""
    init = start.state_dict()
    sums = {}
    for name, value in model.state_dict().items():
        if not name.endswith('weight') or value.dim() != 4:
            continue
        d, n = sums.get(stage_of(name), (0.0, 0.0))
        sums[stage_of(name)] = (d + (value - init[name]).pow(2).sum().item(),
                                n + init[name].pow(2).sum().item())
    return {s: (d / n)**0.5 for s, (d, n) in sums.items()}


def stage_of(name):
    top = name.split('.')[0]
    return top if top in STAGES else 'stem'


def weight_stats(model):
    rows = {s: dict(w=[], gamma=[], res_gamma=[], var=[]) for s in STAGES}
    last_bn = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            rows[stage_of(name)]['w'].append(
                module.weight.detach().pow(2).mean().item())
        elif isinstance(module, torch.nn.BatchNorm2d):
            row = rows[stage_of(name)]
            row['gamma'].append(module.weight.detach().abs().mean().item())
            row['var'].append(module.running_var.mean().item())
            block = name.rsplit('.', 1)[0]
            if name.startswith('layer') and 'downsample' not in name:
                last_bn[block] = module
    for name, module in last_bn.items():
        rows[stage_of(name)]['res_gamma'].append(
            module.weight.detach().abs().mean().item())
    return {
        s: dict(w_rms=float(np.sqrt(np.mean(r['w']))) if r['w'] else None,
                gamma=float(np.mean(r['gamma'])) if r['gamma'] else None,
                res_gamma=float(np.mean(r['res_gamma']))
                if r['res_gamma'] else None,
                run_var=float(np.mean(r['var'])) if r['var'] else None)
        for s, r in rows.items()
    }


def load_images(folder, num, size):
    import mmcv
    files = sorted(glob.glob(osp.join(folder, '*')))[:num]
    if not files:
        raise SystemExit(f'--images {folder}: no images')
    mean = np.array([123.675, 116.28, 103.53], dtype=np.float32)
    std = np.array([58.395, 57.12, 57.375], dtype=np.float32)
    imgs = [(mmcv.imresize(mmcv.imread(f, channel_order='rgb'),
                           (size, size)) - mean) / std for f in files]
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float()


def activation_rms(model, images):
    model.train()  # batch statistics, as when fine-tuning
    outs = {}
    x = images
    with torch.no_grad():
        x = model.maxpool(model.relu(model.norm1(model.conv1(x))))
        outs['stem'] = x.pow(2).mean().sqrt().item()
        for i, name in enumerate(model.res_layers):
            x = getattr(model, name)(x)
            outs[STAGES[i + 1]] = x.pow(2).mean().sqrt().item()
    return outs


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--backbone', nargs='+', required=True,
                        help='NAME=FILE (an extracted backbone or a '
                        'pretraining checkpoint) or "random"')
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--images', help='folder of images for act rms')
    parser.add_argument('--num-images', type=int, default=32)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--init-config',
        help='the pretraining config of the backbones: adds "moved", '
        '|W - W0| / |W0| of each stage from the weights that run started '
        'from (rebuilt from the config and its seed)')
    parser.add_argument('--out', help='also write the table here')
    args = parser.parse_args(argv)
    images = load_images(args.images, args.num_images, args.size) \
        if args.images else None
    start = initial_backbone(args.init_config) if args.init_config \
        else None
    extra = (['act rms'] if images is not None else []) + (
        ['moved'] if start is not None else [])
    lines = ['| backbone | stage | w rms | gamma | res gamma | run var |' +
             ''.join(f' {e} |' for e in extra),
             '|---|---|---|---|---|---|' + '---|' * len(extra)]
    for spec in args.backbone:
        name, _, path = spec.partition('=')
        model = build_backbone(args.depth, path or None, args.seed)
        stats = weight_stats(model)
        acts = activation_rms(model, images) if images is not None else {}
        moved = weight_change(model, start) if start is not None and path \
            else {}
        for stage in STAGES:
            s = stats[stage]
            cells = [name, stage] + [
                '–' if s[k] is None else f'{s[k]:.3g}'
                for k in ('w_rms', 'gamma', 'res_gamma', 'run_var')]
            if images is not None:
                cells.append(f'{acts[stage]:.3g}')
            if start is not None:
                cells.append(f'{moved[stage]:.3f}' if moved else '–')
            lines.append('| ' + ' | '.join(cells) + ' |')
    table = '\n'.join(lines) + '\n'
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
