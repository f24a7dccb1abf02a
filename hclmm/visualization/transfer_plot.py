"""The transfer suite's table as a figure: one panel per task (matplotlib,
drawn on an Agg canvas as the zero-shot figures are)."""
from typing import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ['plot_transfer_table']


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
