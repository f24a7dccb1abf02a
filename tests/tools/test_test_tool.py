"""``tools/test.py`` has mmpretrain's ``--out``/``--out-item``: ``pred``
(the default) writes each sample's embedding, norm and label to a .pkl
file, ``metrics`` the metrics dict; a missing test file stops it with one
line."""
import json
import shutil
import sys

import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config

from fixtures.toy_scenes import make_toy_scenes
from hclmm.geometry import build_manifold
from hclmm_test_utils import run_cli, toy_hcl_config



@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Toy scenes (2 train, 3 val images) and an untrained HCL model saved
    as a checkpoint."""
    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    root = tmp_path_factory.mktemp('test_tool')
    make_toy_scenes(root / 'toy', num_train=2, num_val=3, seed=1)
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(toy_hcl_config()).model)
    model.hyp_head.embedder.running_scale.fill_(2.0)
    path = root / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return root, path


def _test_tool(root, path, *args, check=True):
    return run_cli([
        sys.executable, 'tools/test.py', toy_hcl_config(), str(path),
        '--work-dir', str(root / 'work'), *args
    ], timeout=600, check=check)


def _data_root(root):
    return f'test_dataloader.dataset.data_root={root / "toy"}'


def test_out_pred_writes_embedding_norm_and_label_of_every_sample(
        checkpoint):
    root, path = checkpoint
    out = root / 'pred.pkl'
    _test_tool(root, path, '--out', str(out), '--cfg-options',
               _data_root(root), 'test_dataloader.batch_size=4')
    samples = mmengine.load(str(out))
    val = json.loads((root / 'toy' / 'annotations' / 'val.json').read_text())
    assert len(samples) == len(val['images']) + len(val['annotations'])
    assert [s['sample_idx'] for s in samples] == list(range(len(samples)))
    scenes = [s for s in samples if s['is_scene']]
    objects = [s for s in samples if not s['is_scene']]
    assert len(scenes) == len(val['images'])
    assert {s['label'] for s in scenes} == {-1}
    assert all(s['label'] >= 0 for s in objects)
    manifold = build_manifold(samples[0]['manifold'])
    assert samples[0]['manifold']['type'] == 'PoincareBall'
    points = np.stack([s['embedding'] for s in samples])
    assert points.dtype == np.float32 and points.shape[1] == 128
    norms = manifold.dist0(torch.from_numpy(points).double()).numpy()
    assert [s['norm'] for s in samples] == pytest.approx(norms, rel=1e-6)
    # each object points at its scene
    scene_ids = {s['scene_index'] for s in scenes}
    assert {s['scene_index'] for s in objects} <= scene_ids


def test_out_item_metrics_writes_the_metrics(checkpoint):
    root, path = checkpoint
    out = root / 'metrics.json'
    _test_tool(root, path, '--out', str(out), '--out-item', 'metrics',
               '--cfg-options', _data_root(root))
    metrics = json.loads(out.read_text())
    assert metrics['zero_shot/num_scenes'] == 3
    assert 'zero_shot/scene_object_norm_auroc' in metrics


def test_out_arguments_are_checked_before_anything_runs(checkpoint):
    root, path = checkpoint
    proc = _test_tool(root, path, '--out-item', 'metrics', check=False)
    assert proc.returncode == 2
    assert '--out-item needs --out FILE' in proc.stderr
    proc = _test_tool(root, path, '--out', 'x.json', check=False)
    assert proc.returncode == 2
    assert 'add --out-item metrics' in proc.stderr


def test_missing_test_file_stops_with_one_line(checkpoint, tmp_path):
    """Test data moved to a root without a val file: no traceback, no
    guessed file, one line with the file and the keys to set, before the
    model is built."""
    root, path = checkpoint
    data = tmp_path / 'own'
    shutil.copytree(root / 'toy' / 'images', data / 'images')
    (data / 'annotations').mkdir()
    shutil.copy(root / 'toy' / 'annotations' / 'train.json',
                data / 'annotations' / 'instances_train.json')
    shutil.copy(root / 'toy' / 'annotations' / 'val.json',
                data / 'annotations' / 'instances_val.json')
    proc = _test_tool(root, path, '--cfg-options',
                      f'test_dataloader.dataset.data_root={data}',
                      check=False)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f'{toy_hcl_config()}: '
                           'test_dataloader.dataset.ann_file: ')
    assert f'{data}/annotations/val.json does not exist' in line
    assert 'instances_val.json' not in line  # no guessed sibling
    assert 'test_dataloader.dataset.ann_file=FILE' in line
    assert 'test_dataloader.dataset.data_root=DIR' in line
