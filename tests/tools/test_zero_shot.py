import importlib.util
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel

from fixtures.toy_scenes import make_toy_scenes
from hclmm import apis
from hclmm.evaluation import OOC_DIAGNOSTIC_KEYS, ooc_diagnostics
from hclmm.geometry import PoincareBall
from hclmm.visualization import load_crop
from hclmm_test_utils import run_cli

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'zero_shot.py'
HCL_CONFIG = (ROOT / 'configs' / 'hcl' /
              'hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py')
BASELINE_CONFIG = (ROOT / 'configs' / 'hcl' /
                   'mocov2_resnet18_1xb32-8e_toy-scenes.py')
KEYS = {
    'scene_object_norm_auroc', 'label_count_spearman', 'retrieval_map',
    'retrieval_recall_at_1', 'retrieval_class_map',
    'retrieval_class_recall_at_1', 'ooc_auroc', 'object_knn_top1',
    'num_scenes', 'num_objects'
}
# what --extra-scores adds
EXTRA = {
    'retrieval_score', 'retrieval_class_map_by_score', 'ooc_score',
    'ooc_auroc_by_score'
}
NON_RATES = {'num_scenes', 'num_objects', 'label_count_spearman', 'ooc_score',
             'ooc_auroc_by_score', 'retrieval_score',
             'retrieval_class_map_by_score'}
PLOTS = ('norm_hist.png', 'poincare_disk.png', 'retrieval_examples.png')
FIGURES = tuple(name[:-len('.png')] for name in PLOTS)
# mmengine's progress bar once every batch is done
BAR_DONE = re.compile(r'\] (\d+)/\1, [\d.]+ task/s')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return make_toy_scenes(
        tmp_path_factory.mktemp('toy_scenes'), num_train=2, num_val=8, seed=3)


def _val(toy):
    with open(toy / 'annotations' / 'val.json') as f:
        return json.load(f)


def _colour_points(inputs):
    """Colour statistics of normalised crops mapped into the Poincare ball
    (c = 1)."""
    from hclmm.geometry import PoincareBall
    u = torch.cat([inputs.mean((2, 3)), inputs.std((2, 3))], 1)
    return PoincareBall(1.0).expmap0(0.5 * u)


def _preprocessor():
    from mmpretrain.models.utils import SelfSupDataPreprocessor
    return SelfSupDataPreprocessor(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True)


class ColourStandIn(BaseModel):
    """Stand-in with the predict mode of the HCL algorithms: colour
    statistics of a crop in the Poincare ball. Only for the plumbing
    tests."""

    def __init__(self):
        super().__init__(data_preprocessor=_preprocessor())

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return _colour_points(inputs)

    def predict(self, inputs, data_samples):
        points = _colour_points(inputs)
        for point, sample in zip(points, data_samples):
            sample.set_field(point, 'embedding')
            sample.set_metainfo(dict(manifold=PoincareBall(c=1.0)))
        return data_samples


def _reference(ann_file, img_dir, img_size=32, max_images=None,
               extra_scores=False):
    """The metrics computed without the dataset, the loader or the metric:
    every image and box read, cut and resized by hand, embedded one by
    one."""
    import mmcv

    from hclmm.evaluation import zero_shot_metrics
    with open(ann_file) as f:
        coco = json.load(f)
    images = coco['images'][:max_images]
    preprocess = _preprocessor()

    def embed(img):
        img = mmcv.imresize(img, (img_size, img_size)).transpose(2, 0, 1)
        data = preprocess(
            dict(inputs=torch.from_numpy(img.copy())[None], data_samples=None))
        return _colour_points(data['inputs'])[0]

    scenes, objects, owner, labels, ooc = [], [], [], [], []
    for row, info in enumerate(images):
        img = mmcv.imread(os.path.join(img_dir, info['file_name']))
        scenes.append(embed(img))
        for ann in coco['annotations']:
            if ann['image_id'] != info['id'] or ann.get('iscrowd', 0):
                continue
            x, y, w, h = ann['bbox']
            objects.append(embed(img[int(np.floor(y)):int(np.ceil(y + h)),
                                     int(np.floor(x)):int(np.ceil(x + w))]))
            owner.append(row)
            labels.append(ann['category_id'])
            ooc.append(ann.get('out_of_context', 0))
    return zero_shot_metrics(
        torch.stack(scenes),
        torch.stack(objects).reshape(len(objects), -1),
        owner,
        labels,
        PoincareBall(c=1.0),
        object_ooc=ooc,
        extra_scores=extra_scores)


