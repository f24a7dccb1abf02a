from .disk_projection import disk_coordinates
from .report_visualizer import (DEFAULT_VISUALIZER, add_report,
                                build_report_visualizer)
from .transfer_plot import plot_label_efficiency, plot_transfer_table
from .zero_shot_plots import (plot_disk_view, plot_norm_histogram,
                              plot_retrieval_examples)
from .zero_shot_report import load_crop, plot_zero_shot_report

__all__ = [
    'disk_coordinates', 'plot_norm_histogram', 'plot_disk_view',
    'plot_retrieval_examples', 'load_crop', 'plot_zero_shot_report',
    'DEFAULT_VISUALIZER', 'build_report_visualizer', 'add_report',
    'plot_transfer_table', 'plot_label_efficiency'
]
