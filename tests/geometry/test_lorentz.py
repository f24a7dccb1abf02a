"""Lorentz-model geometry against an explicit hyperboloid embedding in
float64, against geoopt's ``Lorentz`` and against the Poincare ball."""
import math

import geoopt
import pytest
import torch

from hclmm.geometry import (dist, lorentz_dist, lorentz_expmap0,
                                lorentz_logmap0, lorentz_origin_dist,
                                lorentz_pairwise_dist, lorentz_time, project,
                                expmap0)

CURVATURES = [0.05, 0.3, 1.0, 2.5]


def _embed(x, c):
    """Full hyperboloid coordinates (x_0, x) in float64, x_0 from the
    constraint <x, x>_L = -1/c."""
    x = x.double()
    x0 = torch.sqrt(1 / c + (x * x).sum(-1, keepdim=True))
    return torch.cat([x0, x], dim=-1)


def _ref_dist(x, y, c):
    """arcosh(-c <x, y>_L) / sqrt(c) on the explicit embedding."""
    ex, ey = _embed(x, c), _embed(y, c)
    inner = -ex[0] * ey[0] + float(ex[1:] @ ey[1:])
    return math.acosh(max(-c * float(inner), 1.0)) / math.sqrt(c)


def _points(n, d, c, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return lorentz_expmap0(torch.randn(n, d, generator=g) * scale, c)


@pytest.mark.parametrize('c', CURVATURES)
@pytest.mark.parametrize('n,k,d', [(1, 1, 2), (6, 4, 3), (10, 13, 16)])
def test_pairwise_and_paired_match_reference(c, n, k, d):
    x = _points(n, d, c, scale=1.0, seed=n)
    y = _points(k, d, c, scale=0.3, seed=k + 50)
    ref = torch.tensor([[_ref_dist(a, b, c) for b in y] for a in x],
                       dtype=torch.float64)
    got = lorentz_pairwise_dist(x, y, c)
    assert got.dtype == torch.float32 and got.shape == (n, k)
    tol = 1e-4 * ref.clamp_min(1)
    assert ((got.double() - ref).abs() <= tol).all()
    m = min(n, k)
    paired = lorentz_dist(x[:m], y[:m], c)
    assert ((paired.double() - ref.diagonal()[:m]).abs()
            <= tol.diagonal()[:m]).all()


@pytest.mark.parametrize('c', CURVATURES)
def test_maps_time_and_origin_distance(c):
    g = torch.Generator().manual_seed(1)
    v = torch.randn(7, 5, generator=g, dtype=torch.float64)
    x = lorentz_expmap0(v, c)
    # explicit formula: x = sinh(sqrt c |v|) v / (sqrt c |v|)
    sc = math.sqrt(c)
    n = v.norm(dim=-1, keepdim=True)
    torch.testing.assert_close(x, torch.sinh(sc * n) * v / (sc * n))
    torch.testing.assert_close(lorentz_logmap0(x, c), v)
    # the embedded point lies on the hyperboloid <x, x>_L = -1/c
    full = torch.cat([lorentz_time(x, c)[:, None], x], dim=-1)
    quad = -full[:, 0]**2 + (full[:, 1:]**2).sum(-1)
    torch.testing.assert_close(quad,
                               torch.full((7, ), -1 / c, dtype=torch.float64))
    # distance to the origin (1/sqrt c, 0, ...) is |v|
    torch.testing.assert_close(lorentz_origin_dist(x, c), n[:, 0])
    ref0 = torch.tensor([_ref_dist(a, torch.zeros(5), c) for a in x],
                        dtype=torch.float64)
    torch.testing.assert_close(lorentz_origin_dist(x, c), ref0)


@pytest.mark.parametrize('c', CURVATURES)
def test_agrees_with_geoopt(c):
    # geoopt's Lorentz(k) is the hyperboloid <x, x>_L = -k, curvature -1/k;
    # k in float64 (geoopt's default float32 k alone costs ~1e-7)
    manifold = geoopt.Lorentz(k=torch.tensor(1 / c, dtype=torch.float64))
    x = _points(12, 6, c, seed=2).double()
    y = _points(12, 6, c, seed=3).double()
    ex, ey = _embed(x, c), _embed(y, c)
    torch.testing.assert_close(lorentz_dist(x, y, c), manifold.dist(ex, ey))
    torch.testing.assert_close(lorentz_origin_dist(x, c), manifold.dist0(ex))
    geo = manifold.dist(ex[:, None], ey[None])
    got = lorentz_pairwise_dist(x.float(), y.float(), c).double()
    assert ((got - geo).abs() <= 1e-4 * geo.clamp_min(1)).all()


@pytest.mark.parametrize('c', CURVATURES)
def test_isometric_to_poincare_ball(c):
    # The ball point p sits at space components 2p / (1 - c|p|^2).
    p = project(expmap0(torch.randn(9, 4, dtype=torch.float64), c), c)
    q = project(expmap0(torch.randn(9, 4, dtype=torch.float64) * 2, c), c)

    def to_lorentz(z):
        return 2 * z / (1 - c * (z * z).sum(-1, keepdim=True))

    torch.testing.assert_close(lorentz_dist(to_lorentz(p), to_lorentz(q), c),
                               dist(p, q, c))
    torch.testing.assert_close(
        lorentz_pairwise_dist(to_lorentz(p), to_lorentz(q), c).diagonal(),
        dist(p, q, c))


def test_precise_near_origin_and_for_close_pairs():
    """The chord form keeps small distances accurate in float32, where the
    plain form arcosh(c x0 y0 - c<x, y>) loses them to cancellation."""
    c = 0.05
    g = torch.Generator().manual_seed(4)
    x = torch.randn(20, 8, generator=g) * 1e-2
    y = x + torch.randn(20, 8, generator=g) * 1e-4
    ref = torch.tensor([_ref_dist(a, b, c) for a, b in zip(x, y)],
                       dtype=torch.float64)
    paired = lorentz_dist(x, y, c).double()
    torch.testing.assert_close(paired, ref, rtol=1e-4, atol=0)
    pairwise = lorentz_pairwise_dist(x, y, c).diagonal().double()
    assert (pairwise - ref).abs().max() < 1e-5
    # the plain form is off by far more at the same inputs
    x0, y0 = lorentz_time(x, c), lorentz_time(y, c)
    plain = torch.acosh((c * (x0 * y0 - (x * y).sum(-1))).clamp_min(1))
    plain = plain.double() / math.sqrt(c)
    assert (plain - ref).abs().max() > 10 * (pairwise - ref).abs().max()


def test_gradients_match_finite_differences():
    c = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    x = _points(4, 3, 0.4, seed=5).double().requires_grad_()
    y = _points(5, 3, 0.4, seed=6).double().requires_grad_()
    assert torch.autograd.gradcheck(lorentz_pairwise_dist, (x, y, c))
    assert torch.autograd.gradcheck(lorentz_dist, (x[:4], y[:4], c))
    assert torch.autograd.gradcheck(lorentz_origin_dist, (x, c))
    v = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lorentz_expmap0, (v, c))


def test_expmap_caps_long_vectors():
    x = lorentz_expmap0(torch.full((2, 4), 1e4), 1.0)
    assert torch.isfinite(x).all()
    torch.testing.assert_close(x.norm(dim=-1), torch.full((2, ), 2.0**15))
    with pytest.raises(ValueError, match='curvature'):
        lorentz_dist(x, x, -1.0)
