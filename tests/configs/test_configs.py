"""Every pretraining config builds its model and its data pipeline."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import DefaultScope

from hclmm.registry import MODELS, TRANSFORMS
from hclmm.utils import register_all_modules

from hclmm_test_utils import REPO

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'hcl', '*.py')))


@pytest.fixture(autouse=True, scope='module')
def scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('hclmm'):
        yield


def test_every_base_has_hcl_and_baseline_twins():
    names = {osp.basename(c) for c in CONFIGS}
    for ds in ('coco', 'openimages'):
        for algo in ('mocov2', 'simclr', 'byol', 'densecl'):
            name = f'{algo}_resnet50_8xb16-coslr-200e_{ds}.py'
            assert name in names and f'hcl-{name}' in names
            assert f'hcl-{name[:-3]}_paper-loss.py' in names
    assert {'hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py',
            'hcl-mocov2_resnet18_1xb32-8e_toy-scenes_paper-loss.py',
            'hcl-mocov2_resnet18_1xb32-8e_toy-scenes_lorentz.py',
            'mocov2_resnet18_1xb32-8e_toy-scenes.py'} <= names


def _sample(h=300, w=400):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    boxes = [[10, 20, 120, 150], [150, 30, 260, 200], [200, 180, 390, 290]]
    return dict(
        img=img, img_shape=(h, w), ori_shape=(h, w), img_id=1,
        img_path='synthetic.jpg',
        instances=[dict(bbox=b, bbox_label=i) for i, b in enumerate(boxes)])


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_model_and_pipeline(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'hclmm'
    model = MODELS.build(cfg.model)
    is_hcl = osp.basename(path).startswith('hcl-')
    assert (model.hyp_head is not None) == is_hcl
    if is_hcl:
        head = model.hyp_head
        assert head.contrast_loss.loss_weight == pytest.approx(0.1)
        manifold = next((name for name in ('lorentz', 'euclidean')
                         if path.endswith(f'_{name}.py')), 'poincare')
        # flat space has no curvature (None), the two hyperbolic models 0.05
        assert head.manifold.c_value() == (
            None if manifold == 'euclidean' else pytest.approx(0.05))
        # the flagship configs train the recipe; `_paper-loss` twins do not
        recipe = head.embedder.scale_norm is not None and head.online_pair \
            and 'entail' in head.pair_losses and head.embedder.norm_only_grad
        assert recipe != path.endswith('_paper-loss.py')
        assert head.manifold.name == manifold
    # the data pipeline, minus image loading, turns a sample into 4 views
    pipeline_cfg = cfg.train_dataloader.dataset.pipeline
    gpu_views = path.endswith('_gpu-views.py')
    assert pipeline_cfg[0]['type'] == \
        ('LoadSceneImageBytes' if gpu_views else 'LoadSceneImage')
    pipeline = Compose([TRANSFORMS.build(t) for t in pipeline_cfg[1:]])
    out = pipeline(_sample())
    size = 64 if 'toy' in path else 224
    if gpu_views:  # the views are made by the data preprocessor
        assert out['data_samples'].view_sizes.tolist() == [[size, size]] * 4
        assert type(model.data_preprocessor).__name__ == \
            'SceneObjectViewPreprocessor'
    else:
        views = out['inputs']
        assert len(views) == 4
        assert all(tuple(v.shape) == (3, size, size) for v in views)
    # and the head's feature size matches what the model projects
    if is_hcl:
        model.eval()
        with torch.no_grad():
            u = model.online_projection(torch.zeros(2, 3, 64, 64))
        assert u.shape[1] == model.hyp_head.feat_dim


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_zero_shot_evaluation_is_configured(path):
    """COCO and toy configs evaluate the zero-shot metrics on their val
    split (`tools/test.py`, the val loop); OpenImages ones have it off."""
    cfg = Config.fromfile(path)
    if 'openimages' in path:
        assert cfg.val_dataloader is None and cfg.test_dataloader is None
        return
    for split in ('val', 'test'):
        loader = cfg[f'{split}_dataloader']
        assert loader.dataset.type == 'SceneObjectCropDataset'
        assert cfg[f'{split}_evaluator'].type == 'SceneObjectMetric'
        want = 'annotations/val.json' if 'toy' in path else \
            'annotations/instances_val2017.json'
        assert loader.dataset.ann_file == want
        keys = loader.dataset.pipeline[-1]['meta_keys']
        assert {'sample_idx', 'scene_index', 'is_scene'} <= set(keys)
