"""Side-by-side table of zero-shot results (the demo's report).

Usage:
    python tools/analysis_tools/demo_report.py --run HCL=DIR1 --run baseline=DIR2 \
        [--compare HCL:baseline] [--transfer TRANSFER_JSON] \
        --out work_dirs/demo/report.md

Each DIR holds a ``zero_shot.json`` written by ``tools/analysis_tools/zero_shot.py``
and its plots. ``TRANSFER_JSON`` is the ``transfer.json`` of
``tools/benchmarks/transfer.py`` (its init names as columns, the runs' names
first where they match).
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
    ('ooc_auroc', 'out-of-context AUROC (default score)'),
    ('object_knn_top1', 'object kNN top-1'),
    ('num_scenes', 'scenes'),
    ('num_objects', 'objects'),
]
# rows added under a metric: its value for every score of a by-score dict
BY_SCORE = {
    'retrieval_class_map': ('retrieval_class_map_by_score',
                            'class-level mAP, ranking'),
    'ooc_auroc': ('ooc_auroc_by_score', 'out-of-context AUROC, score'),
}
PLOTS = ['norm_hist.png', 'poincare_disk.png', 'retrieval_examples.png']

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--run', action='append', required=True,
        help='NAME=DIR with DIR/zero_shot.json; repeat for each run')
    parser.add_argument(
        '--compare', action='append', default=[],
        help='RUN:BASELINE: add the checks of RUN against BASELINE (norm '
        'AUROC >= 0.9 and above, retrieval mAP above, object kNN within 2 '
        'points or better, class-level mAP above, out-of-context AUROC >= '
        '0.75 and above); repeatable')
    parser.add_argument(
        '--transfer', help='transfer.json of tools/benchmarks/transfer.py: '
        'adds its table (one row per task) and the differences of the '
        'first column from the others')
    parser.add_argument('--out', required=True, help='markdown file to write')
    return parser.parse_args()


def compare_checks(name, res, base_name, base):
    """Markdown lines checking run ``res`` against ``base``."""

    def get(r, key):
        v = r.get(key)
        return float('nan') if v is None else float(v)

    auroc, b_auroc = get(res, 'scene_object_norm_auroc'), get(
        base, 'scene_object_norm_auroc')
    mean_ap, b_map = get(res, 'retrieval_map'), get(base, 'retrieval_map')
    knn, b_knn = get(res, 'object_knn_top1'), get(base, 'object_knn_top1')
    cmap, b_cmap = get(res, 'retrieval_class_map'), get(
        base, 'retrieval_class_map')
    ooc, b_ooc = get(res, 'ooc_auroc'), get(base, 'ooc_auroc')
    checks = [
        (f'norm AUROC {auroc:.3f} >= 0.9 and > {base_name} {b_auroc:.3f}',
         auroc >= 0.9 and auroc > b_auroc),
        (f'retrieval mAP {mean_ap:.3f} > {base_name} {b_map:.3f}',
         mean_ap > b_map),
        (f'object kNN {knn:.3f} >= {base_name} {b_knn:.3f} - 0.02',
         knn >= b_knn - 0.02),
        (f'class-level retrieval mAP {cmap:.3f} > {base_name} {b_cmap:.3f}',
         cmap > b_cmap),
        (f'out-of-context AUROC {ooc:.3f} >= 0.75 and > {base_name} '
         f'{b_ooc:.3f}', ooc >= 0.75 and ooc > b_ooc),
    ]
    return [f'- {name}: {text}: **{"pass" if ok else "FAIL"}**'
            for text, ok in checks]


def fmt(value):
    if value is None:
        return 'n/a'
    if isinstance(value, float):
        return f'{value:.3f}'
    return str(value)


def transfer_lines(table, names):
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
        diffs = [f'{first} − {i} {cells[first]["mean"] - cells[i]["mean"]:+.2f}'
                 for i in inits[1:] if first in cells and i in cells]
        lines.append(f'- {task}: ' + (', '.join(diffs) or '–'))
    lines += ['', 'Each task\'s config and protocol: the transfer suite '
              '(`tools/benchmarks/transfer.py`, docs/transfer.md); its own '
              'table, with each seed, is `transfer.md` beside the json.']
    return lines


def build_report(runs, out_path, compare=(), transfer=None,
                 transfer_png=None):
    """Return the markdown report for ``runs`` = [(name, dir)] and the
    checks of ``compare`` = [(name, baseline_name)]."""
    results = []
    for name, run_dir in runs:
        path = osp.join(run_dir, 'zero_shot.json')
        if not osp.isfile(path):
            raise SystemExit(f'{path} not found: run zero_shot.py first')
        with open(path) as f:
            results.append(json.load(f))
    names = [n for n, _ in runs]
    lines = ['# Zero-shot scene-object report', '',
             '| metric | ' + ' | '.join(names) + ' |',
             '|---|' + '---|' * len(names)]
    for key, label in METRICS:
        lines.append(f'| {label} | ' +
                     ' | '.join(fmt(r.get(key)) for r in results) + ' |')
        by_score = BY_SCORE.get(key)
        if by_score is not None:
            dict_key, row_label = by_score
            scores = []
            for r in results:
                for name in r.get(dict_key) or {}:
                    if name not in scores:
                        scores.append(name)
            for score in scores:
                lines.append(f'| {row_label} `{score}` | ' + ' | '.join(
                    fmt((r.get(dict_key) or {}).get(score))
                    for r in results) + ' |')
    by_name = dict(zip(names, results))
    if compare:
        lines += ['', '## Checks', '']
        for name, base_name in compare:
            for n in (name, base_name):
                if n not in by_name:
                    raise SystemExit(f'--compare names {n!r}, which is not a '
                                     f'--run (runs: {names})')
            lines += compare_checks(name, by_name[name], base_name,
                                    by_name[base_name])
    if transfer is not None:
        lines += transfer_lines(transfer, names)
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
    report = build_report(runs, args.out, compare, transfer, png)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(report)
    print(report)
    print(f'Report written to {args.out}')


if __name__ == '__main__':
    main()
