"""The transfer suite's bookkeeping: inputs, data folders, the metrics it
reads back from mmengine's logs, and the json and table it writes."""
import importlib.util
import json
import os.path as osp

import pytest

from hclmm_test_utils import REPO

TOOL = osp.join(REPO, 'tools', 'benchmarks', 'transfer.py')


@pytest.fixture(scope='module')
def suite():
    spec = importlib.util.spec_from_file_location('transfer_suite', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pretrained_specs(suite, tmp_path):
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


def test_split_folders_from_the_json(suite, tmp_path):
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
    """An mmengine log as a training run leaves it: train records, then the
    final validation record."""
    vis = work / 'runs' / task / init / f'seed{seed}' / '20261203_000000' \
        / 'vis_data'
    vis.mkdir(parents=True)
    lines = [dict(lr=0.01, loss=1.5, step=1), dict(metrics, step=1),
             dict(lr=0.001, loss=0.9, step=2), dict(metrics, step=2)]
    lines[1] = {k: v / 2 for k, v in metrics.items()}  # earlier validation
    (vis / '20261203_000000.json').write_text(
        '\n'.join(json.dumps(x) for x in lines) + '\n')
    (vis / 'scalars.json').write_text(json.dumps(dict(loss=3.0)) + '\n')
    return vis.parent.parent


def test_json_and_table_hold_what_the_runs_logged(suite, tmp_path):
    logged = {('det', 'hcl', 0): 0.412, ('det', 'hcl', 1): 0.398,
              ('det', 'random', 0): 0.101, ('det', 'random', 1): 0.121,
              ('seg', 'hcl', 0): 61.5}
    results = {}
    for (task, init, seed), value in logged.items():
        key = suite.TASKS[task][1][0]
        run_dir = _plant_run(tmp_path, task, init, seed,
                             {key: value, 'other': 1.0})
        metrics = suite.read_metrics(str(run_dir))
        assert metrics[key] == value  # the last validation, not the first
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
                                          mean=61.5, std=None)}
    md = (tmp_path / 'transfer.md').read_text()
    assert '| hcl | 0.405 ± 0.010 (0.412, 0.398) | 61.50 (61.50) |' in md
    assert '| random | 0.111 ± 0.014 (0.101, 0.121) | – |' in md
    assert '| hcl − random | +0.294 (0.014) | – |' in md
    assert '- seg / random / seed 0: boom' in md


def test_init_and_data_overrides(suite):
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
