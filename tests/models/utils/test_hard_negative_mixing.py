"""MoCHi's hard negative mixing: the synthetic points against a brute-force
check of the paper's definition, the heads' losses against a loop reference,
the start-epoch gate, and the absence of device synchronisation."""
import contextlib
import math
from itertools import product

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from hclmm.geometry import Lorentz, PoincareBall
from hclmm.models.utils import HardNegativeMixing, mix_hard_negatives
from hclmm.registry import MODELS


def _as_mixture(point, a, b, high):
    """Weight w in [0, high] with point = w a + (1 - w) b, or None."""
    diff = a - b
    w = float((point - b) @ diff / (diff @ diff).clamp_min(1e-30))
    if torch.allclose(w * a + (1 - w) * b, point, atol=1e-6) \
            and -1e-6 <= w <= high + 1e-6:
        return w
    return None


@pytest.mark.parametrize('b,k,d,num_hard,s,s2', [(3, 20, 4, 5, 6, 4),
                                                 (2, 7, 3, 7, 3, 0),
                                                 (4, 12, 5, 3, 0, 5)])
def test_synthetic_points_are_mixtures_of_the_hardest_negatives(
        b, k, d, num_hard, s, s2):
    torch.manual_seed(b * k)
    query = torch.randn(b, d, dtype=torch.float64)
    negatives = torch.randn(k, d, dtype=torch.float64)
    scores = query @ negatives.T
    out = mix_hard_negatives(query, negatives, scores, num_hard, s, s2)
    assert out.shape == (b, s + s2, d)
    for i in range(b):
        # the hardest: the num_hard highest scores, by a sort in a loop
        ranked = sorted(range(k), key=lambda j: -float(scores[i, j]))
        hard = [negatives[j] for j in ranked[:num_hard]]
        for point in out[i, :s]:
            assert any(
                _as_mixture(point, x, y, 1.0) is not None
                for x, y in product(hard, hard)), 'not a pair of hard ones'
        for point in out[i, s:]:
            weights = [_as_mixture(point, query[i], y, 0.5) for y in hard]
            assert any(w is not None for w in weights), 'query weight >= 0.5'


def test_query_weights_are_spread_below_one_half():
    torch.manual_seed(0)
    query = torch.zeros(1, 2, dtype=torch.float64)
    query[0, 0] = 1.0
    negatives = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    out = mix_hard_negatives(query, negatives, torch.ones(1, 1), 1, 0, 4000)
    beta = out[0, :, 0]  # beta q + (1 - beta) n: first coordinate is beta
    assert 0 <= beta.min() and beta.max() < 0.5
    assert beta.mean().item() == pytest.approx(0.25, abs=0.02)


def _ref_infonce(q, k, neg, synthetic, t):
    """Loop over queries: -log(e^{q.k/T} / (e^{q.k/T} + sum_j e^{q.n_j/T}
    + sum_s e^{q.h_s/T})) with L2-normalised q, k, n and h."""
    total = 0.0
    for i in range(len(q)):
        qi = F.normalize(q[i], dim=0)
        pos = math.exp(float(qi @ F.normalize(k[i], dim=0)) / t)
        den = pos + sum(
            math.exp(float(qi @ F.normalize(n, dim=0)) / t) for n in neg)
        den += sum(
            math.exp(float(qi @ F.normalize(h, dim=0)) / t)
            for h in synthetic[i])
        total += -math.log(pos / den)
    return total / len(q)


@pytest.mark.parametrize('b,k,d,t', [(4, 16, 8, 0.2), (3, 9, 5, 0.5)])
def test_mochi_head_matches_the_loop_reference(b, k, d, t):
    head = MODELS.build(
        dict(
            type='MoCHiHead',
            temperature=t,
            mixing=dict(
                type='HardNegativeMixing',
                num_hard=4,
                num_mix=3,
                num_query_mix=2)))
    torch.manual_seed(b)
    q, key, queue = torch.randn(b, d), torch.randn(b, d), torch.randn(k, d)
    torch.manual_seed(7)
    loss = head.loss(q, key, queue)['loss']
    # the same draws, made directly
    torch.manual_seed(7)
    qn, nn_ = F.normalize(q, dim=-1), F.normalize(queue, dim=-1)
    synthetic = mix_hard_negatives(qn, nn_, qn @ nn_.T, 4, 3, 2)
    expected = _ref_infonce(q, key, queue, synthetic, t)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # mixing only adds negatives: the loss grows
    head.mixing = None
    plain = head.loss(q, key, queue)['loss']
    assert plain.item() == pytest.approx(
        _ref_infonce(q, key, queue, [[]] * b, t), rel=1e-5)
    assert loss.item() > plain.item()


