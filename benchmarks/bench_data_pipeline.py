"""Throughput of the scene-object pipeline vs mmpretrain's MoCo v2 pipeline.

Both pipelines read the same images through the same dataset class, in the
same run, alternating between them, with ColorJitter's ``pillow`` backend
(mmpretrain's default, used by its MoCo v2 config; ``--color-backend``
chooses ``cv2`` or both):

- ``mocov2``: ``LoadImageFromFile`` -> ``MultiView`` (2 MoCo v2 views,
  224 px) -> ``PackInputs``;
- ``scene-object``: ``LoadSceneImage`` -> ``SceneObjectViews`` (2 MoCo v2
  object views, plus the scene view and the hyperbolic object view resized
  to 224 px with colour jitter, blur and flip) -> ``PackInputs``.

Two measures are printed for each, side by side with the ratio
scene-object / mocov2:

1. samples per CPU-second of the pipeline run in-process with one thread
   (``time.process_time``; what decides throughput with N workers on N
   cores, and insensitive to other load on the machine);
2. through a DataLoader with ``--workers`` worker processes, after a
   warm-up that drains what the workers prefetched: samples per second
   (wall clock, sensitive to other load) and samples per CPU-second of the
   worker processes (read from ``/proc``; includes collation and the
   transfer to the main process).

Without ``--data`` a toy scene set at a realistic image size (512 px JPEG,
objects of 64-224 px) is generated into a temporary folder first.

Example::

    python benchmarks/bench_data_pipeline.py [--workers 4] [--color-backend both]
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def color_jitter(backend):
    return dict(type='RandomApply', prob=0.8, transforms=[
        dict(type='ColorJitter', brightness=0.4, contrast=0.4,
             saturation=0.4, hue=0.1, backend=backend, hue_backend='cv2')
    ])


def moco_view_pipeline(size, backend):
    return [
        dict(type='RandomResizedCrop', scale=size, crop_ratio_range=(0.2, 1.),
             backend='pillow'),
        color_jitter(backend),
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.2989)),
        dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
             magnitude_std='inf', prob=0.5, backend='cv2'),
        dict(type='RandomFlip', prob=0.5),
    ]


def scene_view_pipeline(size, backend):
    return [
        dict(type='Resize', scale=(size, size), keep_ratio=False),
        color_jitter(backend),
        dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
             magnitude_std='inf', prob=0.5, backend='cv2'),
        dict(type='RandomFlip', prob=0.5),
    ]


def pipelines(size, backends=('pillow', 'cv2')):
    """``{(name, colour backend): pipeline}``."""
    out = {}
    for b in backends:
        out[('mocov2', b)] = [
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=2,
                 transforms=[moco_view_pipeline(size, b)]),
            dict(type='PackInputs'),
        ]
        out[('scene-object', b)] = [
            dict(type='LoadSceneImage'),
            dict(type='SceneObjectViews',
                 object_view_pipeline=moco_view_pipeline(size, b),
                 scene_view_pipeline=scene_view_pipeline(size, b)),
            dict(type='PackInputs',
                 meta_keys=('img_id', 'object_bbox', 'scene_bbox',
                            'object_label', 'num_objects', 'scene_type')),
        ]
    return out


def build_loader(data_root, split, pipeline, batch_size, workers, seed):
    return Runner.build_dataloader(
        dict(
            batch_size=batch_size,
            num_workers=workers,
            persistent_workers=False,
            sampler=dict(type='InfiniteSampler', shuffle=True, seed=seed),
            collate_fn=dict(type='default_collate'),
            dataset=dict(
                type='SceneObjectCocoDataset',
                data_root=data_root,
                ann_file=f'annotations/{split}.json',
                data_prefix=dict(img=f'images/{split}'),
                min_box_size=56,
                pipeline=pipeline)),
        seed=seed)



def worker_cpu_seconds(batch_iter):
    """CPU seconds (user + system) used so far by a DataLoader iterator's
    worker processes, from ``/proc``; None where that is not readable."""
    total = 0.0
    tick = os.sysconf('SC_CLK_TCK')
    for worker in getattr(batch_iter, '_workers', []):
        try:
            with open(f'/proc/{worker.pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measure_loader(batch_iter, batches):
    """Samples per second (wall) and per worker CPU-second over ``batches``
    batches of a warmed-up iterator."""
    cpu0, n, start = worker_cpu_seconds(batch_iter), 0, time.perf_counter()
    for _ in range(batches):
        batch = next(batch_iter)
        n += len(batch['data_samples'])
    wall = time.perf_counter() - start
    cpu1 = worker_cpu_seconds(batch_iter)
    per_cpu = n / (cpu1 - cpu0) if cpu0 is not None and cpu1 > cpu0 else None
    return n / wall, per_cpu, batch


def measure_cpu(dataset, samples, seed):
    """Samples per CPU-second of ``dataset[i]`` in this process."""
    np.random.seed(seed)
    n = len(dataset)
    start = time.process_time()
    for i in range(samples):
        dataset[(seed * 7919 + i * 31) % n]
    return samples / (time.process_time() - start)


def report(label, rates, backends):
    """Print medians side by side with the ratios; return them."""
    med = {k: statistics.median(v) for k, v in rates.items()
           if v and None not in v}
    if not med:
        return None
    print(f'median {label}:')
    for (name, b), v in med.items():
        print(f'  {name:13s} ColorJitter backend={b:6s} {v:7.1f}')
    pairs = [(b, b) for b in backends]
    if len(backends) == 2:
        pairs.append(('cv2', 'pillow'))
    ratios = {(ours, stock): med[('scene-object', ours)] /
              med[('mocov2', stock)] for ours, stock in pairs
              if ('scene-object', ours) in med and ('mocov2', stock) in med}
    for (ours, stock), v in ratios.items():
        print(f'  ratio scene-object (ColorJitter {ours}) / mocov2 '
              f'(ColorJitter {stock}) = {v:.2f}  (target >= 0.7)')
    return dict(median=med, ratios=ratios)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', default=None,
                        help='a toy-scene-format root (default: generate)')
    parser.add_argument('--split', default='train')
    parser.add_argument('--num-images', type=int, default=256,
                        help='images to generate when --data is not given')
    parser.add_argument('--img-size', type=int, default=512,
                        help='generated image size (objects scale with it)')
    parser.add_argument('--view-size', type=int, default=224)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--cpu-samples', type=int, default=64,
                        help='samples per repeat for the CPU-time measure')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--workers', type=int, default=1,
                        help='DataLoader worker processes; 0 skips the '
                        'DataLoader measure')
    parser.add_argument('--batches', type=int, default=None,
                        help='timed DataLoader batches per repeat '
                        '(default: max(10, 8 x workers))')
    parser.add_argument('--warmup-batches', type=int, default=None,
                        help='DataLoader batches drawn once after the '
                        'workers start (default: 2 x workers + 2)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--color-backend', choices=('pillow', 'cv2', 'both'),
        default='pillow',
        help='ColorJitter backend of both pipelines (pillow is the default '
        'of mmpretrain and of its MoCo v2 config)')
    args = parser.parse_args(argv)
    batches = args.batches or max(10, 8 * args.workers)
    warmup = args.warmup_batches if args.warmup_batches is not None else \
        2 * args.workers + 2  # DataLoader's default prefetch_factor is 2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    init_default_scope('hclmm')
    tmp = None
    data_root = args.data
    if data_root is None:
        sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
        from make_toy_scenes import make_toy_scenes
        tmp = tempfile.TemporaryDirectory()
        data_root = tmp.name
        print(f'generating {args.num_images} toy scenes of {args.img_size} px '
              f'into {data_root} ...', flush=True)
        make_toy_scenes(data_root, num_train=args.num_images, num_val=0,
                        seed=args.seed, img_size=args.img_size,
                        img_format='jpg')

    backends = ('pillow', 'cv2') if args.color_backend == 'both' else \
        (args.color_backend, )
    pipes = pipelines(args.view_size, backends)
    loaders = {
        key: build_loader(data_root, args.split, p, args.batch_size,
                          args.workers, args.seed)
        for key, p in pipes.items()
    }
    first = next(iter(loaders.values()))
    print(f'{len(first.dataset)} images, views {args.view_size} px',
          flush=True)

    # 1. CPU time per sample in this process (one thread), after a few
    # untimed samples per pipeline.
    print(f'CPU time: {args.cpu_samples} samples x {args.repeats} repeats '
          'in-process, one thread', flush=True)
    for loader in loaders.values():
        measure_cpu(loader.dataset, 4, args.seed + 1000)
    cpu = {key: [] for key in loaders}
    for r in range(args.repeats):
        for key, loader in loaders.items():
            cpu[key].append(measure_cpu(loader.dataset, args.cpu_samples,
                                        args.seed + r))
            print(f'  repeat {r + 1}: {key[0]:13s} ColorJitter '
                  f'backend={key[1]:6s} {cpu[key][-1]:6.1f} samples per '
                  f'CPU-second ({1000 / cpu[key][-1]:5.1f} ms)', flush=True)
    results = dict(cpu=report('samples per CPU-second, in-process', cpu,
                              backends))

    # 2. DataLoader: one iterator per pipeline for the whole run
    # (InfiniteSampler); worker start-up and prefetched batches not timed.
    if args.workers > 0:
        print(f'DataLoader: batch {args.batch_size}, {args.workers} '
              f'worker(s), {warmup} warm-up + {batches} timed batches x '
              f'{args.repeats} repeats', flush=True)
        iters = {key: iter(loader) for key, loader in loaders.items()}
        for it in iters.values():
            for _ in range(warmup):
                next(it)
        wall = {key: [] for key in loaders}
        worker_cpu = {key: [] for key in loaders}
        for r in range(args.repeats):
            for key, it in iters.items():
                # drop what the workers prefetched while the other
                # pipelines were timed (prefetch_factor 2 per worker)
                for _ in range(2 * args.workers):
                    next(it)
                rate, per_cpu, batch = measure_loader(it, batches)
                wall[key].append(rate)
                worker_cpu[key].append(per_cpu)
                cpu_text = 'n/a' if per_cpu is None else f'{per_cpu:6.1f}'
                print(f'  repeat {r + 1}: {key[0]:13s} ColorJitter '
                      f'backend={key[1]:6s} {rate:6.1f} samples/s, '
                      f'{cpu_text} samples per worker CPU-second, '
                      f'{len(batch["inputs"])} views of '
                      f'{tuple(batch["inputs"][0].shape[1:])}', flush=True)
        del iters
        name = f'DataLoader, {args.workers} worker(s)'
        results['wall'] = report(f'{name}, samples/s', wall, backends)
        results['worker_cpu'] = report(
            f'{name}, samples per worker CPU-second', worker_cpu, backends)
    if tmp is not None:
        tmp.cleanup()
    return results


if __name__ == '__main__':
    main()
