"""The embedder: scale normalisation, clipping, norm-only gradients."""
import socket

import pytest
import torch
import torch.multiprocessing as mp

from hclmm.models.heads import HyperbolicEmbedder
from hclmm.utils import register_all_modules

register_all_modules(init_default_scope=False)


def embedder(**kwargs):
    kwargs.setdefault('manifold', dict(type='PoincareBall', c=0.05))
    return HyperbolicEmbedder(**kwargs)


def test_feature_scale_shrinks_norms_and_can_learn():
    torch.manual_seed(0)
    u = torch.randn(4, 8)
    plain = embedder(clip_r=None)
    scaled = embedder(clip_r=None, feature_scale=0.25,
                      learn_feature_scale=True)
    # distance to the origin of exp_0(u) on the ball is 2|u|
    assert torch.allclose(plain.manifold.dist0(plain(u)),
                          2 * u.norm(dim=-1), rtol=1e-4)
    assert torch.allclose(scaled.manifold.dist0(scaled(u)),
                          2 * 0.25 * u.norm(dim=-1), rtol=1e-4)
    scaled(u.requires_grad_()).sum().backward()
    assert scaled.log_feature_scale.grad is not None


def test_clipping_caps_norms_and_reports_saturation():
    # clip_r is the largest distance to the origin
    emb = embedder(clip_r=4.6)
    u = torch.stack([torch.full((4, ), 0.1), torch.full((4, ), 10.0)])
    points, sat = emb.embed(u)
    assert sat.tolist() == [False, True]
    assert emb.manifold.dist0(points)[1].item() == pytest.approx(4.6,
                                                                 rel=1e-4)
    # without clipping: saturated = pushed onto the ball's boundary
    emb = embedder(clip_r=None)
    _, sat = emb.embed(u * 10)
    assert sat.tolist() == [False, True]


def test_norm_only_grad_is_radial():
    torch.manual_seed(0)
    emb = embedder(norm_only_grad=True, clip_r=None)
    u = torch.randn(3, 4, requires_grad=True)
    (emb(u) * torch.randn(3, 4)).sum().backward()
    g, d = u.grad, u.detach() / u.detach().norm(dim=-1, keepdim=True)
    tangential = g - (g * d).sum(-1, keepdim=True) * d
    assert tangential.abs().max() < 1e-6 < g.abs().max()


def test_scale_norm_fixes_the_common_scale_but_not_relative_norms():
    """With ``scale_norm`` a batch's geometric-mean norm is exactly rho
    before clipping, whatever its raw scale; keys and evaluation use the
    running scale, which is a buffer."""
    torch.manual_seed(0)
    # scale_norm is a distance to the origin: 3.0 on the ball, whose
    # exp_0 doubles lengths, is a tangent length of 1.5
    emb = embedder(clip_r=None, scale_norm=3.0, scale_momentum=0.5)
    u = torch.randn(6, 8) * torch.linspace(0.5, 3, 6)[:, None]
    for factor in (1e-3, 1.0, 1e3):
        v = emb.normalise_scale(u * factor, batch_stats=True)
        assert v.norm(dim=1).log().mean().exp().item() == pytest.approx(1.5)
        dist0 = emb.manifold.dist0(emb.manifold.expmap0(v))
        assert dist0.log().mean().exp().item() == pytest.approx(3.0)
        assert torch.allclose(v.norm(dim=1) / v.norm(dim=1)[0],
                              u.norm(dim=1) / u.norm(dim=1)[0], rtol=1e-5)
    emb2 = embedder(scale_norm=3.0, scale_momentum=0.5)
    assert float(emb2.running_scale) == 0
    g1 = u.norm(dim=1).log().mean().exp()
    emb2.normalise_scale(u, batch_stats=True)
    assert float(emb2.running_scale) == pytest.approx(float(g1))
    emb2.normalise_scale(4 * u, batch_stats=True)
    assert float(emb2.running_scale) == pytest.approx(float(g1) * 2.5)
    k = emb2.normalise_scale(u)
    assert torch.allclose(k, u * 1.5 / (2.5 * g1))
    emb2.eval()
    assert torch.allclose(emb2.normalise_scale(u, batch_stats=True), k)
    # no gradient along the common scale
    alpha = torch.ones((), requires_grad=True)
    out = emb.embed(u * alpha, batch_stats=True)[0]
    (out * torch.randn_like(out)).sum().backward()
    assert abs(alpha.grad.item()) < 1e-5
    assert 'running_scale' in emb.state_dict()


