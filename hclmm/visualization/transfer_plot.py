"""The transfer suite's table as a figure: one panel per task (matplotlib,
drawn on an Agg canvas as the zero-shot figures are)."""
from typing import Mapping

import numpy as np

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ['plot_transfer_table', 'plot_label_efficiency']


def plot_transfer_table(table: Mapping, out_path: str) -> str:
    """Draw ``transfer.json``'s table (``{task: {init: {"metric", "seeds",
    "mean", "std"}}}``) into ``out_path``: one panel per task, one bar per
    init at its mean over seeds (written under it), each seed's value as a
    dot.

    Returns:
        str: ``out_path``.
    """
    tasks = list(table)
    fig = Figure(figsize=(3.2 * max(len(tasks), 1), 3.2))
    FigureCanvasAgg(fig)
    for k, task in enumerate(tasks):
        ax = fig.add_subplot(1, len(tasks), k + 1)
        cells = table[task]
        inits = list(cells)
        ax.bar(range(len(inits)), [cells[i]['mean'] for i in inits],
               color='#9db4d6')
        for x, init in enumerate(inits):
            seeds = list(cells[init]['seeds'].values())
            ax.plot([x] * len(seeds), seeds, 'k.', markersize=6)
        ax.set_xticks(range(len(inits)))
        ax.set_xticklabels(
            [f'{i}\n{cells[i]["mean"]:.3g}' for i in inits], fontsize=8)
        ax.set_title(f'{task}: {next(iter(cells.values()))["metric"]}',
                     fontsize=9)
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    return out_path


def plot_label_efficiency(table: Mapping, out_path: str) -> str:
    """Draw the label-efficiency curves of ``transfer.json``: one panel per
    task that ran several labelled fractions, the metric against the
    fraction (log scale), one line per init through its means, the seed
    spread (mean ± sample std) as a band and each seed as a dot.

    Returns:
        str: ``out_path``.
    """
    tasks = [t for t, cells in table.items()
             if any('fractions' in c for c in cells.values())]
    fig = Figure(figsize=(3.6 * max(len(tasks), 1), 3.2))
    FigureCanvasAgg(fig)
    for k, task in enumerate(tasks):
        ax = fig.add_subplot(1, len(tasks), k + 1)
        metric = None
        for init, cell in table[task].items():
            fracs = cell.get('fractions')
            if not fracs:
                continue
            metric = cell['metric']
            xs = sorted(fracs, key=float)
            x = [float(f) for f in xs]
            mean = np.array([fracs[f]['mean'] for f in xs])
            std = np.array([fracs[f]['std'] or 0.0 for f in xs])
            line, = ax.plot(x, mean, marker='o', label=init)
            ax.fill_between(x, mean - std, mean + std, alpha=0.2,
                            color=line.get_color())
            for xi, f in zip(x, xs):
                seeds = list(fracs[f]['seeds'].values())
                ax.plot([xi] * len(seeds), seeds, '.',
                        color=line.get_color(), markersize=4)
        ax.set_xscale('log')
        ax.set_xlabel('labelled fraction of the training images', fontsize=8)
        ax.set_title(f'{task}: {metric}', fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    return out_path