def _assert_same(report, want):
    report, want = dict(report), dict(want)
    for key in ('ooc_auroc_by_score', 'retrieval_class_map_by_score'):
        by_score = want.pop(key, None)
        assert report.pop(key, None) == (
            by_score if by_score is None else pytest.approx(by_score))
    for key in ('retrieval_score', 'ooc_score'):
        assert report.pop(key, None) == want.pop(key, None)
    assert report == pytest.approx(want)


def _coco(tmp_path, coco, name='ann.json'):
    path = tmp_path / name
    path.write_text(json.dumps(coco))
    return path


def test_dataset_filters_orders_and_keeps_the_first_images(tmp_path):
    coco = dict(
        images=[
            dict(id=7, file_name='a.png', width=20, height=20),
            dict(id=3, file_name='b.png', width=20, height=20),
            dict(id=5, file_name='c.png', width=20, height=20)
        ],
        annotations=[
            dict(id=1, image_id=3, bbox=[0, 0, 5, 5], category_id=2),
            dict(id=2, image_id=7, bbox=[1, 1, 4, 4], category_id=1,
                 out_of_context=1),
            dict(id=3, image_id=7, bbox=[0, 0, 9, 9], category_id=1,
                 iscrowd=1),
            dict(id=4, image_id=7, bbox=[0, 0, 0.5, 9], category_id=2),
        ],
        categories=[dict(id=1, name='x'), dict(id=2, name='y')])
    path = _coco(tmp_path, coco)

    def samples(**kwargs):
        dataset = apis.build_zero_shot_dataset(_cfg(), '', str(path),
                                               img_size=16, **kwargs)
        return [(info['img_id'], info['is_scene'], info['object_label'],
                 info['out_of_context'])
                for info in map(dataset.get_data_info, range(len(dataset)))]

    # crowd and sub-pixel boxes dropped, objects after their scene, the
    # image without boxes kept as a scene
    assert samples() == [(7, 1, -1, 0), (7, 0, 0, 1), (3, 1, -1, 0),
                         (3, 0, 1, 0), (5, 1, -1, 0)]
    assert samples(max_images=1) == samples()[:2]
    assert samples(max_images=2) == samples()[:4]
    assert samples(max_images=9) == samples()
    assert len(samples(min_box_size=4.5)) == 4
    # bad files are named
    with pytest.raises(FileNotFoundError, match='nothere.json'):
        apis.build_zero_shot_dataset(_cfg(), str(tmp_path), 'nothere.json')
    del coco['annotations']
    with pytest.raises(ValueError, match=f'{path}.*annotations'):
        apis.build_zero_shot_dataset(_cfg(), '', str(_coco(tmp_path, coco)))


def test_crop_size_is_the_configs_view_size(tmp_path):
    """The crops are the config's test pipeline's, sized by its one view
    size variable; a config without a test loader is named."""
    from mmengine.config import Config
    coco = ROOT / 'configs' / 'hcl' / \
        'mocov2_resnet50_8xb16-coslr-200e_coco.py'
    for config, size in ((HCL_CONFIG, 64), (coco, 224)):
        cfg = Config.fromfile(str(config))
        assert cfg.view_size == size
        resize = apis.crop_resize(cfg.test_dataloader.dataset.pipeline)
        assert resize['scale'] == (size, size)
    bare = tmp_path / 'bare.py'
    bare.write_text('model = dict()\n')
    with pytest.raises(ValueError, match='bare.py has no test_dataloader'):
        apis.build_zero_shot_dataset(Config.fromfile(str(bare)), '', 'x.json')


def _cfg():
    from mmengine.config import Config
    return Config.fromfile(str(HCL_CONFIG))


def _toy_dataset(toy, ann_file=None, **kwargs):
    return apis.build_zero_shot_dataset(
        _cfg(), str(toy), str(ann_file or toy / 'annotations' / 'val.json'),
        'images/val', img_size=32, **kwargs)


