"""The saturation alarm: unit behaviour, and on the toy configs: the paper
loss alone warns within its first two epochs, the recipe and the baseline
never do."""
import logging
import types

import pytest
import torch
from mmengine.logging import MMLogger

from hclmm.engine.hooks import HyperbolicSaturationHook


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def runner():
    logger = MMLogger.get_instance(f'sat-{id(object())}', log_level='INFO')
    cap = _Capture()
    logger.addHandler(cap)
    return types.SimpleNamespace(iter=0, logger=logger, captured=cap)


def _feed(hook, runner, outputs, n):
    for _ in range(n):
        hook.after_train_iter(runner, runner.iter, None, outputs)
        runner.iter += 1


def _warnings(runner):
    return [r for r in runner.captured.records
            if r.levelno == logging.WARNING]


def test_warns_once_after_patience_when_saturated(runner):
    hook = HyperbolicSaturationHook(patience=5, repeat=100)
    sat = dict(scene_sat=torch.tensor(1.0), object_sat=torch.tensor(0.95),
               norm_spread=torch.tensor(0.3))
    _feed(hook, runner, sat, 4)
    assert not _warnings(runner)
    _feed(hook, runner, sat, 50)
    warned = _warnings(runner)
    assert len(warned) == 1
    text = warned[0].getMessage()
    assert 'saturated' in text and 'since iteration 1' in text
    assert 'docs/hcl.md' in text and 'scale_norm' in text
    _feed(hook, runner, sat, 60)  # repeats after `repeat` iterations
    assert len(_warnings(runner)) == 2


def test_collapsed_spread_warns_and_a_break_resets(runner):
    hook = HyperbolicSaturationHook(patience=3)
    collapsed = dict(scene_sat=0.0, object_sat=0.0, norm_spread=0.0)
    healthy = dict(scene_sat=0.1, object_sat=0.8, norm_spread=0.5)
    _feed(hook, runner, collapsed, 2)
    _feed(hook, runner, healthy, 1)
    _feed(hook, runner, collapsed, 2)
    assert not _warnings(runner)
    _feed(hook, runner, collapsed, 1)
    assert 'collapsed' in _warnings(runner)[0].getMessage()


def test_silent_without_hyperbolic_statistics(runner):
    hook = HyperbolicSaturationHook(patience=1)
    _feed(hook, runner, dict(loss=torch.tensor(1.0)), 20)
    _feed(hook, runner, None, 20)
    # one side saturated only is not the failure the alarm is about
    _feed(hook, runner, dict(scene_sat=1.0, object_sat=0.2,
                             norm_spread=0.5), 20)
    assert not _warnings(runner)


def test_bad_arguments():
    with pytest.raises(ValueError, match='patience'):
        HyperbolicSaturationHook(patience=0)


# ------------------------------------------------- on the toy scene configs
TOY_CONFIGS = {
    'paper_loss': 'hcl-mocov2_resnet18_1xb32-8e_toy-scenes_paper-loss.py',
    'recipe': 'hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py',
    'baseline': 'mocov2_resnet18_1xb32-8e_toy-scenes.py',
}


@pytest.fixture(scope='module')
def toy_scenes(tmp_path_factory):
    import subprocess
    import sys

    from hclmm_test_utils import REPO
    out = tmp_path_factory.mktemp('toy_sat')
    subprocess.run([
        sys.executable, f'{REPO}/tools/dataset_converters/make_toy_scenes.py',
        '--out', str(out), '--num-train', '800', '--num-val', '2'
    ], check=True, capture_output=True, cwd=REPO, timeout=600)
    return out


def _train_toy(name, toy, work_dir, epochs):
    """Train a toy config as `make demo` does (its data, batch and
    schedule), only shorter, and return its saturation hook."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from hclmm.utils import register_all_modules
    from hclmm_test_utils import REPO
    register_all_modules()
    cfg = Config.fromfile(f'{REPO}/configs/hcl/{TOY_CONFIGS[name]}')
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.dataset.data_root = str(toy)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_cfg.max_epochs = epochs
    # the schedulers that begin within the shorter run (the cosine, which
    # ends with the training, begins after the warm-up epoch)
    cfg.param_scheduler = [s for s in cfg.param_scheduler
                           if s.get('begin', 0) < epochs]
    cfg.custom_hooks = [dict(type='HyperbolicSaturationHook')]
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    runner = Runner.from_cfg(cfg)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the demo's setting; in-process, no workers
    try:
        runner.train()
    finally:
        torch.set_num_threads(threads)
    hook = [h for h in runner.hooks
            if isinstance(h, HyperbolicSaturationHook)][0]
    return runner, hook


def test_paper_loss_warns_in_its_first_two_epochs(toy_scenes, tmp_path):
    # from the zero-initialised residual blocks both sides saturate during
    # the second epoch (scenes by iteration 6, objects by about 30)
    runner, hook = _train_toy('paper_loss', toy_scenes, tmp_path, epochs=2)
    assert runner.iter == 48  # two epochs of the demo's 800 scenes, batch 32
    assert hook.warnings >= 1
    assert float(runner.message_hub.get_scalar('train/scene_sat').current()) \
        == 1.0


@pytest.mark.parametrize('name', ['recipe', 'baseline'])
def test_recipe_and_baseline_never_warn(name, toy_scenes, tmp_path):
    # one epoch here; the demo's 8-epoch runs of both print no warning
    # either
    runner, hook = _train_toy(name, toy_scenes, tmp_path, epochs=1)
    assert runner.iter == 24
    assert hook.warnings == 0
    if name == 'recipe':
        hub = runner.message_hub
        spread = hub.get_scalar('train/norm_spread').data[0]
        assert min(spread) > 0.1  # the norms stay spread out
