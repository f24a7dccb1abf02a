"""BNReestimationHook: the backbone's BatchNorm running statistics become
those of the run's training batches, before the first step, without
changing a weight, and the layers go back to their mode and momentum."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from fixtures.toy_scenes import make_toy_scenes
from hclmm.engine.hooks import BNReestimationHook
from hclmm.engine.hooks.bn_reestimation_hook import sample_indices
from hclmm.utils import register_all_modules

ROOT = Path(__file__).resolve().parents[2]
PROBE = (ROOT / 'configs' / 'benchmarks' / 'classification' / 'toy_scenes' /
         'resnet18_linear-1xb32-500it_toy-scenes.py')


@pytest.fixture(scope='module')
def runner(tmp_path_factory):
    """The suite's linear probe (frozen backbone, norm_eval) on a tiny toy
    set, random weights, in a real Runner; the crops unaugmented so the
    hook's batches can be replayed."""
    register_all_modules()
    toy = make_toy_scenes(tmp_path_factory.mktemp('toy'), num_train=3,
                          num_val=1, seed=0, img_size=64)
    cfg = Config.fromfile(str(PROBE))
    cfg.model.backbone.init_cfg = None
    for name in ('train_dataloader', 'val_dataloader'):
        loader = cfg[name]
        loader.dataset.data_root = str(toy)
        loader.batch_size = 4
        loader.num_workers = 0
    cfg.train_dataloader.dataset.pipeline = cfg.val_dataloader.dataset.pipeline
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    cfg.work_dir = str(tmp_path_factory.mktemp('work'))
    runner = Runner.from_cfg(cfg)
    runner.model.train()  # frozen stages and norm_eval: BN in eval mode
    return runner


def test_statistics_come_from_the_training_batches(runner):
    backbone = runner.model.backbone
    bn1 = backbone.bn1
    # planted statistics, as if from other images
    for m in backbone.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.fill_(5.0)
            m.running_var.fill_(9.0)
    weights = {k: v.clone() for k, v in backbone.state_dict().items()
               if 'running' not in k and 'num_batches' not in k}
    assert not bn1.training
    BNReestimationHook(num_batches=2).before_train(runner)

    # by hand: the per-channel mean and variance of conv1's output over the
    # same two batches, averaged batch by batch as BatchNorm's cumulative
    # mode does
    means, variances = [], []
    loader = runner.train_dataloader
    indices = sample_indices(len(loader.dataset), 2 * loader.batch_size,
                             runner.seed)
    with torch.no_grad():
        for b in range(2):
            batch = loader.collate_fn([
                loader.dataset[i] for i in indices[b * loader.batch_size:
                                                   (b + 1) *
                                                   loader.batch_size]])
            data = runner.model.data_preprocessor(batch, True)
            out = backbone.conv1(data['inputs'])
            n = out.numel() / out.shape[1]
            means.append(out.mean(dim=(0, 2, 3)))
            variances.append(out.var(dim=(0, 2, 3), unbiased=False) * n /
                             (n - 1))
    torch.testing.assert_close(bn1.running_mean, torch.stack(means).mean(0),
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(bn1.running_var,
                               torch.stack(variances).mean(0), rtol=1e-4,
                               atol=1e-5)
    assert int(bn1.num_batches_tracked) == 2
    # every BatchNorm moved off the planted values; no weight moved
    for m in backbone.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            assert not torch.allclose(m.running_mean, torch.full_like(
                m.running_mean, 5.0))
            assert m.momentum == 0.1 and not m.training
    for k, v in backbone.state_dict().items():
        if k in weights:
            assert torch.equal(v, weights[k]), k


def test_bad_arguments_are_named(runner):
    with pytest.raises(ValueError, match='num_batches must be >= 1'):
        BNReestimationHook(num_batches=0)
    with pytest.raises(AttributeError, match='the model has no "trunk"'):
        BNReestimationHook(module='trunk').before_train(runner)


TRAIN = '''
import sys
from mmengine.config import Config
from mmengine.runner import Runner
from hclmm.utils import register_all_modules
register_all_modules()
probe, data_root, work_dir = sys.argv[1:]
cfg = Config.fromfile(probe)
cfg.model.backbone.init_cfg = None
cfg.train_dataloader.dataset.data_root = data_root
cfg.train_dataloader.update(batch_size=2, num_workers=2,
                            persistent_workers=True)
cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=12,
                     val_interval=100)
cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
cfg.param_scheduler = []
cfg.default_hooks.checkpoint = None
cfg.custom_hooks = [dict(type='BNReestimationHook', num_batches=3)]
cfg.work_dir = work_dir
runner = Runner.from_cfg(cfg)
runner.train()
print('iterations', runner.iter)
'''


def test_a_real_training_loop_with_persistent_workers_goes_on(
        tmp_path):
    """Through ``Runner.train``: an iteration-based loop holds an iterator
    of its loader (persistent workers, an ``InfiniteSampler``) before the
    hook runs; the re-estimation must leave that iterator working past the
    batches it had prefetched (4), and the run ends."""
    toy = make_toy_scenes(tmp_path / 'toy', num_train=3, num_val=1, seed=0,
                          img_size=64)
    res = subprocess.run(
        [sys.executable, '-c', TRAIN, str(PROBE), str(toy),
         str(tmp_path / 'work')], capture_output=True, text=True,
        timeout=120)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'iterations 12' in res.stdout
    assert 're-estimated on 3 training batches' in out
