"""HyperbolicInfoNCELoss against a float64 loop reference written from the
formula, in queue and in-batch modes, for both models."""
import math

import pytest
import torch

from hclmm.models.losses import (HyperbolicInfoNCELoss, hyperbolic_infonce,
                                 hyperbolic_logits)
from hclmm.geometry import (PoincareBall, build_manifold, expmap0,
                            lorentz_expmap0, project)
from hclmm.registry import MODELS


def _ref_dist(x, y, c, manifold):
    x, y = x.double(), y.double()
    if manifold == 'poincare':
        # (2/sqrt c) artanh(sqrt c |(-x) (+)_c y|), Mobius addition in full
        a = -x
        ay, a2, y2 = float(a @ y), float(a @ a), float(y @ y)
        m = ((1 + 2 * c * ay + c * y2) * a +
             (1 - c * a2) * y) / (1 + 2 * c * ay + c * c * a2 * y2)
        return 2 / math.sqrt(c) * math.atanh(math.sqrt(c) * float(m.norm()))
    x0 = math.sqrt(1 / c + float(x @ x))
    y0 = math.sqrt(1 / c + float(y @ y))
    return math.acosh(max(c * (x0 * y0 - float(x @ y)), 1.0)) / math.sqrt(c)


def _ref_loss(query, key, c, queue, temperature, manifold, in_batch):
    total = 0.0
    n = len(query)
    for i in range(n):
        pos = -_ref_dist(query[i], key[i], c, manifold) / temperature
        negs = []
        if in_batch:
            negs += [
                -_ref_dist(query[i], key[j], c, manifold) / temperature
                for j in range(n) if j != i
            ]
        if queue is not None:
            negs += [
                -_ref_dist(query[i], q, c, manifold) / temperature
                for q in queue
            ]
        denom = math.exp(pos) + sum(math.exp(v) for v in negs)
        total += -math.log(math.exp(pos) / denom)
    return total / n


