"""Pairwise hyperbolic logits: one matrix product vs the N x K x D broadcast.

Compares, at the same sizes, the logits ``-d(q_i, k_j) / T`` of N queries
against a queue of K keys computed

* ``matmul``: by :func:`hclmm.geometry.pairwise_dist` (one matrix
  product, N x K memory);
* ``broadcast``: by the Mobius-addition form ``(-q_i) (+)_c k_j`` on an
  N x K x D tensor, as the HCL reference code does;
* ``euclid``: plain Euclidean logits ``q k^T / T`` (one matrix product), the
  cost floor of any contrastive loss;

and reports the time (best and median of interleaved repeats; ratios use
the best, which load from other processes cannot improve), the peak extra
memory, the largest distance error
against a float64 evaluation of the formula, with the bound
``|d - d64| <= 1e-4 max(d64, 1)`` as pass/fail, and the ratios.

Peak memory: on the CPU each method runs once in a fresh subprocess, whose
peak resident set is reset just before the call (Linux ``clear_refs``); the
peak above the resident set before the call is reported. On CUDA,
``torch.cuda.max_memory_allocated`` above the inputs.

Example::

    python benchmarks/bench_pairwise_dist.py --n 256 --k 16384 --d 128
    python benchmarks/bench_pairwise_dist.py --device cuda --dtype bf16
"""
import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time

import torch

from hclmm.geometry import expmap0, pairwise_dist, project

DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16}
METHODS = ('matmul', 'broadcast', 'euclid')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n', type=int, default=256, help='queries')
    parser.add_argument('--k', type=int, default=16384, help='queue size')
    parser.add_argument('--d', type=int, default=128, help='dimension')
    parser.add_argument('--c', type=float, default=0.05, help='curvature')
    parser.add_argument('--temperature', type=float, default=0.2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--dtype',
                        choices=sorted(DTYPES),
                        default='fp32',
                        help='dtype of the inputs; bf16 also turns on '
                        'autocast')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--backward',
                        action='store_true',
                        help='time and measure forward + backward (w.r.t. '
                        'the queries) instead of the forward alone')
    parser.add_argument('--threads',
                        type=int,
                        default=0,
                        help='torch CPU threads (0: torch default)')
    parser.add_argument('--methods',
                        default=','.join(METHODS),
                        help='comma-separated subset of ' + ', '.join(METHODS))
    parser.add_argument('--child', choices=METHODS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_inputs(args, seed=0):
    """Points spread over the ball: Gaussian projections of unit variance per
    dim mapped with exp_0 (|u| ~ sqrt(D)), as a projection head gives."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(args.n, args.d, generator=g)
    k = torch.randn(args.k, args.d, generator=g)
    q = project(expmap0(q, args.c), args.c)
    k = project(expmap0(k, args.c), args.c)
    dtype = DTYPES[args.dtype]
    return q.to(args.device, dtype), k.to(args.device, dtype)


def logits_matmul(q, k, c, t):
    return pairwise_dist(q, k, c).mul_(-1 / t)  # as HyperbolicInfoNCELoss


def logits_broadcast(q, k, c, t):
    """Mobius-addition form on an N x K x D tensor, with the reference
    code's clamp of the artanh input below 1 - 1e-5."""
    x = -q[:, None, :]
    y = k[None, :, :]
    xy = (x * y).sum(-1, keepdim=True)
    x2 = (x * x).sum(-1, keepdim=True)
    y2 = (y * y).sum(-1, keepdim=True)
    num = (1 + 2 * c * xy + c * y2) * x + (1 - c * x2) * y
    den = 1 + 2 * c * xy + c**2 * x2 * y2
    norm = (num / den.clamp_min(1e-15)).norm(dim=-1)
    arg = (math.sqrt(c) * norm).clamp(max=1 - 1e-5)
    return -(2 / math.sqrt(c)) * torch.atanh(arg) / t


def logits_euclid(q, k, c, t):
    return (q @ k.T).mul_(1 / t)


FUNCS = {
    'matmul': logits_matmul,
    'broadcast': logits_broadcast,
    'euclid': logits_euclid
}


def forward(method, q, k, args):
    """Logits of one method, without autograd (autocast for bf16)."""
    with torch.inference_mode(), torch.autocast(device_type=q.device.type,
                                                dtype=torch.bfloat16,
                                                enabled=args.dtype == 'bf16'):
        return FUNCS[method](q, k, args.c, args.temperature)


def run(method, q, k, args):
    """Logits of one method; with ``--backward`` also the gradient of their
    sum with respect to the queries (then nothing is returned)."""
    if not args.backward:
        return forward(method, q, k, args)
    q = q.detach().requires_grad_()
    with torch.autocast(device_type=q.device.type,
                        dtype=torch.bfloat16,
                        enabled=args.dtype == 'bf16'):
        logits = FUNCS[method](q, k, args.c, args.temperature)
    logits.sum().backward()
    return None


def reference_dist(q, k, c, rows=8):
    """float64 distances from the formula, |x - y|^2 from the differences,
    a few query rows at a time."""
    q, k = q.double(), k.double()
    k2 = (k * k).sum(-1)
    out = []
    for i in range(0, len(q), rows):
        x = q[i:i + rows]
        diff2 = ((x[:, None, :] - k[None]).pow(2)).sum(-1)
        den = (1 - c * (x * x).sum(-1))[:, None] * (1 - c * k2)[None]
        out.append(torch.acosh(1 + 2 * c * diff2 / den) / math.sqrt(c))
    return torch.cat(out)


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_methods(methods, q, k, args):
    """Seconds per call of each method, all repeats interleaved so that load
    from other processes hits every method alike; returns lists."""
    times = {m: [] for m in methods}
    for m in methods:
        run(m, q, k, args)  # warm-up
    sync(args.device)
    for _ in range(args.repeats):
        for m in methods:
            start = time.perf_counter()
            run(m, q, k, args)
            sync(args.device)
            times[m].append(time.perf_counter() - start)
    return times


def peak_memory(method, args, q=None, k=None):
    """Extra peak memory of one call, in bytes."""
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = run(method, q, k, args)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
        del out
        return peak
    cmd = [sys.executable, __file__, '--child', method] + [
        f'--{name}={getattr(args, name)}'
        for name in ('n', 'k', 'd', 'c', 'temperature', 'device', 'dtype',
                     'threads')
    ] + (['--backward'] if args.backward else [])
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])['peak_bytes']


