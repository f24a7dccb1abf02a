"""``model-index.yml`` and the ``configs/<method>/metafile.yml`` files it
imports stay in step with the configs, both ways: every listed config exists,
loads and trains what its metadata says; every pretraining config is listed;
names are unique; every model's collection exists; and every result is a
number that the docs record.

Paths in the index are relative to the repository root, as in mmpretrain's
metafiles (``Config: configs/<method>/<name>.py``, ``README: docs/...``).
"""
import glob
import os.path as osp

import modelindex
import pytest
import yaml
from mmengine.config import Config

from hclmm_test_utils import REPO, name_schedule, pretrain_configs

INDEX = osp.join(REPO, 'model-index.yml')


def _load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def _metafiles():
    return _load(INDEX)['Import']


def _entries(key):
    """``(metafile, entry)`` for every Collection or Model of the index."""
    return [(meta, entry) for meta in _metafiles()
            for entry in _load(osp.join(REPO, meta)).get(key) or []]


MODELS = _entries('Models')


def test_index_imports_one_metafile_per_method_folder():
    folders = {osp.dirname(p) for p in pretrain_configs()}
    want = sorted(f'{folder}/metafile.yml' for folder in folders)
    assert sorted(_metafiles()) == want
    on_disk = glob.glob(osp.join(REPO, 'configs', '*', 'metafile.yml'))
    assert sorted(osp.relpath(p, REPO) for p in on_disk) == want


def test_every_pretraining_config_is_listed_once():
    listed = [model['Config'] for _, model in MODELS]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(pretrain_configs())


def test_names_are_unique_and_collections_exist():
    models = [model['Name'] for _, model in MODELS]
    assert len(models) == len(set(models))
    collections = [col['Name'] for _, col in _entries('Collections')]
    assert len(collections) == len(set(collections))
    missing = {model['Name']: model['In Collection'] for _, model in MODELS
               if model['In Collection'] not in collections}
    assert not missing, missing


def test_collections_name_their_paper_and_docs():
    for _, col in _entries('Collections'):
        assert col['Paper']['Title'] and col['Paper']['URL'].startswith(
            'https://'), col['Name']
        meta = col['Metadata']
        for key in ('Training Data', 'Training Techniques', 'Architecture'):
            assert meta[key], (col['Name'], key)
        assert osp.isfile(osp.join(REPO, col['README'])), col['README']


@pytest.mark.parametrize(
    'meta,model', MODELS, ids=[model['Name'] for _, model in MODELS])
def test_listed_config_exists_loads_and_matches(meta, model):
    path = model['Config']
    assert osp.dirname(path) == osp.dirname(meta), (path, meta)
    assert model['Name'] == osp.splitext(osp.basename(path))[0]
    cfg = Config.fromfile(osp.join(REPO, path))
    gpus, _, _, _ = name_schedule(path)
    info = model['Metadata']
    assert info['Batch Size'] == gpus * cfg.train_dataloader.batch_size
    if 'max_epochs' in cfg.train_cfg:
        assert info['Epochs'] == cfg.train_cfg.max_epochs
    else:
        assert info['Iterations'] == cfg.train_cfg.max_iters
    assert info['Training Data'] and info['Architecture']


# every measured result is recorded in docs/results.md
RESULTS_DOC = 'docs/results.md'


def test_results_are_numbers_the_docs_record():
    """A result is only listed where the docs record the measurement:
    docs/results.md holds every value as printed there (3 decimals below 1,
    else 2, as the tools print them)."""
    with_results = [model for _, model in MODELS if model.get('Results')]
    assert with_results
    for model in with_results:
        for result in model['Results']:
            assert result['Task'] and result['Dataset'], model['Name']
            doc = RESULTS_DOC
            with open(osp.join(REPO, doc)) as f:
                text = f.read()
            for metric, value in result['Metrics'].items():
                printed = f'{value:.3f}' if abs(value) < 1 else f'{value:.2f}'
                assert printed in text, (model['Name'], metric, value, doc)


def test_modelindex_loads_the_index():
    index = modelindex.load(INDEX)
    assert {m.name for m in index.models} == \
        {model['Name'] for _, model in MODELS}
    by_name = {m.name: m for m in index.models}
    for _, model in MODELS:
        loaded = by_name[model['Name']]
        assert loaded.config == model['Config']
        assert loaded.in_collection == model['In Collection']
    # modelindex resolves README paths against the metafile's folder, where
    # mmpretrain's (and these) metafiles give them from the repository root;
    # those are checked above. Anything else it finds is an error here.
    errors = [e for e in index.check(silent=True)
              if 'Path to README file' not in e]
    assert not errors, errors
