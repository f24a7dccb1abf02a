"""hclmm.apis: one feature extraction from a config and a checkpoint."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from fixtures.toy_scenes import make_toy_scenes
from hclmm import apis

ROOT = Path(__file__).resolve().parents[2]
HCL = ROOT / 'configs' / 'hcl' / 'hcl-mocov2_resnet18_1xb32-8e_toy-scenes.py'
LINEAR = (ROOT / 'configs' / 'benchmarks' / 'classification' / 'toy_scenes' /
          'resnet18_linear-1xb32-500it_toy-scenes.py')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """Toy scenes and a (randomly initialised) HCL checkpoint."""
    from hclmm.registry import MODELS
    from hclmm.utils import register_all_modules
    root = make_toy_scenes(tmp_path_factory.mktemp('toy'), num_train=2,
                           num_val=3, seed=0)
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(HCL)).model)
    path = root / 'hcl.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return root, path, model


def test_backbone_features_of_a_pretraining_checkpoint(toy):
    """The HCL checkpoint's backbone in the linear-probe config's
    classifier, on that config's own test loader: the checkpoint's weights,
    one pooled feature and one label per object crop, in dataset order."""
    root, path, pretrained = toy
    options = {'test_dataloader.dataset.data_root': str(root),
               'test_dataloader.num_workers': 0}
    out = apis.extract_from_config(str(LINEAR), str(path),
                                   cfg_options=options, desc=None)
    model, cfg = apis.init_model(str(LINEAR), str(path), options,
                                 backbone_only=True)
    for key, value in pretrained.backbone.state_dict().items():
        torch.testing.assert_close(model.backbone.state_dict()[key], value)
    from hclmm.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert out['feats'].shape == (len(dataset), 512)
    assert out['sample_idx'].tolist() == list(range(len(dataset)))
    assert out['labels'].tolist() == [
        dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))
    ]
    # the features by hand, in one batch as the loader's (the set fits in
    # one): normalise, backbone, average the last stage
    data = model.data_preprocessor(
        dict(inputs=[dataset[i]['inputs'] for i in range(len(dataset))],
             data_samples=None), False)
    with torch.no_grad():
        feats = model.backbone(data['inputs'])[-1].mean((2, 3))
    assert len(dataset) <= cfg.test_dataloader.batch_size
    torch.testing.assert_close(out['feats'], feats)
    # a checkpoint of another model is named
    bad = root / 'bad.pth'
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(1)}),
               bad)
    with pytest.raises(KeyError, match='lacks'):
        apis.extract_from_config(str(LINEAR), str(bad), cfg_options=options)


def test_predict_features_are_the_metric_inputs(toy):
    """Predict mode: the config's test loader and evaluator give the
    scenes' and objects' points of the zero-shot report."""
    root, path, _ = toy
    out = apis.extract_from_config(
        str(HCL), str(path), mode='predict', desc=None,
        cfg_options={'test_dataloader.dataset.data_root': str(root),
                     'test_dataloader.num_workers': 0})
    import json
    val = json.loads((root / 'annotations' / 'val.json').read_text())
    assert out['scene_points'].shape == (3, 128)
    assert out['object_points'].shape[0] == len(val['annotations'])
    assert out['manifold'].describe() == 'Poincare ball (c=0.05)'
    assert out['scene_feats'].shape == (3, 512)
    owners = [im['id'] for im in val['images']]
    assert out['object_scene'].tolist() == sorted(
        owners.index(a['image_id']) for a in val['annotations'])
    with pytest.raises(ValueError, match="'backbone' or 'predict'"):
        apis.extract_features(None, [], mode='tensor')
    assert np.isfinite(out['object_points'].numpy()).all()
