"""The supervised control of the transfer suite differs from the toy
self-supervised pretraining in its objective only: the same backbone and
initialisation, the same object views, optimiser and schedule."""
import os.path as osp

from mmengine.config import Config

from hclmm_test_utils import REPO

SUP = osp.join(REPO, 'configs', 'benchmarks', 'classification',
               'toy_scenes', 'resnet18_supervised-1xb32-8e_toy-scenes.py')
SSL = osp.join(REPO, 'configs', 'hcl', 'mocov2_resnet18_1xb32-8e_toy-scenes.py')


def test_supervised_control_is_the_self_supervised_recipe_with_labels():
    sup, ssl = Config.fromfile(SUP), Config.fromfile(SSL)
    assert sup.model.type == 'ImageClassifier'
    assert sup.model.head.num_classes == 10
    for key in ('type', 'depth', 'zero_init_residual'):
        assert sup.model.backbone[key] == ssl.model.backbone[key], key
    assert sup.model.backbone.frozen_stages == -1
    assert not sup.model.backbone.norm_eval
    # the object views: crop, colour jitter, grayscale, flip
    pipeline = sup.train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipeline[:2]] == ['LoadSceneImage',
                                                 'CropObjectBox']
    assert pipeline[2:-1] == ssl.object_view_pipeline
    assert pipeline[-1]['type'] == 'PackInputs'
    assert sup.data_preprocessor.mean == ssl.model.data_preprocessor.mean
    assert sup.data_preprocessor.std == ssl.model.data_preprocessor.std
    # optimiser and schedule
    for key in ('type', 'lr', 'momentum', 'weight_decay'):
        assert sup.optim_wrapper.optimizer[key] == \
            ssl.optim_wrapper.optimizer[key], key
    assert sup.train_cfg.max_epochs == ssl.train_cfg.max_epochs == 8
    assert sup.param_scheduler == ssl.param_scheduler
    assert sup.train_dataloader.batch_size == ssl.train_dataloader.batch_size
