"""The model keys that the docs and the tools' help texts tell users to set
(``--cfg-options model.hyp_head....=...``) exist in the HCL configs.

A key is accepted when every part of its path is a key of the config's
``model`` dict or an argument of the class the enclosing dict builds
(``type``); below a part that the config leaves at None (e.g. the head's
``projector``) the rest is a new config and is not checked.
"""
import glob
import inspect
import os.path as osp
import re

import pytest
from mmengine.config import Config

from hclmm.registry import MODELS
from hclmm.utils import register_all_modules
from hclmm_test_utils import REPO

register_all_modules(init_default_scope=False)

CONFIGS = ('configs/hcl/hcl-mocov2_resnet18_toy-scenes.py',
           'configs/hcl/hcl-mocov2_resnet50_8xb16-coslr-200e_coco.py')
# the mmdet/mmseg transfer configs have model keys of their own
SKIP = {'docs/transfer.md'}
KEY = re.compile(r'(?<![\w.])((?:model\.|H\.)?hyp_head\.[\w.]+|model\.[\w.]+'
                 r'|H\.[\w.]+)=')


def _documented_keys():
    files = sorted(glob.glob(osp.join(REPO, 'docs', '*.md'))) + [
        osp.join(REPO, 'README.md')
    ] + sorted(glob.glob(osp.join(REPO, 'tools', '**', '*.py'),
                         recursive=True))
    keys = set()
    for path in files:
        rel = osp.relpath(path, REPO)
        if rel in SKIP:
            continue
        with open(path) as f:
            text = f.read()
        for key in KEY.findall(text):
            # docs/hcl.md's ablation table writes `H.` for model.hyp_head.
            if key.startswith('H.'):
                key = 'model.hyp_head.' + key[2:]
            elif key.startswith('hyp_head.'):
                key = 'model.' + key
            keys.add((rel, key.rstrip('.')))
    return sorted(keys)


def _arguments(node):
    cls = MODELS.get(node['type']) if isinstance(node, dict) and \
        'type' in node else None
    names = set()
    for klass in inspect.getmro(cls) if cls else ():
        if klass is object or not hasattr(klass, '__init__'):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params if p.kind not in (
            p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    return names


def _key_exists(model, parts):
    node = model
    for part in parts:
        if node is None:  # a part the config leaves unset: a new config
            return True
        if isinstance(node, (list, tuple)) and part.isdigit():
            if int(part) >= len(node):
                return False
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            return False
        if part in node:
            node = node[part]
        elif part in _arguments(node):
            node = None
        else:
            return False
    return True


@pytest.fixture(scope='module')
def models():
    return [Config.fromfile(osp.join(REPO, c)).model for c in CONFIGS]


def test_the_docs_name_model_keys():
    keys = [key for _, key in _documented_keys()]
    assert 'model.hyp_head.scene_direction_grad' in keys
    assert 'model.hyp_head.queue_len' in keys


@pytest.mark.parametrize('where,key', _documented_keys())
def test_documented_model_key_exists(models, where, key):
    parts = key.split('.')[1:]
    assert any(_key_exists(model, parts) for model in models), (
        f'{where} names {key}, which none of {CONFIGS} has')


def test_a_stale_key_is_caught(models):
    assert not any(
        _key_exists(m, ['hyp_head', 'manifold']) for m in models)
    assert not any(_key_exists(m, ['hyp_head', 'curvature']) for m in models)
    assert all(
        _key_exists(m, ['hyp_head', 'embedder', 'manifold', 'c'])
        for m in models)
