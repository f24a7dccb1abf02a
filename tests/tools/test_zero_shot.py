import importlib.util
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'zero_shot.py'
MAKE_TOY = ROOT / 'tools' / 'dataset_converters' / 'make_toy_scenes.py'
HCL_CONFIG = ROOT / 'configs' / 'hcl' / 'hcl-mocov2_resnet18_toy-scenes.py'
BASELINE_CONFIG = ROOT / 'configs' / 'hcl' / 'mocov2_resnet18_toy-scenes.py'
KEYS = {
    'scene_object_norm_auroc', 'label_count_spearman', 'retrieval_map',
    'retrieval_recall_at_1', 'retrieval_class_map',
    'retrieval_class_recall_at_1', 'ooc_auroc', 'ooc_score',
    'ooc_auroc_by_score', 'object_knn_top1', 'num_scenes', 'num_objects'
}
NON_RATES = {'num_scenes', 'num_objects', 'label_count_spearman', 'ooc_score',
             'ooc_auroc_by_score'}
PLOTS = ('norm_hist.png', 'poincare_disk.png', 'retrieval_examples.png')


def _load_tool():
    spec = importlib.util.spec_from_file_location('zero_shot_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    out = tmp_path_factory.mktemp('toy_scenes')
    subprocess.run([
        sys.executable,
        str(MAKE_TOY), '--out',
        str(out), '--num-train', '2', '--num-val', '8', '--seed', '3',
        '--img-size', '64'
    ],
                   check=True,
                   capture_output=True,
                   timeout=300)
    return out


def _val(toy):
    with open(toy / 'annotations' / 'val.json') as f:
        return json.load(f)


class ColourStandIn(nn.Module):
    """Stand-in with the zero-shot interface: colour statistics of a crop
    mapped into the Poincare ball (c = 1). Only for the plumbing tests."""

    def __init__(self):
        super().__init__()
        from mmpretrain.models.utils import SelfSupDataPreprocessor
        self.data_preprocessor = SelfSupDataPreprocessor(
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True)

    def embed_for_zero_shot(self, inputs):
        from hclmm.geometry import PoincareBall
        u = torch.cat([inputs.mean((2, 3)), inputs.std((2, 3))], 1)
        ball = PoincareBall(1.0)
        return dict(points=ball.expmap0(0.5 * u), manifold=ball)


def test_load_coco_scene_objects_filters_and_orders(tmp_path):
    coco = dict(
        images=[dict(id=7, file_name='a.png'), dict(id=3, file_name='b.png')],
        annotations=[
            dict(id=1, image_id=3, bbox=[0, 0, 5, 5], category_id=2),
            dict(id=2, image_id=7, bbox=[1, 1, 4, 4], category_id=1),
            dict(id=3, image_id=7, bbox=[0, 0, 9, 9], category_id=1,
                 iscrowd=1),
            dict(id=4, image_id=7, bbox=[0, 0, 0.5, 9], category_id=3),
        ],
        categories=[dict(id=1, name='x'), dict(id=2, name='y')])
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(coco))
    data = tool.load_coco_scene_objects(str(path))
    # crowd and sub-pixel boxes dropped; objects grouped by image order.
    assert data['object_scene'].tolist() == [0, 1]
    assert data['object_label'].tolist() == [1, 2]
    assert data['object_ooc'] is None  # the file has no out_of_context
    assert data['categories'] == {1: 'x', 2: 'y'}
    first = tool.load_coco_scene_objects(str(path), max_images=1)
    assert len(first['images']) == 1 and first['object_label'].tolist() == [1]
    path.write_text('{"images": []}')
    with pytest.raises(ValueError, match='annotations'):
        tool.load_coco_scene_objects(str(path))


def test_scene_view_size_is_found_in_configs():
    from mmengine.config import Config
    assert tool.find_scene_view_size(Config.fromfile(str(HCL_CONFIG))) == 64
    coco = ROOT / 'configs' / 'hcl' / \
        'mocov2_resnet50_8xb16-coslr-200e_coco.py'
    assert tool.find_scene_view_size(Config.fromfile(str(coco))) == 224
    assert tool.find_scene_view_size(dict(model=dict())) is None


def test_report_plumbing_with_a_stand_in(toy, tmp_path):
    data = tool.load_coco_scene_objects(
        str(toy / 'annotations' / 'val.json'))
    out_dir = tmp_path / 'report'
    result = tool.run_zero_shot(
        ColourStandIn(),
        data,
        str(toy / 'images' / 'val'),
        str(out_dir),
        img_size=32,
        batch_size=5,
        progress=False)
    with open(out_dir / 'zero_shot.json') as f:
        report = json.load(f)
    assert set(report) == KEYS
    assert report == result['metrics']
    anns = _val(toy)['annotations']
    assert report['num_scenes'] == 8
    assert report['num_objects'] == len(anns)
    assert sum(a['out_of_context'] for a in anns) > 0
    for key in KEYS - NON_RATES:
        assert 0.0 <= report[key] <= 1.0, key
    assert report['ooc_score'] == 'company'
    assert report['ooc_auroc'] == report['ooc_auroc_by_score']['company']
    # Colour statistics of a correctly cut box identify most toy classes;
    # misplaced crops would show background and fail this.
    assert report['object_knn_top1'] >= 0.6
    for name in PLOTS:
        assert mpimg.imread(str(out_dir / name)).ndim == 3
    # the report is the metrics of the embeddings of those crops
    from hclmm.evaluation import zero_shot_metrics
    emb = tool.embed_scene_objects(
        ColourStandIn(),
        tool.SceneObjectCrops(data, str(toy / 'images' / 'val'), 32),
        progress=False)
    want = zero_shot_metrics(
        emb['scene_points'],
        emb['object_points'],
        data['object_scene'],
        data['object_label'],
        'poincare',
        1.0,
        object_ooc=data['object_ooc'])
    assert report.pop('ooc_auroc_by_score') == pytest.approx(
        want.pop('ooc_auroc_by_score'))
    assert report == pytest.approx(want)


