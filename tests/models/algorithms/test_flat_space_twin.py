"""The flat-space ablation: the toy HCL recipe with ``Euclidean`` in place of
the Poincare ball trains through ``tools/train.py`` and is evaluated by the
val loop like the hyperbolic configs."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from fixtures.toy_scenes import make_toy_scenes
from hclmm.geometry import Euclidean, build_manifold
from hclmm.registry import MODELS
from hclmm.utils import register_all_modules
from hclmm_test_utils import REPO, run_cli

register_all_modules(init_default_scope=False)

FLAT_CFG = osp.join(REPO, 'configs', 'hcl',
                    'hcl-mocov2_resnet18_1xb32-8e_toy-scenes_euclidean.py')
BALL_CFG = osp.join(REPO, 'configs', 'hcl',
                    'hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py')


def test_euclidean_has_the_manifold_interface():
    flat = build_manifold(dict(type='Euclidean'))
    assert flat.curvature.learnable is False
    assert float(flat.c) == 0.0
    assert flat.c_value() is None
    assert flat.config() == dict(type='Euclidean')
    assert flat.state_dict() == {}
    x = torch.tensor([[3.0, 4.0]])
    assert float(flat.dist0(x)) == pytest.approx(5.0)


def test_twin_differs_from_the_recipe_only_in_the_space():
    flat, ball = Config.fromfile(FLAT_CFG), Config.fromfile(BALL_CFG)
    assert flat.model.hyp_head.embedder.manifold == dict(type='Euclidean')
    for cfg in (flat, ball):
        cfg.model.hyp_head.embedder.pop('manifold')
    assert flat.to_dict() == ball.to_dict()
    flat_head = MODELS.build(Config.fromfile(FLAT_CFG).model.hyp_head)
    ball_head = MODELS.build(Config.fromfile(BALL_CFG).model.hyp_head)
    assert isinstance(flat_head.manifold, Euclidean)
    # clip_r and scale_norm are distances to the origin in both spaces
    # (the flat metric is half the ball's at the origin): the same largest
    # and typical norms
    u = torch.randn(16, 8) * torch.logspace(-1, 1, 16)[:, None]
    norms = [
        h.manifold.dist0(h.embedder.embed(u, batch_stats=True)[0])
        for h in (flat_head.train(), ball_head.train())
    ]
    for n in norms:
        assert n.max().item() == pytest.approx(4.6, rel=1e-4)
    torch.testing.assert_close(norms[0], norms[1], rtol=1e-5, atol=1e-6)


def test_flat_twin_trains_and_validates(tmp_path):
    root = make_toy_scenes(tmp_path / 'toy', num_train=4, num_val=2, seed=0)
    work_dir = tmp_path / 'work'
    run_cli([
        sys.executable, 'tools/train.py', FLAT_CFG, '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1',
        'param_scheduler=[]',  # the cosine begins after epoch 1
        'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1', 'randomness.seed=0'
    ])
    assert (work_dir / 'epoch_1.pth').is_file()
    state = torch.load(work_dir / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert not any('curvature' in k for k in state)
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert scalars
    records = [json.loads(line) for line in scalars[-1].read_text().split(
        '\n') if line.strip()]
    train = [r for r in records if 'loss_hyp' in r]
    assert len(train) == 2  # 4 images, batches of 2
    for rec in train:
        for key in ('loss', 'loss_hyp', 'loss_entail', 'scene_norm',
                    'object_norm'):
            assert torch.isfinite(torch.tensor(rec[key])), (key, rec)
        assert 'curvature' not in rec
    val = [r for r in records if any(k.startswith('zero_shot/') for k in r)]
    assert val, records
    assert all(torch.isfinite(torch.tensor(float(v)))
               for k, v in val[-1].items()
               if k.startswith('zero_shot/') and v is not None)
