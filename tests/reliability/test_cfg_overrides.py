"""``--cfg-options`` is seen by every rule of the tools that depends on it.

* ``train_dataloader.num_workers=0`` turns ``persistent_workers`` off (torch
  refuses persistent workers without workers), in ``tools/train.py`` and
  ``tools/test.py``;
* ``train_cfg.max_epochs`` / ``max_iters`` different from the config file
  moves the parameter schedulers that ended at the file's budget, logs one
  line, and stops with the keys to set when a scheduler cannot be moved
  unambiguously.

The configs are built with the tools' own functions; one real run of
``tools/train.py`` on the toy config checks the whole path.
"""
import importlib.util
import os.path as osp

import pytest
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from hclmm_test_utils import REPO, run_cli
from reliability_utils import PYTHON, TINY_CFG

TOY_CFG = osp.join(REPO, 'configs', 'hcl',
                   'mocov2_resnet18_1xb32-8e_toy-scenes.py')


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'hclmm_tool_{name}', osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def train_tool():
    return _load_tool('train')


@pytest.fixture(scope='module')
def test_tool():
    return _load_tool('test')


def _train_cfg(train_tool, cfg_file, *options, notes=None, extra=()):
    argv = [cfg_file, '--work-dir', '/nonexistent/work', *extra]
    if options:
        argv += ['--cfg-options', *options]
    args = train_tool.parse_args(argv)
    return train_tool.build_config(args, notes)


# --------------------------------------------------- workers after the merge
def test_num_workers_zero_override_turns_persistent_workers_off(
        train_tool, toy_scenes):
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_dataloader.num_workers=0',
                     f'train_dataloader.dataset.data_root={toy_scenes}')
    loader = cfg.train_dataloader
    assert loader.num_workers == 0
    assert loader.persistent_workers is False
    assert loader.pin_memory is True  # the tool's other defaults still apply
    # torch accepts the dataloader the runner builds from it
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        built = Runner.build_dataloader(cfg.train_dataloader)
    assert built.num_workers == 0 and not built.persistent_workers


def test_workers_in_the_config_keep_persistent_workers(train_tool):
    cfg = _train_cfg(train_tool, TOY_CFG)
    assert cfg.train_dataloader.num_workers == 2
    assert cfg.train_dataloader.persistent_workers is True
    cfg = _train_cfg(train_tool, TOY_CFG, extra=['--no-persistent-workers'])
    assert cfg.train_dataloader.persistent_workers is False


def test_test_tool_applies_the_rule_after_the_merge(test_tool, tmp_path):
    cfg_file = tmp_path / 'with_test_loader.py'
    cfg_file.write_text(
        f'_base_ = [{TOY_CFG!r}]\n'
        'test_dataloader = dict(batch_size=2, num_workers=2,\n'
        '    persistent_workers=True, prefetch_factor=4,\n'
        "    dataset=dict(type='SceneObjectCocoDataset', ann_file='a.json'))\n"
        "test_evaluator = dict(type='mmpretrain.Accuracy')\n"
        'test_cfg = dict()\n')
    args = test_tool.parse_args([
        str(cfg_file), 'ckpt.pth', '--cfg-options',
        'test_dataloader.num_workers=0'
    ])
    cfg = test_tool.build_config(args)
    assert cfg.test_dataloader.num_workers == 0
    assert cfg.test_dataloader.persistent_workers is False
    assert cfg.test_dataloader.prefetch_factor is None


# ------------------------------------------------------- schedule and budget
def test_longer_budget_moves_the_cosine_schedule(train_tool):
    notes = []
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=15',
                     notes=notes)
    warmup, cosine = cfg.param_scheduler
    assert cfg.train_cfg.max_epochs == 15
    assert (warmup.begin, warmup.end) == (0, 1)  # did not end at the budget
    assert (cosine.begin, cosine.end, cosine.T_max) == (1, 15, 14)
    assert len(notes) == 1, notes
    assert 'train_cfg.max_epochs is 15' in notes[0]
    assert "config file's 8" in notes[0]
    assert 'param_scheduler.1 (CosineAnnealingLR) end 8 -> 15, T_max 7 -> ' \
        '14' in notes[0]
    # the checkpoint hook's interval and the rest are left alone
    assert cfg.default_hooks.checkpoint.interval == 8


def test_shorter_budget_moves_the_cosine_schedule(train_tool):
    notes = []
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=4',
                     notes=notes)
    cosine = cfg.param_scheduler[1]
    assert (cosine.begin, cosine.end, cosine.T_max) == (1, 4, 3)
    assert 'end 8 -> 4, T_max 7 -> 3' in notes[0]


