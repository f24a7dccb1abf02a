"""The hyperbolic scene-object head on its own."""
import pytest
import torch

from hclmm.models.heads import HyperbolicSceneObjectHead
from hclmm.utils import register_all_modules

register_all_modules(init_default_scope=False)


def ref_dist(x, y, c):
    """Poincare distance of every row of x to every row of y (float64)."""
    x, y = x.double()[:, None], y.double()[None]
    num = 2 * c * ((x - y)**2).sum(-1)
    den = (1 - c * (x**2).sum(-1)) * (1 - c * (y**2).sum(-1))
    return torch.acosh(1 + num / den) / c**0.5


def test_loss_matches_formula_with_queue():
    torch.manual_seed(0)
    head = HyperbolicSceneObjectHead(
        curvature=0.5, queue_len=8, feat_dim=4, loss_weight=0.3,
        loss=dict(type='HyperbolicInfoNCELoss', temperature=0.2))
    scene_u, obj_u = torch.randn(3, 4), torch.randn(3, 4)
    queue = head.queue.clone()
    out = head.loss(scene_u, obj_u)
    # reference from the definition, in float64
    c = 0.5
    s = head.to_manifold(scene_u).double()
    k = head.to_manifold(obj_u).double()
    pos = ref_dist(s, k, c).diagonal()
    neg = ref_dist(s, queue, c)
    logits = torch.cat([-pos[:, None], -neg], 1) / 0.2
    ref = torch.nn.functional.cross_entropy(logits, torch.zeros(3).long())
    assert out['loss_hyp'].item() == pytest.approx(0.3 * ref.item(), rel=1e-4)
    # the keys were enqueued
    assert torch.allclose(head.queue[:3], k.float(), atol=1e-6)
    assert int(head.queue_ptr) == 3


def test_queue_wraps_around():
    head = HyperbolicSceneObjectHead(queue_len=5, feat_dim=2)
    for _ in range(3):
        head.loss(torch.randn(2, 2), torch.randn(2, 2))
    assert int(head.queue_ptr) == 1


def test_norm_only_grad_is_radial():
    torch.manual_seed(0)
    head = HyperbolicSceneObjectHead(queue_len=8, feat_dim=4,
                                     norm_only_grad=True)
    u = torch.randn(3, 4, requires_grad=True)
    head.loss(u, torch.randn(3, 4))['loss_hyp'].backward()
    # the gradient has no component orthogonal to u
    g, d = u.grad, u.detach() / u.detach().norm(dim=-1, keepdim=True)
    tangential = g - (g * d).sum(-1, keepdim=True) * d
    assert tangential.abs().max() < 1e-6 < g.abs().max()
    # with online_pair the online key side is radial too
    head = HyperbolicSceneObjectHead(queue_len=8, feat_dim=4, clip_r=None,
                                     norm_only_grad=True, online_pair=True,
                                     scale_norm=1.0, entailment_weight=1.0)
    u = torch.randn(3, 4, requires_grad=True)
    v = torch.randn(3, 4, requires_grad=True)
    out = head.loss(u, torch.randn(3, 4), v)
    (out['loss_hyp'] + out['loss_entail']).backward()
    for x in (u, v):
        g, d = x.grad, x.detach() / x.detach().norm(dim=-1, keepdim=True)
        tangential = g - (g * d).sum(-1, keepdim=True) * d
        assert tangential.abs().max() < 1e-6 < g.abs().max()


def test_in_batch_negatives_without_queue():
    head = HyperbolicSceneObjectHead(queue_len=0, feat_dim=4)
    assert not hasattr(head, 'queue')
    out = head.loss(torch.randn(5, 4), torch.randn(5, 4))
    assert torch.isfinite(out['loss_hyp'])


def test_learnable_curvature_reported_and_in_range():
    head = HyperbolicSceneObjectHead(queue_len=8, feat_dim=4, curvature=0.05,
                                     learn_curvature=True)
    out = head.loss(torch.randn(3, 4), torch.randn(3, 4))
    assert 0.005 <= float(out['curvature']) <= 0.5


