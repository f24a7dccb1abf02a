"""HCL on MoCo v2 against mmpretrain's MoCo v2: cost of one training step.

The models share the backbone, neck, batch and image size; the inputs are
the same four views (object, object, scene, object). Each step is counted in
forward-pass units (a backward counts as two forwards):

* MoCo v2:        online forward (1) + its backward (2) + key forward (1) = 4
* HCL paper loss: MoCo v2's 4 + scene forward (1) + its backward (2) +
                  object key forward (1) = 8
* HCL (recipe):   the paper loss's 8 + the object view in the online pass
                  (forward 1 + backward 2) = 11

so the paper loss may cost 8/4 = 2.0x MoCo v2 and the recipe 11/4 = 2.75x;
the bar is a measured ratio of at most 1.1x the unit ratio for both. The
models are timed alternately in one run.

``--amp`` trains through hclmm's ``MixedPrecisionOptimWrapper`` (bfloat16
autocast without a loss scaler on GPUs that have it and on the CPU, float16
with a scaler on other GPUs); ``--channels-last`` builds the models with
``channels_last=True``. ``--fast-vs-plain`` times instead the HCL recipe
plain (float32, channels-first) against fast (``--amp`` and
``--channels-last``) side by side; the GPU bar is a speed-up of >= 1.6.

Usage:
    python benchmarks/bench_train_step.py [--depth 18] [--batch 32] [--size 96]
        [--steps 10] [--device cpu|cuda] [--amp] [--channels-last]
        [--fast-vs-plain]
"""
import argparse
import os.path as osp
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from hclmm.engine.optimizers import MixedPrecisionOptimWrapper
from hclmm.registry import MODELS
from hclmm.utils import register_all_modules

UNITS = {'mocov2': 4, 'hcl-paper-loss': 8, 'hcl-recipe': 11}


def model_cfg(depth, hyp, queue_len, channels_last=False):
    """``hyp``: None (MoCo v2), 'paper' or 'recipe'. MoCo v2 is hclmm's
    baseline twin (mmpretrain's MoCo with the same options) when
    ``channels_last`` is asked for, mmpretrain's MoCo otherwise."""
    width = 512 if depth < 50 else 2048
    cfg = dict(
        type='HCLMoCo' if hyp or channels_last else 'mmpretrain.MoCo',
        queue_len=queue_len,
        feat_dim=128,
        momentum=0.001,
        data_preprocessor=dict(
            type='SelfSupDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True),
        backbone=dict(type='ResNet', depth=depth),
        neck=dict(
            type='MoCoV2Neck',
            in_channels=width,
            hid_channels=width,
            out_channels=128,
            with_avg_pool=True),
        head=dict(
            type='ContrastiveHead',
            loss=dict(type='CrossEntropyLoss'),
            temperature=0.2))
    if channels_last:
        cfg['channels_last'] = True
    if hyp:
        # the recipe from its config (configs/_base_/models/hcl_head.py)
        recipe = Config.fromfile(
            osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                     'configs', '_base_', 'models', 'hcl_head.py')).hyp_head
        recipe.pop('_delete_')
        cfg['hyp_head'] = dict(recipe, queue_len=queue_len, feat_dim=128)
        if hyp == 'paper':
            cfg['hyp_head'].update(
                online_pair=False,
                pair_losses={},
                embedder=dict(type='HyperbolicEmbedder', scale_norm=None,
                              manifold=dict(type='PoincareBall', c=0.05)))
    return cfg


