"""Crash-safe checkpoints come from a registered hook that the configs name;
``import hclmm`` leaves mmengine's saving alone and changes only what
docs/reliability.md lists (torch's allow-list, the local-file loader)."""
import glob
import json
import os.path as osp
import subprocess
import sys

from mmengine.config import Config

from hclmm_test_utils import REPO

PROBE = r'''
import json
import torch
import mmengine.runner as runner
import mmengine.runner.checkpoint as ckpt
import mmengine.runner.runner as runner_module
from mmengine.hooks import CheckpointHook
from mmengine.runner.checkpoint import CheckpointLoader


def state():
    return dict(
        save=[id(m.save_checkpoint) for m in (ckpt, runner, runner_module)],
        hook=id(CheckpointHook._save_checkpoint_with_step),
        hook_save=id(CheckpointHook._save_checkpoint),
        loaders={k: id(v) for k, v in CheckpointLoader._schemes.items()},
        safe=len(torch.serialization.get_safe_globals()))


before = state()
import hclmm  # noqa: E402,F401
after = state()
print(json.dumps(dict(before=before, after=after)))
'''


def test_import_changes_only_the_listed_loading():
    out = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO,
                         capture_output=True, text=True, check=True)
    states = json.loads(out.stdout.strip().splitlines()[-1])
    before, after = states['before'], states['after']
    # saving: untouched
    assert after['save'] == before['save']
    assert after['hook'] == before['hook']
    assert after['hook_save'] == before['hook_save']
    # loading: the local-file loader ('' scheme) and the allow-list only
    changed = {k for k in before['loaders']
               if after['loaders'].get(k) != before['loaders'][k]}
    assert changed == {''}
    assert after['safe'] > before['safe']


def test_every_config_names_the_atomic_hook():
    files = [f for f in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                  recursive=True)
             if '/benchmarks/' not in f and '/_base_/' not in f]
    assert len(files) > 40
    for path in files:
        hooks = Config.fromfile(path).default_hooks
        assert hooks.checkpoint.type == 'AtomicCheckpointHook', path


def test_hook_is_registered_and_is_a_checkpoint_hook():
    from mmengine.hooks import CheckpointHook

    from hclmm.engine.hooks import AtomicCheckpointHook
    from hclmm.registry import HOOKS
    hook = HOOKS.build(dict(type='AtomicCheckpointHook', interval=2))
    assert isinstance(hook, AtomicCheckpointHook)
    assert isinstance(hook, CheckpointHook)
