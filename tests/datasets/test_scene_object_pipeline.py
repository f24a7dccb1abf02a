"""The real pipeline, batched as mmengine does, through mmpretrain's
SelfSupDataPreprocessor; and object crops for classification tools."""
import numpy as np
import torch
from dataset_helpers import toy_paths
from mmengine.runner import Runner

from hclmm.datasets import ObjectCropDataset, SceneObjectCocoDataset
from hclmm.registry import MODELS

OBJ, SCENE = 32, 48


def object_view_pipeline(size=OBJ):
    """MoCo v2 view augmentations at a small size."""
    return [
        dict(type='RandomResizedCrop', scale=size, crop_ratio_range=(0.2, 1.),
             backend='pillow'),
        dict(type='RandomApply', prob=0.8, transforms=[
            dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.4, hue=0.1, hue_backend='cv2')
        ]),
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.2989)),
        dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
             magnitude_std='inf', prob=0.5, backend='cv2'),
        dict(type='RandomFlip', prob=0.5),
    ]


def scene_view_pipeline(size=SCENE):
    return [
        dict(type='Resize', scale=(size, size), keep_ratio=False),
        dict(type='RandomApply', prob=0.8, transforms=[
            dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.4, hue=0.1, hue_backend='cv2')
        ]),
        dict(type='GaussianBlur', magnitude_range=(0.1, 2.0),
             magnitude_std='inf', prob=0.5, backend='cv2'),
        dict(type='RandomFlip', prob=0.5),
    ]


def train_pipeline(with_hyperbolic_views=True):
    return [
        dict(type='LoadSceneImage'),
        dict(type='SceneObjectViews',
             object_view_pipeline=object_view_pipeline(),
             scene_view_pipeline=scene_view_pipeline(),
             with_hyperbolic_views=with_hyperbolic_views,
             jitter_area=24 * 24),
        dict(type='PackInputs',
             meta_keys=('img_id', 'object_bbox', 'scene_bbox',
                        'object_label', 'num_objects', 'scene_type')),
    ]


def _loader(toy_root, collate, pipeline, batch_size=3):
    return Runner.build_dataloader(
        dict(
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
            collate_fn=dict(type=collate),
            dataset=dict(
                type='SceneObjectCocoDataset',
                min_box_size=8,
                pipeline=pipeline,
                **toy_paths(toy_root))),
        seed=0)


def test_batch_through_selfsup_data_preprocessor(toy_root):
    loader = _loader(toy_root, 'default_collate', train_pipeline())
    batch = next(iter(loader))
    assert isinstance(batch['inputs'], list) and len(batch['inputs']) == 4
    preprocessor = MODELS.build(
        dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
             std=[58.395, 57.12, 57.375], to_rgb=True))
    out = preprocessor(batch, training=True)
    views = out['inputs']
    assert [tuple(v.shape) for v in views] == [(3, 3, OBJ, OBJ)] * 2 + \
        [(3, 3, SCENE, SCENE)] * 2
    assert all(v.dtype == torch.float32 for v in views)
    # normalised: not raw 0..255 pixels any more
    assert all(v.abs().max() < 5 for v in views)
    samples = out['data_samples']
    assert len(samples) == 3
    ds = loader.dataset
    for s in samples:
        x1, y1, x2, y2 = s.object_bbox
        sx1, sy1, sx2, sy2 = s.scene_bbox
        assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64
        assert 0 <= sx1 < sx2 <= 64 and 0 <= sy1 < sy2 <= 64
        assert 0 <= s.object_label < len(ds.metainfo['classes'])
        assert s.num_objects >= 1
        assert s.scene_type in ds.metainfo['scene_types']
        assert isinstance(s.img_id, int)


def test_two_view_variant_and_pseudo_collate(toy_root):
    loader = _loader(toy_root, 'default_collate',
                     train_pipeline(with_hyperbolic_views=False))
    batch = next(iter(loader))
    assert [tuple(v.shape) for v in batch['inputs']] == [(3, 3, OBJ, OBJ)] * 2

    loader = _loader(toy_root, 'pseudo_collate', train_pipeline())
    batch = next(iter(loader))
    # pseudo_collate transposes: 4 views, each a sequence of 3 samples
    assert len(batch['inputs']) == 4
    assert all(len(view) == 3 for view in batch['inputs'])
    assert tuple(batch['inputs'][2][0].shape) == (3, SCENE, SCENE)
    assert tuple(batch['inputs'][0][1].shape) == (3, OBJ, OBJ)


def test_object_crop_dataset_for_classification(toy_root):
    pipeline = [
        dict(type='LoadSceneImage'),
        dict(type='CropObjectBox', context=0.1),
        dict(type='Resize', scale=(24, 24), keep_ratio=False),
        dict(type='PackInputs'),
    ]
    ds = ObjectCropDataset(
        min_box_size=8, pipeline=pipeline, **toy_paths(toy_root, 'val'))
    raw = ObjectCropDataset(min_box_size=8, **toy_paths(toy_root, 'val'))
    # one sample per kept box
    scenes = SceneObjectCocoDataset(min_box_size=8, min_boxes=1,
                                    **toy_paths(toy_root, 'val'))
    num_boxes = sum(
        len(scenes.get_data_info(i)['instances']) for i in range(len(scenes)))
    assert len(ds) == num_boxes > 0
    labels = ds.get_gt_labels()
    assert labels.shape == (len(ds), ) and labels.dtype.kind == 'i'
    for i in range(min(len(ds), 6)):
        info = raw.get_data_info(i)
        assert info['gt_label'] == labels[i]
        assert ds.get_cat_ids(i) == [int(labels[i])]
        assert info['category_id'] == ds.metainfo['category_ids'][labels[i]]
        assert 'out_of_context' in info and 'scene_type' in info
        item = ds[i]
        assert tuple(item['inputs'].shape) == (3, 24, 24)
        assert int(item['data_samples'].gt_label) == labels[i]


def test_crop_object_box_pixels_and_context():
    from hclmm.datasets.transforms import CropObjectBox
    yy, xx = np.mgrid[0:50, 0:80]
    img = np.stack([xx, yy, xx * 0], -1).astype(np.uint8)
    out = CropObjectBox()(dict(img=img, bbox=[10, 5, 30, 45]))
    assert out['img'].shape[:2] == (40, 20)
    assert out['img'][0, 0, 0] == 10 and out['img'][0, 0, 1] == 5
    out = CropObjectBox(context=0.5)(dict(img=img, bbox=[10, 5, 30, 45]))
    assert out['crop_bbox'].tolist() == [0, 0, 40, 50]  # clipped
    out = CropObjectBox(square=True)(dict(img=img, bbox=[10, 5, 30, 45]))
    assert out['crop_bbox'].tolist() == [0, 5, 40, 45]
