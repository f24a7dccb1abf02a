"""The transfer suite's bookkeeping: inputs, data folders, the child
configs, the metrics it reads back from the files the tools write, and the
json and table it writes."""
import json
import os.path as osp

import mmengine
import pytest
from mmengine.config import Config

from hclmm.apis import transfer as suite
from hclmm_test_utils import REPO


def test_pretrained_specs(tmp_path):
    ckpt = tmp_path / 'a.pth'
    ckpt.write_bytes(b'x')
    inits = suite.parse_pretrained([f'hcl={ckpt}', 'random'])
    assert list(inits.items()) == [('hcl', str(ckpt)), ('random', None)]
    for bad, msg in ((['hcl'], 'NAME=CHECKPOINT'),
                     ([f'random={ckpt}'], 'not "random"'),
                     (['hcl=/no/such.pth'], 'no file'),
                     ([f'a={ckpt}', f'a={ckpt}'], 'twice')):
        with pytest.raises(suite.SuiteError, match=msg):
            suite.parse_pretrained(bad)


def _planted_set(root, split_dirs):
    """A two-image COCO file whose images lie in images/<split>/."""
    images = [dict(id=i, file_name=f'{i}.png', width=8, height=8)
              for i in (1, 2)]
    coco = dict(images=images, annotations=[],
                categories=[dict(id=7, name='b'), dict(id=3, name='a')])
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    (root / 'annotations' / 'train.json').write_text(json.dumps(coco))
    for kind in ('images', 'semantic'):
        for name in split_dirs:
            (root / kind / name).mkdir(parents=True, exist_ok=True)
    for i in (1, 2):
        (root / 'images' / split_dirs[0] / f'{i}.png').write_bytes(b'x')
        (root / 'semantic' / split_dirs[0] / f'{i}.png').write_bytes(b'x')


def test_split_folders_from_the_json(tmp_path):
    _planted_set(tmp_path, ['train', 'val'])
    split = suite.resolve_split(str(tmp_path), 'annotations/train.json',
                                'images/', 'semantic/')
    assert split['img_prefix'] == osp.join('images', 'train', '')
    assert split['seg_prefix'] == osp.join('semantic', 'train', '')
    assert split['classes'] == ('a', 'b')  # sorted by category id
    (tmp_path / 'semantic' / 'train' / '2.png').unlink()
    with pytest.raises(suite.SuiteError,
                       match=r'1 of 2 label maps are missing.*2\.png'):
        suite.resolve_split(str(tmp_path), 'annotations/train.json',
                            'images/', 'semantic/')
    with pytest.raises(suite.SuiteError, match='annotation file not found'):
        suite.resolve_split(str(tmp_path), 'annotations/val.json',
                            'images/', None)


def _plant_run(work, task, init, seed, metrics):
    """A run folder as a training run and its test leave it: the training's
    log with an earlier validation, and the metrics file that
    ``tools/test.py --out FILE --out-item metrics`` wrote (mmengine.dump)."""
    run_dir = work / 'runs' / task / init / f'seed{seed}'
    vis = run_dir / '20261203_000000' / 'vis_data'
    vis.mkdir(parents=True)
    earlier = {k: v / 2 for k, v in metrics.items()}
    (vis / '20261203_000000.json').write_text(json.dumps(earlier) + '\n')
    mmengine.dump(metrics, str(run_dir / suite.METRICS_FILE))
    return run_dir