def make_step(model, data, amp, device):
    """One training step through the optimiser wrapper that ``--amp``
    selects (the wrapper's ``optim_context`` does the autocast)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    if amp:
        # 'auto' on a GPU; the CPU's autocast is bfloat16
        wrapper = MixedPrecisionOptimWrapper(
            optimizer=opt, dtype='auto' if device == 'cuda' else 'bfloat16')
    else:
        wrapper = OptimWrapper(opt)

    def step():
        model.train_step(data, wrapper)
        if device == 'cuda':
            torch.cuda.synchronize()

    step.precision = getattr(wrapper, 'amp_dtype', 'float32')
    return step


def time_steps(steps, warmup, repeats):
    """Median seconds per step of each callable, timed alternately."""
    times = {name: [] for name in steps}
    for i in range(warmup + repeats):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            if i >= warmup:
                times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def fast_vs_plain(args, data):
    """The HCL recipe in float32 channels-first against bfloat16 (or
    float16) autocast with channels-last weights and inputs."""
    steps = {}
    for name, fast in (('plain', False), ('fast', True)):
        model = MODELS.build(
            model_cfg(args.depth, 'recipe', args.queue_len,
                      channels_last=fast))
        model.to(args.device).train()
        steps[name] = make_step(model, data, fast, args.device)
    med = time_steps(steps, args.warmup, args.steps)
    print(f'HCL recipe, ResNet-{args.depth}, batch {args.batch}, '
          f'{args.size}px views, queue {args.queue_len}, device '
          f'{args.device}, median of {args.steps} steps')
    for name, sec in med.items():
        layout = 'channels-last' if name == 'fast' else 'channels-first'
        print(f'{name:<6} {steps[name].precision:>9} {layout:<15} '
              f'{sec:8.3f} s/step')
    speedup = med['plain'] / med['fast']
    print(f'speed-up fast / plain: {speedup:.2f} (GPU bar: >= 1.6)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--size', type=int, default=96)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--queue-len', type=int, default=4096)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision through MixedPrecisionOptimWrapper')
    parser.add_argument('--channels-last', action='store_true',
                        help='models built with channels_last=True')
    parser.add_argument(
        '--fast-vs-plain', action='store_true',
        help='time the HCL recipe plain vs --amp --channels-last')
    args = parser.parse_args()

    register_all_modules()
    torch.manual_seed(0)
    views = [
        torch.randint(0, 256, (args.batch, 3, args.size, args.size),
                      dtype=torch.uint8) for _ in range(4)
    ]
    data = dict(
        inputs=views, data_samples=[DataSample() for _ in range(args.batch)])
    if args.fast_vs_plain:
        fast_vs_plain(args, data)
        return
    steps = {}
    for name, hyp in (('mocov2', None), ('hcl-paper-loss', 'paper'),
                      ('hcl-recipe', 'recipe')):
        model = MODELS.build(
            model_cfg(args.depth, hyp, args.queue_len, args.channels_last))
        model.to(args.device).train()
        steps[name] = make_step(model, data, args.amp, args.device)
    med = time_steps(steps, args.warmup, args.steps)
    precision = steps['mocov2'].precision
    print(f'ResNet-{args.depth}, batch {args.batch}, {args.size}px views, '
          f'queue {args.queue_len}, device {args.device}, '
          f'{precision if args.amp else "fp32"}'
          f'{", channels-last" if args.channels_last else ""}, median of '
          f'{args.steps} steps')
    print(f'{"model":<15} {"units":>5} {"s/step":>8} {"ratio":>6} '
          f'{"unit ratio":>10} {"normalised":>10}')
    ok = True
    for name, sec in med.items():
        ratio = sec / med['mocov2']
        units = UNITS[name] / UNITS['mocov2']
        ok &= ratio <= 1.1 * units
        print(f'{name:<15} {UNITS[name]:>5} {sec:>8.3f} {ratio:>6.3f} '
              f'{units:>10.2f} {ratio / units:>10.3f}')
    print(f'recipe / paper loss: {med["hcl-recipe"] / med["hcl-paper-loss"]:.3f}'
          f' (units {UNITS["hcl-recipe"] / UNITS["hcl-paper-loss"]:.3f})')
    print(f'bar: every normalised ratio <= 1.10 -> {"PASS" if ok else "FAIL"}')


if __name__ == '__main__':
    main()
