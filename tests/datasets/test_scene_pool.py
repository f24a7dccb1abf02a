"""The unlabelled pretraining pool of both scene generators: ``--num-pool``
writes a ``pool`` split of new scenes, ``--pool-only`` adds it next to
existing splits without changing them."""
import hashlib
import json
import subprocess
import sys

import pytest

from hclmm_test_utils import REPO

TOOLS = {
    'toy': f'{REPO}/tools/dataset_converters/make_toy_scenes.py',
    'patch': f'{REPO}/tools/dataset_converters/make_patch_scenes.py',
}


def _run(tool, *args):
    return subprocess.run([sys.executable, TOOLS[tool], *args],
                          capture_output=True, text=True, timeout=120)


def _digests(root, split):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / 'images' / split).iterdir())}


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_pool_only_adds_new_scenes_and_keeps_the_splits(tool, tmp_path):
    out = tmp_path / tool
    assert _run(tool, '--out', str(out), '--num-train', '6', '--num-val',
                '3').returncode == 0
    before = {p.name: p.read_bytes()
              for p in (out / 'annotations').iterdir()}
    train_images = _digests(out, 'train')

    res = _run(tool, '--out', str(out), '--num-pool', '7', '--pool-only')
    assert res.returncode == 0, res.stderr

    after = {p.name: p.read_bytes() for p in (out / 'annotations').iterdir()}
    assert set(after) == set(before) | {'pool.json'}
    for name, data in before.items():
        assert after[name] == data, f'{name} changed'
    assert _digests(out, 'train') == train_images
    pool = json.loads(after['pool.json'])
    assert len(pool['images']) == 7
    assert len({im['id'] for im in pool['images']}) == 7
    assert pool['annotations'] and not any(
        a['out_of_context'] for a in pool['annotations'])
    ids = {im['id'] for im in pool['images']}
    assert all(a['image_id'] in ids for a in pool['annotations'])
    pool_images = _digests(out, 'pool')
    assert len(pool_images) == 7
    # a stream of its own: no pool scene repeats a training scene
    assert not set(pool_images.values()) & set(train_images.values())


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_pool_with_the_splits_is_deterministic(tool, tmp_path):
    for name in 'ab':
        assert _run(tool, '--out', str(tmp_path / name), '--num-train', '2',
                    '--num-val', '2', '--num-pool', '3').returncode == 0
    assert _digests(tmp_path / 'a', 'pool') == _digests(tmp_path / 'b',
                                                         'pool')
    # the pool written alone equals the pool written with the splits
    assert _run(tool, '--out', str(tmp_path / 'c'), '--num-pool', '3',
                '--pool-only').returncode == 0
    assert _digests(tmp_path / 'c', 'pool') == _digests(tmp_path / 'a',
                                                         'pool')


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_pool_only_without_a_size_is_a_usage_error(tool, tmp_path):
    res = _run(tool, '--out', str(tmp_path), '--pool-only')
    assert res.returncode == 2
    assert '--pool-only needs --num-pool' in res.stderr
    assert 'Traceback' not in res.stderr
