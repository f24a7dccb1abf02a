"""The two setup levels of ``tools/setup_env.sh``, checked by dry runs.

``make demo`` runs ``setup_env.sh --minimal`` (mmcv without its C++ ops,
no mmdet/mmseg), ``make test`` ``setup_env.sh --full``. ``--dry-run`` prints
the plan for a venv as it is (what would be created, built, uninstalled,
installed) and changes nothing, so each state of a venv and of the wheel
cache can be checked in a fraction of a second: a fake venv whose
``bin/python`` sees either no mmcv, an mmcv without ops or one with ops, a
temporary wheel cache, and the stamps.
"""
import hashlib
import os
import stat
import subprocess
import sys

import pytest

from hclmm_test_utils import REPO

SCRIPT = os.path.join(REPO, 'tools', 'setup_env.sh')
FULL_WHEEL = 'mmcv-2.1.0-torch2.13.0-cp{}{}-ops/mmcv-2.1.0-cp311-cp311-' \
    'linux_x86_64.whl'.format(*sys.version_info[:2])
LITE_WHEEL = 'mmcv-2.1.0-noops/mmcv_lite-2.1.0-py2.py3-none-any.whl'


def current_stamp():
    """What the script writes into a stamp for the present inputs."""
    req = os.path.join(REPO, 'requirements')
    files = [os.path.join(req, n) for n in sorted(os.listdir(req))
             if n.endswith('.txt')]
    files += [os.path.join(REPO, 'setup.py'), SCRIPT,
              os.path.join(REPO, 'tools', 'check_env.py')]
    digest = hashlib.sha256()
    for path in files:
        with open(path, 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()


def make_venv(root, mmcv=None):
    """A venv whose python sees ``mmcv`` = None, 'lite' or 'full'."""
    site = root / 'fake_site'
    site.mkdir(parents=True)
    if mmcv is not None:
        pkg = site / 'mmcv'
        pkg.mkdir()
        (pkg / '__init__.py').write_text('')
        (pkg / 'version.py').write_text("__version__ = '2.1.0'\n")
        if mmcv == 'full':
            (pkg / '_ext.cpython-311-x86_64-linux-gnu.so').write_bytes(b'')
    venv = root / 'venv'
    (venv / 'bin').mkdir(parents=True)
    python = venv / 'bin' / 'python'
    # -S: no site-packages, so only the fake mmcv (or none) is found
    python.write_text('#!/bin/sh\n'
                      f'PYTHONPATH="{site}" exec "{sys.executable}" -S "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return venv


def make_cache(root, full=False, lite=False):
    cache = root / 'wheels'
    for present, rel in ((full, FULL_WHEEL), (lite, LITE_WHEEL)):
        if present:
            path = cache / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b'')
    cache.mkdir(exist_ok=True)
    return cache


def dry_run(venv, cache, *flags):
    env = dict(os.environ, HCLMM_WHEEL_CACHE=str(cache), LC_ALL='C',
               HCLMM_PYTHON=sys.executable)
    proc = subprocess.run(['bash', SCRIPT, *flags, '--dry-run', str(venv)],
                          capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def would_run(plan):
    return [line.split('would run: ', 1)[1] for line in plan.splitlines()
            if 'would run: ' in line]


def test_dry_run_changes_nothing(tmp_path):
    venv = tmp_path / 'new-venv'
    cache = make_cache(tmp_path)
    dry_run(venv, cache, '--minimal')
    dry_run(venv, cache, '--full')
    assert not venv.exists()
    assert os.listdir(cache) == []


def test_minimal_on_a_fresh_machine_builds_mmcv_without_ops(tmp_path):
    venv = tmp_path / 'new-venv'
    plan = dry_run(venv, make_cache(tmp_path), '--minimal')
    cmds = would_run(plan)
    assert any(' -m venv ' in c for c in cmds)
    assert any('requirements/build.txt' in c for c in cmds)  # torch
    build = [c for c in cmds if ' pip wheel ' in c]
    assert len(build) == 1 and 'MMCV_WITH_OPS=0' in build[0], build
    assert '--no-cache-dir' in build[0]
    assert 'mmcv-2.1.0-noops' in plan
    assert any(c.endswith('mmcv_lite-2.1.0-py2.py3-none-any.whl')
               for c in cmds)
    text = '\n'.join(cmds)
    assert 'runtime.txt' in text
    # mmcv comes from the wheel, never from pip's resolver (an sdist build)
    assert 'mminstall.txt' not in text
    for absent in ('transfer.txt', 'tests.txt', 'openmim', 'mmdet',
                   'MMCV_WITH_OPS=1'):
        assert absent not in text, absent
    assert cmds[-1].endswith('tools/check_env.py --pinned')
    assert '.hclmm-setup-stamp-minimal' in plan


@pytest.mark.parametrize('level', ['--minimal', '--full'])
def test_every_install_is_pinned(tmp_path, level):
    """The requirement files hold ranges; each pip install of the script
    takes requirements/pinned.txt as constraints, so both levels install
    the tested versions."""
    plan = dry_run(tmp_path / 'new-venv', make_cache(tmp_path), level)
    installs = [c for c in would_run(plan) if ' pip install ' in c]
    assert len(installs) >= 4
    pins = os.path.join(REPO, 'requirements', 'pinned.txt')
    for cmd in installs:
        assert f'-c {pins}' in cmd, cmd
    # the editable install links the configs and tools into hclmm/.mim
    assert installs[-1].endswith(f'-e {REPO}')


def test_minimal_uses_a_cached_full_wheel_instead_of_building(tmp_path):
    plan = dry_run(tmp_path / 'new-venv', make_cache(tmp_path, full=True),
                   '--minimal')
    cmds = would_run(plan)
    assert not any(' pip wheel ' in c for c in cmds)
    assert any(c.endswith('linux_x86_64.whl') and '--force-reinstall' not in c
               for c in cmds)


def test_minimal_with_cached_lite_wheel_builds_nothing(tmp_path):
    plan = dry_run(tmp_path / 'new-venv', make_cache(tmp_path, lite=True),
                   '--minimal')
    cmds = would_run(plan)
    assert not any(' pip wheel ' in c or 'pip download' in c for c in cmds)
    assert any(c.endswith('mmcv_lite-2.1.0-py2.py3-none-any.whl')
               for c in cmds)


def test_full_replaces_mmcv_lite_by_the_cached_full_wheel(tmp_path):
    venv = make_venv(tmp_path, mmcv='lite')
    (venv / '.hclmm-setup-stamp-minimal').write_text(current_stamp() + '\n')
    plan = dry_run(venv, make_cache(tmp_path, full=True, lite=True), '--full')
    cmds = would_run(plan)
    assert 'replacing mmcv-lite' in plan
    assert not any(' pip wheel ' in c for c in cmds)  # cached: no build
    uninstall = [i for i, c in enumerate(cmds) if 'pip uninstall -y' in c]
    install = [i for i, c in enumerate(cmds)
               if '--force-reinstall' in c and c.endswith('.whl')]
    assert len(uninstall) == 1 and 'mmcv-lite' in cmds[uninstall[0]]
    assert len(install) == 1 and uninstall[0] < install[0]
    assert cmds[install[0]].endswith('linux_x86_64.whl')
    text = '\n'.join(cmds)
    assert 'transfer.txt' in text and 'tests.txt' in text
    assert 'openmim.txt' in text
    assert any(c.endswith('--no-deps openmim') for c in cmds)
    assert cmds[-1].endswith('tools/check_env.py --pinned --transfer')
    assert '.hclmm-setup-stamp-full' in plan


def test_full_without_cached_wheel_builds_it_with_ops(tmp_path):
    venv = make_venv(tmp_path, mmcv='lite')
    plan = dry_run(venv, make_cache(tmp_path, lite=True), '--full')
    build = [c for c in would_run(plan) if ' pip wheel ' in c]
    assert len(build) == 1 and 'MMCV_WITH_OPS=1' in build[0], build
    assert '--no-cache-dir' in build[0]
    assert 'mmcv-2.1.0-torch2.13.0-cp' in plan


def test_full_is_the_default(tmp_path):
    venv = make_venv(tmp_path, mmcv='full')
    plan = dry_run(venv, make_cache(tmp_path))
    assert 'setting up the full environment' in plan
    assert 'mmcv 2.1.0 with ops already installed' in plan
    cmds = would_run(plan)
    assert not any('uninstall' in c or c.endswith('.whl') for c in cmds)


def test_minimal_keeps_a_full_mmcv(tmp_path):
    venv = make_venv(tmp_path, mmcv='full')
    plan = dry_run(venv, make_cache(tmp_path, lite=True), '--minimal')
    assert 'already installed (full); kept' in plan
    cmds = would_run(plan)
    assert not any('uninstall' in c or c.endswith('.whl') for c in cmds)


@pytest.mark.parametrize('stamp,level,up_to_date', [
    ('full', '--full', True),
    ('full', '--minimal', True),  # the full stack contains the minimal one
    ('minimal', '--minimal', True),
    ('minimal', '--full', False),  # mmcv ops, mmdet, mmseg still missing
    ('stale-full', '--full', False),
    ('stale-full', '--minimal', False),
])
def test_stamps(tmp_path, stamp, level, up_to_date):
    venv = make_venv(tmp_path, mmcv='full' if 'full' in stamp else 'lite')
    value = current_stamp()
    if stamp.startswith('stale'):
        value = '0' * 64
    name = stamp.replace('stale-', '')
    (venv / f'.hclmm-setup-stamp-{name}').write_text(value + '\n')
    plan = dry_run(venv, make_cache(tmp_path), level)
    cmds = would_run(plan)
    if up_to_date:
        assert 'environment up to date' in plan
        assert len(cmds) == 1 and 'tools/check_env.py' in cmds[0]
        assert cmds[0].endswith('--pinned --transfer') == (level == '--full')
    else:
        assert 'environment up to date' not in plan
        assert any('pip install' in c for c in cmds)


def test_unknown_option_is_refused(tmp_path):
    proc = subprocess.run(['bash', SCRIPT, '--mininal', '--dry-run'],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert 'unknown option --mininal' in proc.stderr


@pytest.mark.parametrize('script,lib', [
    ('mmdetection/mim_dist_train_fpn.sh', 'mmdet'),
    ('mmdetection/mim_slurm_train_c4.sh', 'mmdet'),
    ('mmsegmentation/mim_dist_train.sh', 'mmseg'),
])
def test_transfer_launchers_ask_for_the_full_stack(tmp_path, script, lib):
    """On the minimal stack (mmcv-lite) a detection or segmentation launch
    stops at once and names the command that brings in the full stack."""
    path = os.path.join(REPO, 'tools', 'benchmarks', script)
    if 'slurm' in script:  # PARTITION CONFIG PRETRAIN
        args = ['bash', path, 'part', 'cfg.py', 'missing.pth']
    else:  # CONFIG PRETRAIN GPUS
        args = ['bash', path, 'cfg.py', 'missing.pth', '1']
    lite = make_venv(tmp_path, mmcv='lite')
    env = dict(os.environ, DRY_RUN='1', NO_MIM='1',
               PYTHON=str(lite / 'bin' / 'python'))
    proc = subprocess.run(args, capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode != 0
    assert f'{lib} needs mmcv with its C++ ops' in proc.stderr
    assert 'mmcv-lite' in proc.stderr
    assert 'bash tools/setup_env.sh --full' in proc.stderr
    # with the full stack (this interpreter) the check passes and the
    # launcher goes on (to the missing weights)
    env['PYTHON'] = sys.executable
    proc = subprocess.run(args, capture_output=True, text=True, env=env,
                          timeout=60)
    assert 'C++ ops' not in proc.stderr
    assert "pretrained weights 'missing.pth' not found" in proc.stderr