def test_report_matches_the_embeddings(toy):
    from hclmm.evaluation import zero_shot_metrics
    data = tool.load_coco_scene_objects(
        str(toy / 'annotations' / 'val.json'), max_images=5)
    dataset = tool.SceneObjectCrops(data, str(toy / 'images' / 'val'), 32)
    emb = tool.embed_scene_objects(
        ColourStandIn(), dataset, batch_size=3, progress=False)
    assert emb['scene_points'].shape == (5, 6)
    assert emb['object_points'].shape == (len(data['object_label']), 6)
    # a scene embedded alone equals the scene embedded inside a batch
    item = dataset[2]['crops']
    alone = tool._embed_batch(ColourStandIn(), item[:1], 'cpu')['points']
    torch.testing.assert_close(alone[0], emb['scene_points'][2])
    # the first crop of an item is the whole image, resized
    import mmcv
    whole = mmcv.imresize(
        mmcv.imread(dataset.image_path(2)), (32, 32)).transpose(2, 0, 1)
    assert torch.equal(item[0], torch.from_numpy(whole))
    # batching does not change the embeddings
    with_batch_of_one = tool.embed_scene_objects(
        ColourStandIn(), dataset, batch_size=1, progress=False)
    torch.testing.assert_close(with_batch_of_one['object_points'],
                               emb['object_points'])


def test_no_ooc_marks_give_null(toy, tmp_path):
    coco = _val(toy)
    for ann in coco['annotations']:
        ann.pop('out_of_context')
    ann_file = tmp_path / 'plain.json'
    ann_file.write_text(json.dumps(coco))
    data = tool.load_coco_scene_objects(str(ann_file), max_images=3)
    tool.run_zero_shot(
        ColourStandIn(),
        data,
        str(toy / 'images' / 'val'),
        str(tmp_path / 'out'),
        img_size=32,
        progress=False)
    text = (tmp_path / 'out' / 'zero_shot.json').read_text()
    assert '"ooc_auroc": null' in text
    assert json.loads(text)['num_scenes'] == 3


def _save_model(config, path, meta=None):
    from mmengine.config import Config

    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    torch.save({'state_dict': model.state_dict(), 'meta': meta or {}}, path)
    return model


def test_unsafe_checkpoint_is_refused(tmp_path):
    from mmengine.logging import HistoryBuffer
    from hclmm.utils import UnsafeCheckpointError
    good = tmp_path / 'good.pth'
    model = _save_model(
        HCL_CONFIG,
        good,
        meta=dict(hub=HistoryBuffer([1.0, 2.0], [1, 1]), step=np.int64(3)))
    loaded, _ = tool.build_model_from_checkpoint(str(HCL_CONFIG), str(good))
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    assert not loaded.training
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'x': Path('.')}},
               bad)
    with pytest.raises((UnsafeCheckpointError, pickle.UnpicklingError)):
        tool.build_model_from_checkpoint(str(HCL_CONFIG), str(bad))


def _check_report(out_dir, toy, stdout, geometry):
    report = json.loads((out_dir / 'zero_shot.json').read_text())
    assert set(report) == KEYS
    assert report['num_scenes'] == 6
    first_six = {im['id'] for im in _val(toy)['images'][:6]}
    assert report['num_objects'] == sum(
        a['image_id'] in first_six for a in _val(toy)['annotations'])
    assert 0.0 <= report['retrieval_map'] <= 1.0
    assert geometry in stdout and 'crops 64x64' in stdout
    assert str(out_dir / 'zero_shot.json') in stdout
    for name in PLOTS:
        image = mpimg.imread(str(out_dir / name))
        assert image.shape[0] > 100 and image.shape[1] > 100
    return report


def _argv(config, ckpt, toy, out_dir):
    return [
        str(config),
        str(ckpt), '--data-root',
        str(toy), '--ann-file', 'annotations/val.json', '--data-prefix',
        'images/val', '--out-dir',
        str(out_dir), '--batch-size', '16', '--max-images', '6'
    ]


def test_command_line_end_to_end(toy, tmp_path):
    ckpt = tmp_path / 'hcl.pth'
    _save_model(HCL_CONFIG, ckpt)
    out_dir = tmp_path / 'report'
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run(
        [sys.executable, str(TOOL)] + _argv(HCL_CONFIG, ckpt, toy, out_dir),
        capture_output=True,
        timeout=600,
        text=True,
        cwd=str(tmp_path),
        env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_report(out_dir, toy, proc.stdout, 'Poincare ball (c=0.05)')
    assert 'embedding' in proc.stderr  # the progress bar


def test_main_with_the_euclidean_baseline(toy, tmp_path, capsys):
    ckpt = tmp_path / 'baseline.pth'
    _save_model(BASELINE_CONFIG, ckpt)
    out_dir = tmp_path / 'report'
    result = tool.main(_argv(BASELINE_CONFIG, ckpt, toy, out_dir))
    assert result['manifold'].name == 'euclidean' and result['c'] is None
    report = _check_report(out_dir, toy, capsys.readouterr().out, 'Euclidean')
    assert report == result['metrics']
