"""The demo's path runs on the minimal stack of ``setup_env.sh --minimal``.

``make demo`` sets up mmcv without its compiled ops (mmcv-lite: the same
Python files, no ``mmcv/_ext*.so``) and neither mmdet nor mmseg. This runs
the demo's tools, ``tools/train.py`` (a short HCL run of the tiny
reliability config, with the toy recipe's kNN and norm hooks),
``tools/analysis_tools/zero_shot.py``, the transfer suite's kNN task and
``demo_report.py``, in processes
where ``mmcv._ext``, ``mmdet`` and ``mmseg`` are not found (a
``sitecustomize`` hides them from the path finder, so they are missing as in
the minimal environment), so a new dependency of pretraining on mmcv's ops
or on the transfer libraries fails here instead of in ``make demo``.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest

from hclmm_test_utils import REPO

TINY_CFG = osp.join(REPO, 'tests', 'reliability', 'configs',
                    'hcl-mocov2_resnet18-gn_tiny-toy-scenes.py')
BLOCKER = '''\
# Hide mmcv's compiled ops, mmdet and mmseg: the path finder does not find
# them, so they are missing exactly as in an environment without them
# (import raises ModuleNotFoundError, find_spec/find_loader give None).
import importlib.machinery
import os

BLOCKED = ('mmcv._ext', 'mmdet', 'mmseg')
_find_spec = importlib.machinery.PathFinder.find_spec


def _find_spec_without_blocked(cls, fullname, path=None, target=None):
    if any(fullname == b or fullname.startswith(b + '.') for b in BLOCKED):
        with open(os.environ['HCLMM_BLOCK_LOG'], 'a') as f:
            f.write(fullname + '\\n')
        return None
    return _find_spec(fullname, path, target)


importlib.machinery.PathFinder.find_spec = classmethod(
    _find_spec_without_blocked)
'''


def _run(args, env, timeout=300):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (
        f'{" ".join(map(str, args))} failed ({proc.returncode})\n'
        f'--- stdout ---\n{proc.stdout[-3000:]}\n'
        f'--- stderr ---\n{proc.stderr[-5000:]}')
    return proc


@pytest.fixture(scope='module')
def minimal_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('minimal_stack')
    (tmp / 'blocker').mkdir()
    (tmp / 'blocker' / 'sitecustomize.py').write_text(BLOCKER)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(tmp / 'blocker'), REPO, env.get('PYTHONPATH', '')])
    env['HCLMM_BLOCK_LOG'] = str(tmp / 'blocked.txt')
    env.setdefault('OMP_NUM_THREADS', '1')
    return tmp, env


def test_the_blocker_works_like_mmcv_lite(minimal_env):
    _, env = minimal_env
    proc = subprocess.run(
        [sys.executable, '-c', 'import mmcv.ops'], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "No module named 'mmcv._ext'" in proc.stderr
    proc = subprocess.run(
        [sys.executable, '-c', 'import mmdet'], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0


def test_pretrain_zero_shot_and_report_without_ops_mmdet_mmseg(minimal_env):
    tmp, env = minimal_env
    data = tmp / 'toy'
    _run([osp.join(REPO, 'tools', 'dataset_converters', 'make_toy_scenes.py'),
          '--out', data, '--num-train', '16', '--num-val', '4', '--seed', '0'],
         env)
    work = tmp / 'work'
    _run([osp.join(REPO, 'tools', 'train.py'), TINY_CFG, '--work-dir', work,
          '--no-validate', '--cfg-options',
          f'train_dataloader.dataset.data_root={data}',
          'train_cfg.max_iters=3'], env)
    ckpt = work / 'iter_3.pth'
    assert ckpt.is_file()
    zs = tmp / 'zero_shot'
    _run([osp.join(REPO, 'tools', 'analysis_tools', 'zero_shot.py'),
          TINY_CFG, ckpt, '--data-root', data, '--ann-file',
          'annotations/val.json', '--data-prefix', 'images/val',
          '--out-dir', zs, '--batch-size', '32'], env)
    assert any(name.endswith('.json') for name in os.listdir(zs))
    # the demo's transfer row: the suite's kNN task (random init here)
    transfer = tmp / 'transfer'
    _run([osp.join(REPO, 'tools', 'benchmarks', 'transfer.py'),
          '--pretrained', 'random', '--tasks', 'knn', '--data-root', data,
          '--seeds', '0', '--work-dir', transfer, '--cfg-options',
          'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0'],
         env)
    report = tmp / 'report.md'
    _run([osp.join(REPO, 'tools', 'analysis_tools', 'demo_report.py'),
          '--run', f'HCL={zs}', '--run', f'baseline={zs}', '--compare',
          'HCL:baseline', '--transfer', transfer / 'transfer.json', '--out',
          report], env)
    assert '| knn `knn/top1` | ' in report.read_text()
    # the runs were really made without them: hclmm looked for the
    # optional registries of mmdet/mmseg and went on without them
    with open(tmp / 'blocked.txt') as f:
        refused = set(f.read().split())
    assert {'mmdet', 'mmseg'} <= refused, refused
