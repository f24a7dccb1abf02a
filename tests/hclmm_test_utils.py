"""Helpers shared by the test suite (imported as a plain module)."""
import os
import os.path as osp
import re
import subprocess

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_cli(args, timeout=600, env=None, check=True):
    """Run a command from the repository root and return the finished process.

    The output is shown when the command fails.
    """
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.update(env or {})
    proc = subprocess.run(
        args, cwd=REPO, env=full_env, capture_output=True, text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'command failed ({proc.returncode}): {" ".join(map(str, args))}\n'
            f'--- stdout ---\n{proc.stdout[-6000:]}\n'
            f'--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


# OpenMMLab's `{gpus}xb{batch}`, optional parts such as `amp` or `coslr`,
# then the schedule: `{M}e` epochs or `{M}it` iterations
NAME_SCHEDULE = re.compile(
    r'_(?P<gpus>\d+)xb(?P<batch>\d+)-(?:[\w.]+-)*?(?P<len>\d+)(?P<unit>e|it)'
    r'(?=[_.]|$)')


def name_schedule(name):
    """``(gpus, batch per GPU, length, 'e' or 'it')`` from a config name, or
    None when the name has no ``{gpus}xb{batch}-...{schedule}`` part."""
    m = NAME_SCHEDULE.search(osp.basename(name))
    if m is None:
        return None
    return int(m['gpus']), int(m['batch']), int(m['len']), m['unit']


def pretrain_configs():
    """The pretraining configs: every ``configs/<method>/*.py`` outside
    ``configs/_base_`` and ``configs/benchmarks``, as repository-relative
    paths."""
    import glob
    paths = glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    return sorted(
        osp.relpath(p, REPO) for p in paths
        if osp.basename(osp.dirname(p)) not in ('_base_', 'benchmarks'))


def toy_hcl_config():
    """The toy HCL config (``configs/hcl/hcl-mocov2_resnet18*toy-scenes.py``,
    without the suffixed variants), as an absolute path."""
    import glob
    found = glob.glob(osp.join(REPO, 'configs', 'hcl',
                               'hcl-mocov2_resnet18*toy-scenes.py'))
    assert len(found) == 1, found
    return found[0]


def load_tool(name):
    """``tools/<name>.py`` imported as a module (its functions, not run)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        f'hclmm_tool_{name.replace("/", "_")}',
        osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
