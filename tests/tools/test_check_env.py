"""``tools/check_env.py``: one screen that says whether an environment fits
hclmm (each package against the range of requirements/) and what to
change."""
import os
import subprocess
import sys

import pytest

from hclmm_test_utils import REPO, load_tool

TOOL = os.path.join(REPO, 'tools', 'check_env.py')


@pytest.fixture(scope='module')
def check_env():
    return load_tool('check_env')


@pytest.mark.parametrize('found,wanted,status', [
    ('0.10.7', '>=0.10.0,<1.0.0', 'ok'),
    ('0.9.1', '>=0.10.0,<1.0.0', 'too old'),
    ('1.0.0', '>=0.10.0,<1.0.0', 'too new'),
    ('2.13.0+cu130', '>=2.4', 'ok'),  # a local build label is in range
    ('2.1.1', '==2.1.0', 'too new'),
    ('2.0.9', '==2.1.0', 'too old'),
    ('1.2.0', '', 'ok'),
    (None, '>=0.5.1,<0.6', 'missing'),
])
def test_range_check(check_env, found, wanted, status):
    row = check_env.check_version('mmengine', found, wanted)
    assert row.status == status
    assert row.fails == (status != 'ok')
    if status != 'ok':
        assert row.advice == f'pip install "mmengine{wanted}"'


def test_ranges_are_read_from_the_requirement_files(check_env):
    ranges = check_env.supported_ranges()
    for name in ('torch', 'mmcv', 'mmengine', 'mmpretrain', 'geoopt',
                 'mmdet', 'mmsegmentation'):
        assert name in ranges, name
    # every range holds the version that `make setup` installs
    pins = check_env.read_requirements(
        [os.path.join(REPO, 'requirements', 'pinned.txt')])
    for name, wanted in ranges.items():
        if name in pins:
            row = check_env.check_version(name, pins[name][2:], wanted)
            assert row.status == 'ok', (name, pins[name], wanted)


def _run(*args, env=None):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO,
                          env=dict(os.environ, **(env or {})))


def test_this_environment_fits(tmp_path):
    proc = _run('--transfer')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    status = {line.split()[0]: line.split()[-1] for line in lines[1:13]
              if line.strip()}
    for name in ('python', 'torch', 'torchvision', 'mmcv', 'mmengine',
                 'mmpretrain', 'geoopt', 'mmdet', 'mmsegmentation'):
        assert status[name] == 'ok', (name, proc.stdout)
    assert 'CUDA' in status
    assert lines[-1].startswith('[check_env] OK (with transfer)')
    assert len(lines) <= 25  # one screen


def test_a_too_old_version_is_named_with_the_pip_command(tmp_path):
    """A planted geoopt 0.4.0 (its metadata ahead on the path) fails with
    the command that installs a supported one."""
    dist = tmp_path / 'geoopt-0.4.0.dist-info'
    dist.mkdir()
    (dist / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: geoopt\nVersion: 0.4.0\n')
    proc = _run(env=dict(PYTHONPATH=str(tmp_path)))
    assert proc.returncode == 1
    row = [line for line in proc.stdout.splitlines()
           if line.startswith('geoopt ')]
    assert row and row[0].split()[1] == '0.4.0'
    assert row[0].endswith('too old')
    assert 'change geoopt: pip install "geoopt>=0.5.1,<0.6"' in proc.stdout
    assert proc.stderr.strip().splitlines()[-1].startswith(
        '[check_env] FAILED (pretraining): geoopt')
