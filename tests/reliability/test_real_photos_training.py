"""The toy HCL recipe trains on real photographs without a non-finite step.

``tools/train.py`` runs the toy recipe config retargeted to the real-photo
fixture (``configs/hcl-mocov2_resnet18_toy-scenes_real-photos.py``: the
recipe's model, head, optimizer and hooks; 32 px views, batch 4, 10
iterations): grayscale, CMYK, RGBA and EXIF-rotated files, nested boxes and a
crowd box go through ``LoadSceneImage`` and ``SceneObjectViews`` into real
training steps. Every logged loss and gradient norm (mmengine puts
``train/grad_norm`` into the message hub because the schedule sets
``clip_grad``) must be finite, and the recipe's kNN and norm hooks must
report finite numbers on the photographs.
"""
import json
import math
import os.path as osp

import pytest

pytest.importorskip('skimage')

from fixtures.real_photos import make_real_photos  # noqa: E402
from reliability_utils import (CFG_DIR, launch_train, read_scalars,  # noqa
                               run_dirs)

CFG = osp.join(CFG_DIR, 'hcl-mocov2_resnet18_toy-scenes_real-photos.py')
ITERS = 10


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('real_photos_training')
    root = make_real_photos(tmp / 'photos')
    proc = launch_train(tmp / 'work', tmp, 'train', cfg=CFG, data_root=root,
                        options=[f'val_dataloader.dataset.data_root={root}'])
    proc.wait(timeout=300).check()
    dirs = run_dirs(tmp / 'work')
    assert dirs, proc.explain()
    with open(osp.join(dirs[-1], 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return proc, read_scalars(dirs[-1]), records


def test_every_step_has_finite_losses_and_grad_norm(run):
    proc, scalars, _ = run
    assert sorted(scalars) == list(range(1, ITERS + 1)), proc.explain()
    for it, rec in scalars.items():
        for key in ('loss', 'loss_hyp', 'grad_norm', 'lr'):
            assert key in rec, (it, sorted(rec))
            assert math.isfinite(rec[key]), (it, key, rec[key])
        assert rec['grad_norm'] > 0, (it, rec)
    # the hyperbolic branch is active, not a zero term
    assert max(rec['loss_hyp'] for rec in scalars.values()) > 1e-4
    out = proc.stdout + proc.stderr
    assert '7/7 images and 32/33 boxes kept; dropped 1 crowd' in out, \
        proc.explain()


def test_val_loop_reports_on_the_photographs(run):
    _, _, records = run
    # the val loop writes its own record (a "step", no "iter") once, after
    # the last iteration
    val = {}
    for rec in records:
        if 'iter' not in rec:
            assert rec['step'] == ITERS, rec
            val.update(rec)
    assert 0.0 <= val['zero_shot/object_knn_top1_backbone'] <= 1.0, \
        sorted(val)
    assert val['zero_shot/num_objects'] == 32, val
    for key in ('zero_shot/scene_norm', 'zero_shot/object_norm'):
        assert math.isfinite(val[key]) and val[key] > 0, (key, val)
