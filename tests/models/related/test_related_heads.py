"""Hyperbolic contrastive head, SNCLR head and positiveness attention."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope

from hclmm.models.heads import HyperbolicContrastiveHead, SNCLRHead
from hclmm.models.necks import SNCLRAttention
from hclmm.registry import MODELS
from hclmm.utils import register_all_modules

register_all_modules(init_default_scope=False)


@pytest.fixture(autouse=True, scope='module')
def hclmm_scope():
    with DefaultScope.overwrite_default_scope('hclmm'):
        yield


# ------------------------------------------------- float64 references
def ref_point(u, c, clip_r, manifold):
    """Clip to distance ``clip_r`` from the origin (the ball's exp map
    doubles tangent lengths), exp map at the origin; Poincare points or
    Lorentz space part."""
    u = u.double()
    norm = float(u.norm())
    if clip_r is not None:
        radius = clip_r / 2 if manifold == 'poincare' else clip_r
        if norm > radius:
            u, norm = u * radius / norm, radius
    s = math.sqrt(c) * norm
    if manifold == 'poincare':
        x = math.tanh(s) / s * u
        max_norm = (1 - 1e-3) / math.sqrt(c)
        return x if float(
            x.norm()) <= max_norm else x * max_norm / float(x.norm())
    return math.sinh(s) / s * u


def ref_dist(x, y, c, manifold):
    if manifold == 'poincare':
        num = 2 * c * float((x - y).pow(2).sum())
        den = (1 - c * float(x @ x)) * (1 - c * float(y @ y))
        return math.acosh(1 + num / den) / math.sqrt(c)
    x0 = math.sqrt(1 / c + float(x @ x))
    y0 = math.sqrt(1 / c + float(y @ y))
    inner = float(x @ y) - x0 * y0
    return math.acosh(max(1.0, -c * inner)) / math.sqrt(c)


def ref_supcon(points, labels, t, c, manifold):
    """Khosla et al.'s SupCon over all views with -d / T similarities."""
    m = len(points)
    sim = [[
        -ref_dist(points[i], points[j], c, manifold) / t for j in range(m)
    ] for i in range(m)]
    losses = []
    for i in range(m):
        pos = [p for p in range(m) if p != i and labels[p] == labels[i]]
        if not pos:
            continue
        log_den = math.log(
            sum(math.exp(sim[i][a]) for a in range(m) if a != i))
        losses.append(-sum(sim[i][p] - log_den for p in pos) / len(pos))
    return sum(losses) / len(losses)


def ref_infonce_queue(q, k, queue, t, c, manifold):
    total = 0.0
    for i in range(len(q)):
        pos = math.exp(-ref_dist(q[i], k[i], c, manifold) / t)
        neg = sum(math.exp(-ref_dist(q[i], n, c, manifold) / t) for n in queue)
        total += -math.log(pos / (pos + neg))
    return total / len(q)


def head(loss, manifold='poincare', c=0.1, clip_r=4.6):
    return MODELS.build(
        dict(
            type='HyperbolicContrastiveHead',
            loss=loss,
            manifold=dict(type=dict(poincare='PoincareBall',
                                    lorentz='Lorentz')[manifold], c=c),
            clip_r=clip_r))


@pytest.mark.parametrize('n,d,t,c,clip_r,manifold', [
    (4, 8, 0.2, 0.1, 4.6, 'poincare'),
    (6, 16, 0.5, 1.0, None, 'poincare'),
    (3, 4, 0.1, 0.05, 1.0, 'lorentz'),
])
def test_ntxent_form_matches_reference(n, d, t, c, clip_r, manifold):
    g = torch.Generator().manual_seed(n)
    z1, z2 = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
    h = head(
        dict(type='HyperbolicSupConLoss', temperature=t), manifold, c, clip_r)
    out = h.loss(z1, z2)
    pts = [ref_point(u, c, clip_r, manifold) for u in torch.cat([z1, z2])]
    labels = list(range(n)) * 2
    want = ref_supcon(pts, labels, t, c, manifold)
    assert float(out['loss']) == pytest.approx(want, rel=1e-4)
    norms = [ref_dist(p, torch.zeros_like(p), c, manifold) for p in pts[:n]]
    assert float(out['hyp_norm']) == pytest.approx(sum(norms) / n, rel=1e-4)


@pytest.mark.parametrize('t,c', [(0.2, 0.1), (0.07, 0.5)])
def test_supervised_form_uses_the_labels(t, c):
    g = torch.Generator().manual_seed(3)
    z1, z2 = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    labels = torch.tensor([0, 1, 0, 2, 1, 0])
    h = head(dict(type='HyperbolicSupConLoss', temperature=t), c=c)
    got = float(h.loss(z1, z2, labels=labels)['loss'])
    pts = [ref_point(u, c, 4.6, 'poincare') for u in torch.cat([z1, z2])]
    want = ref_supcon(pts, labels.tolist() * 2, t, c, 'poincare')
    assert got == pytest.approx(want, rel=1e-4)
    assert got != pytest.approx(float(h.loss(z1, z2)['loss']), rel=1e-3)