def test_json_and_table_hold_what_the_runs_logged(tmp_path):
    logged = {('det', 'hcl', 0): 0.412, ('det', 'hcl', 1): 0.398,
              ('det', 'random', 0): 0.101, ('det', 'random', 1): 0.121,
              ('seg', 'hcl', 0): 61.5}
    results = {}
    for (task, init, seed), value in logged.items():
        key = suite.TASKS[task][1][0]
        run_dir = _plant_run(tmp_path, task, init, seed,
                             {key: value, 'other': 1.0})
        metrics = suite.read_metrics(str(run_dir))
        assert metrics[key] == value  # the test's file, not the log
        results.setdefault((task, init), {})[seed] = dict(metrics=metrics)
    table = suite.write_outputs(str(tmp_path), results, ['det', 'seg'],
                                ['hcl', 'random'],
                                [('seg', 'random', 0, 'exit code 1\nboom')],
                                'Planted')
    on_disk = json.loads((tmp_path / 'transfer.json').read_text())
    assert on_disk == json.loads(json.dumps(table))
    det = on_disk['det']
    assert det['hcl']['metric'] == 'coco/bbox_mAP'
    assert det['hcl']['seeds'] == {'0': 0.412, '1': 0.398}
    assert det['hcl']['mean'] == pytest.approx(0.405)
    assert det['hcl']['std'] == pytest.approx(0.014 / 2**0.5)
    assert det['random']['mean'] == pytest.approx(0.111)
    assert on_disk['seg'] == {'hcl': dict(metric='mIoU', seeds={'0': 61.5},
                                          mean=61.5, std=None,
                                          label_fraction=1.0)}
    md = (tmp_path / 'transfer.md').read_text()
    assert '| hcl | 0.405 ± 0.010 (0.412, 0.398) | 61.50 (61.50) |' in md
    assert '| random | 0.111 ± 0.014 (0.101, 0.121) | – |' in md
    assert '| hcl − random | +0.294 (0.014) | – |' in md
    assert '- seg / random / seed 0: boom' in md


def test_label_fractions_in_json_table_and_figure(tmp_path):
    """Runs at several labelled fractions: the top-level cell is the
    largest fraction's, every fraction is kept under ``fractions``, the
    Markdown has the label-efficiency table and the figure is drawn."""
    def res(v):
        return dict(metrics={'mIoU': v})
    results = {('seg', 'hcl', 1.0): {0: res(50.0), 1: res(52.0)},
               ('seg', 'hcl', 0.1): {0: res(30.0), 1: res(34.0)},
               ('seg', 'random', 1.0): {0: res(55.0)},
               ('seg', 'random', 0.1): {0: res(20.0)},
               ('seg', 'only_low', 0.1): {0: res(10.0)}}
    table = suite.write_outputs(str(tmp_path), results, ['seg'],
                                ['hcl', 'random', 'only_low'], [], 'F')
    hcl = table['seg']['hcl']
    assert hcl['label_fraction'] == 1.0 and hcl['mean'] == 51.0
    assert list(hcl['fractions']) == ['1', '0.1']
    assert hcl['fractions']['0.1']['seeds'] == {'0': 30.0, '1': 34.0}
    assert hcl['fractions']['0.1']['std'] == pytest.approx(8 ** 0.5)
    low = table['seg']['only_low']
    assert low['label_fraction'] == 0.1 and 'fractions' not in low
    md = (tmp_path / 'transfer.md').read_text()
    assert '| task | init | 100% labels | 10% labels |' in md
    assert '| seg `mIoU` | hcl | 51.00 ± 1.41 (50.00, 52.00) | ' \
        '32.00 ± 2.83 (30.00, 34.00) |' in md
    assert '| seg `mIoU` | random | 55.00 (55.00) | 20.00 (20.00) |' in md
    from hclmm.visualization import plot_label_efficiency
    png = plot_label_efficiency(table, str(tmp_path / 'curve.png'))
    import mmcv
    assert mmcv.imread(png).shape[2] == 3
    assert suite.run_dir_of('/w', 'seg', 'hcl', 0.1, 2) == \
        '/w/runs/seg/hcl/fraction0.1/seed2'
    assert suite.run_dir_of('/w', 'seg', 'hcl', 1.0, 2) == \
        '/w/runs/seg/hcl/seed2'


def test_label_fraction_needs_data_and_a_valid_fraction(tmp_path):
    for extra, msg in ((dict(label_fractions=[0.1]), 'needs --data-root'),
                       (dict(label_fractions=[1.5], data_root=str(tmp_path)),
                        r'1.5: a fraction .* is in \(0, 1\]')):
        with pytest.raises(suite.SuiteError, match=msg):
            suite.prepare(str(tmp_path), ['random'], ['knn'], **extra)