def test_report_plumbing_with_a_stand_in(toy, tmp_path):
    out_dir = tmp_path / 'report'
    result = apis.run_zero_shot(
        ColourStandIn(),
        _toy_dataset(toy),
        str(out_dir),
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
    # Colour statistics of a correctly cut box identify most toy classes;
    # misplaced crops would show background and fail this.
    assert report['object_knn_top1'] >= 0.6
    for name in PLOTS:
        assert mpimg.imread(str(out_dir / name)).ndim == 3
    # the report is the metrics of those crops, embedded one by one
    _assert_same(
        report,
        _reference(toy / 'annotations' / 'val.json', toy / 'images' / 'val'))
    # every candidate score on request; the default numbers stay
    from hclmm.evaluation import SceneObjectMetric
    extra = apis.run_zero_shot(
        ColourStandIn(), _toy_dataset(toy), str(tmp_path / 'extra'),
        batch_size=5, progress=False,
        metric=SceneObjectMetric(extra_scores=True))['metrics']
    assert set(extra) == KEYS | EXTRA
    assert {key: extra[key] for key in KEYS} == report
    assert extra['ooc_score'] == 'company'
    assert extra['ooc_auroc'] == extra['ooc_auroc_by_score']['company']
    _assert_same(
        extra,
        _reference(toy / 'annotations' / 'val.json', toy / 'images' / 'val',
                   extra_scores=True))


def test_max_images_keeps_the_first_images(toy):
    dataset = _toy_dataset(toy, max_images=5)
    emb = apis.embed_dataset(
        ColourStandIn(), dataset, batch_size=3, progress=False)
    first = [im['id'] for im in _val(toy)['images'][:5]]
    owners = [first.index(a['image_id']) for a in _val(toy)['annotations']
              if a['image_id'] in first]
    assert emb['scene_points'].shape == (5, 6)
    assert emb['object_scene'].tolist() == sorted(owners)
    assert emb['object_points'].shape == (len(owners), 6)
    assert len(dataset) == 5 + len(owners)
    # the first sample is the whole first image, resized
    import mmcv
    whole = mmcv.imresize(
        mmcv.imread(str(toy / 'images' / 'val' /
                        _val(toy)['images'][0]['file_name'])), (32, 32))
    assert np.array_equal(load_crop(dataset, 0), whole)
    # batching does not change the embeddings
    one = apis.embed_dataset(
        ColourStandIn(), dataset, batch_size=1, progress=False)
    torch.testing.assert_close(one['object_points'], emb['object_points'])
    torch.testing.assert_close(one['scene_points'], emb['scene_points'])


def test_scenes_without_boxes_stay(toy, tmp_path):
    coco = _val(toy)
    # the first image and the fourth (the last one kept below) lose their
    # boxes
    empty = {coco['images'][0]['id'], coco['images'][3]['id']}
    coco['annotations'] = [
        a for a in coco['annotations'] if a['image_id'] not in empty
    ]
    ann_file = _coco(tmp_path, coco, 'empty.json')
    result = apis.run_zero_shot(
        ColourStandIn(),
        _toy_dataset(toy, ann_file, max_images=4),
        str(tmp_path / 'out'),
        batch_size=4,
        progress=False)
    report = result['metrics']
    assert report['num_scenes'] == 4
    rows = result['embeddings']['object_scene'].tolist()
    assert 0 not in rows and 3 not in rows and {1, 2} == set(rows)
    _assert_same(
        report, _reference(ann_file, toy / 'images' / 'val', max_images=4))


def test_no_ooc_marks_give_null(toy, tmp_path):
    coco = _val(toy)
    for ann in coco['annotations']:
        ann.pop('out_of_context')
    ann_file = _coco(tmp_path, coco, 'plain.json')
    apis.run_zero_shot(
        ColourStandIn(),
        _toy_dataset(toy, ann_file, max_images=3),
        str(tmp_path / 'out'),
        progress=False)
    text = (tmp_path / 'out' / 'zero_shot.json').read_text()
    assert '"ooc_auroc": null' in text
    assert json.loads(text)['num_scenes'] == 3


def test_bad_input_is_named(toy, tmp_path):
    from hclmm.datasets.transforms.load_scene_image import ImageLoadError
    coco = _val(toy)
    coco['images'][1]['file_name'] = 'missing.png'
    dataset = _toy_dataset(toy, _coco(tmp_path, coco, 'missing.json'))
    with pytest.raises(ImageLoadError, match='missing.png'):
        apis.run_zero_shot(
            ColourStandIn(), dataset, str(tmp_path / 'out'), progress=False)
    with pytest.raises(TypeError, match='Linear has no predict mode'):
        apis.run_zero_shot(
            nn.Linear(2, 2), dataset, str(tmp_path / 'out'), progress=False)


def _through_backends(toy, tmp_path, backends):
    """The stand-in's report sent to ``backends`` at step 3; the metric,
    the report folder and the backends' folder."""
    from hclmm.evaluation import SceneObjectMetric
    from hclmm.visualization import build_report_visualizer
    out_dir = tmp_path / 'report'
    visualizer = build_report_visualizer(
        dict(type='Visualizer', vis_backends=backends), str(out_dir))
    metric = SceneObjectMetric()
    apis.run_zero_shot(
        ColourStandIn(),
        _toy_dataset(toy, max_images=4),
        str(out_dir),
        progress=False,
        metric=metric,
        visualizer=visualizer,
        step=3)
    visualizer.close()
    return metric, out_dir, out_dir / 'vis_data'


def _png(path):
    import mmcv
    return mmcv.imread(str(path), channel_order='rgb')


def test_figures_and_numbers_reach_the_local_backend(toy, tmp_path):
    metric, out_dir, vis_dir = _through_backends(
        toy, tmp_path, [dict(type='LocalVisBackend')])
    # every figure arrives with the pixels of its PNG file, which stays
    for name in FIGURES:
        sent = _png(vis_dir / 'vis_image' / f'{name}_3.png')
        assert sent.shape[0] > 100
        assert np.array_equal(sent, _png(out_dir / f'{name}.png'))
    # the numbers are the val loop's, under its prefix
    lines = (vis_dir / 'scalars.json').read_text().splitlines()
    assert len(lines) == 1
    scalars = json.loads(lines[0])
    assert scalars.pop('step') == 3
    want = metric.compute_metrics(metric.results)
    assert scalars == pytest.approx(
        {f'zero_shot/{key}': value
         for key, value in want.items()})
    assert 'zero_shot/retrieval_map' in scalars
    assert 'zero_shot/scene_norm' in scalars


def test_tensorboard_shows_the_figures(toy, tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    _, out_dir, vis_dir = _through_backends(
        toy, tmp_path, [dict(type='TensorboardVisBackend')])
    assert list(vis_dir.glob('events.out.tfevents.*'))
    events = EventAccumulator(str(vis_dir), size_guidance={'images': 0})
    events.Reload()
    assert set(FIGURES) <= set(events.Tags()['images'])
    import mmcv
    for name in FIGURES:
        image, = events.Images(name)
        assert image.step == 3
        shown = mmcv.imfrombytes(image.encoded_image_string,
                                 channel_order='rgb')
        assert np.array_equal(shown, _png(out_dir / f'{name}.png'))
    report = json.loads((out_dir / 'zero_shot.json').read_text())
    mean_ap, = events.Scalars('zero_shot/retrieval_map')
    assert mean_ap.step == 3
    assert mean_ap.value == pytest.approx(report['retrieval_map'], abs=1e-6)


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
    loaded, _ = apis.init_model(str(HCL_CONFIG), str(good))
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)
    assert not loaded.training
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'x': Path('.')}},
               bad)
    with pytest.raises((UnsafeCheckpointError, pickle.UnpicklingError)):
        apis.init_model(str(HCL_CONFIG), str(bad))


