"""End-to-end training throughput: the CPU view path against the GPU one.

A real mmengine Runner trains the flagship HCL-MoCo v2 config for
``--warmup + --iters`` iterations on generated toy scenes (512 px JPEG,
objects of 64-224 px), once with the CPU view path
(``hcl-mocov2_resnet50_8xb16-coslr-200e_coco.py``: workers decode, crop and
augment) and once with the GPU view path (its ``_gpu-views`` twin: workers
read bytes and sample parameters, the data preprocessor decodes and makes
the views on the model's device). For each path it prints:

* samples/s over the timed iterations (after the warm-up);
* the share of that time spent waiting for the dataloader (from the end of
  one iteration to the start of the next);
* the share spent in the data preprocessor (decoding and view making on the
  GPU path; channel order and normalisation on the CPU path);
* the model-only ceiling: the same model and optimiser trained on
  synthetic, already collated views on the device, in the same run, and
  the ratio of the path's samples/s to it;
* the dataloader workers' cost: samples per CPU-second of the dataset
  pipeline run in this process with one thread (what bounds the loader:
  N workers on N free cores deliver at most N times this).

Examples::

    # small, on the CPU (ResNet-18, 64 px views, batch 8, 2 workers)
    python benchmarks/bench_end_to_end.py --device cpu
    # the flagship setting on one GPU
    python benchmarks/bench_end_to_end.py --device cuda \\
        --depth 50 --view-size 224 --batch-size 128 --workers 16
"""
import argparse
import os.path as osp
import statistics
import tempfile
import time

import cv2
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from toy_jpeg_scenes import toy_jpeg_scenes

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    'cpu-views': 'configs/hcl/hcl-mocov2_resnet50_8xb16-coslr-200e_coco.py',
    'gpu-views':
    'configs/hcl/hcl-mocov2_resnet50_8xb16-coslr-200e_coco_gpu-views.py',
}
SMALL = dict(depth=18, view_size=64, batch_size=8, workers=2, iters=4,
             warmup=2, num_images=64)
LARGE = dict(depth=50, view_size=224, batch_size=128, workers=16, iters=30,
             warmup=10, num_images=1024)


class StepTimer(Hook):
    """Wall-clock marks around every training iteration and around the data
    preprocessor; the device is synchronised at each mark."""

    priority = 'VERY_LOW'

    def __init__(self, device: str) -> None:
        self.device = device
        self.begin, self.end, self.pre = [], [], []

    def sync(self) -> float:
        if self.device == 'cuda':
            torch.cuda.synchronize()
        return time.perf_counter()

    def before_train(self, runner) -> None:
        pre = runner.model.data_preprocessor
        original = pre.forward

        def timed(*args, **kwargs):
            start = self.sync()
            out = original(*args, **kwargs)
            self.pre.append(self.sync() - start)
            return out

        pre.forward = timed

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.begin.append(self.sync())

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.end.append(self.sync())

    def summary(self, warmup: int, batch_size: int) -> dict:
        """Rates over the iterations after ``warmup``."""
        total = self.end[-1] - self.end[warmup - 1]
        waits = [self.begin[i] - self.end[i - 1]
                 for i in range(warmup, len(self.end))]
        n = len(self.end) - warmup
        return dict(samples_per_s=n * batch_size / total,
                    data_wait=sum(waits) / total,
                    preprocess=sum(self.pre[warmup:]) / total)


