"""What trains is the config file with ``--cfg-options`` merged in.

* ``train_dataloader.num_workers=0`` turns ``persistent_workers`` off (torch
  refuses persistent workers without workers), in ``tools/train.py`` and
  ``tools/test.py``, and the tool says so in its one line of changes; it
  sets no dataloader option of its own;
* a scheduler that spans the training has no ``end``: mmengine's Runner
  ends it at ``train_cfg.max_epochs`` / ``max_iters``, so a changed budget
  moves it (the runner's own schedulers are checked); a scheduler with its
  own ``end`` keeps it; one that would begin at or after the budget stops
  the tool with one line before the model is built;
* the config that ``tools/train.py`` dumps into the work directory is
  ``Config.fromfile(CONFIG)`` with the ``--cfg-options``.

The configs are built with the tools' own functions; one real run of
``tools/train.py`` on the toy config checks the whole path.
"""
import math
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from hclmm_test_utils import REPO, load_tool, run_cli
from reliability_utils import PYTHON, TINY_CFG

TOY_CFG = osp.join(REPO, 'configs', 'hcl',
                   'mocov2_resnet18_1xb32-8e_toy-scenes.py')


@pytest.fixture(scope='module')
def train_tool():
    return load_tool('train')


@pytest.fixture(scope='module')
def test_tool():
    return load_tool('test')


def _train_cfg(train_tool, cfg_file, *options, notes=None, extra=()):
    argv = [cfg_file, '--work-dir', '/nonexistent/work', *extra]
    if options:
        argv += ['--cfg-options', *options]
    args = train_tool.parse_args(argv)
    return train_tool.build_config(args, notes)


def _on(root):
    """Both loaders of the toy configs on ``root``, 4 images, batch 4."""
    return [f'train_dataloader.dataset.data_root={root}',
            f'val_dataloader.dataset.data_root={root}',
            'train_dataloader.num_workers=0', 'train_dataloader.batch_size=4',
            'train_dataloader.dataset.indices=16']


def _schedulers(cfg, tmp_path):
    """The parameter schedulers that the runner builds from ``cfg``, and the
    iterations per epoch."""
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        runner.train_loop  # built as in runner.train()
        runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
        schedulers = runner.build_param_scheduler(cfg.param_scheduler)
    return schedulers, len(runner.train_dataloader)


# --------------------------------------------------- workers after the merge
def test_num_workers_zero_override_turns_persistent_workers_off(
        train_tool, toy_scenes):
    notes = []
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_dataloader.num_workers=0',
                     f'train_dataloader.dataset.data_root={toy_scenes}',
                     f'val_dataloader.dataset.data_root={toy_scenes}',
                     notes=notes)
    loader = cfg.train_dataloader
    assert loader.num_workers == 0
    assert loader.persistent_workers is False
    assert loader.pin_memory is True  # the config's own setting
    assert notes == ['work_dir=/nonexistent/work',
                     'train_dataloader.persistent_workers=False '
                     '(num_workers=0)']
    # torch accepts the dataloader the runner builds from it
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        built = Runner.build_dataloader(cfg.train_dataloader)
    assert built.num_workers == 0 and not built.persistent_workers


def test_workers_in_the_config_keep_persistent_workers(train_tool,
                                                       toy_scenes):
    notes = []
    roots = [f'train_dataloader.dataset.data_root={toy_scenes}',
             f'val_dataloader.dataset.data_root={toy_scenes}']
    cfg = _train_cfg(train_tool, TOY_CFG, *roots, notes=notes)
    assert cfg.train_dataloader.num_workers == 2
    assert cfg.train_dataloader.persistent_workers is True
    assert notes == ['work_dir=/nonexistent/work']
    # the tool adds nothing to a loader: it is the file's with the options
    file_cfg = Config.fromfile(TOY_CFG)
    file_cfg.merge_from_dict(train_tool_options(roots))
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[field].to_dict() == file_cfg[field].to_dict()
    cfg = _train_cfg(train_tool, TOY_CFG, *roots,
                     extra=['--no-persistent-workers'])
    assert cfg.train_dataloader.persistent_workers is False


