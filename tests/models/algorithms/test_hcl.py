"""HCL on each of mmpretrain's MoCo v2, SimCLR, BYOL and DenseCL."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from hclmm.geometry import Manifold
from hclmm.models.algorithms import HCLMixin
from hclmm.registry import MODELS
from hclmm.utils import register_all_modules

register_all_modules(init_default_scope=False)

PRE = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
BACKBONE = dict(type='ResNet', depth=18)
FEAT = 16


def hyp_head(manifold='PoincareBall', scale_norm=None, online_pair=False,
             entailment_weight=0.0, **kw):
    """The paper's loss (weight 1) unless the recipe's options are given."""
    cfg = dict(
        type='HyperbolicSceneObjectHead',
        embedder=dict(
            type='HyperbolicEmbedder',
            manifold=dict(type=manifold, c=0.1),
            clip_r=4.6,
            scale_norm=scale_norm),
        contrast_loss=dict(type='HyperbolicInfoNCELoss', loss_weight=1.0),
        pair_losses=dict(entail=dict(
            type='EntailmentConeLoss', loss_weight=entailment_weight)
                         ) if entailment_weight else {},
        online_pair=online_pair,
        queue_len=16,
        feat_dim=FEAT)
    cfg.update(kw)
    return cfg


def base_cfg(name):
    moco_neck = dict(
        type='MoCoV2Neck',
        in_channels=512,
        hid_channels=32,
        out_channels=FEAT,
        with_avg_pool=True)
    head = dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2)
    if name == 'HCLMoCo':
        return dict(
            type=name, queue_len=16, feat_dim=FEAT, momentum=0.01,
            backbone=BACKBONE, neck=moco_neck, head=head)
    if name == 'HCLSimCLR':
        return dict(
            type=name, backbone=BACKBONE,
            neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=32,
                      out_channels=FEAT, num_layers=2, with_avg_pool=True),
            head=head)
    if name == 'HCLBYOL':
        return dict(
            type=name, base_momentum=0.01, backbone=BACKBONE,
            neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=32,
                      out_channels=FEAT, num_layers=2, with_bias=True,
                      with_last_bn=False, with_avg_pool=True),
            head=dict(
                type='LatentPredictHead',
                loss=dict(type='CosineSimilarityLoss'),
                predictor=dict(type='NonLinearNeck', in_channels=FEAT,
                               hid_channels=32, out_channels=FEAT,
                               num_layers=2, with_bias=True,
                               with_last_bn=False, with_avg_pool=False)))
    if name == 'HCLDenseCL':
        return dict(
            type=name, queue_len=16, feat_dim=FEAT, momentum=0.01,
            backbone=BACKBONE,
            neck=dict(type='DenseCLNeck', in_channels=512, hid_channels=32,
                      out_channels=FEAT, num_grid=None),
            head=head)
    raise KeyError(name)


def build(name, **hyp):
    cfg = base_cfg(name)
    cfg['data_preprocessor'] = PRE
    cfg['hyp_head'] = hyp_head(**hyp)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def batch(n=4, size=32, views=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (n, 3, size, size), generator=g,
                      dtype=torch.uint8) for _ in range(views)
    ]
    return dict(inputs=inputs, data_samples=[DataSample() for _ in range(n)])


@pytest.mark.parametrize('name',
                         ['HCLMoCo', 'HCLSimCLR', 'HCLBYOL', 'HCLDenseCL'])
def test_trains_with_hyperbolic_branch(name):
    # BYOL's cosine momentum reads the schedule length from the message hub
    MessageHub.get_current_instance().update_info('max_iters', 100)
    model = build(name)
    assert isinstance(model, HCLMixin)
    wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    data = batch()
    queue_before = model.hyp_head.queue.keys.clone()
    hyp_losses = []
    for step in range(6):
        log = model.train_step(data, wrapper)
        assert torch.isfinite(log['loss'])
        for key in ('loss_hyp', 'scene_norm', 'object_norm'):
            assert key in log and torch.isfinite(log[key]), key
        # the base loss is reported apart from the hyperbolic one, and the
        # logged `loss` is their sum
        base = [k for k in log if k.startswith('loss_') and k != 'loss_hyp']
        assert base
        total = sum(log[k] for k in base) + log['loss_hyp']
        assert torch.allclose(log['loss'], total)
        hyp_losses.append(log['loss_hyp'].item())
        assert int(model.hyp_head.queue.ptr) == (4 * (step + 1)) % 16
    assert not torch.equal(queue_before, model.hyp_head.queue.keys)
    # on a fixed batch the hyperbolic loss goes down
    assert min(hyp_losses[-2:]) < hyp_losses[0], hyp_losses


def test_state_dict_keeps_base_keys_and_loads_into_base():
    model = build('HCLMoCo')
    keys = set(model.state_dict())
    assert any(k.startswith('backbone.') for k in keys)
    assert any(k.startswith('encoder_k.') for k in keys)
    assert {'hyp_head.queue.keys', 'hyp_head.queue.ptr'} <= keys
    # the baseline twin reads the same checkpoint except the hyperbolic head
    base_twin = MODELS.build(dict(base_cfg('HCLMoCo'), data_preprocessor=PRE,
                                  hyp_head=None))
    missing, unexpected = base_twin.load_state_dict(
        model.state_dict(), strict=False)
    assert not missing
    assert unexpected and all(k.startswith('hyp_head.') for k in unexpected)


def test_baseline_twin_uses_only_the_object_views():
    model = MODELS.build(dict(base_cfg('HCLSimCLR'), data_preprocessor=PRE,
                              hyp_head=None))
    data = model.data_preprocessor(batch(views=4), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'loss_base'}
    # SimCLR stacks every view it is given: with 4 views it would see a
    # 16 x 16 similarity matrix; the mixin hands it the first two only.
    two = model.data_preprocessor(batch(views=2), training=True)
    torch.manual_seed(0)
    from mmpretrain.models import SimCLR
    ref = SimCLR.loss(model, two['inputs'], two['data_samples'])
    assert torch.allclose(losses['loss_base'], ref['loss'])


def test_too_few_views_is_a_clear_error():
    model = build('HCLMoCo')
    data = model.data_preprocessor(batch(views=2), training=True)
    with pytest.raises(ValueError, match='needs 4 views'):
        model.loss(data['inputs'], data['data_samples'])


@pytest.mark.parametrize('name', ['HCLMoCo', 'HCLBYOL'])
def test_own_projector_gets_a_momentum_copy_on_the_base_schedule(name):
    """The head's own projector is averaged by the base's EMA class with
    its momentum and schedule (BYOL: cosine), step for step."""
    MessageHub.get_current_instance().update_info('max_iters', 10)
    proj = dict(type='NonLinearNeck', in_channels=512, hid_channels=32,
                out_channels=FEAT, num_layers=2, with_avg_pool=True)
    model = build(name, projector=proj)
    enc = model.key_encoder()
    assert type(model.hyp_projector_k) is type(enc)
    assert model.hyp_projector_k.momentum == enc.momentum
    for attr in ('end_momentum', 'interval'):
        assert getattr(model.hyp_projector_k, attr, None) == \
            getattr(enc, attr, None)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = copy.deepcopy(model.hyp_projector_k.module.state_dict())
    for _ in range(3):
        model.train_step(batch(), wrapper)
    assert int(model.hyp_projector_k.steps) == int(enc.steps) == 3
    after = model.hyp_projector_k.module.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed
    assert not any(p.requires_grad
                   for p in model.hyp_projector_k.parameters())
    # the averaged copy equals a hand-computed average of the last step
    # (taken with the online weights before that step's update)
    m = enc.momentum if not hasattr(enc, 'end_momentum') else None
    if m is not None:
        online = {k: v.detach().clone() for k, v in
                  model.hyp_head.projector.named_parameters()}
        prev = copy.deepcopy(model.hyp_projector_k.module.state_dict())
        model.train_step(batch(), wrapper)
        name_, p_k = next(
            iter(model.hyp_projector_k.module.named_parameters()))
        want = (1 - m) * prev[name_] + m * online[name_]
        torch.testing.assert_close(p_k, want)


@pytest.mark.parametrize('name',
                         ['HCLMoCo', 'HCLSimCLR', 'HCLBYOL', 'HCLDenseCL'])
def test_recipe_trains_on_every_base(name):
    MessageHub.get_current_instance().update_info('max_iters', 100)
    model = build(name, scale_norm=3.0, online_pair=True,
                  entailment_weight=0.3)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05))
    for _ in range(2):
        log = model.train_step(batch(), wrapper)
        for key in ('loss', 'loss_hyp', 'loss_entail', 'scene_sat',
                    'object_sat', 'norm_spread'):
            assert torch.isfinite(log[key]), key


@pytest.mark.parametrize('manifold', ['poincare', 'lorentz'])
def test_predict_embeds_on_the_models_manifold(manifold):
    model = build('HCLMoCo', manifold=dict(poincare='PoincareBall',
                                           lorentz='Lorentz')[manifold])
    model.eval()
    x = torch.randn(3, 3, 32, 32)

    def predict(m):
        return m(x, [DataSample() for _ in range(3)], mode='predict')

    out = predict(model)
    geometry = out[0].manifold
    assert isinstance(geometry, Manifold)
    assert geometry.name == manifold
    assert geometry.c_value() == pytest.approx(0.1)
    points = torch.stack([s.embedding for s in out])
    assert points.dtype == torch.float32
    # the points are the head's map of the online projections
    expected = model.hyp_head.to_manifold(model.online_projection(x))
    torch.testing.assert_close(points, expected)
    if manifold == 'poincare':
        assert (points.norm(dim=-1) < 1 / 0.1**0.5).all()
    assert out[0].backbone_feat.shape == (512, )
    twin = MODELS.build(dict(base_cfg('HCLMoCo'), data_preprocessor=PRE,
                             hyp_head=None)).eval()
    assert predict(twin)[0].manifold.name == 'euclidean'


def test_each_base_names_its_key_encoder():
    """The written subclasses say where the object keys come from: MoCo's
    and DenseCL's momentum encoder, BYOL's target network, none for SimCLR
    (a stop-gradient online pass)."""
    MessageHub.get_current_instance().update_info('max_iters', 100)
    expected = dict(HCLMoCo='encoder_k', HCLDenseCL='encoder_k',
                    HCLBYOL='target_net', HCLSimCLR=None)
    for name, attr in expected.items():
        model = build(name)
        want = None if attr is None else getattr(model, attr)
        assert model.key_encoder() is want, name


def test_another_algorithm_is_a_written_subclass():
    """HCL on another two-view algorithm: a subclass of a few lines."""
    from mmpretrain.models import SimSiam

    class HCLSimSiam(HCLMixin, SimSiam):
        """HCL on SimSiam; the object key is a stop-gradient online pass."""

    cfg = base_cfg('HCLBYOL')
    cfg.pop('type'), cfg.pop('base_momentum')
    torch.manual_seed(0)
    model = HCLSimSiam(data_preprocessor=PRE, hyp_head=hyp_head(), **cfg)
    assert model.key_encoder() is None
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05))
    log = model.train_step(batch(), wrapper)
    assert {'loss_base', 'loss_hyp', 'scene_norm'} <= set(log)
    assert torch.isfinite(log['loss'])


def test_object_query_swaps_the_encoders():
    """With query='object' the object view goes through the online encoder."""
    model = build('HCLMoCo', type='HyperbolicSceneObjectAblationHead',
                  query='object')
    data = model.data_preprocessor(batch(), training=True)
    inputs = data['inputs']
    seen = []
    orig_online, orig_key = model.online_projection, model.key_projection
    model.online_projection = lambda x: seen.append(('online', x)) or \
        orig_online(x)
    model.key_projection = lambda x: seen.append(('key', x)) or orig_key(x)
    losses = model.loss(inputs, data['data_samples'])
    assert [s[0] for s in seen] == ['online', 'key']
    assert seen[0][1] is inputs[3] and seen[1][1] is inputs[2]
    assert {'scene_norm', 'object_norm', 'loss_hyp'} <= set(losses)


def test_online_pair_embeds_both_sides_in_one_online_pass():
    """online_pair: scene and object views go through the online encoder in
    one batch (shared BatchNorm statistics and scale), the object also
    through the key encoder for the InfoNCE, and the entailment term sends
    gradient into the backbone from both sides."""
    model = build('HCLMoCo', scale_norm=3.0, online_pair=True,
                  entailment_weight=1.0)
    data = model.data_preprocessor(batch(), training=True)
    inputs = data['inputs']
    seen = []
    orig_online, orig_key = model.online_projection, model.key_projection
    model.online_projection = lambda x: seen.append(('online', x)) or \
        orig_online(x)
    model.key_projection = lambda x: seen.append(('key', x)) or orig_key(x)
    losses = model.loss(inputs, data['data_samples'])
    assert [s[0] for s in seen] == ['online', 'key']
    assert torch.equal(seen[0][1], torch.cat([inputs[2], inputs[3]]))
    assert seen[1][1] is inputs[3]
    assert {'loss_hyp', 'loss_entail', 'scene_norm', 'object_norm'} <= \
        set(losses)
    model.zero_grad()
    losses['loss_entail'].backward()
    grads = [p.grad for p in model.backbone.parameters()
             if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    # the running scale was measured
    assert float(model.hyp_head.embedder.running_scale) > 0
    # without the online pass the head refuses the option
    with pytest.raises(ValueError, match='online_key_u'):
        model.hyp_head.loss(torch.randn(4, FEAT), torch.randn(4, FEAT))


def test_online_pair_without_momentum_encoder_reuses_the_online_pass():
    """SimCLR has no key encoder: with online_pair the object key is the
    online pair's object projection without gradient, not a second pass."""
    model = build('HCLSimCLR', scale_norm=3.0, online_pair=True,
                  entailment_weight=1.0)
    data = model.data_preprocessor(batch(), training=True)
    calls = []
    orig_online = model.online_projection
    model.online_projection = lambda x: calls.append(x.shape[0]) or \
        orig_online(x)
    model.key_projection = lambda x: pytest.fail('second key pass')
    losses = model.loss(data['inputs'], data['data_samples'])
    assert calls == [8]  # scenes and objects of the 4 samples, one pass
    assert torch.isfinite(losses['loss_hyp']) and \
        torch.isfinite(losses['loss_entail'])