def build_cfg(path: str, args, data_root: str, work_dir: str) -> Config:
    cfg = Config.fromfile(osp.join(REPO, path))
    width = 512 if args.depth < 50 else 2048
    cfg.model.backbone.depth = args.depth
    cfg.model.neck.update(in_channels=width, hid_channels=width)
    pipeline = cfg.train_dataloader.dataset.pipeline
    views = next(t for t in pipeline if 'object_view_pipeline' in t)
    views.object_view_pipeline[0].scale = args.view_size
    views.scene_view_pipeline[0].scale = (args.view_size, args.view_size)
    cfg.train_dataloader.update(
        batch_size=args.batch_size, num_workers=args.workers,
        persistent_workers=args.workers > 0,
        sampler=dict(type='InfiniteSampler', shuffle=True))
    cfg.train_dataloader.dataset.update(
        data_root=data_root, ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/'))
    cfg.train_cfg = dict(type='IterBasedTrainLoop',
                         max_iters=args.warmup + args.iters)
    cfg.param_scheduler = []
    for split in ('val', 'test'):
        for part in ('dataloader', 'cfg', 'evaluator'):
            cfg[f'{split}_{part}'] = None
    cfg.custom_hooks = []
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=10**6, save_last=False)
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=[])
    cfg.env_cfg.cudnn_benchmark = args.device == 'cuda'
    if args.dtype is not None:
        cfg.optim_wrapper.dtype = args.dtype
    if args.channels_first:
        cfg.model.channels_last = False
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    return cfg


def model_ceiling(runner: Runner, args) -> float:
    """samples/s of training steps on synthetic views already on the
    device (collated uint8 views, as the CPU path delivers them)."""
    n, s = args.batch_size, args.view_size
    device = next(runner.model.parameters()).device
    batch = dict(
        inputs=[torch.randint(0, 256, (n, 3, s, s), dtype=torch.uint8,
                              device=device) for _ in range(4)],
        data_samples=[DataSample() for _ in range(n)])
    timer = StepTimer(args.device)
    for _ in range(args.warmup):
        runner.model.train_step(batch, runner.optim_wrapper)
    start = timer.sync()
    for _ in range(args.iters):
        runner.model.train_step(batch, runner.optim_wrapper)
    return args.iters * n / (timer.sync() - start)


def worker_rate(dataset, samples: int) -> float:
    """Samples per CPU-second of ``dataset[i]`` in this process, with one
    thread (as in a dataloader worker)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    start = time.process_time()
    for i in range(samples):
        dataset[(i * 31) % len(dataset)]
    rate = samples / (time.process_time() - start)
    torch.set_num_threads(threads)
    return rate


def data_side_only(name: str, cfg: Config, args) -> dict:
    """Worker cost, and the preprocessor's time per sample on the device,
    without training."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    from hclmm.registry import DATASETS, MODELS
    init_default_scope('hclmm')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    out = dict(worker_rate=worker_rate(dataset, args.worker_samples))
    if name == 'gpu-views':
        pre = MODELS.build(cfg.model.data_preprocessor).to(args.device)
        timer = StepTimer(args.device)
        times = []
        for b in range(args.warmup + args.iters):
            batch = pseudo_collate([
                dataset[(b * args.batch_size + i) % len(dataset)]
                for i in range(args.batch_size)
            ])
            start = timer.sync()
            pre(batch, True)
            times.append(timer.sync() - start)
        out['preprocess_ms'] = 1000 * statistics.median(
            times[args.warmup:]) / args.batch_size
    print(f'  {name:9s} workers {out["worker_rate"]:7.1f} samples per '
          'CPU-second' + (f', preprocessor {out["preprocess_ms"]:.2f} ms '
                          f'per sample on {args.device}'
                          if 'preprocess_ms' in out else ''), flush=True)
    return out