def _check_report(out_dir, toy, stdout, geometry, keys=KEYS):
    report = json.loads((out_dir / 'zero_shot.json').read_text())
    assert set(report) == keys
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


def _sent_figures(vis_dir):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    events = EventAccumulator(str(vis_dir), size_guidance={'images': 0})
    events.Reload()
    return set(events.Tags()['images'])


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
    # the candidate scores' diagnostics only with --extra-scores
    assert not (out_dir / 'ooc_diagnostics.json').exists()
    # mmengine's progress bar ran to the end
    assert 'embedding' in proc.stderr and BAR_DONE.search(proc.stderr)
    # the config's two backends got the figures
    vis_dir = out_dir / 'vis_data'
    assert ('figures and numbers sent to LocalVisBackend, '
            f'TensorboardVisBackend in {vis_dir}') in proc.stdout
    for name in FIGURES:
        assert (vis_dir / 'vis_image' / f'{name}_0.png').is_file()
    if importlib.util.find_spec('tensorboard') is not None:
        assert set(FIGURES) <= _sent_figures(vis_dir)


def test_main_with_the_euclidean_baseline(toy, tmp_path, capsys):
    ckpt = tmp_path / 'baseline.pth'
    _save_model(BASELINE_CONFIG, ckpt)
    out_dir = tmp_path / 'report'
    result = apis.zero_shot_from_config(
        str(BASELINE_CONFIG), str(ckpt), str(out_dir), str(toy),
        'annotations/val.json', 'images/val', batch_size=16, max_images=6,
        step=5, extra_scores=True)
    assert result['manifold'].name == 'euclidean' and result['c'] is None
    assert '6 images and' in capsys.readouterr().out
    report = _check_report(out_dir, toy, result['summary'], 'Euclidean',
                           KEYS | EXTRA)
    assert report == result['metrics']
    # the config's own visualizer got the figures, at the given step
    for name in FIGURES:
        assert (out_dir / 'vis_data' / 'vis_image' / f'{name}_5.png').is_file()
    scalars = json.loads((out_dir / 'vis_data' / 'scalars.json').read_text())
    assert scalars['step'] == 5
    assert scalars['zero_shot/retrieval_map'] == pytest.approx(
        report['retrieval_map'])
    # the toy images carry scene types and pasted objects: the diagnostics
    # are written, equal to the function on the same embeddings
    emb = result['embeddings']
    assert 0 < int(emb['object_ooc'].sum()) < len(emb['object_ooc'])
    diagnostics = json.loads((out_dir / 'ooc_diagnostics.json').read_text())
    val = _val(toy)
    types = {im['id']: im['scene_type'] for im in val['images'][:6]}
    want = ooc_diagnostics(emb['object_points'], emb['object_scene'],
                           emb['object_labels'], emb['object_ooc'],
                           emb['scene_feats'], list(types.values()))
    assert list(diagnostics) == list(OOC_DIAGNOSTIC_KEYS)
    assert diagnostics == pytest.approx(want)
    assert diagnostics['ooc_rate'] == pytest.approx(
        np.mean([a.get('out_of_context', 0) for a in val['annotations']
                 if a['image_id'] in types]))


