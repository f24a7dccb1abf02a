"""The manifold objects: every method against a float64 evaluation of its
formula and, where geoopt has the function, against geoopt; finite values
and gradients at the norms 0, 1e-8 and 1e4 in float32 and under bf16 and
fp16 autocast; the entailment cones on both hyperbolic models."""
import math

import geoopt.manifolds.lorentz.math as glm
import geoopt.manifolds.stereographic.math as gsm
import pytest
import torch

from hclmm.geometry import (Euclidean, FlatCurvature, Lorentz, Manifold,
                            PoincareBall, build_manifold)
from hclmm.models.losses import EntailmentConeLoss

C = 0.25  # exact in float32, so float64 references see the same curvature


def _pts(manifold, n=5, d=4, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(n, d, generator=g, dtype=torch.float64) * scale
    return manifold.project(manifold.expmap0(u))


def _poincare_to_lorentz(p, c):
    return 2 * p / (1 - c * (p * p).sum(-1, keepdim=True))


def _full(x, c):
    """Space components -> geoopt's full hyperboloid coordinates."""
    return torch.cat([(1 / c + (x * x).sum(-1, keepdim=True)).sqrt(), x], -1)


def test_poincare_matches_geoopt_in_float64():
    ball = PoincareBall(C)
    k = torch.tensor(-C, dtype=torch.float64)
    u = torch.randn(6, 4, dtype=torch.float64)
    x, y = _pts(ball, 6, seed=1), _pts(ball, 6, seed=2, scale=2.0)
    torch.testing.assert_close(ball.expmap0(u), gsm.expmap0(u, k=k))
    torch.testing.assert_close(ball.logmap0(x), gsm.logmap0(x, k=k))
    torch.testing.assert_close(ball.dist(x, y), gsm.dist(x, y, k=k))
    torch.testing.assert_close(ball.dist0(x), gsm.dist0(x, k=k))
    torch.testing.assert_close(ball.pairwise_dist(x, y),
                               gsm.dist(x[:, None], y[None], k=k))


def test_lorentz_matches_geoopt_in_float64():
    hyp = Lorentz(C)
    k = torch.tensor(1 / C, dtype=torch.float64)  # geoopt: curvature -1/k
    x, y = _pts(hyp, 6, seed=3), _pts(hyp, 6, seed=4, scale=2.0)
    torch.testing.assert_close(hyp.dist(x, y),
                               glm.dist(_full(x, C), _full(y, C), k=k))
    torch.testing.assert_close(hyp.dist0(x), glm.dist0(_full(x, C), k=k))
    torch.testing.assert_close(
        hyp.pairwise_dist(x, y),
        glm.dist(_full(x, C)[:, None], _full(y, C)[None], k=k))
    u = torch.randn(6, 4, dtype=torch.float64)
    full_u = torch.cat([torch.zeros(6, 1, dtype=torch.float64), u], -1)
    torch.testing.assert_close(_full(hyp.expmap0(u), C),
                               glm.expmap0(full_u, k=k))
    torch.testing.assert_close(hyp.logmap0(hyp.expmap0(u)), u)


def test_models_are_isometric_cones_included():
    """The same points on the ball and on the hyperboloid
    (x = 2p/(1 - c|p|^2)) have the same distances, norms, apertures and
    exterior angles."""
    ball, hyp = PoincareBall(C), Lorentz(C)
    p, q = _pts(ball, 7, seed=5), _pts(ball, 7, seed=6, scale=0.5)
    x, y = _poincare_to_lorentz(p, C), _poincare_to_lorentz(q, C)
    torch.testing.assert_close(ball.dist(p, q), hyp.dist(x, y))
    torch.testing.assert_close(ball.dist0(p), hyp.dist0(x))
    torch.testing.assert_close(ball.pairwise_dist(p, q),
                               hyp.pairwise_dist(x, y))
    torch.testing.assert_close(ball.cone_half_aperture(p, 0.3),
                               hyp.cone_half_aperture(x, 0.3))
    torch.testing.assert_close(ball.cone_angle(p, q), hyp.cone_angle(x, y))


def test_every_model_runs_the_base_init_and_answers_every_method():
    """One contract: the base ``__init__`` runs on every model (a curvature
    module, flat space as ``c = 0``), and each answers the interface."""
    models = [PoincareBall(C), Lorentz(C), Euclidean()]
    x = torch.tensor([[0.3, -0.4], [1e-8, 0.0]], dtype=torch.float64)
    for m in models:
        assert isinstance(m.curvature, torch.nn.Module)
        assert float(m.c) == (0.0 if isinstance(m, Euclidean) else C)
        for name in ('expmap0', 'logmap0', 'project', 'dist0', 'at_boundary',
                     'cone_half_aperture'):
            assert getattr(m, name)(x).shape[0] == 2, name
        for name in ('dist', 'cone_angle'):
            assert getattr(m, name)(x, x.flip(0)).shape == (2, ), name
        assert m.pairwise_dist(x, x).shape == (2, 2)
        assert isinstance(m.norm_label, str) and m.disk_caption
        assert m.disk_boundary_label
        assert (m.disk_radius([0.0, 1.0, 2.0]) < 1).all() or \
            isinstance(m, Euclidean)
    assert isinstance(models[2].curvature, FlatCurvature)
    assert models[2].c_value() is None and models[2].state_dict() == {}
    with pytest.raises(ValueError, match='flat space'):
        models[2].build_curvature(0.0, learnable=True)
    with pytest.raises(ValueError, match='curvature'):
        PoincareBall(0.0)


@pytest.mark.parametrize('r', [0.5, 2.3, 4.6])
def test_a_distance_means_the_same_on_every_model(r):
    """``tangent_norm(r)`` is the length that ``expmap0`` carries to
    distance ``r``, and ``to_manifold(u, clip_r)`` caps ``dist0`` at
    ``clip_r``, on every model: the same tangent vector and the same
    settings give the same norms on the ball and on the hyperboloid."""
    u = torch.randn(6, 4, dtype=torch.float64) * torch.logspace(
        -1, 2, 6, dtype=torch.float64)[:, None]
    direction = u / u.norm(dim=-1, keepdim=True)
    norms = []
    for m in (PoincareBall(C), Lorentz(C), Euclidean()):
        at_r = m.expmap0(direction * m.tangent_norm(r))
        torch.testing.assert_close(m.dist0(at_r),
                                   torch.full((6, ), r, dtype=torch.float64))
        short = direction * torch.linspace(0.1, 3, 6, dtype=torch.float64)[:,
                                                                       None]
        torch.testing.assert_close(m.dist0(m.expmap0(short)),
                                   m.origin_speed * short.norm(dim=-1))
        clipped = m.dist0(m.to_manifold(u * m.tangent_norm(1.0), clip_r=r))
        norms.append(clipped)
        assert clipped.max().item() == pytest.approx(r, rel=1e-5)
    # float32 maps, float64 norms of their points
    torch.testing.assert_close(norms[0], norms[1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(norms[1], norms[2], rtol=1e-5, atol=1e-6)


def test_disk_radius_keeps_the_order_of_distances():
    radii = [0.0, 1.0, 4.0, 40.0]
    for m in (PoincareBall(C), Lorentz(C)):
        rho = m.disk_radius(radii)
        assert rho[0] == 0 and (rho[1:] > rho[:-1]).all() and rho[-1] < 1
        assert rho[1] == pytest.approx(math.tanh(math.sqrt(C) / 2))
    assert Euclidean().disk_radius(radii).tolist() == [0, 0.025, 0.1, 1.0]
    assert Euclidean().disk_radius([0.0, 0.0]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize('cls', [PoincareBall, Lorentz])
def test_cone_functions_match_their_definitions_in_float64(cls):
    """Half-aperture: arcsin(k (1 - c|p|^2) / (sqrt(c)|p|)) on the ball.
    Exterior angle at x: pi minus the angle, in the tangent space at x,
    between the geodesics to the origin and to y (conformal model:
    directions of the log map), computed here on the ball by Mobius
    addition."""
    ball = PoincareBall(C)
    p, q = _pts(ball, 8, seed=7), _pts(ball, 8, seed=8, scale=1.5)
    k = torch.tensor(-C, dtype=torch.float64)
    to_y = gsm.mobius_add(-p, q, k=k)      # direction of log_p(q)
    to_0 = -p                               # direction of log_p(0): (-p)+0
    cos = (to_y * to_0).sum(-1) / (to_y.norm(dim=-1) * to_0.norm(dim=-1))
    want_angle = math.pi - torch.acos(cos)
    sc = math.sqrt(C)
    want_aperture = torch.asin(
        (0.1 * (1 - C * (p * p).sum(-1)) / (sc * p.norm(dim=-1))).clamp(
            max=1))
    space = cls(C)
    if cls is Lorentz:
        p, q = _poincare_to_lorentz(p, C), _poincare_to_lorentz(q, C)
    torch.testing.assert_close(space.cone_angle(p, q), want_angle)
    torch.testing.assert_close(space.cone_half_aperture(p, 0.1),
                               want_aperture)


METHODS = {
    'expmap0': lambda m, x, y: m.expmap0(x),
    'logmap0': lambda m, x, y: m.logmap0(m.project(m.expmap0(x))),
    'to_manifold': lambda m, x, y: m.to_manifold(x, clip_r=4.6),
    'to_manifold_noclip': lambda m, x, y: m.to_manifold(x),
    'dist': lambda m, x, y: m.dist(m.to_manifold(x), m.to_manifold(y)),
    'pairwise_dist':
    lambda m, x, y: m.pairwise_dist(m.to_manifold(x), m.to_manifold(y)),
    'dist0': lambda m, x, y: m.dist0(m.to_manifold(x)),
    'cone_half_aperture':
    lambda m, x, y: m.cone_half_aperture(m.to_manifold(x)),
    'cone_angle':
    lambda m, x, y: m.cone_angle(m.to_manifold(x), m.to_manifold(y)),
    'cone_loss':
    lambda m, x, y: EntailmentConeLoss()(m.to_manifold(x), m.to_manifold(y),
                                         m)[None],
    'cone_loss_same_point':
    lambda m, x, y: EntailmentConeLoss()(m.to_manifold(x), m.to_manifold(x),
                                         m)[None],
}


@pytest.mark.parametrize('cls', [PoincareBall, Lorentz, Euclidean])
@pytest.mark.parametrize('method', sorted(METHODS))
@pytest.mark.parametrize('norm', [0.0, 1e-8, 1e4])
@pytest.mark.parametrize('amp', [None, torch.bfloat16, torch.float16])
def test_finite_values_and_gradients(cls, method, norm, amp):
    space = cls(0.05) if cls is not Euclidean else cls()
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(3, 4, generator=g), dim=1)
    y = torch.nn.functional.normalize(torch.randn(3, 4, generator=g), dim=1)
    x = (x * norm).requires_grad_()
    y = (y * norm * 0.5).requires_grad_()
    with torch.autocast('cpu', dtype=amp or torch.bfloat16,
                        enabled=amp is not None):
        # the 16-bit activations a network would hand over under autocast
        xin, yin = (x, y) if amp is None else (x.to(amp), y.to(amp))
        out = METHODS[method](space, xin, yin)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all(), out
    out.sum().backward()
    for t in (x, y):
        if t.grad is not None:
            assert torch.isfinite(t.grad).all()


@pytest.mark.parametrize('cls', [PoincareBall, Lorentz])
def test_cone_term_gradient_stays_bounded_at_the_apex(cls):
    """As the object approaches its scene (nested boxes: the same crop) the
    exterior angle's gradient grows as 1/d; the tapered term's stays below
    a constant, and is zero when the two coincide."""
    space = cls(0.05)
    loss = EntailmentConeLoss(k=0.1, apex_radius=0.1)
    g = torch.Generator().manual_seed(0)
    scene0 = space.to_manifold(torch.randn(8, 16, generator=g))
    side = torch.nn.functional.normalize(torch.randn(8, 16, generator=g), 1)
    grads, raw = [], []
    for eps in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 0.0):
        scene = scene0.clone().requires_grad_()
        obj = (scene0 + eps * side).requires_grad_()
        value, stats = loss(scene, obj, space, return_stats=True)
        assert torch.isfinite(value)
        value.backward()
        grads.append(max(scene.grad.norm(), obj.grad.norm()).item())
        if eps:
            angle_obj = obj.detach().clone().requires_grad_()
            space.cone_angle(scene0, angle_obj).sum().backward()
            raw.append(angle_obj.grad.norm().item())
        if eps <= 1e-3:
            assert stats['entail_apex_frac'].item() == 1.0
    assert all(math.isfinite(v) for v in grads)
    assert max(grads) < 100, grads
    assert grads[-1] == 0.0
    assert raw[-1] > 1e3 * raw[0]  # the untapered angle does blow up


def test_build_manifold():
    assert isinstance(build_manifold(dict(type='Lorentz', c=0.1)), Lorentz)
    assert isinstance(build_manifold('poincare', 0.05), PoincareBall)
    assert isinstance(build_manifold(None), Euclidean)
    ball = PoincareBall(0.05)
    assert build_manifold(ball) is ball
    assert ball.describe() == 'Poincare ball (c=0.05)'
    assert Euclidean().describe() == 'Euclidean' and \
        Euclidean().c_value() is None
    with pytest.raises(ValueError, match='unknown manifold'):
        build_manifold('klein', 1.0)
    with pytest.raises(ValueError, match='curvature'):
        build_manifold('lorentz')
    with pytest.raises(TypeError, match='Manifold'):
        build_manifold(dict(type='HyperbolicInfoNCELoss'))
    assert issubclass(Lorentz, Manifold)


def test_learnable_curvature_gets_a_gradient():
    ball = PoincareBall(0.05, learnable=True)
    x = ball.to_manifold(torch.randn(4, 3))
    ball.dist0(x).sum().backward()
    assert ball.curvature.log_c.grad is not None


@pytest.mark.parametrize('cls', [PoincareBall, Lorentz])
def test_cone_and_map_gradients_match_finite_differences(cls):
    """Gradients of the maps, distances and cone functions in float64."""
    space = cls(C)
    g = torch.Generator().manual_seed(11)
    x = _pts(space, 3, seed=12).clone().requires_grad_()
    y = _pts(space, 3, seed=13, scale=1.5).clone().requires_grad_()
    u = torch.randn(3, 4, dtype=torch.float64, generator=g,
                    requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: space.expmap0(a), (u, ))
    assert torch.autograd.gradcheck(lambda a: space.dist0(a), (x, ))
    assert torch.autograd.gradcheck(lambda a, b: space.dist(a, b), (x, y))
    assert torch.autograd.gradcheck(
        lambda a: space.cone_half_aperture(a, 0.3), (x, ))
    assert torch.autograd.gradcheck(lambda a, b: space.cone_angle(a, b),
                                    (x, y))
