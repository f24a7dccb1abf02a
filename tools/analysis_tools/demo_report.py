"""Side-by-side table of zero-shot and transfer results (the demo's report).

Usage:
    python tools/analysis_tools/demo_report.py --run HCL=DIR1 \
        --run baseline=DIR2 [--compare HCL:baseline] \
        [--transfer TRANSFER_JSON] --out work_dirs/demo/report.md

Each DIR holds a ``zero_shot.json`` written by
``tools/analysis_tools/zero_shot.py`` and its plots. ``TRANSFER_JSON`` is the
``transfer.json`` of ``tools/benchmarks/transfer.py`` (its init names as
columns, the runs' names first where they match). The report compares; each
difference reads "higher", "lower" or "within noise" by the rule it states
once (``--noise``, ``--transfer-noise``).
"""
import argparse
import json
import os
import os.path as osp

METRICS = [
    ('scene_object_norm_auroc', 'scene/object norm AUROC'),
    ('label_count_spearman', 'label count vs norm (Spearman)'),
    ('retrieval_map', 'scene -> object retrieval mAP'),
    ('retrieval_recall_at_1', 'scene -> object recall@1'),
    ('retrieval_class_map', 'scene -> object class-level mAP'),
    ('retrieval_class_recall_at_1', 'scene -> object class-level recall@1'),
    ('ooc_auroc', 'out-of-context AUROC (unusual company)'),
    ('object_knn_top1', 'object kNN top-1'),
    ('num_scenes', 'scenes'),
    ('num_objects', 'objects'),
]
COUNTS = {'num_scenes', 'num_objects'}
PLOTS = ['norm_hist.png', 'poincare_disk.png', 'retrieval_examples.png']


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--run', action='append', required=True,
        help='NAME=DIR with DIR/zero_shot.json; repeat for each run')
    parser.add_argument(
        '--compare', action='append', default=[],
        help='RUN:BASELINE: add a column with the difference of RUN from '
        'BASELINE on every zero-shot metric; repeatable')
    parser.add_argument(
        '--transfer', help='transfer.json of tools/benchmarks/transfer.py: '
        'adds its table (one row per task) and the differences of the '
        'first column from the others')
    parser.add_argument(
        '--noise', type=float, default=0.05,
        help='zero-shot differences up to this read "within noise". '
        'Defaults to 0.05')
    parser.add_argument(
        '--transfer-noise', type=float, default=0.02,
        help='a transfer difference with a one-seed column reads "within '
        'noise" up to this fraction of the larger mean. Defaults to 0.02')
    parser.add_argument('--out', required=True, help='markdown file to write')
    return parser.parse_args()


def reading(diff, noise):
    """``higher``, ``lower`` or ``within noise``."""
    if abs(diff) <= noise:
        return 'within noise'
    return 'higher' if diff > 0 else 'lower'


def rule_text(noise, transfer_noise):
    """The one statement of how differences are read."""
    return (f'A difference reads *higher* or *lower* when it is larger '
            f'than the noise, else *within noise*. Noise: {noise:g} for the '
            'zero-shot metrics (the seed-to-seed standard deviation of the '
            "demo's 8-epoch runs is 0.01-0.05, docs/zero_shot.md); for a "
            'transfer task, twice the larger standard deviation over seeds '
            f'of the two columns, or {100 * transfer_noise:g}% of the larger '
            'mean where a column has one seed.')


def compare_cell(res, base, key, noise):
    """``higher (+0.123)`` etc. for one metric, or ``–``."""
    value, ref = res.get(key), base.get(key)
    if key in COUNTS or value is None or ref is None:
        return '–'
    diff = float(value) - float(ref)
    return f'{reading(diff, noise)} ({diff:+.3f})'


def fmt(value):
    if value is None:
        return 'n/a'
    if isinstance(value, float):
        return f'{value:.3f}'
    return str(value)


def transfer_diff(cell, ref, rel_noise):
    """``+1.50 (higher)``: the difference of two transfer.json cells'
    means and its reading (see :func:`rule_text`)."""
    diff = cell['mean'] - ref['mean']
    if len(cell['seeds']) > 1 and len(ref['seeds']) > 1:
        noise = 2 * max(cell.get('std') or 0, ref.get('std') or 0)
    else:
        noise = rel_noise * max(abs(cell['mean']), abs(ref['mean']))
    return f'{diff:+.2f} ({reading(diff, noise)})'