def test_test_tool_applies_the_rule_after_the_merge(test_tool, tmp_path):
    cfg_file = tmp_path / 'with_test_loader.py'
    (tmp_path / 'a.json').write_text('{}')
    cfg_file.write_text(
        f'_base_ = [{TOY_CFG!r}]\n'
        'test_dataloader = dict(batch_size=2, num_workers=2,\n'
        '    persistent_workers=True, prefetch_factor=4,\n'
        "    dataset=dict(type='SceneObjectCocoDataset', ann_file='a.json',\n"
        f'                 data_root={str(tmp_path)!r}))\n'
        "test_evaluator = dict(type='mmpretrain.Accuracy')\n"
        'test_cfg = dict()\n')
    args = test_tool.parse_args([
        str(cfg_file), 'ckpt.pth', '--cfg-options',
        'test_dataloader.num_workers=0'
    ])
    notes = []
    cfg = test_tool.build_config(args, notes)
    assert cfg.test_dataloader.num_workers == 0
    assert cfg.test_dataloader.persistent_workers is False
    assert cfg.test_dataloader.prefetch_factor is None
    assert 'test_dataloader.prefetch_factor=None (num_workers=0)' in notes


# ------------------------------------------------------- schedule and budget
def test_schedules_that_span_the_training_have_no_end():
    for path in ('_base_/schedules/sgd_coslr-200e.py',
                 '_base_/schedules/lars_coslr-200e.py',
                 'hcl/mocov2_resnet18_1xb32-8e_toy-scenes.py',
                 'hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py'):
        cosine = Config.fromfile(osp.join(REPO, 'configs', path)) \
            .param_scheduler[-1]
        assert cosine.type == 'CosineAnnealingLR'
        assert 'end' not in cosine and 'T_max' not in cosine, path


def test_longer_budget_stretches_the_cosine_schedule(train_tool, toy_scenes,
                                                     tmp_path):
    notes = []
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=15',
                     *_on(toy_scenes), notes=notes)
    assert cfg.train_cfg.max_epochs == 15
    # the tool moved nothing: the file's schedule, mmengine's rule
    assert cfg.param_scheduler == Config.fromfile(TOY_CFG).param_scheduler
    assert not any('param_scheduler' in n for n in notes)
    (warmup, cosine), epoch = _schedulers(cfg, tmp_path)
    assert epoch == 4
    assert (warmup.begin, warmup.end) == (0, epoch)  # the warm-up epoch
    assert (cosine.begin, cosine.end, cosine.T_max) == \
        (epoch, 15 * epoch, 14 * epoch)
    # the learning rate after each step: the peak after the warm-up, half
    # of it halfway through the cosine (epoch 8 of 15), the cosine's last
    # value (about 0) in the last iteration of epoch 15
    lr = cfg.optim_wrapper.optimizer.lr
    group = cosine.optimizer.param_groups[0]
    seen = {}
    for step in range(1, 15 * epoch + 1):
        warmup.step()
        cosine.step()
        seen[step] = group['lr']
    assert seen[epoch] == pytest.approx(lr)
    assert seen[8 * epoch] == pytest.approx(lr / 2)
    last = 15 * epoch - 1
    assert seen[last] == pytest.approx(
        lr * (1 + math.cos(math.pi * (last - epoch) / (14 * epoch))) / 2)
    assert seen[last] < 1e-3 * lr


@pytest.mark.parametrize('budget', [4, 8])  # shorter, the file's own
def test_cosine_schedule_ends_with_the_budget(train_tool, toy_scenes,
                                              tmp_path, budget):
    cfg = _train_cfg(train_tool, TOY_CFG, f'train_cfg.max_epochs={budget}',
                     *_on(toy_scenes))
    (_, cosine), epoch = _schedulers(cfg, tmp_path)
    assert (cosine.begin, cosine.end, cosine.T_max) == \
        (epoch, budget * epoch, (budget - 1) * epoch)


def test_budget_before_a_scheduler_begins_stops_with_one_line(
        train_tool, toy_scenes):
    # one epoch: the cosine would begin where the training ends
    with pytest.raises(SystemExit) as e:
        _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=1',
                   *_on(toy_scenes))
    msg = str(e.value)
    assert '\n' not in msg
    assert msg.startswith(f'{TOY_CFG}: param_scheduler.1 (CosineAnnealingLR)'
                          ' begins at 1')
    assert 'train_cfg.max_epochs=1' in msg
    assert 'param_scheduler.1.begin=B' in msg and 'param_scheduler=[]' in msg
    # a constant learning rate for such a smoke run goes through
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=1',
                     'param_scheduler=[]', *_on(toy_scenes))
    assert cfg.param_scheduler == []