def _proc_status(field):
    """A memory field of /proc/self/status (Linux), in bytes."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def child(args):
    """Run one method once in this fresh process and print how far its
    resident set peaked above the resident set before the call.

    The peak (VmHWM) is reset first by writing 5 to /proc/self/clear_refs,
    so that importing torch and building the inputs do not hide it; where
    that is not possible, the growth of ``ru_maxrss`` is used instead.
    """
    q, k = make_inputs(args)
    # warm up thread pools and kernels on tiny inputs first
    run(args.child, q[:2], k[:2], args)
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        before = _proc_status('VmRSS')
        out = run(args.child, q, k, args)
        peak = _proc_status('VmHWM') - before
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = run(args.child, q, k, args)
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss -
                before) * 1024
    del out
    print(json.dumps({'peak_bytes': peak}))


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.child:
        child(args)
        return
    methods = [m for m in args.methods.split(',') if m]
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f'unknown method {m!r}; choose from {METHODS}')
    print(f'N={args.n} K={args.k} D={args.d} c={args.c} '
          f'T={args.temperature} device={args.device} dtype={args.dtype} '
          f'threads={torch.get_num_threads()} torch={torch.__version__} '
          f'{"forward+backward" if args.backward else "forward"}')
    q, k = make_inputs(args)
    print('float64 reference ...', flush=True)
    d64 = reference_dist(q, k, args.c)
    print(f'timing {", ".join(methods)} ...', flush=True)
    times = time_methods(methods, q, k, args)
    results = {}
    for m in methods:
        print(f'{m}: memory and error ...', flush=True)
        row = dict(seconds=min(times[m]),
                   median=statistics.median(times[m]),
                   peak_bytes=peak_memory(m, args, q, k))
        if m != 'euclid':
            d = -forward(m, q, k, args).double() * args.temperature
            err = (d - d64).abs()
            row['max_err'] = err.max().item()
            row['max_scaled_err'] = (err / d64.clamp_min(1)).max().item()
            row['pass'] = bool(row['max_scaled_err'] <= 1e-4)
        results[m] = row

    print()
    print(f'{"method":<10} {"best ms":>9} {"median ms":>10} {"peak MiB":>9} '
          f'{"max |d-d64|":>12} {"max |d-d64|/max(d64,1)":>23}')
    for m, row in results.items():
        if 'max_err' in row:
            err = f'{row["max_err"]:.2e}'
            verdict = 'pass' if row['pass'] else 'FAIL'
            scaled = f'{row["max_scaled_err"]:.2e} {verdict}'
        else:
            err = scaled = '-'
        print(f'{m:<10} {row["seconds"] * 1e3:>9.2f} '
              f'{row["median"] * 1e3:>10.2f} '
              f'{row["peak_bytes"] / 2**20:>9.1f} {err:>12} {scaled:>23}')
    print()
    if 'matmul' in results and 'broadcast' in results:
        mm, bc = results['matmul'], results['broadcast']
        print(f'broadcast / matmul time:   '
              f'{bc["seconds"] / mm["seconds"]:.1f}x (target >= 10x)')
        print(f'broadcast / matmul memory: '
              f'{bc["peak_bytes"] / max(mm["peak_bytes"], 1):.1f}x '
              f'(target >= 50x)')
    if 'matmul' in results and 'euclid' in results:
        ratio = results['matmul']['seconds'] / results['euclid']['seconds']
        print(f'matmul / euclid time:      {ratio:.2f}x (target <= 2x)')


if __name__ == '__main__':
    main()