def transfer_lines(table, names, noise=0.02):
    """Markdown lines of a transfer.json ``table`` ({task: {init: cell}}):
    inits as columns (those in ``names`` first, in that order), the mean
    over seeds (+- std when there are several), then the differences of
    the first column from each other one."""
    inits = []
    for cells in table.values():
        inits += [i for i in cells if i not in inits]
    inits = [n for n in names if n in inits] + \
        [i for i in inits if i not in names]
    lines = ['', '## Transfer', '',
             '| task `metric` | ' + ' | '.join(inits) + ' |',
             '|---|' + '---|' * len(inits)]
    for task, cells in table.items():
        metric = next(iter(cells.values()))['metric']
        row = []
        for init in inits:
            cell = cells.get(init)
            if cell is None:
                row.append('–')
                continue
            std = '' if not cell.get('std') else f' ± {cell["std"]:.2f}'
            row.append(f'{cell["mean"]:.2f}{std}')
        lines.append(f'| {task} `{metric}` | ' + ' | '.join(row) + ' |')
    lines += ['', 'Differences of means:', '']
    first = inits[0] if inits else None
    for task, cells in table.items():
        diffs = [
            f'{first} − {i} {transfer_diff(cells[first], cells[i], noise)}'
            for i in inits[1:] if first in cells and i in cells
        ]
        lines.append(f'- {task}: ' + (', '.join(diffs) or '–'))
    lines += ['', 'Each task\'s config and protocol: the transfer suite '
              '(`tools/benchmarks/transfer.py`, docs/transfer.md); its own '
              'table, with each seed, is `transfer.md` beside the json.']
    return lines


def build_report(runs, out_path, compare=(), transfer=None,
                 transfer_png=None, noise=0.05, transfer_noise=0.02):
    """Return the markdown report for ``runs`` = [(name, dir)], with a
    difference column for each ``compare`` = [(name, baseline_name)]."""
    results = []
    for name, run_dir in runs:
        path = osp.join(run_dir, 'zero_shot.json')
        if not osp.isfile(path):
            raise SystemExit(f'{path} not found: run zero_shot.py first')
        with open(path) as f:
            results.append(json.load(f))
    names = [n for n, _ in runs]
    by_name = dict(zip(names, results))
    for name, base_name in compare:
        for n in (name, base_name):
            if n not in by_name:
                raise SystemExit(f'--compare names {n!r}, which is not a '
                                 f'--run (runs: {names})')
    columns = names + [f'{n} vs {b}' for n, b in compare]
    lines = ['# Zero-shot scene-object report', '',
             rule_text(noise, transfer_noise), '',
             '| metric | ' + ' | '.join(columns) + ' |',
             '|---|' + '---|' * len(columns)]
    for key, label in METRICS:
        cells = [fmt(r.get(key)) for r in results] + [
            compare_cell(by_name[n], by_name[b], key, noise)
            for n, b in compare
        ]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    if transfer is not None:
        lines += transfer_lines(transfer, names, transfer_noise)
    lines += ['', '## Plots', '']
    out_dir = osp.dirname(osp.abspath(out_path))
    if transfer_png and osp.isfile(transfer_png):
        lines.append(f'- transfer: [{osp.basename(transfer_png)}]'
                     f'({osp.relpath(transfer_png, out_dir)})')
    for name, run_dir in runs:
        links = []
        for plot in PLOTS:
            p = osp.join(run_dir, plot)
            if osp.isfile(p):
                links.append(f'[{plot}]({osp.relpath(p, out_dir)})')
        lines.append(f'- {name}: ' + (', '.join(links) or 'no plots found'))
    return '\n'.join(lines) + '\n'


def main():
    args = parse_args()
    runs = []
    for item in args.run:
        if '=' not in item:
            raise SystemExit(f'--run expects NAME=DIR, got {item!r}')
        name, run_dir = item.split('=', 1)
        runs.append((name, run_dir))
    compare = []
    for item in args.compare:
        if ':' not in item:
            raise SystemExit(f'--compare expects RUN:BASELINE, got {item!r}')
        compare.append(tuple(item.split(':', 1)))
    transfer = None
    if args.transfer:
        if not osp.isfile(args.transfer):
            raise SystemExit(f'--transfer {args.transfer}: no such file; run '
                             'tools/benchmarks/transfer.py first')
        with open(args.transfer) as f:
            transfer = json.load(f)
    png = osp.join(osp.dirname(args.transfer), 'transfer.png') \
        if args.transfer else None
    report = build_report(runs, args.out, compare, transfer, png, args.noise,
                          args.transfer_noise)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(report)
    print(report)
    print(f'Report written to {args.out}')


if __name__ == '__main__':
    main()
