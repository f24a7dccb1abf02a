"""Mixed precision: which wrapper and dtype each machine gets, bfloat16
without a loss scaler, and the hyperbolic maths in float32 under autocast."""
import importlib.util
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import DefaultScope

from hclmm.engine.optimizers import (MixedPrecisionOptimWrapper,
                                     resolve_amp_dtype)
from hclmm.registry import MODELS, OPTIM_WRAPPERS
from hclmm.utils import register_all_modules

from hclmm_test_utils import REPO

register_all_modules(init_default_scope=False)


@pytest.mark.parametrize('requested,cuda,bf16,expected', [
    ('auto', True, True, 'bfloat16'),      # H100/H200/A100
    ('auto', True, False, 'float16'),      # V100, T4
    ('auto', False, False, 'float32'),     # CPU: no autocast
    ('float16', True, True, 'float16'),    # asked for explicitly
    ('bfloat16', False, False, 'bfloat16'),  # CPU autocast is bfloat16
    ('float32', True, True, 'float32'),
])
def test_dtype_resolution(requested, cuda, bf16, expected):
    assert resolve_amp_dtype(requested, cuda=cuda, bf16=bf16) == expected


def test_dtype_resolution_errors():
    with pytest.raises(ValueError, match='does not compute in bfloat16'):
        resolve_amp_dtype('bfloat16', cuda=True, bf16=False)
    with pytest.raises(ValueError, match='one of'):
        resolve_amp_dtype('half', cuda=True, bf16=True)


def _wrapper(model, **kwargs):
    return OPTIM_WRAPPERS.build(
        dict(type='MixedPrecisionOptimWrapper',
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1,
                                       momentum=0.9), **kwargs))


def test_bfloat16_has_no_loss_scaler_and_autocasts():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    wrapper = _wrapper(model, cuda=True, bf16=True, clip_grad=dict(
        max_norm=1e9))
    assert isinstance(wrapper, MixedPrecisionOptimWrapper)
    assert wrapper.amp_dtype == 'bfloat16' and wrapper.loss_scaler is None
    before = model[0].weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(4, 8))
    assert out.dtype == torch.bfloat16  # CPU autocast was on
    loss = out.float().square().mean()
    wrapper.update_params(loss)
    assert model[0].weight.dtype == torch.float32
    assert not torch.equal(before, model[0].weight)
    state = wrapper.state_dict()
    assert 'loss_scaler' not in state
    # a checkpoint written with float16's scaler resumes in bfloat16
    state['loss_scaler'] = {'scale': 1024.0}
    wrapper.load_state_dict(state)


@pytest.mark.filterwarnings('ignore::UserWarning')  # GradScaler without CUDA
def test_float16_has_a_loss_scaler_and_resumes_across_dtypes():
    model = nn.Linear(4, 2)
    fixed = _wrapper(model, cuda=True, bf16=False, loss_scale=512.0)
    assert fixed.amp_dtype == 'float16' and fixed.autocast_enabled
    assert fixed.cast_dtype == torch.float16
    assert isinstance(fixed.loss_scaler, torch.amp.GradScaler)
    assert fixed.fixed_loss_scale == 512.0
    dynamic = _wrapper(model, cuda=True, bf16=False,
                       loss_scale=dict(init_scale=256.0, growth_interval=10))
    assert dynamic.fixed_loss_scale is None
    state = dynamic.state_dict()
    assert 'loss_scaler' in state
    # a bfloat16 checkpoint (no scaler) resumes in float16 and back
    bf16 = _wrapper(model, cuda=True, bf16=True)
    dynamic.load_state_dict(bf16.state_dict())
    bf16.load_state_dict(state)
    with pytest.raises(TypeError, match='loss_scale'):
        _wrapper(model, cuda=True, bf16=False, loss_scale='static')