@pytest.mark.parametrize('clip_r', [None, 4.6])
def test_same_settings_same_norms_on_the_ball_and_the_hyperboloid(clip_r):
    """``clip_r`` and ``scale_norm`` are distances to the origin: the same
    projections and settings give the same ``dist0`` on the Poincare ball
    and on the Lorentz model (isometric spaces whose exponential maps
    differ by a factor 2), in training and for keys."""
    torch.manual_seed(0)
    u = torch.randn(8, 16) * torch.logspace(-1, 1, 8)[:, None]
    norms = {}
    for manifold in ('PoincareBall', 'Lorentz'):
        emb = embedder(manifold=dict(type=manifold, c=0.05), clip_r=clip_r,
                       scale_norm=3.0)
        emb.train()
        online, sat = emb.embed(u, batch_stats=True)
        keys = emb(u * 0.5)
        norms[manifold] = (emb.manifold.dist0(online.double()),
                           emb.manifold.dist0(keys.double()), sat)
    ball, hyperboloid = norms['PoincareBall'], norms['Lorentz']
    for a, b in zip(ball[:2], hyperboloid[:2]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert ball[2].tolist() == hyperboloid[2].tolist()
    typical = ball[0].log().mean().exp().item()
    if clip_r is None:
        assert typical == pytest.approx(3.0, rel=1e-5)
    else:
        assert ball[2].any() and not ball[2].all()
        assert ball[0].max().item() == pytest.approx(clip_r, rel=1e-5)
        assert typical < 3.0


@pytest.mark.parametrize('kwargs, match', [
    (dict(scale_norm=0.0), 'scale_norm'),
    (dict(scale_norm=1.0, scale_momentum=0.0), 'scale_momentum'),
    (dict(clip_r=-1.0), 'clip_r'),
    (dict(feature_scale=0.0), 'feature_scale'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        embedder(**kwargs)


def _scale_worker(rank, port, u, w, out):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=2)
    try:
        emb = embedder(scale_norm=1.5)
        part = u.chunk(2)[rank].clone().requires_grad_()
        v = emb.normalise_scale(part, batch_stats=True)
        (v * w.chunk(2)[rank]).sum().backward()
        out[rank] = (v.detach(), float(emb.running_scale), part.grad)
    finally:
        dist.destroy_process_group()


def test_scale_norm_uses_the_batch_of_all_processes():
    """Two gloo processes with half a batch each normalise by the same
    geometric mean as one process with the whole batch, and their gradients
    (through the shared scale) are the single process's."""
    torch.manual_seed(0)
    u = torch.randn(6, 4) * torch.linspace(0.2, 5, 6)[:, None]
    single = embedder(scale_norm=1.5)
    w = torch.randn(6, 4)
    u1 = u.clone().requires_grad_()
    whole = single.normalise_scale(u1, batch_stats=True)
    (whole * w).sum().backward()
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = mp.Manager().dict()
    mp.spawn(_scale_worker, args=(port, u, w, out), nprocs=2, join=True)
    got = torch.cat([out[0][0], out[1][0]])
    assert torch.allclose(got, whole.detach(), atol=1e-6)
    grad = torch.cat([out[0][2], out[1][2]])
    assert torch.allclose(grad, u1.grad, atol=1e-5)
    assert out[0][1] == pytest.approx(float(single.running_scale))
    assert out[1][1] == pytest.approx(float(single.running_scale))
