"""A scene config pointed at one's own data: validation follows the training
data root and takes the training file's ``val`` sibling; without one,
training runs with validation skipped and one warning line that names the
options to set."""
import glob
import json
import shutil
import sys

import pytest

from fixtures.toy_scenes import make_toy_scenes
from hclmm.utils.config_overrides import val_sibling
from hclmm_test_utils import load_tool, run_cli, toy_hcl_config


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
        'train_dataloader.dataset.ann_file=annotations/instances_train.json'
    ]


def build(train_tool, options, config=None):
    notes, warns = [], []
    args = train_tool.parse_args([config or toy_hcl_config(), '--work-dir',
                                  '/nonexistent/work', '--cfg-options',
                                  *options])
    cfg = train_tool.build_config(args, notes, warns)
    return cfg, notes, warns


@pytest.mark.parametrize('train,files,expected', [
    ('annotations/train.json', ['val.json'], 'val.json'),
    ('instances_train2017.json',
     ['instances_val2017.json', 'instances_test2017.json'],
     'instances_val2017.json'),
    ('train_boxes.json', ['my_val_split.json', 'notes.txt'],
     'my_val_split.json'),
    ('train.json', ['val_a.json', 'val_b.json'], None),  # ambiguous
    ('train.json', ['test.json', 'val.csv'], None),
])
def test_val_sibling_rule(tmp_path, train, files, expected):
    path = tmp_path / train
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{}')
    for name in files:
        (path.parent / name).write_text('{}')
    found, candidates = val_sibling(str(path))
    if expected is None:
        assert found is None
    else:
        assert found == str(path.parent / expected)
        assert str(path.parent / expected) in candidates


def test_val_sibling_is_found_beside_the_training_file(
        train_tool, toy, tmp_path):
    root = own_data(toy, tmp_path / 'mine', 'instances_val.json')
    cfg, notes, warns = build(train_tool, moved(root))
    val = cfg.val_dataloader.dataset
    assert val.data_root == str(root)
    assert val.ann_file == 'annotations/instances_val.json'
    assert val.data_prefix.img == 'images/val/'
    assert warns == []
    assert any('instances_val.json, the sibling of the training file' in n
               for n in notes), notes


def test_without_a_val_file_validation_is_skipped_with_one_warning(
        train_tool, toy, tmp_path):
    root = own_data(toy, tmp_path / 'mine')
    cfg, notes, warns = build(train_tool, moved(root))
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.val_evaluator is None
    assert len(warns) == 1
    line = warns[0]
    assert '\n' not in line
    assert line.startswith('validation skipped: val_dataloader: ')
    assert f'{root}/annotations/val.json does not exist' in line
    assert 'instances_train.json has no single sibling' in line
    assert 'val_dataloader.dataset.ann_file=FILE' in line
    assert '--no-validate' in line


def test_a_named_val_file_is_kept(train_tool, toy, tmp_path):
    root = own_data(toy, tmp_path / 'mine', 'holdout.json')
    cfg, notes, warns = build(
        train_tool,
        moved(root) + ['val_dataloader.dataset.ann_file=annotations/'
                       'holdout.json'])
    assert cfg.val_dataloader.dataset.ann_file == 'annotations/holdout.json'
    assert warns == [] and notes == []


def test_validation_with_the_training_root_follows_it(train_tool, toy,
                                                      tmp_path):
    """A COCO-style config whose val split names the training root itself
    (``data_root='data/coco/'`` in both) follows a moved training root."""
    config = tmp_path / 'coco_style.py'
    config.write_text(
        f'_base_ = [{toy_hcl_config()!r}]\n'
        "train_dataloader = dict(dataset=dict(data_root='data/elsewhere/'))\n"
        "val_dataloader = dict(dataset=dict(data_root='data/elsewhere/'))\n")
    root = own_data(toy, tmp_path / 'mine', 'instances_val.json')
    cfg, _, warns = build(train_tool, moved(root), config=str(config))
    assert cfg.val_dataloader.dataset.data_root == str(root)
    assert cfg.val_dataloader.dataset.ann_file == \
        'annotations/instances_val.json'
    # not moved: the config's own val root is left alone
    cfg, _, _ = build(train_tool, ['train_cfg.max_epochs=8'],
                      config=str(config))
    assert cfg.val_dataloader.dataset.data_root == 'data/elsewhere/'


def test_training_on_own_data_without_val_file_runs(toy, tmp_path):
    """The issue's command: no traceback, two iterations, one warning."""
    root = own_data(toy, tmp_path / 'mine')
    work = tmp_path / 'work'
    proc = run_cli([
        sys.executable, 'tools/train.py', toy_hcl_config(), '--work-dir',
        str(work), '--cfg-options', *moved(root),
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ], timeout=600)
    out = proc.stdout + proc.stderr
    assert 'Traceback' not in out
    warnings = [line for line in out.splitlines()
                if 'validation skipped:' in line]
    assert len(warnings) == 1, warnings
    assert 'WARNING' in warnings[0]
    logs = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    assert logs, list(work.iterdir())
    with open(logs[0]) as f:
        steps = [json.loads(line) for line in f if line.strip()]
    assert [s['step'] for s in steps if 'loss' in s] == [1, 2]