def test_runs_plan_and_their_files():
    """Fraction by fraction, seed by seed; a training run is trained, then
    its last checkpoint tested into the metrics file; kNN is one command."""
    runs = suite.plan_runs(['det', 'knn'], ['hcl', 'random'], [1.0, 0.1],
                           [0, 1])
    assert len(runs) == 16
    assert runs[:3] == [('det', 'hcl', 1.0, 0), ('det', 'random', 1.0, 0),
                        ('knn', 'hcl', 1.0, 0)]
    assert runs[-1] == ('knn', 'random', 0.1, 1)
    train, test = suite.run_commands('train', 'c.py', '/w/r', 3, 1, ['a=1'])
    assert train[1].endswith(osp.join('tools', 'train.py'))
    assert train[-3:] == ['--cfg-options', 'randomness.seed=3', 'a=1']
    assert test[1].endswith(osp.join('tools', 'test.py'))
    assert test[2:4] == ['c.py', 'CHECKPOINT']
    assert test[test.index('--out') + 1] == osp.join('/w/r', 'metrics.json')
    assert test[test.index('--out-item') + 1] == 'metrics'
    train, test = suite.run_commands('train', 'c.py', '/w/r', 3, 4, [])
    assert train[1].endswith('dist_train.sh') and train[3] == '4'
    assert test[1].endswith('dist_test.sh') and test[3:5] == ['CHECKPOINT',
                                                              '4']
    knn, = suite.run_commands('knn', 'k.py', '/w/r', 0, 1, [])
    assert knn[1].endswith('knn_eval.py')


def test_child_config_inherits_and_merges(tmp_path):
    """The child config, written through mmengine's Config, inherits the
    task config and merges the overrides as ``--cfg-options`` would, a
    ``_delete_`` replacing the dataset."""
    base = tmp_path / 'base.py'
    base.write_text(
        "model = dict(backbone=dict(depth=18, init_cfg=dict("
        "type='Pretrained', checkpoint='x')), head=dict(num_classes=80))\n"
        "train_dataloader = dict(batch_size=2, dataset=dict("
        "type='VOCDataset', ann_file='a.txt', pipeline=[dict(type='P')]))\n")
    cfg = Config.fromfile(str(base)).to_dict()
    data = {'train_dataloader': dict(dataset=dict(
        _delete_=True, type='CocoDataset', pipeline=[dict(type='P')],
        ann_file='t.json', metainfo=dict(classes=('a', 'b')))),
        'model': dict(head=dict(num_classes=2))}
    path = suite.write_child_config(
        str(tmp_path / 'c' / 'hcl.py'), str(base), data,
        suite.init_overrides(cfg, str(base), '/w/hcl.pth'))
    child = Config.fromfile(path)
    assert child.model.backbone.depth == 18
    assert child.model.backbone.init_cfg.checkpoint == '/w/hcl.pth'
    assert child.model.head.num_classes == 2
    assert child.train_dataloader.batch_size == 2
    assert child.train_dataloader.dataset == dict(
        type='CocoDataset', pipeline=[dict(type='P')], ann_file='t.json',
        metainfo=dict(classes=('a', 'b')))
    assert "_base_ = [" in open(path).read()
    random = Config.fromfile(suite.write_child_config(
        str(tmp_path / 'c' / 'random.py'), str(base),
        suite.init_overrides(cfg, str(base), None)))
    assert random.model.backbone == dict(depth=18, init_cfg=None)


