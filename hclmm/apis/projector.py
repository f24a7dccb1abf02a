"""The zero-shot embeddings in TensorBoard's projector."""
import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch

__all__ = ['PROJECTOR_COLUMNS', 'add_projector']

#: The metadata columns of every point.
PROJECTOR_COLUMNS = ('kind', 'category', 'image_id')


def add_projector(visualizer, emb: Dict, dataset, step: int = 0,
                  max_points: int = 4096, thumb_size: int = 32,
                  tag: str = 'zero_shot') -> Optional[str]:
    """Write the scenes' and objects' points to TensorBoard's projector.

    Where ``visualizer`` has a ``TensorboardVisBackend``, its
    ``SummaryWriter`` gets ``add_embedding``: the points of the first
    ``max_points`` samples in dataset order, a sprite of their crops
    (``thumb_size`` pixels square, by the dataset's own loading and
    cropping, :func:`~hclmm.visualization.load_crop`) and the metadata
    columns :data:`PROJECTOR_COLUMNS` (``scene`` or ``object``, the object's
    category or ``scene``, the COCO image id). TensorBoard shows them under
    "Projector" next to the figures.

    Args:
        visualizer: The report's visualizer.
        emb (dict): What :meth:`~hclmm.evaluation.SceneObjectMetric.assemble`
            returned.
        dataset: The crop dataset the points came from.
        step (int): Global step of the embedding. Defaults to 0.
        max_points (int): Defaults to 4096.
        thumb_size (int): Side of a sprite image. Defaults to 32.
        tag (str): Defaults to 'zero_shot'.

    Returns:
        str | None: The projector's folder (with ``tensors.tsv``,
        ``metadata.tsv`` and ``sprite.png``), or None without a TensorBoard
        backend.
    """
    import mmcv

    from hclmm.visualization import load_crop
    # the key of a backend built without a name is its class name
    backend = visualizer.get_backend('TensorboardVisBackend')
    if backend is None:
        return None
    samples = np.concatenate([emb['scene_samples'], emb['object_samples']])
    points = torch.cat([emb['scene_points'], emb['object_points']]).float()
    order = np.argsort(samples, kind='stable')[:max_points]
    classes = dataset.metainfo.get('classes') or ()
    rows, thumbs = [], []
    for row in order:
        info = dataset.get_data_info(int(samples[row]))
        label = int(info.get('object_label', -1))
        category = 'scene' if info['is_scene'] else (
            classes[label] if 0 <= label < len(classes) else str(label))
        rows.append(['scene' if info['is_scene'] else 'object',
                     str(category).replace('\t', ' '), info['img_id']])
        crop = mmcv.imresize(load_crop(dataset, int(samples[row])),
                             (thumb_size, thumb_size))
        thumbs.append(mmcv.bgr2rgb(crop))
    # (pixel + 0.5) / 255: the sprite writer's truncation of x * 255 gives
    # the pixel back
    images = torch.from_numpy(np.stack(thumbs)).permute(0, 3, 1, 2)
    writer = backend.experiment
    writer.add_embedding(
        points[torch.from_numpy(order)],
        metadata=rows,
        label_img=(images.double() + 0.5) / 255,
        global_step=step,
        tag=tag,
        metadata_header=list(PROJECTOR_COLUMNS))
    writer.flush()
    return osp.join(writer.get_logdir(), f'{step:05d}', tag)
