"""A scene config pointed at one's own data: the roots are the config's
variables, set for each loader with ``--cfg-options``. An evaluation file
that does not exist stops ``tools/train.py`` before the model is built, with
one line that names the file and the keys to set (no file is guessed);
``val_cfg=None val_dataloader=None val_evaluator=None`` trains without
validation."""
import glob
import json
import shutil
import sys

import pytest

from fixtures.toy_scenes import make_toy_scenes
from hclmm_test_utils import load_tool, run_cli, toy_hcl_config

NO_VALIDATION = ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']


@pytest.fixture(scope='module')
def train_tool():
    return load_tool('train')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return make_toy_scenes(tmp_path_factory.mktemp('own') / 'toy',
                           num_train=4, num_val=2, seed=2, img_size=128)


def own_data(toy, root, val_name=None):
    """A data root of one's own: ``annotations/instances_train.json`` (and
    ``val_name`` beside it), images in ``images/{train,val}/``."""
    shutil.copytree(toy / 'images', root / 'images')
    (root / 'annotations').mkdir()
    shutil.copy(toy / 'annotations' / 'train.json',
                root / 'annotations' / 'instances_train.json')
    if val_name is not None:
        shutil.copy(toy / 'annotations' / 'val.json',
                    root / 'annotations' / val_name)
    return root


def moved(root):
    return [
        f'train_dataloader.dataset.data_root={root}',
        'train_dataloader.dataset.ann_file=annotations/instances_train.json',
        f'val_dataloader.dataset.data_root={root}'
    ]


def build(train_tool, options, config=None):
    notes = []
    args = train_tool.parse_args([config or toy_hcl_config(), '--work-dir',
                                  '/nonexistent/work', '--cfg-options',
                                  *options])
    cfg = train_tool.build_config(args, notes)
    return cfg, notes


def stop_line(train_tool, options, config=None):
    with pytest.raises(SystemExit) as e:
        build(train_tool, options, config)
    return str(e.value)


@pytest.mark.parametrize('files', [
    ['val.json'], ['instances_val.json', 'instances_test.json'],
    ['my_val_split.json', 'notes.txt'], ['val_a.json', 'val_b.json'], []
])
def test_no_validation_file_is_guessed(train_tool, toy, tmp_path, files):
    """Whatever lies beside the training file, a missing validation file
    stops the tool with one line naming it; nothing else is taken."""
    root = own_data(toy, tmp_path / 'mine')
    for name in files:
        (root / 'annotations' / name).write_text('{}')
    options = moved(root) + [
        'val_dataloader.dataset.ann_file=annotations/holdout.json']
    line = stop_line(train_tool, options)
    assert '\n' not in line
    assert f'{root}/annotations/holdout.json does not exist' in line
    for name in files:
        assert name not in line


def test_without_a_val_file_training_stops_with_one_line(
        train_tool, toy, tmp_path):
    root = own_data(toy, tmp_path / 'mine', 'instances_val.json')
    line = stop_line(train_tool, moved(root))
    assert '\n' not in line
    assert line.startswith(f'{toy_hcl_config()}: '
                           'val_dataloader.dataset.ann_file: ')
    assert f'{root}/annotations/val.json does not exist' in line
    assert 'val_dataloader.dataset.ann_file=FILE' in line
    assert 'val_dataloader.dataset.data_root=DIR' in line
    assert 'val_cfg=None val_dataloader=None val_evaluator=None' in line
    # the sibling is not guessed
    assert 'instances_val.json' not in line


def test_a_named_val_file_is_kept(train_tool, toy, tmp_path):
    root = own_data(toy, tmp_path / 'mine', 'holdout.json')
    cfg, notes = build(
        train_tool,
        moved(root) + ['val_dataloader.dataset.ann_file=annotations/'
                       'holdout.json'])
    assert cfg.val_dataloader.dataset.ann_file == 'annotations/holdout.json'
    assert cfg.val_dataloader.dataset.data_root == str(root)
    assert notes == ['work_dir=/nonexistent/work']


def test_validation_keeps_its_own_root(train_tool, toy, tmp_path):
    """A COCO-style config whose val split names its own root keeps it when
    the training root moves: the config says where each split is."""
    config = tmp_path / 'coco_style.py'
    config.write_text(
        f'_base_ = [{toy_hcl_config()!r}]\n'
        "train_dataloader = dict(dataset=dict(data_root='data/elsewhere/'))\n"
        "val_dataloader = dict(dataset=dict(data_root='data/elsewhere/'))\n")
    root = own_data(toy, tmp_path / 'mine', 'instances_val.json')
    line = stop_line(train_tool, moved(root)[:2], config=str(config))
    assert 'data/elsewhere/annotations/val.json does not exist' in line
    cfg, _ = build(train_tool, moved(root) + [
        'val_dataloader.dataset.ann_file=annotations/instances_val.json'
    ], config=str(config))
    assert cfg.val_dataloader.dataset.data_root == str(root)
    assert cfg.val_dataloader.dataset.ann_file == \
        'annotations/instances_val.json'


def test_missing_training_file_stops_with_one_line(train_tool, tmp_path):
    line = stop_line(train_tool,
                     [f'train_dataloader.dataset.data_root={tmp_path}'])
    assert line.startswith(f'{toy_hcl_config()}: '
                           'train_dataloader.dataset.ann_file: ')
    assert f'{tmp_path}/annotations/train.json does not exist' in line
    assert 'train_dataloader.dataset.data_root=DIR' in line


def test_training_on_own_data_without_val_file(toy, tmp_path):
    """The toy config retargeted to a root without a val file: the tool
    stops with one line before the model is built; with validation off
    (``val_cfg=None`` and its loader and evaluator) it trains, and prints
    its own changes in one line."""
    root = own_data(toy, tmp_path / 'mine')
    work = tmp_path / 'work'
    command = [
        sys.executable, 'tools/train.py', toy_hcl_config(), '--work-dir',
        str(work), '--cfg-options', *moved(root),
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'param_scheduler=[]',
        'default_hooks.logger.interval=1'
    ]
    proc = run_cli(command, timeout=600, check=False)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert f'{root}/annotations/val.json does not exist' in lines[-1]
    assert sum('does not exist' in line for line in lines) == 1, lines
    assert not work.exists()  # stopped before the runner was built

    proc = run_cli(command + NO_VALIDATION, timeout=600)
    out = proc.stdout + proc.stderr
    assert 'Traceback' not in out
    changes = [line for line in out.splitlines()
               if 'tools/train.py set' in line]
    assert len(changes) == 1, changes
    assert 'train_dataloader.persistent_workers=False (num_workers=0)' in \
        changes[0]
    logs = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    assert logs, list(work.iterdir())
    with open(logs[0]) as f:
        steps = [json.loads(line) for line in f if line.strip()]
    assert [s['step'] for s in steps if 'loss' in s] == [1, 2]
    assert not any(k.startswith('zero_shot/') for s in steps for k in s)
