"""Poincare-ball geometry against float64 references written from formulas
and against geoopt's ``PoincareBall``."""
import math

import geoopt
import pytest
import torch

from hclmm.geometry import (clip_features, dist, expmap0, logmap0,
                                mobius_add, pairwise_dist, poincare_norm,
                                project)

CURVATURES = [0.05, 0.3, 1.0, 2.5]


def _points(n, d, c, scale=1.0, seed=0):
    """Random float32 points in the ball, some of them near the boundary."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(n, d, generator=g) * scale
    return project(expmap0(u, c), c)


# ---------------------------------------------------------------------------
# float64 references, one scalar formula at a time
def _ref_mobius_add(x, y, c):
    xy, x2, y2 = float(x @ y), float(x @ x), float(y @ y)
    num = (1 + 2 * c * xy + c * y2) * x + (1 - c * x2) * y
    return num / (1 + 2 * c * xy + c * c * x2 * y2)


def _ref_dist(x, y, c):
    """(2/sqrt c) artanh(sqrt c |(-x) (+)_c y|), in float64."""
    m = _ref_mobius_add(-x.double(), y.double(), c)
    return 2 / math.sqrt(c) * math.atanh(math.sqrt(c) * float(m.norm()))


def _ref_pairwise(x, y, c):
    out = torch.empty(len(x), len(y), dtype=torch.float64)
    for i in range(len(x)):
        for j in range(len(y)):
            out[i, j] = _ref_dist(x[i], y[j], c)
    return out


def _ref_expmap0(u, c):
    u = u.double()
    out = torch.zeros_like(u)
    for i, row in enumerate(u):
        n = float(row.norm())
        if n > 0:
            out[i] = math.tanh(math.sqrt(c) * n) * row / (math.sqrt(c) * n)
    return out


# ---------------------------------------------------------------------------
@pytest.mark.parametrize('c', CURVATURES)
@pytest.mark.parametrize('n,k,d', [(1, 1, 2), (5, 7, 3), (12, 9, 16)])
def test_pairwise_and_paired_match_reference(c, n, k, d):
    x = _points(n, d, c, scale=1.5, seed=n)
    y = _points(k, d, c, scale=0.7, seed=k + 100)
    ref = _ref_pairwise(x, y, c)
    got = pairwise_dist(x, y, c)
    assert got.dtype == torch.float32 and got.shape == (n, k)
    tol = 1e-4 * ref.clamp_min(1)
    assert ((got.double() - ref).abs() <= tol).all()
    m = min(n, k)
    paired = dist(x[:m], y[:m], c)
    err = (paired.double() - ref.diagonal()[:m]).abs()
    assert (err <= tol.diagonal()[:m]).all()


@pytest.mark.parametrize('c', CURVATURES)
def test_float64_inputs_stay_float64_and_are_exact(c):
    x = _points(6, 4, c, seed=1).double()
    y = _points(5, 4, c, seed=2).double()
    got = pairwise_dist(x, y, c)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got,
                               _ref_pairwise(x, y, c),
                               rtol=1e-9,
                               atol=1e-9)


@pytest.mark.parametrize('c', CURVATURES)
def test_expmap_logmap_project_clip(c):
    g = torch.Generator().manual_seed(3)
    u = torch.randn(10, 5, generator=g, dtype=torch.float64) * 0.8
    x = expmap0(u, c)
    torch.testing.assert_close(x, _ref_expmap0(u, c), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(logmap0(x, c), u, rtol=1e-9, atol=1e-9)
    # project: radius (1 - eps)/sqrt c, points inside untouched
    big = torch.randn(10, 5, generator=g, dtype=torch.float64) * 100
    p = project(big, c, eps=1e-3)
    torch.testing.assert_close(
        p.norm(dim=-1),
        torch.full((10, ), 0.999 / math.sqrt(c), dtype=torch.float64))
    torch.testing.assert_close(p / p.norm(dim=-1, keepdim=True),
                               big / big.norm(dim=-1, keepdim=True))
    small = x * 0.5
    assert torch.equal(project(small, c), small)
    # clip_features: u * min(1, r/|u|)
    r = 2.3
    clipped = clip_features(big, r)
    expected = torch.stack(
        [row * min(1.0, r / float(row.norm())) for row in big])
    torch.testing.assert_close(clipped, expected)
    assert torch.equal(clip_features(u * 0.1, 100.0), u * 0.1)


@pytest.mark.parametrize('c', CURVATURES)
def test_agrees_with_geoopt(c):
    # geoopt's PoincareBall(c) is the ball of curvature -c, as here. Its c
    # is given in float64: a float32 c (geoopt's default) alone moves
    # distances between far points by ~1e-2 through artanh near 1.
    ball = geoopt.PoincareBall(c=torch.tensor(c, dtype=torch.float64))
    torch.testing.assert_close(ball.k, torch.tensor(-c, dtype=torch.float64))
    x = _points(20, 8, c, scale=1.2, seed=4).double()
    y = _points(20, 8, c, scale=0.9, seed=5).double()
    u = torch.randn(20, 8, dtype=torch.float64)
    torch.testing.assert_close(dist(x, y, c), ball.dist(x, y))
    torch.testing.assert_close(poincare_norm(x, c), ball.dist0(x))
    torch.testing.assert_close(mobius_add(x, y, c),
                               ball.mobius_add(x, y, project=False))
    torch.testing.assert_close(expmap0(u, c), ball.expmap0(u, project=False))
    torch.testing.assert_close(logmap0(x, c), ball.logmap0(x))
    # float32 inputs, the pairwise form against geoopt per pair
    xf, yf = x.float(), y.float()
    pw = pairwise_dist(xf, yf, c)
    geo = ball.dist(xf.double()[:, None], yf.double()[None])
    assert ((pw.double() - geo).abs() <= 1e-4 * geo.clamp_min(1)).all()


def test_pairwise_diagonal_agrees_with_paired_and_batched():
    c = 0.05
    x = _points(16, 32, c, scale=2.0, seed=6)
    y = _points(16, 32, c, scale=2.0, seed=7)
    torch.testing.assert_close(pairwise_dist(x, y, c).diagonal(),
                               dist(x, y, c),
                               rtol=1e-4,
                               atol=1e-4)
    # leading batch dims broadcast like matmul
    xb, yb = x.view(2, 8, 32), y.view(2, 8, 32)
    got = pairwise_dist(xb, yb, c)
    assert got.shape == (2, 8, 8)
    torch.testing.assert_close(got[1], pairwise_dist(x[8:], y[8:], c))


def test_distance_properties():
    c = 1.0
    x = _points(8, 4, c, seed=8)
    y = _points(8, 4, c, seed=9)
    d = pairwise_dist(x, y, c)
    torch.testing.assert_close(d, pairwise_dist(y, x, c).T)
    torch.testing.assert_close(dist(x, x, c),
                               torch.zeros(8),
                               atol=1e-6,
                               rtol=0)
    zero = torch.zeros(1, 4)
    torch.testing.assert_close(dist(x, zero, c),
                               poincare_norm(x, c),
                               rtol=1e-6,
                               atol=1e-6)
    # norm of exp_0(u) is |u| exactly: (2/sqrt c) artanh(tanh(sqrt c|u|))
    u = torch.randn(8, 4, dtype=torch.float64)
    for cc in CURVATURES:
        torch.testing.assert_close(poincare_norm(expmap0(u, cc), cc),
                                   2 * u.norm(dim=-1))


def test_gradients_match_finite_differences():
    c = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    x = (_points(4, 3, 0.7, seed=10).double()).requires_grad_()
    y = (_points(5, 3, 0.7, seed=11).double()).requires_grad_()
    assert torch.autograd.gradcheck(pairwise_dist, (x, y, c))
    assert torch.autograd.gradcheck(dist, (x[:4], y[:4], c))
    u = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda u, c: project(expmap0(u, c), c),
                                    (u, c))
    assert torch.autograd.gradcheck(poincare_norm, (x, c))


def test_curvature_as_tensor_and_bad_values():
    x = _points(3, 2, 0.5, seed=12)
    ref = dist(x, x.flip(0), 0.5)
    for c in (torch.tensor(0.5), torch.tensor([0.5])):
        torch.testing.assert_close(dist(x, x.flip(0), c), ref)
    for bad in (0.0, -1.0, float('nan'), float('inf')):
        with pytest.raises(ValueError, match='curvature'):
            pairwise_dist(x, x, bad)
    with pytest.raises(ValueError, match='one element'):
        dist(x, x, torch.tensor([0.5, 1.0]))
    with pytest.raises(TypeError, match='curvature'):
        expmap0(x, '0.5')
    with pytest.raises(ValueError, match=r'\(\.\.\., N, D\)'):
        pairwise_dist(x[0], x, 0.5)
    with pytest.raises(ValueError, match='eps'):
        project(x, 0.5, eps=0.0)
    with pytest.raises(ValueError, match='radius'):
        clip_features(x, 0.0)


def test_cone_angle_matches_direction_of_log_map():
    """The exterior angle at x is the angle between x and the initial
    direction of the geodesic to y, which on the ball points along
    (-x) (+) y; checked in float64 on random pairs."""
    from hclmm.geometry import cone_angle, mobius_add
    torch.manual_seed(0)
    for c in (0.05, 1.0):
        x = torch.randn(50, 5, dtype=torch.float64) * 0.4 / c**0.5
        y = torch.randn(50, 5, dtype=torch.float64) * 0.4 / c**0.5
        v = mobius_add(-x, y, c)
        cos = (x * v).sum(-1) / (x.norm(dim=-1) * v.norm(dim=-1))
        ref = torch.acos(cos.clamp(-1, 1))
        assert torch.allclose(cone_angle(x, y, c), ref, atol=1e-5)


def test_cone_half_aperture_narrows_outwards():
    from hclmm.geometry import cone_half_aperture
    c = 0.05
    r = torch.tensor([0.5, 1.0, 2.0, 3.0, 4.0])
    x = torch.stack([r, torch.zeros_like(r)], 1)
    ang = cone_half_aperture(x, c, k=0.1)
    assert (ang[1:] < ang[:-1]).all()
    # closed form at |x| = 2: arcsin(0.1 (1 - 0.2) / (sqrt(0.05) 2))
    expect = math.asin(0.1 * (1 - 0.05 * 4) / (0.05**0.5 * 2))
    assert ang[2].item() == pytest.approx(expect, rel=1e-5)
    # near the origin the cone is a half-space
    assert cone_half_aperture(torch.tensor([[1e-3, 0.]]), c).item() == \
        pytest.approx(math.pi / 2, abs=2e-3)
