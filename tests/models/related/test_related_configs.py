"""Every config of the related objectives builds its model; the toy ones
also build their object-crop data pipeline."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

from hclmm.registry import MODELS, TRANSFORMS
from hclmm.utils import register_all_modules

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = sorted(
    p for d in ('hypcon', 'dcl', 'snclr')
    for p in glob.glob(osp.join(REPO, 'configs', d, '*.py')))

EXPECTED = {'SimCLR', 'MoCo', 'HypSimCLR', 'HypMoCo', 'HypSupCon', 'SNCLR'}


@pytest.fixture(autouse=True, scope='module')
def scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('hclmm'):
        yield


def test_every_objective_has_a_toy_config():
    names = {osp.basename(p) for p in CONFIGS}
    assert {
        'snclr_resnet18_1xb32-2e_toy-scenes.py',
        'hypcon-simclr_resnet18_1xb32-2e_toy-scenes.py',
        'hypcon-mocov2_resnet18_1xb32-2e_toy-scenes.py',
        'hypsupcon_resnet18_1xb32-2e_toy-scenes.py',
        'dcl-simclr_resnet18_1xb32-2e_toy-scenes.py',
        'dclw-simclr_resnet18_1xb32-2e_toy-scenes.py',
        'dcl-mocov2_resnet18_1xb32-2e_toy-scenes.py'
    } <= names
    assert {
        'snclr_resnet50_16xb256-amp-coslr-200e_in1k.py',
        'snclr_vit-small-p16_16xb256-amp-coslr-300e_in1k.py'
    } <= names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'hclmm'
    model = MODELS.build(cfg.model)
    assert type(model).__name__ in EXPECTED
    name = osp.basename(path)
    head = type(model.head).__name__
    if name.startswith(('dcl-', 'dclw-')):
        assert head == 'DCLHead'
        assert model.head.sigma == (0.5 if name.startswith('dclw') else None)
    if name.startswith(('hypcon', 'hypsupcon')):
        assert head == 'HyperbolicContrastiveHead'
        assert model.head.manifold.c_value() == pytest.approx(0.1)
    if name.startswith('snclr'):
        assert model.head.loss_module.temperature == pytest.approx(0.2)
        if 'in1k' in name:
            assert (model.bank_size, model.topk) == (128000, 30)
        if 'vit-small' in name:
            assert type(model.backbone).__name__ == 'VisionTransformer'
            assert model.backbone.embed_dims == 384
            assert len(model.backbone.layers) == 12


def _crop_sample():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)
    return dict(
        img=img,
        img_shape=(128, 128),
        ori_shape=(128, 128),
        img_id=1,
        img_path='synthetic.png',
        bbox=[20., 30., 70., 90.],
        gt_label=3)


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if 'toy-scenes' in p], ids=osp.basename)
def test_toy_config_makes_two_labelled_views_of_a_crop(path):
    cfg = Config.fromfile(path)
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'ObjectCropDataset'
    assert dataset.pipeline[0]['type'] == 'LoadSceneImage'
    pipeline = Compose([TRANSFORMS.build(t) for t in dataset.pipeline[1:]])
    out = pipeline(_crop_sample())
    assert len(out['inputs']) == 2
    assert all(tuple(v.shape) == (3, 64, 64) for v in out['inputs'])
    assert int(out['data_samples'].gt_label) == 3
    # the views feed the model: one loss step on a batch of two
    model = MODELS.build(cfg.model)
    if hasattr(model, 'queue_len'):
        model.queue = model.queue[:, :8]
        model.queue_len = 8
    MessageHub.get_current_instance().update_info('max_iters', 10)
    data = model.data_preprocessor(
        dict(
            inputs=[torch.stack([v, v]) for v in out['inputs']],
            data_samples=[out['data_samples']] * 2), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert torch.isfinite(losses['loss'])
