"""SceneObjectMetric through mmengine: `tools/test.py` on one process and
`tools/dist_test.sh` on two report the same zero-shot metrics, which equal
the zero-shot tool's."""
import json
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from hclmm.geometry import PoincareBall
from hclmm_test_utils import REPO, run_cli

CFG = f'{REPO}/configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A toy val split and an untrained HCL model saved as a checkpoint
    (the metrics only need some embedding)."""
    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    root = tmp_path_factory.mktemp('zs')
    subprocess.run([
        sys.executable, f'{REPO}/tools/dataset_converters/make_toy_scenes.py',
        '--out', str(root / 'toy'), '--num-train', '2', '--num-val', '12',
        '--seed', '3', '--ooc-ratio', '0.3'
    ], check=True, capture_output=True, cwd=REPO, timeout=300)
    register_all_modules()
    cfg = Config.fromfile(CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.hyp_head.embedder.running_scale.fill_(2.0)
    path = root / 'model.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return root, path


def _metrics(root, path, *launcher, procs=()):
    out = root / f'metrics_{len(launcher)}.json'
    run_cli([
        *launcher, CFG, str(path), *procs, '--work-dir', str(root / 'work'),
        '--out', str(out), '--out-item', 'metrics', '--cfg-options',
        f'test_dataloader.dataset.data_root={root / "toy"}',
        'test_dataloader.batch_size=5', 'test_evaluator.extra_scores=True'
    ], timeout=600, env=dict(OMP_NUM_THREADS='1'))
    return json.loads(out.read_text())


def test_test_tool_prints_prefixed_metrics_and_two_processes_agree(
        checkpoint):
    root, path = checkpoint
    one = _metrics(root, path, sys.executable, 'tools/test.py')
    for key in ('scene_object_norm_auroc', 'retrieval_class_map',
                'ooc_auroc', 'ooc_auroc_company', 'ooc_auroc_distance',
                'object_knn_top1', 'object_knn_top1_backbone'):
        assert f'zero_shot/{key}' in one, key
    assert one['zero_shot/num_scenes'] == 12
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    two = _metrics(root, path, 'env', f'PORT={port}',
                   f'PYTHON={sys.executable}', 'bash', 'tools/dist_test.sh',
                   procs=('2', ))
    assert set(two) == set(one)
    for key, value in one.items():
        assert two[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    # the zero-shot tool (the same metric code) gives the same numbers
    tool = run_cli([
        sys.executable, 'tools/analysis_tools/zero_shot.py', CFG, str(path),
        '--data-root', str(root / 'toy'), '--ann-file', 'annotations/val.json',
        '--data-prefix', 'images/val', '--out-dir', str(root / 'tool'),
        '--extra-scores'
    ], timeout=600)
    assert tool.returncode == 0
    report = json.loads((root / 'tool' / 'zero_shot.json').read_text())
    compared = 0
    for key, value in report.items():
        if key in ('ooc_auroc_by_score', 'retrieval_class_map_by_score'):
            for name, number in value.items():
                flat = f"zero_shot/{key[:-len('_by_score')]}_{name}"
                assert number == pytest.approx(one[flat], abs=1e-6), flat
                compared += 1
        elif key not in ('ooc_score', 'retrieval_score') \
                and value is not None:
            assert value == pytest.approx(one[f'zero_shot/{key}'],
                                          abs=1e-6), key
            compared += 1
    assert compared >= 15


def _result(index, scene, is_scene, point, label=-1, ooc=0):
    return dict(
        index=index, scene=scene, is_scene=is_scene, label=label, ooc=ooc,
        point=np.asarray(point, np.float32),
        feat=np.asarray(point, np.float32) * 2,
        manifold=PoincareBall(c=0.5))


def test_assemble_puts_results_back_in_dataset_order():
    from hclmm.evaluation import SceneObjectMetric
    results = [
        _result(4, 1, False, [0.3, 0.0], label=2, ooc=1),
        _result(0, 0, True, [0.0, 0.1]),
        _result(3, 1, True, [0.1, 0.1]),
        _result(2, 2, True, [0.2, 0.2]),  # a scene without objects
        _result(1, 0, False, [0.0, 0.3], label=5),
    ]
    data = SceneObjectMetric.assemble(results)
    assert data['scene_samples'].tolist() == [0, 2, 3]
    assert data['object_samples'].tolist() == [1, 4]
    assert data['object_scene'].tolist() == [0, 2]
    assert data['object_labels'].tolist() == [5, 2]
    assert data['object_ooc'].tolist() == [0, 1]
    assert data['scene_points'].numpy() == pytest.approx(
        np.array([[0.0, 0.1], [0.2, 0.2], [0.1, 0.1]]))
    assert data['object_feats'].numpy() == pytest.approx(
        np.array([[0.0, 0.6], [0.6, 0.0]]))
    assert data['manifold'].describe() == 'Poincare ball (c=0.5)'
    with pytest.raises(ValueError, match='not evaluated'):
        SceneObjectMetric.assemble(results[:1])
    with pytest.raises(ValueError, match='no sample'):
        SceneObjectMetric.assemble([])