@pytest.mark.parametrize('manifold', ['poincare', 'lorentz'])
def test_queue_form_matches_reference(manifold):
    g = torch.Generator().manual_seed(5)
    q, k = torch.randn(4, 8, generator=g), torch.randn(4, 8, generator=g)
    queue = torch.randn(10, 8, generator=g)
    h = head(dict(type='HyperbolicInfoNCELoss', temperature=0.2), manifold)
    got = float(h.loss(q, k, queue=queue)['loss'])
    ref = [[ref_point(u, 0.1, 4.6, manifold) for u in x]
           for x in (q, k, queue)]
    want = ref_infonce_queue(*ref, 0.2, 0.1, manifold)
    assert got == pytest.approx(want, rel=1e-4)


def test_gradient_reaches_both_views_and_a_learnable_curvature():
    h = MODELS.build(
        dict(
            type='HyperbolicContrastiveHead',
            manifold=dict(type='PoincareBall', c=0.1, learnable=True),
            loss=dict(type='HyperbolicSupConLoss', temperature=0.2)))
    z1 = torch.randn(4, 8, requires_grad=True)
    z2 = torch.randn(4, 8, requires_grad=True)
    h.loss(z1, z2)['loss'].backward()
    assert z1.grad.abs().sum() > 0 and z2.grad.abs().sum() > 0
    assert h.manifold.curvature.log_c.grad is not None


def test_hyperbolic_head_errors():
    supcon = head(dict(type='HyperbolicSupConLoss'))
    infonce = head(dict(type='HyperbolicInfoNCELoss'))
    z = torch.randn(4, 8)
    with pytest.raises(ValueError, match='no queue'):
        supcon.loss(z, z, queue=z)
    with pytest.raises(ValueError, match='no labels'):
        infonce.loss(z, z, queue=z, labels=torch.arange(4))
    with pytest.raises(ValueError, match='No negatives'):
        infonce.loss(z, z)
    with pytest.raises(ValueError, match='clip_r'):
        HyperbolicContrastiveHead(clip_r=0)


# ------------------------------------------------------ SNCLR attention
@pytest.mark.parametrize('activation', ['sigmoid', 'softmax'])
def test_positiveness_is_in_unit_interval(activation):
    torch.manual_seed(0)
    att = SNCLRAttention(16, embed_dims=8, activation=activation)
    with torch.no_grad():  # large projections saturate the scores
        att.q_proj.weight.mul_(100)
        att.k_proj.weight.mul_(100)
    w = att(torch.randn(5, 16), torch.randn(5, 7, 16))
    assert w.shape == (5, 7)
    assert float(w.min()) >= 0 and float(w.max()) <= 1
    assert float(w.max()) > 0.99  # saturated, still in range
    if activation == 'softmax':
        assert torch.allclose(w.sum(1), torch.ones(5))
    assert att(torch.randn(5, 16), torch.zeros(5, 0, 16)).shape == (5, 0)


def test_attention_errors():
    with pytest.raises(ValueError, match='activation'):
        SNCLRAttention(8, activation='relu')
    with pytest.raises(ValueError, match='Expected'):
        SNCLRAttention(8)(torch.randn(2, 8), torch.randn(2, 3, 4))


def test_snclr_head_keeps_the_own_key_at_weight_one():
    """The head's loss is the formula with w_0 = 1 for the key and the
    attention's weights for the neighbours."""
    torch.manual_seed(0)
    h = SNCLRHead(
        predictor=dict(
            type='NonLinearNeck',
            in_channels=8,
            hid_channels=16,
            out_channels=8,
            num_layers=2,
            with_avg_pool=False),
        attention=dict(type='SNCLRAttention', in_channels=8),
        loss=dict(type='SNCLRLoss', temperature=0.2)).eval()
    g = torch.Generator().manual_seed(1)
    proj = torch.randn(4, 8, generator=g)
    key = F.normalize(torch.randn(4, 8, generator=g), dim=1)
    nbrs = F.normalize(torch.randn(4, 3, 8, generator=g), dim=2)
    loss, w = h.loss(proj, key, nbrs)
    assert w.shape == (4, 3) and 0 <= float(w.min()) <= float(w.max()) <= 1
    z = F.normalize(h.predictor([proj])[0].double(), dim=1)
    cand = torch.cat([key[:, None], nbrs], 1).double()
    total = 0.0
    for b in range(4):
        e = torch.exp(cand @ z[b] / 0.2)  # 4 x 4: every sample's set
        full_w = torch.cat([torch.ones(1), w[b].double().detach()])
        total += -math.log(float((full_w * e[b]).sum() / e.sum()))
    assert float(loss) == pytest.approx(total / 4, rel=1e-5)
    # the weights carry gradient back to the attention module
    loss.backward()
    assert h.attention.q_proj.weight.grad.abs().sum() > 0