def run_path(name: str, args, data_root: str) -> dict:
    if args.data_only:
        with tempfile.TemporaryDirectory() as work_dir:
            return data_side_only(
                name, build_cfg(CONFIGS[name], args, data_root, work_dir),
                args)
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner.from_cfg(
            build_cfg(CONFIGS[name], args, data_root, work_dir))
        timer = StepTimer(args.device)
        runner.register_hook(timer)
        runner.train()
        out = timer.summary(args.warmup, args.batch_size)
        out['ceiling'] = model_ceiling(runner, args)
        out['ratio'] = out['samples_per_s'] / out['ceiling']
        out['worker_rate'] = worker_rate(runner.train_dataloader.dataset,
                                         args.worker_samples)
        print(f'  {name:9s} {out["samples_per_s"]:8.1f} samples/s, '
              f'data wait {100 * out["data_wait"]:5.1f} %, preprocessor '
              f'{100 * out["preprocess"]:5.1f} %, model-only ceiling '
              f'{out["ceiling"]:8.1f} samples/s, ratio {out["ratio"]:.2f}; '
              f'workers {out["worker_rate"]:7.1f} samples per CPU-second',
              flush=True)
        return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cuda')
    parser.add_argument('--depth', type=int, help='ResNet depth')
    parser.add_argument('--view-size', type=int)
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--workers', type=int)
    parser.add_argument('--iters', type=int, help='timed iterations')
    parser.add_argument('--warmup', type=int, help='untimed iterations')
    parser.add_argument('--num-images', type=int,
                        help='toy scenes to generate')
    parser.add_argument('--img-size', type=int, default=512)
    parser.add_argument('--worker-samples', type=int, default=64,
                        help='samples for the worker CPU-time measure')
    parser.add_argument('--repeats', type=int, default=1,
                        help='alternate the two paths this many times')
    parser.add_argument('--paths', nargs='+', default=list(CONFIGS),
                        choices=list(CONFIGS))
    parser.add_argument(
        '--dtype', choices=('auto', 'bfloat16', 'float16', 'float32'),
        help="the optimiser wrapper's autocast dtype (the config's 'auto': "
        'bfloat16 on GPUs that have it, float32 on the CPU)')
    parser.add_argument('--channels-first', action='store_true',
                        help='switch off the config\'s channels_last')
    parser.add_argument('--data', help='a toy-scene root to reuse')
    parser.add_argument(
        '--data-only', action='store_true',
        help='no training: only the workers\' CPU cost of each path and '
        'the GPU path preprocessor\'s time per sample on --device')
    args = parser.parse_args(argv)
    defaults = SMALL if args.device == 'cpu' else LARGE
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda needs CUDA; use --device cpu')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    from hclmm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    with toy_jpeg_scenes(args.data, args.num_images,
                         args.img_size) as data_root:
        return run_all(args, data_root)


def run_all(args, data_root: str) -> dict:
    layout = 'channels-first' if args.channels_first else 'channels-last'
    print(f'HCL-MoCo v2, ResNet-{args.depth}, {args.view_size} px views, '
          f'batch {args.batch_size}, {args.workers} workers, device '
          f'{args.device}, dtype {args.dtype or "of the config"}, {layout}, '
          f'{args.warmup} warm-up + {args.iters} timed iterations',
          flush=True)
    results = {name: [] for name in args.paths}
    for r in range(args.repeats):
        print(f'repeat {r + 1}:', flush=True)
        for name in args.paths:
            results[name].append(run_path(name, args, data_root))
    summary = {}
    print('median over repeats:')
    for name, runs in results.items():
        summary[name] = {
            key: statistics.median(run[key] for run in runs)
            for key in runs[0]
        }
        s = summary[name]
        if args.data_only:
            continue
        print(f'  {name:9s} {s["samples_per_s"]:8.1f} samples/s, data wait '
              f'{100 * s["data_wait"]:5.1f} %, ratio to the model-only '
              f'ceiling {s["ratio"]:.2f}, workers {s["worker_rate"]:.1f} '
              'samples per CPU-second')
    if len(summary) == 2 and args.data_only:
        cost = summary['gpu-views']['worker_rate'] / \
            summary['cpu-views']['worker_rate']
        print(f'  worker samples per CPU-second, gpu-views / cpu-views = '
              f'{cost:.2f}x')
    elif len(summary) == 2:
        speedup = summary['gpu-views']['samples_per_s'] / \
            summary['cpu-views']['samples_per_s']
        print(f'  gpu-views / cpu-views = {speedup:.2f}x')
        summary['speedup'] = speedup
    return summary


if __name__ == '__main__':
    main()