def test_scheduler_set_by_the_overrides_is_left_to_the_user(
        train_tool, toy_scenes, tmp_path):
    cfg = _train_cfg(train_tool, TOY_CFG, 'train_cfg.max_epochs=15',
                     'param_scheduler.1.end=12', 'param_scheduler.1.T_max=11',
                     *_on(toy_scenes))
    (_, cosine), epoch = _schedulers(cfg, tmp_path)
    assert (cosine.end, cosine.T_max) == (12 * epoch, 11 * epoch)


def test_iteration_budget_moves_iteration_schedulers(train_tool, toy_scenes,
                                                     tmp_path):
    cfg = _train_cfg(train_tool, TINY_CFG, 'train_cfg.max_iters=4',
                     f'train_dataloader.dataset.data_root={toy_scenes}')
    (cosine, ), _ = _schedulers(cfg, tmp_path)
    assert (cosine.begin, cosine.end, cosine.T_max) == (0, 4, 4)


@pytest.mark.parametrize('schedulers, spans', [
    # T_max that does not span begin..end
    ("[dict(type='CosineAnnealingLR', T_max=5, by_epoch=True, begin=1, "
     'end=8)]', [(1, 8)]),
    # steps inside the span
    ("[dict(type='MultiStepLR', milestones=[4, 6], by_epoch=True, begin=0, "
     'end=8)]', [(0, 8)]),
    # a span that the smaller budget cuts short, and one after it
    ("[dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, "
     "end=4), dict(type='CosineAnnealingLR', T_max=4, by_epoch=True, "
     'begin=4, end=8)]', [(0, 4), (4, 8)]),
])
def test_scheduler_with_its_own_end_keeps_it(train_tool, toy_scenes,
                                             tmp_path, schedulers, spans):
    """A scheduler with an ``end`` is the config's word: a changed budget
    moves nothing and the tool says nothing about it."""
    path = tmp_path / 'cfg.py'
    path.write_text(f'_base_ = [{TOY_CFG!r}]\n'
                    f'param_scheduler = {schedulers}\n')
    for budget in (2, 15):
        notes = []
        cfg = _train_cfg(train_tool, str(path),
                         f'train_cfg.max_epochs={budget}', *_on(toy_scenes),
                         notes=notes)
        assert not any('param_scheduler' in n for n in notes)
        built, _ = _schedulers(cfg, tmp_path / str(budget))
        assert [(s.begin, s.end) for s in built] == spans  # epochs


# ------------------------------------------------------------ the real tool
def test_dumped_config_is_the_file_with_the_options(toy_scenes, tmp_path):
    """``tools/train.py`` changes nothing it does not print: with the work
    directory among the options it prints no change, and the config in the
    work directory is ``Config.fromfile`` plus the options."""
    work_dir = tmp_path / 'work'
    options = [
        f'work_dir={work_dir}', *_on(toy_scenes),
        'train_dataloader.persistent_workers=False',
        'train_dataloader.dataset.indices=4', 'train_cfg.max_epochs=2'
    ]
    proc = run_cli([PYTHON, 'tools/train.py', TOY_CFG, '--cfg-options',
                    *options])
    out = proc.stdout + proc.stderr
    assert 'tools/train.py set' not in out, out[-3000:]
    assert (work_dir / 'epoch_2.pth').is_file()
    expected = Config.fromfile(TOY_CFG)
    expected.merge_from_dict(
        train_tool_options(options))
    dumped = Config.fromfile(str(work_dir / osp.basename(TOY_CFG)))
    assert dumped.to_dict() == Config.fromstring(
        expected.pretty_text, '.py').to_dict()


def train_tool_options(options):
    """``--cfg-options`` as the tools parse them."""
    return load_tool('train').parse_args(
        ['cfg.py', '--cfg-options', *options]).cfg_options


def test_train_tool_runs_with_both_overrides(toy_scenes, tmp_path):
    work_dir = tmp_path / 'work'
    proc = run_cli([
        PYTHON, 'tools/train.py', TOY_CFG, '--work-dir',
        str(work_dir), '--cfg-options', *_on(toy_scenes),
        'train_dataloader.dataset.indices=4', 'train_cfg.max_epochs=2'
    ])
    out = proc.stdout + proc.stderr
    assert 'persistent_workers option needs num_workers > 0' not in out
    lines = [line for line in out.splitlines() if 'tools/train.py set' in line]
    assert len(lines) == 1, out[-3000:]
    assert lines[0].endswith(
        'tools/train.py set, beyond the config file and --cfg-options: '
        f'work_dir={work_dir}; train_dataloader.persistent_workers=False '
        '(num_workers=0)')
    assert (work_dir / 'epoch_2.pth').is_file()