def test_embeddings_reach_the_tensorboard_projector(toy, tmp_path):
    """``--vis-backends local tensorboard``: the projector files hold every
    point, its crop in the sprite and its kind, category and image id."""
    pytest.importorskip('tensorboard')
    import mmcv
    ckpt = tmp_path / 'hcl.pth'
    _save_model(HCL_CONFIG, ckpt)
    out_dir = tmp_path / 'report'
    proc = run_cli([
        sys.executable, str(TOOL), *_argv(HCL_CONFIG, ckpt, toy, out_dir)[:-1],
        '3', '--vis-backends', 'local', 'tensorboard'
    ])
    vis_dir = out_dir / 'vis_data'
    report = json.loads((out_dir / 'zero_shot.json').read_text())
    num = report['num_scenes'] + report['num_objects']
    config = (vis_dir / 'projector_config.pbtxt').read_text()
    assert 'tensor_name: "zero_shot:00000"' in config
    for name in ('tensors.tsv', 'metadata.tsv', 'sprite.png'):
        assert f'00000/zero_shot/{name}' in config
    assert str(vis_dir / '00000' / 'zero_shot') in proc.stdout
    folder = vis_dir / '00000' / 'zero_shot'
    # the points: as many as the report counts, their mean norms the
    # numbers the local backend got (Poincare ball, c = 0.05)
    points = np.loadtxt(folder / 'tensors.tsv', delimiter='\t')
    assert points.shape == (num, 128)
    header, *rows = [ln.split('\t') for ln in
                     (folder / 'metadata.tsv').read_text().splitlines()]
    assert header == ['kind', 'category', 'image_id']
    kinds = np.array([r[0] for r in rows])
    assert (kinds == 'scene').sum() == report['num_scenes'] == 3
    assert (kinds == 'object').sum() == report['num_objects']
    c = 0.05
    norm = 2 / np.sqrt(c) * np.arctanh(
        np.sqrt(c) * np.linalg.norm(points, axis=1))
    scalars = json.loads((vis_dir / 'scalars.json').read_text())
    assert norm[kinds == 'scene'].mean() == pytest.approx(
        scalars['zero_shot/scene_norm'], rel=1e-4)
    assert norm[kinds == 'object'].mean() == pytest.approx(
        scalars['zero_shot/object_norm'], rel=1e-4)
    # dataset order: each image, then its objects with their categories
    val = _val(toy)
    names = {c['id']: c['name'] for c in val['categories']}
    want = []
    for im in val['images'][:3]:
        want.append(['scene', 'scene', str(im['id'])])
        want += [['object', names[a['category_id']], str(im['id'])]
                 for a in val['annotations'] if a['image_id'] == im['id']]
    assert rows == want
    # the sprite: one 32-pixel thumbnail of each crop, row by row
    sprite = mpimg.imread(str(folder / 'sprite.png'))
    side = int(np.ceil(np.sqrt(num))) * 32
    assert sprite.shape[:2] == (side, side)
    sprite = np.round(sprite[..., :3] * 255).astype(np.uint8)
    dataset = apis.build_zero_shot_dataset(
        _cfg(), str(toy), 'annotations/val.json', 'images/val',
        max_images=3)
    assert len(dataset) == num
    for index in (0, 1, num - 1):
        row, col = divmod(index, side // 32)
        tile = sprite[row * 32:(row + 1) * 32, col * 32:(col + 1) * 32]
        crop = mmcv.imresize(load_crop(dataset, index), (32, 32))
        assert np.array_equal(tile, mmcv.bgr2rgb(crop))