def test_budget_before_a_scheduler_begins_leaves_it(train_tool):
    # one epoch: only the warm-up runs, as before the override
    notes = []
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=1',
                     notes=notes)
    cosine = cfg.param_scheduler[1]
    assert (cosine.begin, cosine.end, cosine.T_max) == (1, 8, 7)
    assert 'param_scheduler.1 (CosineAnnealingLR) begins at 1' in notes[0]
    assert 'will not run' in notes[0]


def test_unchanged_budget_changes_nothing(train_tool):
    notes = []
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=8',
                     notes=notes)
    assert cfg.param_scheduler[1].end == 8 and notes == []


def test_scheduler_set_by_the_overrides_is_left_to_the_user(train_tool):
    notes = []
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=15',
                     'param_scheduler.1.end=12', 'param_scheduler.1.T_max=11',
                     notes=notes)
    cosine = cfg.param_scheduler[1]
    assert (cosine.end, cosine.T_max) == (12, 11)
    assert notes == []


def test_iteration_budget_moves_iteration_schedulers(train_tool):
    notes = []
    cfg = _train_cfg(train_tool, TINY_CFG, 'train_cfg.max_iters=4',
                     notes=notes)
    (cosine, ) = cfg.param_scheduler
    assert (cosine.begin, cosine.end, cosine.T_max) == (0, 4, 4)
    assert 'train_cfg.max_iters is 4' in notes[0]


def _write_cfg(tmp_path, schedulers):
    path = tmp_path / 'cfg.py'
    path.write_text(f'_base_ = [{TOY_CFG!r}]\n'
                    f'param_scheduler = {schedulers}\n')
    return str(path)


@pytest.mark.parametrize('schedulers, keys', [
    # T_max does not span begin..end: which one is meant?
    ("[dict(type='CosineAnnealingLR', T_max=5, by_epoch=True, begin=1, "
     'end=8)]', ['param_scheduler.0.end', 'param_scheduler.0.T_max']),
    # steps inside the span
    ("[dict(type='MultiStepLR', milestones=[4, 6], by_epoch=True, begin=0, "
     'end=8)]', ['param_scheduler.0.milestones', 'param_scheduler.0.end']),
])
def test_ambiguous_scheduler_stops_with_the_keys_to_set(
        train_tool, tmp_path, schedulers, keys):
    cfg_file = _write_cfg(tmp_path, schedulers)
    with pytest.raises(SystemExit) as e:
        _train_cfg(train_tool, cfg_file, 'train_cfg.max_epochs=15')
    msg = str(e.value)
    assert cfg_file in msg
    assert 'train_cfg.max_epochs was changed from 8 to 15' in msg
    for key in keys:
        assert key in msg, msg
    # once the user sets the scheduler, the budget override goes through
    options = [f'{keys[0]}=[8, 12]' if 'milestones' in keys[0] else
               f'{keys[0]}=15', f'{keys[1]}=14']
    _train_cfg(train_tool, cfg_file, 'train_cfg.max_epochs=15', *options)


def test_scheduler_cut_short_by_a_smaller_budget_stops(train_tool, tmp_path):
    cfg_file = _write_cfg(
        tmp_path, "[dict(type='LinearLR', start_factor=0.1, by_epoch=True, "
        "begin=0, end=4), dict(type='CosineAnnealingLR', T_max=4, "
        'by_epoch=True, begin=4, end=8)]')
    with pytest.raises(SystemExit, match=r'param_scheduler\.0 \(LinearLR, '
                       r'begin=0, end=4\) would be cut short.*'
                       r'param_scheduler\.0\.end'):
        _train_cfg(train_tool, cfg_file, 'train_cfg.max_epochs=2')


# ------------------------------------------------------------ the real tool
def test_train_tool_runs_with_both_overrides(toy_scenes, tmp_path):
    work_dir = tmp_path / 'work'
    proc = run_cli([
        PYTHON, 'tools/train.py', TOY_CFG, '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={toy_scenes}',
        'train_dataloader.num_workers=0', 'train_dataloader.batch_size=4',
        'train_dataloader.dataset.indices=4', 'train_cfg.max_epochs=2'
    ])
    out = proc.stdout + proc.stderr
    assert 'persistent_workers option needs num_workers > 0' not in out
    assert ("train_cfg.max_epochs is 2 instead of the config file's 8; the "
            'parameter schedule follows: param_scheduler.1 '
            '(CosineAnnealingLR) end 8 -> 2, T_max 7 -> 1') in out, out[-3000:]
    assert (work_dir / 'epoch_2.pth').is_file()
