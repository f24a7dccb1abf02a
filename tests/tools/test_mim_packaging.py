"""hclmm as an installed OpenMMLab package, used from a directory outside
the clone.

``setup.py`` puts the configs and the tools into ``hclmm/.mim``: links into
the clone for an editable install (the test environment's), copies for a
regular one. A config elsewhere inherits ``hclmm::hcl/...`` and trains with
mmengine's own Runner; ``mim train hclmm CONFIG`` finds the config and the
training tool in the installed package. Each run is 2 iterations of 2 toy
images.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tarfile

import pytest

from fixtures.toy_scenes import make_toy_scenes
from hclmm_test_utils import REPO, toy_hcl_config

#: What a source distribution or an install of hclmm is made from.
SOURCE_IGNORED = ('.git', '.venv', 'work_dirs', 'data', 'build', 'dist',
                  '*.egg-info', '__pycache__', '*.pyc', '.mim', 'tests',
                  'docs', 'benchmarks', '.pytest_cache')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return make_toy_scenes(tmp_path_factory.mktemp('mim') / 'toy',
                           num_train=4, num_val=2, seed=0, img_size=128)


def run_outside(args, cwd, pythonpath=None, timeout=600):
    """Run ``args`` in ``cwd`` with this interpreter's environment, without
    the clone on the path (``pythonpath`` instead, if given)."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    if pythonpath is not None:
        env['PYTHONPATH'] = str(pythonpath)
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f'{" ".join(map(str, args))} failed ({proc.returncode})\n'
        f'--- stdout ---\n{proc.stdout[-4000:]}\n'
        f'--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


def trained_steps(work_dir):
    """The iterations with a logged loss, read from mmengine's
    ``scalars.json``."""
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert logs, sorted(p.name for p in work_dir.iterdir())
    with open(logs[-1]) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r['step'] for r in rows if 'loss' in r]


def test_hclmm_scope_config_trains_from_outside_the_clone(toy, tmp_path):
    """A config of another project inherits the toy HCL config through
    ``hclmm::``, overrides a few keys, and trains with the tool that the
    installed package carries (what ``mim train hclmm my_config.py`` runs),
    in a directory outside the clone."""
    import hclmm
    from mmengine.config import Config
    mim = osp.join(osp.dirname(hclmm.__file__), '.mim')
    name = osp.basename(toy_hcl_config())
    assert osp.isfile(osp.join(mim, 'configs', 'hcl', name)), (
        f'{mim} lacks the configs: reinstall hclmm (pip install -e . or '
        'make setup) so that setup.py links them')
    work = tmp_path / 'work'
    config = tmp_path / 'my_config.py'
    config.write_text(
        f"_base_ = ['hclmm::hcl/{name}']\n"
        'train_dataloader = dict(\n'
        '    batch_size=2, num_workers=0, persistent_workers=False,\n'
        f'    dataset=dict(data_root={str(toy)!r}))\n'
        'train_cfg = dict(max_epochs=1)\n'
        'param_scheduler = []\n'
        'default_hooks = dict(logger=dict(interval=1))\n'
        f'work_dir = {str(work)!r}\n')
    cfg = Config.fromfile(str(config))
    assert cfg.model.type == 'HCLMoCo'
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.train_dataloader.dataset.data_root == str(toy)
    assert cfg.default_scope == 'hclmm'
    run_outside([sys.executable, osp.join(mim, 'tools', 'train.py'),
                 config.name, '--no-validate'], cwd=tmp_path)
    assert trained_steps(work) == [1, 2]


@pytest.fixture(scope='module')
def source(tmp_path_factory):
    """A copy of the clone's sources (what an sdist holds and more)."""
    src = tmp_path_factory.mktemp('src') / 'hclmm'
    shutil.copytree(REPO, src, symlinks=True,
                    ignore=shutil.ignore_patterns(*SOURCE_IGNORED))
    return src


@pytest.fixture(scope='module')
def installed(source, tmp_path_factory):
    """hclmm installed as a regular package (``pip install --target``, no
    dependencies), in a folder that goes on ``PYTHONPATH``."""
    site = tmp_path_factory.mktemp('site')
    run_outside([
        sys.executable, '-m', 'pip', 'install', '--isolated', '--no-deps',
        '--no-build-isolation', '--no-index', '--disable-pip-version-check',
        '--target', site, source
    ], cwd=site.parent)
    return site


def test_install_copies_configs_and_tools_into_mim(installed):
    mim = installed / 'hclmm' / '.mim'
    config = mim / 'configs' / 'hcl' / osp.basename(toy_hcl_config())
    for path in (config, mim / 'tools' / 'train.py',
                 mim / 'tools' / 'test.py', mim / 'tools' / 'dist_train.sh',
                 mim / 'model-index.yml'):
        assert path.is_file() and not path.is_symlink(), path


def test_sdist_holds_what_a_build_needs(source, tmp_path):
    run_outside([sys.executable, 'setup.py', '-q', 'sdist', '-d', tmp_path],
                cwd=source)
    archive, = tmp_path.glob('hclmm-*.tar.gz')
    with tarfile.open(archive) as tar:
        names = {n.split('/', 1)[1] for n in tar.getnames() if '/' in n}
    for needed in ('setup.py', 'README.md', 'requirements/runtime.txt',
                   'requirements/mminstall.txt', 'tools/train.py',
                   'configs/hcl/' + osp.basename(toy_hcl_config())):
        assert needed in names, needed
    assert not any('.mim' in n for n in names)


def test_mim_train_runs_an_hclmm_config(installed, toy, tmp_path):
    pytest.importorskip('mim', reason='openmim is not installed '
                        '(requirements/mim.txt, make setup)')
    work = tmp_path / 'work'
    proc = run_outside([
        sys.executable, '-m', 'mim', 'train', 'hclmm',
        osp.basename(toy_hcl_config()), '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={toy}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'param_scheduler=[]',
        'default_hooks.logger.interval=1', '--no-validate'
    ], cwd=tmp_path, pythonpath=installed)
    found = str(installed / 'hclmm' / '.mim' / 'configs' / 'hcl')
    assert found in proc.stdout  # mim found the config in the package
    assert trained_steps(work) == [1, 2]
