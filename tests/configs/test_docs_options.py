"""The model keys that the docs and the tools' help texts tell users to set
(``--cfg-options model.hyp_head....=...``) exist in the HCL configs.

A key is accepted when every part of its path is a key of the config's
``model`` dict or an argument of the class the enclosing dict builds
(``type``, or a ``type`` that the docs set for that dict, e.g.
``model.hyp_head.type=HyperbolicSceneObjectAblationHead``); below a part
that the config leaves at None (e.g. the head's ``projector``) the rest is a
new config and is not checked.
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

CONFIGS = ('configs/hcl/hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py',
           'configs/hcl/hcl-mocov2_resnet50_8xb16-coslr-200e_coco.py')
# the mmdet/mmseg transfer configs have model keys of their own
SKIP = {'docs/transfer.md'}
KEY = re.compile(r'(?<![\w.])((?:model\.|H\.)?hyp_head\.[\w.]+|model\.[\w.]+'
                 r'|H\.[\w.]+)=')


TYPE = re.compile(r'(?<![\w.])((?:model|H)(?:\.\w+)*)\.type=(\w+)')


def _full(key):
    # docs/results.md's ablation table writes `H.` for model.hyp_head.
    if key.startswith('H.'):
        return 'model.hyp_head.' + key[2:]
    if key.startswith('hyp_head.'):
        return 'model.' + key
    return key


def _documented_types():
    """Path below ``model`` -> the class names the docs give that dict."""
    types = {}
    for text in _texts().values():
        for path, name in TYPE.findall(text):
            parts = _full(path + '.').rstrip('.').split('.')[1:]
            types.setdefault('.'.join(parts), set()).add(name)
    return types


def _texts():
    files = sorted(glob.glob(osp.join(REPO, 'docs', '*.md'))) + [
        osp.join(REPO, 'README.md')
    ] + sorted(glob.glob(osp.join(REPO, 'tools', '**', '*.py'),
                         recursive=True))
    texts = {}
    for path in files:
        rel = osp.relpath(path, REPO)
        if rel not in SKIP:
            with open(path) as f:
                texts[rel] = f.read()
    return texts


def _documented_keys():
    return sorted({(rel, _full(key).rstrip('.'))
                   for rel, text in _texts().items()
                   for key in KEY.findall(text)})


def _arguments(node, extra_types=()):
    types = set(extra_types)
    if isinstance(node, dict) and 'type' in node:
        types.add(node['type'])
    names = set()
    classes = [MODELS.get(t) for t in types]
    for klass in {k for c in classes if c for k in inspect.getmro(c)}:
        if klass is object or not hasattr(klass, '__init__'):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params if p.kind not in (
            p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    return names


def _key_exists(model, parts, types=None):
    types = types or {}
    node = model
    for depth, part in enumerate(parts):
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
        elif part in _arguments(node, types.get('.'.join(parts[:depth]),
                                               ())):
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
    types = _documented_types()
    assert any(_key_exists(model, parts, types) for model in models), (
        f'{where} names {key}, which none of {CONFIGS} has')


def test_a_stale_key_is_caught(models):
    assert not any(
        _key_exists(m, ['hyp_head', 'manifold']) for m in models)
    assert not any(_key_exists(m, ['hyp_head', 'curvature']) for m in models)
    assert all(
        _key_exists(m, ['hyp_head', 'embedder', 'manifold', 'c'])
        for m in models)


def test_an_ablation_switch_needs_the_ablation_head(models):
    parts = ['hyp_head', 'scene_direction_grad']
    assert not any(_key_exists(m, parts) for m in models)
    ablation = {'hyp_head': {'HyperbolicSceneObjectAblationHead'}}
    assert all(_key_exists(m, parts, ablation) for m in models)
