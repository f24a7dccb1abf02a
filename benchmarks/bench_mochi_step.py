"""MoCHi (hard negative mixing) against plain MoCo v2: cost of one training
step, and of the contrastive head alone at ImageNet scale.

Training steps (timed alternately in one run, same backbone, neck, batch,
views and queue):

* ``mocov2``:     mmpretrain's MoCo with its ContrastiveHead;
* ``mochi``:      hclmm's MoCHi algorithm and MoCHiHead with
                  MoCHi(N, s, s') mixing on;
* ``hyp-mocov2`` / ``hyp-mochi``: the same with the hyperbolic head
                  (Poincare ball, mixing in the tangent space at the origin).

Mixing adds a top-N selection over the queue logits, a gather of N hard
keys per query and B x (s + s') x D mixtures and dot products, so its
share of a step shrinks with the encoder's cost. The head-only table times
forward + backward of the head on B x D queries against a K-entry queue
(defaults: the ImageNet recipe, B = 256, K = 65,536, D = 128, MoCHi(1024,
512, 256)).

Usage:
    python benchmarks/bench_mochi_step.py [--depth 18] [--batch 32]
        [--size 64] [--queue-len 4096] [--num-hard 256] [--num-mix 128]
        [--num-query-mix 64] [--steps 10] [--device cpu|cuda]
        [--head-batch 256] [--head-queue 65536] [--skip-steps]
"""
import argparse
import copy

import torch
from bench_train_step import make_step, model_cfg, time_steps
from mmpretrain.structures import DataSample

from hclmm.registry import MODELS
from hclmm.utils import register_all_modules

HYP_HEAD = dict(
    type='HyperbolicContrastiveHead',
    manifold=dict(type='PoincareBall', c=0.1),
    clip_r=4.6,
    loss=dict(type='HyperbolicInfoNCELoss', temperature=0.2))


def mixing_cfg(args, head_scale=False):
    if head_scale:
        return dict(type='HardNegativeMixing', num_hard=1024, num_mix=512,
                    num_query_mix=256)
    return dict(type='HardNegativeMixing', num_hard=args.num_hard,
                num_mix=args.num_mix, num_query_mix=args.num_query_mix)


def heads(args, head_scale=False):
    """The four heads: Euclidean and hyperbolic, without and with mixing."""
    mixing = mixing_cfg(args, head_scale)
    return {
        'mocov2': dict(type='MoCHiHead', temperature=0.2),
        'mochi': dict(type='MoCHiHead', temperature=0.2, mixing=mixing),
        'hyp-mocov2': HYP_HEAD,
        'hyp-mochi': dict(HYP_HEAD, mixing=mixing),
    }


def print_table(title, med):
    print(title)
    print(f'{"model":<12} {"s/step":>9}')
    for name, sec in med.items():
        print(f'{name:<12} {sec:>9.4f}')
    print(f'ratio mochi / mocov2:         {med["mochi"] / med["mocov2"]:.3f}')
    print(f'ratio hyp-mochi / hyp-mocov2: '
          f'{med["hyp-mochi"] / med["hyp-mocov2"]:.3f}')


def train_steps(args):
    views = [
        torch.randint(0, 256, (args.batch, 3, args.size, args.size),
                      dtype=torch.uint8) for _ in range(2)
    ]
    data = dict(
        inputs=views, data_samples=[DataSample() for _ in range(args.batch)])
    base = model_cfg(args.depth, None, args.queue_len)
    steps = {}
    for name, head in heads(args).items():
        cfg = copy.deepcopy(base)
        if name != 'mocov2':
            # mmpretrain's MoCo for the plain Euclidean row, hclmm's MoCHi
            # (projections to the head) for the others
            cfg.update(type='MoCHi', head=head)
        model = MODELS.build(cfg).to(args.device).train()
        steps[name] = make_step(model, data, False, args.device)
    med = time_steps(steps, args.warmup, args.steps)
    print_table(
        f'training step: ResNet-{args.depth}, batch {args.batch}, '
        f'{args.size}px views, queue {args.queue_len}, MoCHi('
        f'{args.num_hard}, {args.num_mix}, {args.num_query_mix}), device '
        f'{args.device}, median of {args.steps} steps', med)


def head_steps(args):
    g = torch.Generator().manual_seed(0)
    b, k, d = args.head_batch, args.head_queue, 128
    q = torch.randn(b, d, generator=g).to(args.device).requires_grad_()
    key = torch.randn(b, d, generator=g).to(args.device)
    queue = torch.randn(k, d, generator=g).to(args.device)
    steps = {}
    for name, cfg in heads(args, head_scale=True).items():
        head = MODELS.build(cfg).to(args.device).train()

        def step(head=head):
            head.loss(q, key, queue=queue)['loss'].backward()
            if args.device == 'cuda':
                torch.cuda.synchronize()

        steps[name] = step
    med = time_steps(steps, args.warmup, args.steps)
    print_table(
        f'head only (forward + backward): B {b}, queue {k}, D {d}, '
        f'MoCHi(1024, 512, 256), device {args.device}, median of '
        f'{args.steps} steps', med)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--depth', type=int, default=18)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--queue-len', type=int, default=4096)
    parser.add_argument('--num-hard', type=int, default=256)
    parser.add_argument('--num-mix', type=int, default=128)
    parser.add_argument('--num-query-mix', type=int, default=64)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--head-batch', type=int, default=256)
    parser.add_argument('--head-queue', type=int, default=65536)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--skip-steps', action='store_true',
                        help='time only the heads')
    args = parser.parse_args()
    register_all_modules()
    torch.manual_seed(0)
    if not args.skip_steps:
        train_steps(args)
    head_steps(args)


if __name__ == '__main__':
    main()