def test_mochi_head_without_mixing_is_mmpretrain_contrastive_head():
    from mmpretrain.models.heads import ContrastiveHead
    torch.manual_seed(0)
    q, k, queue = torch.randn(4, 8), torch.randn(4, 8), torch.randn(16, 8)
    ours = MODELS.build(dict(type='MoCHiHead', temperature=0.2))
    theirs = ContrastiveHead(
        loss=dict(type='CrossEntropyLoss'), temperature=0.2)
    qn, kn, nn_ = (F.normalize(x, dim=-1) for x in (q, k, queue))
    expected = theirs.loss((qn * kn).sum(-1, keepdim=True), qn @ nn_.T)
    assert ours.loss(q, k, queue)['loss'].item() == pytest.approx(
        expected.item(), rel=1e-6)


@pytest.mark.parametrize('manifold', [PoincareBall(c=0.1), Lorentz(c=0.1)],
                         ids=['poincare', 'lorentz'])
def test_hyperbolic_head_mixes_in_the_tangent_space_at_the_origin(manifold):
    """The synthetic points are exp_0 of mixtures of the log_0 of the
    hardest (nearest) queue points; their logits are -d(q, h)/T."""
    t = 0.2
    head = MODELS.build(
        dict(
            type='HyperbolicContrastiveHead',
            loss=dict(type='HyperbolicInfoNCELoss', temperature=t),
            mixing=dict(
                type='HardNegativeMixing',
                num_hard=4,
                num_mix=3,
                num_query_mix=2)))
    head.embedder.manifold = manifold
    torch.manual_seed(3)
    z1, z2, queue = torch.randn(3, 6), torch.randn(3, 6), torch.randn(10, 6)
    torch.manual_seed(11)
    loss = head.loss(z1, z2, queue=queue)['loss']
    q, k, n = (head.to_manifold(x) for x in (z1, z2, queue))
    torch.manual_seed(11)
    scores = -manifold.pairwise_dist(q, n) / t
    tangent = mix_hard_negatives(
        manifold.logmap0(q), manifold.logmap0(n), scores, 4, 3, 2)
    synthetic = manifold.to_manifold(tangent)
    total = 0.0
    for i in range(3):
        logits = [-float(manifold.dist(q[i], k[i])) / t]
        logits += [-float(manifold.dist(q[i], x)) / t for x in n]
        logits += [-float(manifold.dist(q[i], h)) / t for h in synthetic[i]]
        top = max(logits)
        total += -(logits[0] - top) + math.log(
            sum(math.exp(x - top) for x in logits))
    assert loss.item() == pytest.approx(total / 3, rel=1e-4)


def test_start_epoch_comes_from_the_message_hub():
    mixing = HardNegativeMixing(
        num_hard=4, num_mix=2, num_query_mix=1, start_epoch=2)
    hub = MessageHub.get_current_instance()
    old = hub.get_info('epoch')
    try:
        hub.update_info('epoch', 1)
        assert not mixing.active
        hub.update_info('epoch', 2)
        assert mixing.active
        mixing.eval()
        assert not mixing.active
    finally:
        hub.update_info('epoch', old if old is not None else 0)


def test_mixing_needs_no_device_synchronisation(monkeypatch):
    """Meta tensors have no values: any .item() or int(tensor) on the
    training path would raise (autocast, which has no meta device, is
    replaced by a no-op)."""
    monkeypatch.setattr(torch, 'autocast',
                        lambda *args, **kwargs: contextlib.nullcontext())
    head = MODELS.build(
        dict(
            type='MoCHiHead',
            mixing=dict(
                type='HardNegativeMixing',
                num_hard=8,
                num_mix=4,
                num_query_mix=2)))
    q, k = torch.randn(4, 8, device='meta'), torch.randn(4, 8, device='meta')
    queue = torch.randn(32, 8, device='meta')
    assert head.logits(q, k, queue).shape == (4, 1 + 32 + 6)


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match='num_hard'):
        HardNegativeMixing(num_hard=0)
    with pytest.raises(ValueError, match='num_mix \\+ num_query_mix'):
        HardNegativeMixing(num_mix=0, num_query_mix=0)
    with pytest.raises(ValueError, match='queue'):
        MODELS.build(
            dict(
                type='HyperbolicContrastiveHead',
                mixing=dict(type='HardNegativeMixing')))
    with pytest.raises(ValueError, match='queue'):
        MODELS.build(dict(type='MoCHiHead')).loss(
            torch.randn(2, 4), torch.randn(2, 4), None)