@pytest.mark.parametrize('kwargs, match', [
    (dict(manifold='sphere'), 'manifold'),
    (dict(curvature=0.0), 'curvature'),
    (dict(clip_r=-1.0), 'clip_r'),
    (dict(queue_len=-2), 'queue_len'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HyperbolicSceneObjectHead(**kwargs)


@pytest.mark.parametrize('scale', [0.0, 1e-8, 1e4])
@pytest.mark.parametrize('amp', [False, True])
def test_no_nan_at_extreme_norms(scale, amp):
    head = HyperbolicSceneObjectHead(queue_len=8, feat_dim=4, clip_r=None)
    u = (torch.randn(4, 4) * scale).requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
        out = head.loss(u, torch.randn(4, 4) * scale)
    out['loss_hyp'].backward()
    assert torch.isfinite(out['loss_hyp'])
    assert torch.isfinite(u.grad).all()


def test_feature_scale_shrinks_norms_and_can_learn():
    torch.manual_seed(0)
    u = torch.randn(4, 8)
    plain = HyperbolicSceneObjectHead(queue_len=8, feat_dim=8, clip_r=None)
    scaled = HyperbolicSceneObjectHead(queue_len=8, feat_dim=8, clip_r=None,
                                       feature_scale=0.25,
                                       learn_feature_scale=True)
    # distance to the origin of exp_0(u) is 2|u|: scaling u scales it
    assert torch.allclose(
        scaled.hyperbolic_norm(scaled.to_manifold(u)),
        2 * 0.25 * u.norm(dim=-1), rtol=1e-4)
    assert torch.allclose(
        plain.hyperbolic_norm(plain.to_manifold(u)), 2 * u.norm(dim=-1),
        rtol=1e-4)
    scaled.loss(u.requires_grad_(), torch.randn(4, 8))['loss_hyp'].backward()
    assert scaled.log_feature_scale.grad is not None


def test_scale_norm_fixes_the_common_scale_but_not_relative_norms():
    """With ``scale_norm`` a query batch's geometric-mean norm is exactly rho
    before clipping, whatever its raw scale; the gradient has no component
    along the common scale; keys and evaluation use the running scale."""
    torch.manual_seed(0)
    head = HyperbolicSceneObjectHead(
        curvature=0.05, clip_r=None, queue_len=16, feat_dim=8,
        scale_norm=1.5, scale_momentum=0.5)
    u = torch.randn(6, 8) * torch.linspace(0.5, 3, 6)[:, None]
    for factor in (1e-3, 1.0, 1e3):
        v = head.normalise_scale(u * factor, batch_stats=True)
        assert v.norm(dim=1).log().mean().exp().item() == pytest.approx(1.5)
        # relative norms survive
        assert torch.allclose(v.norm(dim=1) / v.norm(dim=1)[0],
                              u.norm(dim=1) / u.norm(dim=1)[0], rtol=1e-5)
    # the running scale: first batch sets it, then it moves with momentum
    head2 = HyperbolicSceneObjectHead(queue_len=0, feat_dim=8,
                                      scale_norm=1.5, scale_momentum=0.5)
    assert float(head2.running_scale) == 0
    g1 = u.norm(dim=1).log().mean().exp()
    head2.normalise_scale(u, batch_stats=True)
    assert float(head2.running_scale) == pytest.approx(float(g1))
    head2.normalise_scale(4 * u, batch_stats=True)
    assert float(head2.running_scale) == pytest.approx(float(g1) * 2.5)
    # keys (batch_stats=False) and eval mode use the running scale
    k = head2.normalise_scale(u)
    assert torch.allclose(k, u * 1.5 / (2.5 * g1))
    head2.eval()
    assert torch.allclose(head2.normalise_scale(u, batch_stats=True), k)
    assert float(head2.running_scale) == pytest.approx(float(g1) * 2.5)
    # no gradient along the common scale: d loss / d alpha at alpha = 1
    alpha = torch.ones((), requires_grad=True)
    q = (u * alpha).requires_grad_()
    out = head.loss(q, torch.randn(6, 8))
    out['loss_hyp'].backward()
    assert abs(alpha.grad.item()) < 1e-5
    # ... but the relative norms do get a gradient
    q2 = u.clone().requires_grad_()
    head.loss(q2, torch.randn(6, 8))['loss_hyp'].backward()
    radial = (q2.grad * u / u.norm(dim=1, keepdim=True)).sum(1)
    assert radial.abs().max() > 1e-4
    # the running scale is a buffer: saved in checkpoints
    assert 'running_scale' in head.state_dict()


def test_scale_norm_validation():
    with pytest.raises(ValueError, match='scale_norm'):
        HyperbolicSceneObjectHead(scale_norm=0.0)
    with pytest.raises(ValueError, match='scale_momentum'):
        HyperbolicSceneObjectHead(scale_norm=1.0, scale_momentum=0.0)


def test_entailment_term_pulls_scenes_inside_their_objects():
    """A scene farther out than its object (same direction) violates the
    cone, the term is positive and its gradient shrinks the scene; a scene
    nearer the origin on the object's ray costs nothing."""
    torch.manual_seed(0)
    head = HyperbolicSceneObjectHead(curvature=0.05, clip_r=None,
                                     queue_len=0, feat_dim=4,
                                     entailment_weight=0.5)
    d = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    outer = (3.0 * d).requires_grad_()
    out = head.loss(outer, 1.0 * d)
    assert out['loss_entail'].item() > 0.5 * 1.0  # angle ~pi, aperture small
    out['loss_entail'].backward()
    radial = (outer.grad * d).sum(1)
    assert (radial > 0).all()  # descent direction: towards the origin
    inner = (1.0 * d).requires_grad_()
    assert head.loss(inner, 3.0 * d)['loss_entail'].item() == 0
    # query='object': the object (query) is the one kept in the cone
    head_o = HyperbolicSceneObjectHead(curvature=0.05, clip_r=None,
                                       queue_len=0, feat_dim=4,
                                       entailment_weight=0.5, query='object')
    # off the scene's ray (exactly on it the angle is pi, where arccos has
    # no usable gradient)
    r = torch.randn(3, 4)
    side = torch.nn.functional.normalize(
        r - (r * d).sum(1, keepdim=True) * d, dim=1)
    obj = (1.0 * d + 0.3 * side).requires_grad_()
    out = head_o.loss(obj, 3.0 * d)
    assert out['loss_entail'].item() > 0.5
    out['loss_entail'].backward()
    assert ((obj.grad * d).sum(1) < 0).all()  # pushed outwards
    with pytest.raises(ValueError, match='Poincare'):
        HyperbolicSceneObjectHead(manifold='lorentz', entailment_weight=1.0)
    with pytest.raises(ValueError, match='entailment_weight'):
        HyperbolicSceneObjectHead(entailment_weight=-1.0)


def _scale_worker(rank, port, u, w, out):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=2)
    try:
        head = HyperbolicSceneObjectHead(queue_len=0, feat_dim=4,
                                         scale_norm=1.5)
        part = u.chunk(2)[rank].clone().requires_grad_()
        v = head.normalise_scale(part, batch_stats=True)
        # each process backpropagates only its own part of the loss
        (v * w.chunk(2)[rank]).sum().backward()
        out[rank] = (v.detach(), float(head.running_scale), part.grad)
    finally:
        dist.destroy_process_group()


def test_scale_norm_uses_the_batch_of_all_processes():
    """Two gloo processes with half a batch each normalise by the same
    geometric mean as one process with the whole batch, and their gradients
    (through the shared scale) are the single process's."""
    import socket

    import torch.multiprocessing as mp
    torch.manual_seed(0)
    u = torch.randn(6, 4) * torch.linspace(0.2, 5, 6)[:, None]
    single = HyperbolicSceneObjectHead(queue_len=0, feat_dim=4,
                                       scale_norm=1.5)
    w = torch.randn(6, 4)
    u1 = u.clone().requires_grad_()
    whole = single.normalise_scale(u1, batch_stats=True)
    (whole * w).sum().backward()
    whole = whole.detach()
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = mp.Manager().dict()
    mp.spawn(_scale_worker, args=(port, u, w, out), nprocs=2, join=True)
    got = torch.cat([out[0][0], out[1][0]])
    assert torch.allclose(got, whole, atol=1e-6)
    grad = torch.cat([out[0][2], out[1][2]])
    assert torch.allclose(grad, u1.grad, atol=1e-5)
    assert out[0][1] == pytest.approx(float(single.running_scale))
    assert out[1][1] == pytest.approx(float(single.running_scale))