def _points(n, d, c, manifold, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(n, d, generator=g) * scale
    if manifold == 'poincare':
        return project(expmap0(u, c), c)
    return lorentz_expmap0(u, c)


@pytest.mark.parametrize('manifold', ['poincare', 'lorentz'])
@pytest.mark.parametrize('in_batch', [False, True])
@pytest.mark.parametrize('n,k,d,c,temperature', [
    (1, 3, 2, 1.0, 0.2),
    (4, 6, 8, 0.05, 0.2),
    (7, 5, 16, 0.5, 0.07),
    (3, 0, 4, 2.0, 1.0),
])
def test_matches_loop_reference(manifold, in_batch, n, k, d, c, temperature):
    query = _points(n, d, c, manifold, seed=1)
    key = _points(n, d, c, manifold, seed=2, scale=0.5)
    queue = _points(k, d, c, manifold, seed=3) if k else None
    loss_fn = HyperbolicInfoNCELoss(temperature=temperature,
                                    in_batch_negatives=in_batch)
    space = build_manifold(manifold, c)
    if queue is None and not in_batch:
        with pytest.raises(ValueError, match='No negatives'):
            loss_fn(query, key, space, queue)
        return
    got = loss_fn(query, key, space, queue)
    ref = _ref_loss(query, key, c, queue, temperature, manifold, in_batch)
    assert got.dtype == torch.float32 and got.shape == ()
    assert math.isclose(float(got), ref, rel_tol=1e-4, abs_tol=1e-5)
    # functional form and registry build give the same number
    assert torch.equal(
        got,
        hyperbolic_infonce(query, key, space, queue, temperature, in_batch))
    built = MODELS.build(
        dict(type='HyperbolicInfoNCELoss',
             temperature=temperature,
             in_batch_negatives=in_batch,
             loss_weight=0.1))
    torch.testing.assert_close(built(query, key, space, queue), 0.1 * got)


def test_logit_layout():
    c = 0.05
    q = _points(3, 4, c, 'poincare', seed=4)
    k = _points(3, 4, c, 'poincare', seed=5)
    queue = _points(5, 4, c, 'poincare', seed=6)
    ball = PoincareBall(c)
    logits, targets = hyperbolic_logits(q, k, ball, queue, temperature=0.2)
    assert logits.shape == (3, 6) and targets.tolist() == [0, 0, 0]
    torch.testing.assert_close(
        logits[1, 0],
        torch.tensor(-_ref_dist(q[1], k[1], c, 'poincare') / 0.2,
                     dtype=torch.float32))
    torch.testing.assert_close(
        logits[2, 4],
        torch.tensor(-_ref_dist(q[2], queue[3], c, 'poincare') / 0.2,
                     dtype=torch.float32))
    logits, targets = hyperbolic_logits(q,
                                        k,
                                        ball,
                                        queue,
                                        temperature=0.2,
                                        in_batch_negatives=True)
    assert logits.shape == (3, 8) and targets.tolist() == [0, 1, 2]
    torch.testing.assert_close(
        logits[0, 2],
        torch.tensor(-_ref_dist(q[0], k[2], c, 'poincare') / 0.2,
                     dtype=torch.float32))


def test_gradients_reach_query_and_key_not_queue_and_curvature():
    ball = PoincareBall(0.05, learnable=True)
    q = _points(4, 8, 0.05, 'poincare', seed=7).requires_grad_()
    k = _points(4, 8, 0.05, 'poincare', seed=8).requires_grad_()
    queue = _points(16, 8, 0.05, 'poincare', seed=9).requires_grad_()
    HyperbolicInfoNCELoss()(q, k, ball, queue).backward()
    assert q.grad.abs().sum() > 0 and k.grad.abs().sum() > 0
    log_c = ball.curvature.log_c
    assert log_c.grad is not None and torch.isfinite(log_c.grad)
    assert queue.grad is None


@pytest.mark.parametrize('manifold', ['poincare', 'lorentz'])
@pytest.mark.parametrize('in_batch', [False, True])
def test_gradients_match_finite_differences(manifold, in_batch):
    space = build_manifold(manifold, 0.25)  # exact in float32
    q = _points(3, 4, 0.25, manifold, seed=12).double().requires_grad_()
    k = _points(3, 4, 0.25, manifold, seed=13).double().requires_grad_()
    queue = _points(5, 4, 0.25, manifold, seed=14).double()

    def loss(q, k):
        return hyperbolic_infonce(q, k, space, queue, 0.5, in_batch)

    assert torch.autograd.gradcheck(loss, (q, k))


def test_aligned_pairs_give_low_loss_and_misaligned_high():
    """Queries sitting on their keys, far from the negatives, have a loss
    near 0; a far positive with the query among the negatives, a large one."""
    c = 1.0
    key = _points(4, 8, c, 'poincare', seed=10, scale=3.0)
    queue = -key.repeat(4, 1) * 0.9
    ball = PoincareBall(c)
    loss_fn = HyperbolicInfoNCELoss(temperature=0.2)
    assert float(loss_fn(key, key, ball, queue)) < 1e-3
    # the positive far away, the query itself among the negatives
    assert float(loss_fn(key, -0.9 * key, ball, key)) > 5
    batch = HyperbolicInfoNCELoss(temperature=0.2, in_batch_negatives=True)
    assert float(batch(key, key, ball)) < 1e-3


def test_autocast_gives_float32_result():
    c = 0.05
    lin = torch.nn.Linear(8, 8)
    x = torch.randn(6, 8)
    queue = _points(10, 8, c, 'poincare', seed=11)
    loss_fn = HyperbolicInfoNCELoss()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        h = lin(x)
        assert h.dtype == torch.bfloat16
        q = project(expmap0(h, c), c)
        loss = loss_fn(q, q.detach().flip(0), PoincareBall(c), queue)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(lin.weight.grad).all()


@pytest.mark.parametrize('kwargs,match', [
    (dict(temperature=0.0), 'temperature'),
    (dict(temperature=-0.1), 'temperature'),
    (dict(temperature='0.2'), 'temperature'),
    (dict(loss_weight='big'), 'loss_weight'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HyperbolicInfoNCELoss(**kwargs)


def test_bad_inputs():
    q = torch.zeros(3, 4)
    ball = PoincareBall(1.0)
    loss_fn = HyperbolicInfoNCELoss()
    with pytest.raises(ValueError, match='No negatives'):
        loss_fn(q, q, ball)
    with pytest.raises(ValueError, match='query and key'):
        loss_fn(q, q[:2], ball, torch.zeros(5, 4))
    with pytest.raises(ValueError, match='queue'):
        loss_fn(q, q, ball, torch.zeros(5, 3))
    with pytest.raises(ValueError, match='curvature'):
        PoincareBall(0.0)
    with pytest.raises(TypeError, match='Manifold object'):
        loss_fn(q, q, 'poincare', torch.zeros(5, 4))
