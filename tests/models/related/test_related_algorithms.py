"""SNCLR, hyperbolic MoCo/SimCLR/SupCon and DCL heads train on tiny inputs."""
import copy
import io

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

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


@pytest.fixture(autouse=True, scope='module')
def hclmm_scope():
    # MoCo v3's cosine EMA reads the run length from the message hub
    MessageHub.get_current_instance().update_info('max_iters', 10)
    with DefaultScope.overwrite_default_scope('hclmm'):
        yield


def batch(n=4, size=32, seed=0, labels=None):
    g = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(
            0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
        for _ in range(2)
    ]
    samples = [DataSample() for _ in range(n)]
    if labels is not None:
        samples = [s.set_gt_label(int(y)) for s, y in zip(samples, labels)]
    return dict(inputs=inputs, data_samples=samples)


def sgd(model):
    return OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))


def mlp(in_channels, with_avg_pool, last_bn=True):
    return dict(
        type='NonLinearNeck',
        in_channels=in_channels,
        hid_channels=32,
        out_channels=FEAT,
        num_layers=2,
        with_bias=False,
        with_last_bn=last_bn,
        with_last_bn_affine=False,
        with_last_bias=False,
        with_avg_pool=with_avg_pool)


def snclr(bank_size=12, topk=3, activation='sigmoid'):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='SNCLR',
            bank_size=bank_size,
            topk=topk,
            feat_dim=FEAT,
            base_momentum=0.01,
            data_preprocessor=PRE,
            backbone=BACKBONE,
            neck=mlp(512, True),
            head=dict(
                type='SNCLRHead',
                predictor=mlp(FEAT, False, last_bn=False),
                attention=dict(
                    type='SNCLRAttention',
                    in_channels=FEAT,
                    activation=activation),
                loss=dict(type='SNCLRLoss', temperature=0.2))))


# ------------------------------------------------------------------ SNCLR
def test_snclr_trains_and_its_bank_advances():
    model = snclr()
    wrapper, data = sgd(model), batch()
    before = copy.deepcopy(model.backbone.state_dict())
    for step in range(3):
        log = model.train_step(data, wrapper)
        assert torch.isfinite(log['loss'])
        w = float(log['positiveness'])
        if step == 0:  # empty bank: the own key is the only positive
            assert w == 1.0
        else:
            assert 0 <= w <= 1
        assert int(model.bank.count) == min(4 * (step + 1), 12)
        assert int(model.bank.ptr) == (4 * (step + 1)) % 12
    # the filled rows are unit-norm momentum keys
    assert torch.allclose(model.bank.keys.norm(dim=1), torch.ones(12), atol=1e-5)
    changed = [
        not torch.equal(v,
                        model.backbone.state_dict()[k])
        for k, v in before.items() if v.is_floating_point()
    ]
    assert any(changed)
    # a fourth batch wraps around the FIFO and overwrites the oldest keys
    oldest = model.bank.keys[:4].clone()
    model.train_step(batch(seed=1), wrapper)
    assert int(model.bank.ptr) == 4 and int(model.bank.count) == 12
    assert not torch.allclose(oldest, model.bank.keys[:4])


def test_snclr_bank_is_saved_and_loaded_with_the_weights():
    model = snclr(activation='softmax')
    wrapper = sgd(model)
    for step in range(2):
        model.train_step(batch(seed=step), wrapper)
    state = model.state_dict()
    for key in ('bank.keys', 'bank.ptr', 'bank.count', 'head.attention.q_proj.weight',
                'momentum_encoder.module.0.conv1.weight',
                'head.predictor.fc0.weight'):
        assert key in state, key
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    fresh = snclr(activation='softmax')
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(fresh.bank.keys, model.bank.keys)
    assert int(fresh.bank.count) == 8 and int(fresh.bank.ptr) == 8


def test_snclr_nearest_candidates_are_the_top_k_by_cosine():
    model = snclr(bank_size=20, topk=4)
    g = torch.Generator().manual_seed(0)
    keys = F.normalize(torch.randn(9, FEAT, generator=g), dim=1)
    model.bank.push(keys)
    assert model.nearest_candidates(keys[:1]).shape == (1, 4, FEAT)
    query = F.normalize(torch.randn(3, FEAT, generator=g), dim=1)
    got = model.nearest_candidates(query)
    for i in range(3):
        sims = [float(query[i] @ k) for k in keys]
        order = sorted(range(9), key=lambda j: -sims[j])[:4]
        assert torch.allclose(got[i], keys[order])
    # fewer filled entries than K: all of them
    small = snclr(bank_size=20, topk=4)
    small.bank.push(keys[:2])
    assert small.nearest_candidates(query).shape == (3, 2, FEAT)


def test_snclr_rejects_bad_settings():
    with pytest.raises(ValueError, match='topk'):
        snclr(bank_size=4, topk=5)
    with pytest.raises(ValueError, match='two views'):
        snclr().loss([torch.rand(2, 3, 32, 32)], None)


