"""The zero-shot metrics while pretraining runs: the val loop of a toy HCL
run (SceneObjectMetric on scene and object crops) logs at its interval, and
its numbers equal a hand computation on the trained weights."""
import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner

from fixtures.toy_scenes import make_toy_scenes
from hclmm.evaluation.functional import knn_top1
from hclmm.utils import register_all_modules

ROOT = Path(__file__).resolve().parents[2]
HCL_CONFIG = (ROOT / 'configs' / 'hcl' /
              'hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py')
SIZE = 32  # view and crop side


def _small_views(pipeline):
    """The config's scene-object pipeline with SIZE px views."""
    pipeline = copy.deepcopy(pipeline)
    for t in pipeline:
        if t['type'] == 'SceneObjectViews':
            t['object_view_pipeline'][0]['scale'] = SIZE
            t['scene_view_pipeline'][0]['scale'] = (SIZE, SIZE)
    return pipeline


def _small_crops(val_dataloader, toy):
    loader = copy.deepcopy(val_dataloader)
    loader.dataset.data_root = str(toy)
    loader.dataset.min_box_size = 4
    loader.batch_size = 8
    for t in loader.dataset.pipeline:
        if t['type'] == 'Resize':
            t['scale'] = (SIZE, SIZE)
    return loader


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Three one-iteration epochs of the toy HCL recipe, val every 2."""
    toy = make_toy_scenes(
        tmp_path_factory.mktemp('toy_scenes'), num_train=2, num_val=3,
        seed=5)
    register_all_modules()
    cfg = Config.fromfile(str(HCL_CONFIG))
    cfg.model.queue_len = 16
    cfg.model.hyp_head.queue_len = 16
    train_loader = dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'),
        dataset=dict(
            type='SceneObjectCocoDataset',
            data_root=str(toy),
            min_box_size=4,
            min_boxes=2,
            ann_file='annotations/train.json',
            data_prefix=dict(img='images/train/'),
            pipeline=_small_views(cfg.train_dataloader.dataset.pipeline)))
    work_dir = tmp_path_factory.mktemp('work')
    # Built from parts rather than from the whole config, so that the runner
    # does not pretty-print a long config (slow on small machines).
    runner = Runner(
        model=cfg.model,
        work_dir=str(work_dir),
        train_dataloader=train_loader,
        val_dataloader=_small_crops(cfg.val_dataloader, toy),
        val_evaluator=cfg.val_evaluator,
        val_cfg=cfg.val_cfg,
        optim_wrapper=cfg.optim_wrapper,
        train_cfg=dict(
            type='EpochBasedTrainLoop', max_epochs=3, val_interval=2),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=100)),
        custom_hooks=cfg.custom_hooks,
        visualizer=dict(
            type='UniversalVisualizer',
            vis_backends=[dict(type='LocalVisBackend')],
            name='val_during_training_test'),
        default_scope='hclmm',
        randomness=dict(seed=0),
        experiment_name='val_during_training_test')
    runner.train()
    return runner


def _scalars(runner):
    path = Path(runner.log_dir) / 'vis_data' / 'scalars.json'
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_val_loop_logs_the_metrics_at_its_interval(trained):
    scalars = _scalars(trained)
    val = [s for s in scalars if 'zero_shot/object_knn_top1' in s]
    # by epoch with interval 2: after epoch 2 and after the last epoch
    assert [s['step'] for s in val] == [2, 3]
    assert {
        'zero_shot/scene_object_norm_auroc', 'zero_shot/scene_norm',
        'zero_shot/object_norm', 'zero_shot/object_knn_top1_backbone',
        'zero_shot/retrieval_class_map'
    } <= set(val[-1])
    # the head's batch statistics, every iteration
    train = [s for s in scalars if 'loss' in s]
    assert len(train) == 3
    for rec in train:
        for key in ('scene_norm', 'object_norm', 'proj_norm', 'norm_spread'):
            assert math.isfinite(rec[key]) and rec[key] > 0, (key, rec)


def test_val_numbers_match_a_hand_computation(trained):
    model = trained.model.eval()
    loader = trained.val_dataloader
    pooled, points, labels, is_scene = [], [], [], []
    with torch.no_grad():
        for data in loader:
            x = model.data_preprocessor(data, False)['inputs']
            f = model.extract_feat(x)[-1].mean((2, 3))
            pooled.append(F.normalize(f.double(), dim=1))
            u = model.online_projection(x)
            points.append(model.hyp_head.to_manifold(u).double())
            for s in data['data_samples']:
                is_scene.append(bool(s.is_scene))
                labels.append(int(s.object_label))
    model.train()
    pooled, points = torch.cat(pooled), torch.cat(points)
    is_scene, labels = np.array(is_scene), np.array(labels)
    last = [s for s in _scalars(trained) if 'zero_shot/scene_norm' in s][-1]
    # leave-one-out 1-NN of the objects by cosine distance of pooled
    # backbone features
    obj = torch.from_numpy(~is_scene)
    cosine_dist = (1 - pooled[obj] @ pooled[obj].T).numpy()
    assert last['zero_shot/object_knn_top1_backbone'] == pytest.approx(
        knn_top1(cosine_dist, labels[~is_scene]))
    # mean Poincare distance to the origin (c = 0.05) of the scenes
    c = 0.05
    hyp = 2 / math.sqrt(c) * torch.atanh(math.sqrt(c) * points.norm(dim=1))
    assert last['zero_shot/scene_norm'] == pytest.approx(
        float(hyp[~obj].mean()), rel=1e-4)
    assert last['zero_shot/object_norm'] == pytest.approx(
        float(hyp[obj].mean()), rel=1e-4)
