"""No NaN/Inf in values or gradients at extreme norms, in float32 and under
bfloat16 autocast; hyperbolic maths stays in float32 under autocast."""
import pytest
import torch

from hclmm.geometry import (clip_features, dist, expmap0, logmap0,
                                lorentz_dist, lorentz_expmap0, lorentz_logmap0,
                                lorentz_origin_dist, lorentz_pairwise_dist,
                                lorentz_time, mobius_add, pairwise_dist,
                                poincare_norm, project)
from hclmm.geometry._numerics import PAIRWISE_BLOCK

NORMS = [0.0, 1e-8, 1e4]

# every public function as f(x, y, c); y is ignored by one-point functions
FUNCTIONS = {
    'expmap0':
    lambda x, y, c: expmap0(x, c),
    'logmap0':
    lambda x, y, c: logmap0(x, c),
    'project':
    lambda x, y, c: project(x, c),
    'clip_features':
    lambda x, y, c: clip_features(x, 2.3),
    'mobius_add':
    lambda x, y, c: mobius_add(x, y, c),
    'dist':
    lambda x, y, c: dist(x, y, c),
    'pairwise_dist':
    lambda x, y, c: pairwise_dist(x, y, c),
    'poincare_norm':
    lambda x, y, c: poincare_norm(x, c),
    'ball_chain':
    lambda x, y, c: pairwise_dist(project(expmap0(x, c), c),
                                  project(expmap0(y, c), c), c),
    'lorentz_time':
    lambda x, y, c: lorentz_time(x, c),
    'lorentz_expmap0':
    lambda x, y, c: lorentz_expmap0(x, c),
    'lorentz_logmap0':
    lambda x, y, c: lorentz_logmap0(x, c),
    'lorentz_dist':
    lambda x, y, c: lorentz_dist(x, y, c),
    'lorentz_pairwise_dist':
    lambda x, y, c: lorentz_pairwise_dist(x, y, c),
    'lorentz_origin_dist':
    lambda x, y, c: lorentz_origin_dist(x, c),
    'lorentz_chain':
    lambda x, y, c: lorentz_pairwise_dist(lorentz_expmap0(x, c),
                                          lorentz_expmap0(y, c), c),
}


def _extreme_points(dtype):
    """Rows of norm 0, 1e-8 and 1e4 in x; y holds the same rows (equal pairs)
    and rows of the other norms (far pairs)."""
    direction = torch.tensor([0.6, -0.8, 0.0, 0.0])
    rows = [direction * n for n in NORMS]
    x = torch.stack(rows + rows)
    y = torch.stack(rows + rows[::-1])
    return x.to(dtype), y.to(dtype)


@pytest.mark.parametrize('name', sorted(FUNCTIONS))
@pytest.mark.parametrize('mode', ['float32', 'bf16_inputs', 'autocast'])
@pytest.mark.parametrize('c', [0.05, 1.0])
def test_finite_values_and_gradients(name, mode, c):
    dtype = torch.bfloat16 if mode == 'bf16_inputs' else torch.float32
    x, y = _extreme_points(dtype)
    x.requires_grad_()
    y.requires_grad_()
    curv = torch.tensor(c, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=mode
                        != 'float32'):
        out = FUNCTIONS[name](x, y, curv)
    assert out.dtype == torch.float32, 'hyperbolic maths must run in fp32'
    assert torch.isfinite(out).all(), out
    # a weighted sum so that no gradient cancels by symmetry
    weights = torch.linspace(0.5, 1.5, out.numel()).view_as(out)
    (out * weights).sum().backward()
    for grad in (x.grad, y.grad, curv.grad):
        if grad is not None:
            assert torch.isfinite(grad).all(), grad


def test_autocast_does_not_lower_precision():
    """Under bf16 autocast the matrix product would be bf16 (about 3
    significant digits); the result must equal the float32 one."""
    g = torch.Generator().manual_seed(0)
    c = 0.05
    x = project(expmap0(torch.randn(32, 64, generator=g), c), c)
    y = project(expmap0(torch.randn(48, 64, generator=g), c), c)
    ref = pairwise_dist(x, y, c)
    lref = lorentz_pairwise_dist(x, y, c)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch.matmul(x, y.T).dtype == torch.bfloat16  # autocast is on
        got = pairwise_dist(x, y, c)
        lgot = lorentz_pairwise_dist(x, y, c)
    torch.testing.assert_close(got, ref, rtol=0, atol=0)
    torch.testing.assert_close(lgot, lref, rtol=0, atol=0)