# ------------------------------------------------- hyperbolic instance
def hyp_head(loss):
    return dict(
        type='HyperbolicContrastiveHead', manifold=dict(type='PoincareBall',
                                                    c=0.1),
        clip_r=4.6, loss=loss)


def simclr_like(type_, head):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type=type_,
            data_preprocessor=PRE,
            backbone=BACKBONE,
            neck=mlp(512, True),
            head=head))


def moco_like(type_, head):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type=type_,
            queue_len=16,
            feat_dim=FEAT,
            momentum=0.01,
            data_preprocessor=PRE,
            backbone=BACKBONE,
            neck=dict(
                type='MoCoV2Neck',
                in_channels=512,
                hid_channels=32,
                out_channels=FEAT,
                with_avg_pool=True),
            head=head))


def test_hyp_moco_trains_and_its_queue_advances():
    model = moco_like(
        'HypMoCo',
        hyp_head(dict(type='HyperbolicInfoNCELoss', temperature=0.2)))
    wrapper, data = sgd(model), batch()
    queue_before = model.queue.clone()
    for step in range(3):
        log = model.train_step(data, wrapper)
        assert torch.isfinite(log['loss']) and 'hyp_norm' in log
        assert int(model.queue_ptr) == (4 * (step + 1)) % 16
    assert not torch.equal(queue_before[:, :12], model.queue[:, :12])
    assert torch.equal(queue_before[:, 12:], model.queue[:, 12:])


def test_hyp_simclr_trains_and_matches_the_head_on_its_projections():
    model = simclr_like(
        'HypSimCLR',
        hyp_head(dict(type='HyperbolicSupConLoss', temperature=0.2)))
    captured = {}
    model.neck.register_forward_hook(
        lambda mod, inp, out: captured.update(z=out[0].detach()))
    data = model.data_preprocessor(batch(), True)
    loss = model.loss(data['inputs'], data['data_samples'])['loss']
    z = captured['z']  # views interleaved, as in SimCLR
    want = model.head.loss(z[0::2], z[1::2])['loss']
    assert float(loss) == pytest.approx(float(want), rel=1e-5)
    wrapper = sgd(model)
    for _ in range(2):
        assert torch.isfinite(model.train_step(batch(), wrapper)['loss'])


def test_hyp_supcon_uses_labels_and_needs_them():
    head = hyp_head(dict(type='HyperbolicSupConLoss', temperature=0.2))
    supcon = simclr_like('HypSupCon', head)
    simclr = simclr_like('HypSimCLR', head)
    simclr.load_state_dict(supcon.state_dict())
    supcon.train(), simclr.train()
    distinct = batch(labels=[0, 1, 2, 3])
    shared = batch(labels=[0, 0, 1, 1])

    def loss(model, data):
        data = model.data_preprocessor(copy.deepcopy(data), True)
        with torch.no_grad():
            return float(
                model.loss(data['inputs'], data['data_samples'])['loss'])

    # one class per image is SimCLR; shared classes change the loss
    assert loss(supcon, distinct) == pytest.approx(
        loss(simclr, distinct), rel=1e-5)
    assert loss(supcon, shared) != pytest.approx(
        loss(simclr, shared), rel=1e-3)
    with pytest.raises(ValueError, match='gt_label'):
        loss(supcon, batch())
    wrapper = sgd(supcon)
    for _ in range(2):
        assert torch.isfinite(supcon.train_step(shared, wrapper)['loss'])


# ------------------------------------------------------------ DCL heads
@pytest.mark.parametrize('sigma', [None, 0.5])
def test_dcl_heads_train_in_mmpretrain_simclr_and_moco(sigma):
    head = dict(type='DCLHead', temperature=0.2, sigma=sigma)
    simclr = simclr_like('SimCLR', head)
    moco = moco_like('MoCo', head)
    for model in (simclr, moco):
        wrapper = sgd(model)
        for _ in range(2):
            assert torch.isfinite(model.train_step(batch(), wrapper)['loss'])
    assert int(moco.queue_ptr) == 8


def test_key_queue_reads_its_fill_level_without_the_buffer():
    """The filled part comes from a Python mirror of ``count`` (no device
    sync per step); after loading a state dict it is read back once."""
    from hclmm.models.utils import KeyQueue
    q = KeyQueue(5, 2)
    q.push(torch.ones(3, 2))
    assert q.filled().shape == (3, 2)
    q.count.fill_(1)  # the buffer is not read while the mirror is valid
    assert q.filled().shape == (3, 2)
    q.load_state_dict(dict(keys=torch.zeros(5, 2), ptr=torch.tensor([4]),
                           count=torch.tensor([4])))
    assert q.filled().shape == (4, 2)
    q.push(torch.ones(3, 2))
    assert q.filled().shape == (5, 2) and int(q.count) == 5
