"""The figures of the zero-shot report, from the embeddings that
:meth:`~hclmm.evaluation.SceneObjectMetric.assemble` returns and the crop
dataset they came from."""
import os.path as osp
from typing import Dict

import numpy as np
import torch

from hclmm.evaluation import (DEFAULT_RETRIEVAL_SCORE, merge_close_values,
                              retrieval_dist)
from .disk_projection import disk_coordinates
from .zero_shot_plots import (plot_disk_view, plot_norm_histogram,
                              plot_retrieval_examples)

__all__ = ['load_crop', 'plot_zero_shot_report']


def load_crop(dataset, index: int) -> np.ndarray:
    """The resized crop of sample ``index`` (BGR), by the dataset's own
    loading, cropping and resizing transforms."""
    results = dataset.get_data_info(index)
    for transform in dataset.pipeline.transforms:
        if type(transform).__name__ == 'PackInputs':
            break
        results = transform(results)
    return results['img']


def _disk_plot(emb, norms, out_file, max_scenes=400, max_objects=2000):
    rng = np.random.default_rng(0)
    manifold, owner = emb['manifold'], emb['object_scene']
    num_scenes = emb['scene_points'].shape[0]
    scenes = np.sort(
        rng.choice(num_scenes, min(num_scenes, max_scenes), replace=False))
    objects = np.flatnonzero(np.isin(owner, scenes))
    if len(objects) > max_objects:
        objects = np.sort(rng.choice(objects, max_objects, replace=False))
    points = torch.cat(
        [emb['scene_points'][scenes],
         emb['object_points'][objects]]).numpy()
    radii = np.concatenate(
        [norms['scene'][scenes], norms['object'][objects]])
    # Lorentz points are stored as space components: their direction is the
    # direction of the point seen from the hyperboloid's origin.
    xy = disk_coordinates(points, radii, manifold)
    scene_pos = {s: i for i, s in enumerate(scenes)}
    links = [(scene_pos[owner[o]], j) for j, o in enumerate(objects)
             if owner[o] in scenes[:8]]
    title = f'{manifold.describe()}: {manifold.disk_caption}'
    plot_disk_view(
        xy[:len(scenes)],
        xy[len(scenes):],
        out_file,
        links=links,
        title=title + '\n(lines: 8 scenes and their objects)',
        boundary_label=manifold.disk_boundary_label)


def _retrieval_plot(emb, dataset, out_file, num_examples, top_k=5):
    owner = emb['object_scene']
    counts = np.bincount(owner, minlength=emb['scene_points'].shape[0])
    candidates = np.flatnonzero(counts > 0)
    if len(candidates) == 0:
        return None
    picks = candidates[np.linspace(
        0, len(candidates) - 1, min(num_examples, len(candidates))).astype(
            int)]
    # ranked as retrieval_map ranks them
    dist = retrieval_dist(emb['scene_points'][picks].double(),
                          emb['object_points'].double(), emb['manifold'],
                          DEFAULT_RETRIEVAL_SCORE).numpy()
    classes = dataset.metainfo.get('classes') or ()
    examples = []
    for row, scene in zip(dist, picks):
        neighbours = []
        for o in np.argsort(row, kind='stable')[:top_k]:
            label = int(emb['object_labels'][o])
            text = classes[label] if label < len(classes) else str(label)
            if emb['object_ooc'][o]:
                text += ' (ooc)'
            neighbours.append(
                dict(
                    image=load_crop(dataset,
                                    emb['object_samples'][o])[..., ::-1],
                    dist=float(row[o]),
                    hit=owner[o] == scene,
                    label=text))
        info = dataset.get_data_info(emb['scene_samples'][scene])
        name = osp.basename(info['img_path'])
        if info.get('scene_type'):
            name += f"\n{info['scene_type']}"
        examples.append(
            dict(
                scene=load_crop(dataset, emb['scene_samples'][scene])[...,
                                                                      ::-1],
                name=name,
                neighbours=neighbours))
    return plot_retrieval_examples(
        examples,
        out_file,
        title=f'nearest objects by {DEFAULT_RETRIEVAL_SCORE} '
        f'({emb["manifold"].describe()}; green: the scene\'s own object, '
        'red: another image\'s)')


def plot_zero_shot_report(emb: Dict, dataset, out_dir: str,
                          num_examples: int = 4) -> Dict[str, str]:
    """Write ``norm_hist.png`` (scene and object norms), ``poincare_disk.png``
    (:func:`disk_coordinates`) and ``retrieval_examples.png`` (the nearest
    objects of ``num_examples`` scenes) into ``out_dir``.

    Returns:
        dict: Figure name -> written path.
    """
    manifold = emb['manifold']
    norms = {
        kind: manifold.dist0(emb[f'{kind}_points'].double()).numpy()
        for kind in ('scene', 'object')
    }
    # norms equal up to float32 noise are drawn (and counted) as equal
    merged = merge_close_values(
        np.concatenate([norms['scene'], norms['object']]))
    files = dict(
        norm_hist=plot_norm_histogram(
            merged[:len(norms['scene'])],
            merged[len(norms['scene']):],
            osp.join(out_dir, 'norm_hist.png'),
            xlabel=manifold.norm_label,
            title=f'norms of scenes and objects, {manifold.describe()}'),
        poincare_disk=osp.join(out_dir, 'poincare_disk.png'))
    _disk_plot(emb, norms, files['poincare_disk'])
    examples = _retrieval_plot(emb, dataset,
                               osp.join(out_dir, 'retrieval_examples.png'),
                               num_examples)
    if examples:
        files['retrieval_examples'] = examples
    return files