def test_values_at_extreme_norms_are_sensible():
    c = 1.0
    x, _ = _extreme_points(torch.float32)
    zero, tiny, huge = x[0], x[1], x[2]
    # the zero vector maps to the origin; tiny vectors map to themselves
    assert torch.equal(expmap0(zero, c), zero)
    torch.testing.assert_close(expmap0(tiny, c), tiny)
    torch.testing.assert_close(lorentz_expmap0(tiny, c), tiny)
    # a huge tangent vector lands on the boundary; project pulls it inside
    p = project(expmap0(huge, c), c)
    torch.testing.assert_close(p.norm(), torch.tensor(0.999))
    # distances: zero between equal points, 2e-8 from origin to the tiny one
    torch.testing.assert_close(dist(zero, zero, c),
                               torch.tensor(0.0),
                               atol=1e-12,
                               rtol=0)
    torch.testing.assert_close(poincare_norm(tiny, c), torch.tensor(2e-8))
    torch.testing.assert_close(lorentz_origin_dist(tiny, c),
                               torch.tensor(1e-8))


@pytest.mark.parametrize('c', [1.0, 0.05])
def test_points_on_the_boundary_give_finite_values_and_gradients(c):
    """Unprojected exp_0 outputs of long vectors round onto the boundary
    (1 - c|x|^2 = 0 or slightly below); nothing may become Inf or NaN."""
    u = torch.tensor([[1e4, 0.0, 0.0], [0.0, -50.0, 0.0], [30.0, 30.0, 0.0]],
                     requires_grad=True)
    x = expmap0(u, c)
    assert (c * x.detach().pow(2).sum(-1) >= 1 - 1e-6).all()  # on the rim
    boundary = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) / c**0.5
    for y in (x, boundary):
        outs = [
            dist(x,
                 y.flip(0)[:3] if len(y) == 3 else y[:1], c),
            pairwise_dist(x, y, c),
            poincare_norm(x, c),
            logmap0(x, c),
            mobius_add(x, y[:1], c),
        ]
        for out in outs:
            assert torch.isfinite(out).all(), out
        sum(o.sum() for o in outs).backward(retain_graph=True)
        assert torch.isfinite(u.grad).all()
        u.grad = None


def test_mobius_add_degenerate_denominator():
    """The denominator of x (+)_c y vanishes for y = -x / (c|x|^2), a point
    outside the ball; the result stays finite."""
    x = torch.tensor([[0.5, 0.0]], requires_grad=True)
    y = torch.tensor([[-2.0, 0.0]], requires_grad=True)
    out = mobius_add(x, y, 1.0)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()


@pytest.mark.parametrize('c', [0.05, 1.0])
def test_gradients_at_identical_pairs_stay_within_the_lipschitz_bound(c):
    """d(x, x) = 0, but the matrix-product form sees rounding noise there;
    its gradient must stay within what a distance can have (the conformal
    factor 2/(1 - c|x|^2) per argument), not blow up through sqrt(w)."""
    g = torch.Generator().manual_seed(0)
    x = project(expmap0(torch.randn(64, 32, generator=g) * 2, c), c)
    x.requires_grad_()
    pairwise_dist(x, x, c).diagonal().sum().backward()
    conformal = 2 / (1 - c * x.detach().pow(2).sum(-1))
    assert (x.grad.norm(dim=-1) <= 2 * conformal * 1.001).all()
    v = lorentz_expmap0(torch.randn(64, 32, generator=g), c)
    v.requires_grad_()
    lorentz_pairwise_dist(v, v, c).diagonal().sum().backward()
    assert v.grad.norm(dim=-1).max() < 1.0


@pytest.mark.parametrize('pairwise, space', [(pairwise_dist, 'poincare'),
                                             (lorentz_pairwise_dist,
                                              'lorentz')])
def test_in_place_pairwise_form_equals_the_plain_one(pairwise, space):
    """The pairwise distances are computed in place on the matrix product,
    block by block; with a curvature that needs a gradient they take the
    plain out-of-place path. Both give the same values bit for bit and the
    same gradients, over more than one block and under no_grad."""
    n, k = 520, PAIRWISE_BLOCK // 520 + 8  # more than one block
    g = torch.Generator().manual_seed(0)
    u = torch.randn(n + k, 6, generator=g)
    pts = expmap0(u, 0.25) if space == 'poincare' else \
        lorentz_expmap0(u, 0.25)
    x0, y0 = pts[:n], pts[n:]
    x0[1] = y0[0]  # an equal pair: w clamped, zero gradient
    grads, values = [], []
    for learn in (False, True):
        c = torch.tensor(0.25, requires_grad=learn)
        x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
        d = pairwise(x, y, c)
        values.append(d.detach())
        (d * torch.linspace(-1, 1, k)).sum().backward()
        grads += [x.grad, y.grad]
    assert n * k > PAIRWISE_BLOCK
    assert torch.equal(values[0], values[1])
    torch.testing.assert_close(grads[0], grads[2])
    torch.testing.assert_close(grads[1], grads[3])
    assert torch.isfinite(grads[0]).all()
    with torch.no_grad():
        assert torch.equal(pairwise(x0, y0, 0.25), values[0])
