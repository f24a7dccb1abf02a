"""A report's figures and numbers through mmengine's visualizer backends.

The zero-shot tool writes its figures as PNG files; the same figures and
the metric's numbers also go to the backends of the config's
``visualizer`` (``LocalVisBackend``, ``TensorboardVisBackend``, ...), as the
numbers of the val loop do while training.
"""
import copy
import itertools
from typing import Mapping, Optional

import mmcv
from mmengine.visualization import Visualizer

__all__ = ['DEFAULT_VISUALIZER', 'build_report_visualizer', 'add_report']

#: What :meth:`mmengine.runner.Runner.build_visualizer` uses when a config
#: names no visualizer.
DEFAULT_VISUALIZER = dict(
    type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])

_instances = itertools.count()


def build_report_visualizer(visualizer: Optional[Mapping],
                            save_dir: str,
                            name: str = 'report') -> Visualizer:
    """Build a config's ``visualizer`` writing under ``save_dir``.

    As :meth:`mmengine.runner.Runner.build_visualizer` does, the backends
    write into ``save_dir/vis_data`` (``vis_image/``, ``scalars.json``, the
    TensorBoard events file) unless a backend names its own ``save_dir``.
    Every call builds a new instance: mmengine keeps visualizers by name and
    would hand back an earlier one, with its earlier folder.

    Args:
        visualizer (Mapping, optional): The config's ``visualizer`` dict.
            Defaults to :data:`DEFAULT_VISUALIZER` when None.
        save_dir (str): The folder that holds ``vis_data``.
        name (str): Stem of the instance name. Defaults to 'report'.

    Returns:
        Visualizer: The visualizer; :meth:`~Visualizer.close` it to flush
        the backends.
    """
    from hclmm.registry import VISUALIZERS

    # a deep copy: the visualizer writes save_dir into its backends' dicts
    cfg = copy.deepcopy(dict(visualizer or DEFAULT_VISUALIZER))
    cfg.update(name=f'{name}_{next(_instances)}', save_dir=save_dir)
    return VISUALIZERS.build(cfg)


def add_report(visualizer: Visualizer,
               figures: Mapping[str, str],
               scalars: Mapping[str, float],
               step: int = 0) -> None:
    """Send figures and numbers to every backend of ``visualizer``.

    Args:
        visualizer (Visualizer): E.g. from :func:`build_report_visualizer`.
        figures (Mapping[str, str]): Figure name -> PNG file. Each file is
            read back as an RGB array and sent with ``add_image(name, image,
            step)``, so every backend shows the pixels of the file.
        scalars (Mapping[str, float]): Tag -> number, sent with
            ``add_scalars``.
        step (int): Step of the images and numbers. Defaults to 0.
    """
    for name, path in figures.items():
        visualizer.add_image(
            name, mmcv.imread(path, channel_order='rgb'), step=step)
    if scalars:
        visualizer.add_scalars(dict(scalars), step=step)