def test_init_and_data_overrides():
    model = dict(backbone=dict(init_cfg=dict(type='Pretrained',
                                             checkpoint='x')),
                 roi_head=dict(shared_head=dict(init_cfg=dict(
                     type='Pretrained', checkpoint='x')),
                     bbox_head=dict(num_classes=80)))
    cfg = dict(model=model)
    over = suite.init_overrides(cfg, 'c.py', '/w/hcl.pth')
    assert over['model']['backbone']['init_cfg']['checkpoint'] == \
        '/w/hcl.pth'
    assert over['model']['roi_head']['shared_head']['init_cfg'][
        'checkpoint'] == '/w/hcl.pth'
    assert suite.init_overrides(cfg, 'c.py', None)['model']['backbone'] == \
        dict(init_cfg=None)
    with pytest.raises(suite.SuiteError, match='no init_cfg of type'):
        suite.init_overrides(dict(model=dict(backbone={})), 'c.py', None)
    wrapped = dict(model=model, train_dataloader=dict(dataset=dict(
        type='RepeatDataset', dataset=dict(type='CocoDataset'))))
    split = dict(ann_file='a.json', img_prefix='i/', seg_prefix=None,
                 classes=('a', 'b'))
    with pytest.raises(suite.SuiteError, match='RepeatDataset wrapper'):
        suite.data_overrides('det', wrapped, 'c.py', split, split, '/d')


GPU_CONFIGS = [
    ('det', 'mmdetection/coco/mask-rcnn_r50_fpn_ms-1x_coco.py'),
    ('det', 'mmdetection/coco/mask-rcnn_r50-c4_ms-1x_coco.py'),
    ('det', 'mmdetection/voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py'),
    ('seg',
     'mmsegmentation/voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py'),
    ('seg', 'mmsegmentation/ade20k/upernet_r50_4xb4-160k_ade20k-512x512.py'),
    ('linear', 'classification/imagenet/'
     'resnet50_linear-8xb32-steplr-100e_in1k.py'),
]


@pytest.fixture(scope='module')
def r50_checkpoint(tmp_path_factory):
    """A pretraining checkpoint as tools/train.py writes it: a ResNet-50
    under ``backbone.`` next to a neck."""
    import torch
    from mmpretrain.models import ResNet
    torch.manual_seed(0)
    net = ResNet(depth=50)
    # random values everywhere (BN statistics too), so nothing a fresh
    # model holds can equal them by chance
    state = {f'backbone.{k}': torch.rand_like(v) + 0.5
             if v.is_floating_point() else v
             for k, v in net.state_dict().items()}
    state['neck.fc.weight'] = torch.zeros(4, 2048)
    path = tmp_path_factory.mktemp('r50') / 'epoch_200.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=200)), path)
    return str(path), {k[len('backbone.'):]: v for k, v in state.items()
                       if k.startswith('backbone.')}


@pytest.mark.parametrize('task,config', GPU_CONFIGS)
def test_gpu_scale_configs_load_every_backbone_key(r50_checkpoint,
                                                   tmp_path, task, config):
    """The GPU-scale configs through the suite (--config TASK=CONFIG): the
    models they build hold every tensor of the extracted backbone, and the
    random-init twin holds none of them."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    ckpt, backbone = r50_checkpoint
    _, configs, _ = suite.prepare(
        str(tmp_path), [f'hcl={ckpt}', 'random'], [task], configs=[
            f'{task}={osp.join(REPO, "configs", "benchmarks", config)}'])
    loaded = {}
    for init in ('hcl', 'random'):
        cfg = Config.fromfile(configs[(task, init)])
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
        model.init_weights()
        own = dict(model.backbone.state_dict())
        shared = getattr(getattr(model, 'roi_head', None), 'shared_head',
                         None)
        if shared is not None:  # C4: the last stage is the RoI head's
            own.update(shared.state_dict())
        loaded[init] = {k for k, v in own.items()
                        if k in backbone and torch.equal(v, backbone[k])
                        and v.is_floating_point()}
        if init == 'hcl':
            missing = set(backbone) - set(own)
            assert not missing, sorted(missing)[:5]
    floats = {k for k, v in backbone.items() if v.is_floating_point()}
    assert loaded['hcl'] == floats
    assert loaded['random'] == set()
