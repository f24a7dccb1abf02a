"""The HCL recipe stays finite on scenes whose boxes are nested.

When every box drawn for a scene lies inside the object's box, the scene
crop is the object crop and the online pair's two points nearly coincide:
the apex of the entailment cone, where the exterior angle's gradient grows
as 1/distance. Untapered, that term blew up real-photo runs (grad_norm 2 ->
3.6e6 in one step, conv weights x500, BatchNorm variances 5e7). This trains
the toy recipe on generated scenes made of nested boxes and checks that the
gradient norm, the weights and the BatchNorm statistics stay bounded.
"""
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from hclmm.utils import register_all_modules
from hclmm_test_utils import REPO

CONFIG = f'{REPO}/configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py'


def _texture(rng, h, w):
    """A smooth random colour field with some stripes."""
    small = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    period = int(rng.integers(4, 12))
    img[::period] = rng.integers(0, 255, 3)
    return img


def make_nested_scenes(root, num_images=12, size=96, seed=0):
    """COCO-format scenes: an outer box holding one or two inner boxes (the
    person with a dog and a ball), textured differently. Drawing the outer
    box as the object gives a scene crop equal to the object crop."""
    rng = np.random.default_rng(seed)
    (root / 'images').mkdir(parents=True)
    images, anns = [], []
    for i in range(num_images):
        img = _texture(rng, size, size)
        x1, y1 = rng.integers(0, 16, 2)
        x2, y2 = size - rng.integers(0, 16, 2)
        outer = [int(x1), int(y1), int(x2), int(y2)]
        boxes = [(outer, 1)]
        for j in range(int(rng.integers(1, 3))):
            w, h = rng.integers(18, 34, 2)
            ix = int(rng.integers(outer[0], outer[2] - w))
            iy = int(rng.integers(outer[1], outer[3] - h))
            inner = [ix, iy, ix + int(w), iy + int(h)]
            img[iy:iy + h, ix:ix + w] = _texture(rng, int(h), int(w))
            boxes.append((inner, 2 + j))
        name = f'{i:03d}.png'
        cv2.imwrite(str(root / 'images' / name), img)
        images.append(dict(id=i + 1, file_name=name, width=size,
                           height=size))
        for (bx1, by1, bx2, by2), cat in boxes:
            anns.append(dict(id=len(anns) + 1, image_id=i + 1,
                             category_id=cat, iscrowd=0,
                             bbox=[bx1, by1, bx2 - bx1, by2 - by1],
                             area=float((bx2 - bx1) * (by2 - by1))))
    cats = [dict(id=k, name=n) for k, n in
            ((1, 'person'), (2, 'dog'), (3, 'ball'))]
    (root / 'train.json').write_text(
        json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return root


def _small_views(pipeline, size=32):
    for t in pipeline:
        if t['type'] == 'SceneObjectViews':
            t['object_view_pipeline'][0]['scale'] = size
            t['scene_view_pipeline'][0]['scale'] = (size, size)
            t['jitter_area'] = 0
    return pipeline


@pytest.fixture(scope='module')
def nested_run(tmp_path_factory):
    root = make_nested_scenes(tmp_path_factory.mktemp('nested'))
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(root / 'work')
    cfg.model.queue_len = 32
    cfg.model.hyp_head.queue_len = 32
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_dataloader.dataset.update(
        data_root=str(root), ann_file='train.json',
        data_prefix=dict(img='images/'), min_box_size=8,
        pipeline=_small_views(cfg.train_dataloader.dataset.pipeline))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=36)
    # the toy lr scaled to batch 4 (as --auto-scale-lr does), no schedule
    cfg.optim_wrapper.optimizer.lr = 0.06 * 4 / 32
    cfg.param_scheduler = []
    cfg.custom_hooks = []
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1000)
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    runner = Runner.from_cfg(cfg)
    start = {k: v.clone() for k, v in runner.model.state_dict().items()
             if k.startswith('backbone.') and k.endswith('conv1.weight')}
    runner.train()
    return runner, start


def test_gradients_weights_and_statistics_stay_bounded(nested_run):
    runner, start = nested_run
    hub = runner.message_hub
    grad_norm = np.array(hub.get_scalar('train/grad_norm').data[0])
    assert len(grad_norm) == 36
    assert np.isfinite(grad_norm).all()
    # Measured in this setup (36 iterations): the first step of a fresh
    # model reaches ~200-300 for every model, then the recipe stays below 40
    # (MoCo v2 baseline 28); the stem grows x2.9 (baseline x3.7) and the
    # largest BatchNorm running variance is 415 (baseline 407). The failure
    # this guards against: grad_norm 2 -> 3.6e6 in one step, conv weights
    # x500, running variances 5.5e7.
    assert grad_norm.max() < 1e3, grad_norm
    assert grad_norm[6:].max() < 100, grad_norm
    # the fraction of pairs at the cone's apex is logged every iteration
    apex = np.array(hub.get_scalar('train/entail_apex_frac').data[0])
    assert len(apex) == 36 and ((apex >= 0) & (apex <= 1)).all()
    state = runner.model.state_dict()
    for key, before in start.items():
        ratio = (state[key].norm() / before.norm()).item()
        assert ratio < 10, (key, ratio)
    running_var = [v for k, v in state.items()
                   if k.startswith('backbone.') and k.endswith('running_var')]
    assert max(float(v.max()) for v in running_var) < 1e4
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())