def test_float32_steps_exactly_like_optim_wrapper():
    results = []
    for make in (lambda m: _wrapper(m, cuda=False),
                 lambda m: OptimWrapper(torch.optim.SGD(
                     m.parameters(), lr=0.1, momentum=0.9))):
        torch.manual_seed(0)
        model = nn.Linear(8, 2)
        wrapper = make(model)
        x = torch.randn(4, 8)
        for _ in range(2):
            with wrapper.optim_context(model):
                out = model(x)
            assert out.dtype == torch.float32
            wrapper.update_params(out.square().mean())
        results.append(model.weight.detach().clone())
    assert torch.equal(results[0], results[1])


def test_hyperbolic_branch_runs_in_float32_under_bfloat16_autocast():
    head = MODELS.build(
        dict(type='HyperbolicSceneObjectHead', queue_len=16, feat_dim=8,
             embedder=dict(type='HyperbolicEmbedder', scale_norm=3.0,
                           norm_only_grad=True)))
    head.train()
    proj = nn.Linear(4, 8)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        scene_u = proj(torch.randn(6, 4))
        object_u = proj(torch.randn(6, 4))
        assert scene_u.dtype == torch.bfloat16
        points = head.embedder(scene_u, batch_stats=True)
        losses = head.loss(scene_u, object_u.detach(), object_u)
    assert points.dtype == torch.float32
    ref = head.embedder(scene_u.float(), batch_stats=False)
    assert ref.dtype == torch.float32
    loss_terms = [v for k, v in losses.items() if k.startswith('loss')]
    assert loss_terms
    for value in loss_terms:
        assert value.dtype == torch.float32 and torch.isfinite(value)
    sum(loss_terms).backward()
    assert proj.weight.grad is not None
    assert torch.isfinite(proj.weight.grad).all()


@pytest.fixture(scope='module')
def train_tool():
    spec = importlib.util.spec_from_file_location(
        'hclmm_tool_train_amp', osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FLAGSHIP = osp.join(REPO, 'configs', 'hcl',
                    'hcl-mocov2_resnet50_8xb16-coslr-200e_coco.py')


@pytest.mark.parametrize('flag,bf16,expected', [
    (None, True, 'bfloat16'), (None, False, 'float16'),
    ('float16', True, 'float16'), ('bfloat16', True, 'bfloat16')])
def test_train_amp_flag_chooses_the_dtype(train_tool, flag, bf16, expected):
    cfg = Config.fromfile(FLAGSHIP)
    assert train_tool.apply_amp(cfg, flag, cuda=True, bf16=bf16) == expected
    assert cfg.optim_wrapper.type == 'MixedPrecisionOptimWrapper'
    assert cfg.optim_wrapper.dtype == expected
    assert ('loss_scale' in cfg.optim_wrapper) == (expected == 'float16')
    assert cfg.optim_wrapper.optimizer.type == 'SGD'


def test_train_amp_needs_cuda_and_bf16(train_tool):
    cfg = Config.fromfile(FLAGSHIP)
    with pytest.raises(SystemExit, match='CUDA'):
        train_tool.apply_amp(cfg, None, cuda=False)
    with pytest.raises(SystemExit, match='bfloat16'):
        train_tool.apply_amp(cfg, 'bfloat16', cuda=True, bf16=False)


def test_flagship_configs_are_fast_by_default():
    cfg = Config.fromfile(FLAGSHIP)
    assert cfg.optim_wrapper.type == 'MixedPrecisionOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'auto'
    assert cfg.model.channels_last is True
    # built by mmengine's constructor in the config's scope; float32 here
    with DefaultScope.overwrite_default_scope('hclmm'):
        wrapper = build_optim_wrapper(nn.Linear(2, 2), cfg.optim_wrapper)
    assert isinstance(wrapper, MixedPrecisionOptimWrapper)
    expected = resolve_amp_dtype('auto')
    assert wrapper.amp_dtype == expected
    assert wrapper.clip_grad_kwargs == dict(max_norm=1e9)
