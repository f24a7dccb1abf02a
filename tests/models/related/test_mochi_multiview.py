"""MoCHi and multi-view contrast (MV-InfoNCE, MV-DHEL): the configs build,
the toy configs train for a few iterations, the multi-view algorithm hands
the views to its loss in the right order, and the multi-view transform."""
import copy
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from hclmm.models.losses import mv_dhel
from hclmm.registry import MODELS, TRANSFORMS
from hclmm.utils import register_all_modules

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = sorted(
    p for d in ('mochi', 'mvcl')
    for p in glob.glob(osp.join(REPO, 'configs', d, '*.py')))


@pytest.fixture(autouse=True, scope='module')
def scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('hclmm'):
        yield


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    import importlib.util
    path = osp.join(REPO, 'tools', 'dataset_converters', 'make_toy_scenes.py')
    spec = importlib.util.spec_from_file_location('make_toy_scenes', path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    root = tmp_path_factory.mktemp('toy_scenes')
    gen.make_toy_scenes(str(root), num_train=4, num_val=2, seed=0, img_size=64)
    return str(root)


def test_configs_cover_both_objectives_at_both_scales():
    names = {osp.basename(p) for p in CONFIGS}
    assert {
        'mochi-mocov2_resnet18_1xb32-2e_toy-scenes.py',
        'hypcon-mochi-mocov2_resnet18_1xb32-2e_toy-scenes.py',
        'mochi-mocov2_resnet50_8xb32-coslr-200e_in1k.py',
        'mocov2_resnet50_8xb32-coslr-200e_in1k.py',
    } <= names
    for loss in ('mv-infonce', 'mv-dhel'):
        for views, batch in (('2view', 32), ('4view', 16)):
            assert (f'{loss}_resnet18_1xb{batch}-194it_toy-scenes_{views}.py'
                    in names)
            assert (f'{loss}_resnet50_8xb32-coslr-200e_in1k_{views}.py'
                    in names)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_sets_the_objective(path):
    """Every config names the objective; the toy ones build their model
    (the ResNet-50 ones only differ in backbone and data)."""
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'hclmm'
    name = osp.basename(path)
    head = cfg.model.head
    if name.startswith('mv-'):
        assert cfg.model.type == 'MultiViewSimCLR'
        assert head.loss.type == ('MVDHELLoss'
                                  if 'dhel' in name else 'MVInfoNCELoss')
        views = [
            t for t in cfg.train_dataloader.dataset.pipeline
            if 'MultiView' in t['type']
        ][0]['num_views']
        assert views == (4 if '4view' in name else 2)
    else:
        assert cfg.model.type == 'MoCHi'
        mixing = head.get('mixing')
        if name.startswith('mocov2'):
            assert mixing is None
        else:
            expected = (256, 128, 64) if 'toy' in name else (1024, 512, 256)
            assert (mixing.num_hard, mixing.num_mix,
                    mixing.num_query_mix) == expected
    if 'toy' in name:
        model = MODELS.build(cfg.model)
        assert type(model).__name__ == cfg.model.type


TOY_TRAINED = [
    'mochi/mochi-mocov2_resnet18_1xb32-2e_toy-scenes.py',
    'mvcl/mv-dhel_resnet18_1xb16-194it_toy-scenes_4view.py',
]


@pytest.mark.parametrize('name', TOY_TRAINED)
def test_toy_config_trains_a_few_iterations(name, toy_root, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.update(
        batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = toy_root
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_processor = dict(by_epoch=False)
    if cfg.model.type == 'MoCHi':
        cfg.model.queue_len = 8
        cfg.model.head.mixing.update(num_hard=4, start_epoch=0)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    if cfg.model.type == 'MoCHi':
        first_key = model.queue[:, :4].clone()
    runner.train()
    assert runner.iter == 2
    if cfg.model.type == 'MoCHi':
        assert model.head.mixing.active
        # two batches of 4 keys went into the queue of 8
        assert not torch.equal(model.queue[:, :4], first_key)
        assert int(model.queue_ptr) == 0
    scalars = runner.message_hub.log_scalars
    assert np.isfinite(scalars['train/loss'].current())


def test_multiview_simclr_hands_sample_major_views_to_the_loss():
    model = MODELS.build(
        dict(
            type='MultiViewSimCLR',
            data_preprocessor=dict(
                type='SelfSupDataPreprocessor',
                mean=[0., 0., 0.],
                std=[1., 1., 1.]),
            backbone=dict(type='ResNet', depth=18),
            neck=dict(
                type='NonLinearNeck',
                in_channels=512,
                hid_channels=24,
                out_channels=12,
                num_layers=1,
                with_avg_pool=True),
            head=dict(
                type='MultiViewContrastiveHead',
                loss=dict(type='MVDHELLoss', temperature=0.5))))
    model.eval()  # batch statistics would differ between the two passes
    torch.manual_seed(0)
    views = [torch.randn(3, 3, 32, 32) for _ in range(3)]
    loss = model.loss(views, [])['loss']
    with torch.no_grad():
        z = torch.stack([model.neck(model.backbone(v))[0] for v in views], 1)
    assert loss.item() == pytest.approx(mv_dhel(z, 0.5).item(), rel=1e-4)
    with pytest.raises(ValueError, match='M >= 2 views'):
        model.loss(views[:1], [])


def _object_sample():
    rng = np.random.default_rng(0)
    return dict(
        img=rng.integers(0, 255, (128, 128, 3), dtype=np.uint8),
        img_shape=(128, 128),
        bbox=[40., 40., 80., 90.],
        gt_label=2)


def test_object_multi_view_crops_each_view_with_its_own_context():
    view = TRANSFORMS.build(
        dict(
            type='ObjectMultiView',
            num_views=4,
            context_range=(0.0, 0.5),
            transforms=[]))
    np.random.seed(0)
    out = view(copy.deepcopy(_object_sample()))
    shapes = [v.shape for v in out['img']]
    assert len(shapes) == 4
    # box 40 x 50 with 0..50% margin per side: 40..80 x 50..100 pixels
    assert all(40 <= w <= 80 and 50 <= h <= 100 for h, w, _ in shapes)
    assert len(set(shapes)) > 1
    assert out['gt_label'] == 2


@pytest.mark.parametrize('loss', ['mv-infonce', 'mv-dhel'])
def test_imagenet_four_view_pipeline_runs(loss):
    """The ImageNet 4-view configs restate the SimCLR augmentations so that
    they are built in hclmm's scope; one sample goes through."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'mvcl',
                 f'{loss}_resnet50_8xb32-coslr-200e_in1k_4view.py'))
    views = TRANSFORMS.build(cfg.train_dataloader.dataset.pipeline[1])
    rng = np.random.default_rng(0)
    out = views(
        dict(
            img=rng.integers(0, 255, (48, 64, 3), dtype=np.uint8),
            img_shape=(48, 64)))
    assert [v.shape for v in out['img']] == [(224, 224, 3)] * 4


def test_object_multi_view_without_a_box_crops_the_whole_image():
    view = TRANSFORMS.build(
        dict(
            type='ObjectMultiView',
            num_views=3,
            context_range=None,
            transforms=[
                dict(type='RandomResizedCrop', scale=32, backend='pillow')
            ]))
    out = view(copy.deepcopy(_object_sample()))
    assert [v.shape for v in out['img']] == [(32, 32, 3)] * 3
    with pytest.raises(ValueError, match='num_views'):
        TRANSFORMS.build(
            dict(type='ObjectMultiView', num_views=1, transforms=[]))

