"""Config names follow OpenMMLab's
``{algorithm}_{backbone}_{gpus}xb{batch}-{schedule}_{data}{_suffix}.py`` and
no two configs share a basename (the default work_dir is
``work_dirs/<basename>``, so a shared name would let ``--resume`` pick up
another model's checkpoint)."""
import collections
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

from hclmm_test_utils import REPO, name_schedule, pretrain_configs

TOY = re.compile(r'_1xb\d+-\d+(?:e|it)_toy-scenes(?:_[\w-]+)?\.py$')


def test_config_basenames_are_unique():
    paths = [
        p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                             recursive=True)
        if '_base_' not in osp.relpath(p, REPO).split(osp.sep)
    ]
    by_name = collections.defaultdict(list)
    for p in paths:
        by_name[osp.basename(p)].append(osp.relpath(p, REPO))
    shared = {name: where for name, where in by_name.items() if len(where) > 1}
    assert not shared, shared


def test_toy_configs_name_their_batch_and_schedule():
    toy = [p for p in pretrain_configs() if 'toy-scenes' in p]
    assert toy
    wrong = [p for p in toy if not TOY.search(osp.basename(p))]
    assert not wrong, wrong


@pytest.mark.parametrize('path', pretrain_configs(), ids=osp.basename)
def test_name_matches_batch_and_schedule(path):
    """The `{gpus}xb{batch}-...{M}{e|it}` part of the name is what the
    config trains: its per-GPU batch and its epochs or iterations."""
    parsed = name_schedule(path)
    assert parsed, f'{path}: no {{gpus}}xb{{batch}}-{{schedule}} part'
    _, batch, length, unit = parsed
    cfg = Config.fromfile(osp.join(REPO, path))
    assert cfg.train_dataloader.batch_size == batch
    key = 'max_epochs' if unit == 'e' else 'max_iters'
    assert cfg.train_cfg.get(key) == length, dict(cfg.train_cfg)
