"""Every toy transfer config validates with its library's real metric.

Each config trains two iterations on tiny generated scenes, then its own
validation loop runs: mmdet's ``CocoMetric`` (boxes, and masks for Mask
R-CNN), mmseg's ``IoUMetric`` and mmpretrain's ``Accuracy``, exactly as
``tools/train.py`` and the transfer suite run them. The metrics the
evaluator returns are checked for their keys and ranges.
"""
import importlib.util
import math
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from hclmm_test_utils import REPO

BENCH = osp.join(REPO, 'configs', 'benchmarks')
IMG = 64


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    spec = importlib.util.spec_from_file_location(
        'make_toy_scenes',
        osp.join(REPO, 'tools', 'dataset_converters', 'make_toy_scenes.py'))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    root = tmp_path_factory.mktemp('toy_scenes')
    gen.make_toy_scenes(str(root), num_train=4, num_val=3, seed=1,
                        img_size=96)
    return str(root)


class MetricRecorder(Hook):
    """Keeps what each validation epoch returned."""
    priority = 'VERY_LOW'

    def __init__(self):
        self.metrics = []

    def after_val_epoch(self, runner, metrics=None):
        self.metrics.append(dict(metrics))


def _common(cfg, work_dir, toy_root):
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    cfg.randomness = dict(seed=0)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    for key in ('train_dataloader', 'val_dataloader'):
        loader = cfg[key]
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = toy_root
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    return cfg


def _shorten(cfg):
    """Two iterations (iteration-based configs) or one epoch, validated."""
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        cfg.train_cfg.update(max_iters=2, val_interval=2)
    else:
        cfg.train_cfg.update(max_epochs=1, val_interval=1)


def _det(name):
    def adapt(cfg, toy_root):
        cfg.train_dataloader.dataset.pipeline[2].scales = [(1333, IMG)]
        cfg.train_dataloader.batch_size = 2
        cfg.val_dataloader.batch_size = 2
        cfg.val_evaluator.ann_file = osp.join(toy_root, 'annotations',
                                              'val.json')
        cfg.model.train_cfg.rcnn.sampler.num = 16
        _shorten(cfg)
        cfg.param_scheduler = None
        return cfg
    return osp.join('mmdetection', 'toy_scenes', name), adapt


def _seg(name):
    def adapt(cfg, toy_root):
        cfg.model.data_preprocessor.size = (IMG, IMG)
        train = cfg.train_dataloader.dataset
        train.pipeline[2].scale = (IMG, IMG)
        train.pipeline[3].crop_size = (IMG, IMG)
        cfg.train_dataloader.batch_size = 2
        cfg.train_cfg.update(max_iters=2, val_interval=2)
        cfg.param_scheduler = None
        return cfg
    return osp.join('mmsegmentation', 'toy_scenes', name), adapt


def _cls(name):
    def adapt(cfg, toy_root):
        cfg.train_dataloader.dataset.indices = 4
        cfg.train_dataloader.batch_size = 2
        _shorten(cfg)
        cfg.param_scheduler = None
        return cfg
    return osp.join('classification', 'toy_scenes', name), adapt


def _in(lo, hi):
    return lambda v: lo <= v <= hi


COCO = _in(0.0, 1.0)
PERCENT = _in(0.0, 100.0)

# config: (where and how to shrink it, {metric key: valid range})
CASES = {
    'faster-rcnn': (_det('faster-rcnn_r18_fpn_1xb8-200it_toy-scenes.py'),
                    {'coco/bbox_mAP': COCO, 'coco/bbox_mAP_50': COCO}),
    'mask-rcnn': (_det('mask-rcnn_r18_fpn_1xb4-6e_toy-scenes.py'),
                  {'coco/bbox_mAP': COCO, 'coco/segm_mAP': COCO}),
    'semantic-fpn': (_seg('fpn_r18_1xb8-250it_toy-scenes-128x128.py'),
                     {'mIoU': PERCENT, 'aAcc': PERCENT, 'mAcc': PERCENT}),
    'fcn': (_seg('fcn_r18-d8_1xb4-2000it_toy-scenes-128x128.py'),
            {'mIoU': PERCENT, 'aAcc': PERCENT}),
    'upernet': (_seg('upernet_r18_1xb4-2000it_toy-scenes-128x128.py'),
                {'mIoU': PERCENT, 'aAcc': PERCENT}),
    'linear-500it': (_cls('resnet18_linear-1xb32-500it_toy-scenes.py'),
                     {'accuracy/top1': PERCENT, 'accuracy/top5': PERCENT}),
    'supervised': (_cls('resnet18_supervised-1xb32-8e_toy-scenes.py'),
                   {'accuracy/top1': PERCENT}),
    'linear': (_cls('resnet18_linear-1xb32-steplr-10e_toy-scenes.py'),
               {'accuracy/top1': PERCENT}),
}


@pytest.mark.parametrize('case', list(CASES))
def test_toy_config_validates_with_its_metric(case, toy_root, tmp_path):
    (path, adapt), expected = CASES[case]
    cfg = Config.fromfile(osp.join(BENCH, path))
    # random init: what is checked here is the evaluation, not the weights
    cfg.model.backbone.init_cfg = None
    cfg = adapt(_common(cfg, tmp_path, toy_root), toy_root)
    runner = Runner.from_cfg(cfg)
    recorder = MetricRecorder()
    runner.register_hook(recorder, priority='VERY_LOW')
    runner.train()

    assert len(recorder.metrics) == 1, recorder.metrics
    metrics = recorder.metrics[0]
    for key, valid in expected.items():
        assert key in metrics, f'{key} not in {sorted(metrics)}'
        value = float(metrics[key])
        assert math.isfinite(value) and valid(value), (key, value)
