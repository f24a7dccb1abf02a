"""MV-InfoNCE and MV-DHEL against loops written from the formulas, their
gradients, and the two-view relations."""
import pytest
import torch
import torch.nn.functional as F

from hclmm.models.losses import MVDHELLoss, MVInfoNCELoss, mv_dhel, mv_infonce
from hclmm.registry import MODELS


def _sim(a, b, t):
    return torch.exp((a * b).sum() / t)


def _ref_mv_infonce(z, t):
    """One term per sample: all within-sample view pairs over every view
    interaction of the sample's views (self excluded)."""
    z = F.normalize(z, dim=-1)
    n, m, _ = z.shape
    total = 0
    for i in range(n):
        num = sum(
            _sim(z[i, l], z[i, k], t) for l in range(m) for k in range(m)
            if k != l)
        den = sum(
            _sim(z[i, l], z[j, k], t) for l in range(m) for j in range(n)
            for k in range(m) if (j, k) != (i, l))
        total = total - torch.log(num / den)
    return total / n


def _ref_mv_dhel(z, t):
    """Alignment of every view pair over the product of each view's energy
    against the same view of the other samples."""
    z = F.normalize(z, dim=-1)
    n, m, _ = z.shape
    total = 0
    for i in range(n):
        num = sum(
            _sim(z[i, l], z[i, k], t) for l in range(m)
            for k in range(l + 1, m))
        den = 1
        for l in range(m):
            den = den * sum(
                _sim(z[i, l], z[j, l], t) for j in range(n) if j != i)
        total = total - torch.log(num / den)
    return total / n


def _ref_ntxent(z1, z2, t):
    """SimCLR's NT-Xent over the 2N anchors."""
    z = F.normalize(torch.cat([z1, z2]), dim=-1)
    n = len(z1)
    total = 0
    for a in range(2 * n):
        pos = _sim(z[a], z[(a + n) % (2 * n)], t)
        den = sum(_sim(z[a], z[b], t) for b in range(2 * n) if b != a)
        total = total - torch.log(pos / den)
    return total / (2 * n)


def _ref_dhel(u, v, t):
    """Two-view DHEL, anchors u: -log(e^{u.v/T} / sum_{j!=i} e^{u_i.u_j/T})."""
    u, v = F.normalize(u, dim=-1), F.normalize(v, dim=-1)
    n = len(u)
    total = 0
    for i in range(n):
        den = sum(_sim(u[i], u[j], t) for j in range(n) if j != i)
        total = total - torch.log(_sim(u[i], v[i], t) / den)
    return total / n


CASES = [(2, 2, 8, 0.1), (5, 3, 6, 0.5), (4, 4, 5, 0.2), (7, 2, 3, 1.0),
         (3, 5, 4, 0.3)]


@pytest.mark.parametrize('fn,ref', [(mv_infonce, _ref_mv_infonce),
                                    (mv_dhel, _ref_mv_dhel)],
                         ids=['mv_infonce', 'mv_dhel'])
@pytest.mark.parametrize('n,m,d,t', CASES)
def test_loss_and_gradient_match_the_loop_reference(fn, ref, n, m, d, t):
    torch.manual_seed(n * 100 + m * 10 + d)
    z = (torch.randn(n, m, d, dtype=torch.float64) * 2).requires_grad_()
    z_ref = z.detach().clone().requires_grad_()
    loss, expected = fn(z, t), ref(z_ref, t)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-10)
    loss.backward()
    expected.backward()
    torch.testing.assert_close(z.grad, z_ref.grad, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize('t', [0.1, 0.5])
def test_two_view_mv_infonce_is_ntxent_with_averaged_denominators(t):
    """M = 2: -log(e^s / ((D_1 + D_2)/2)); never below NT-Xent (Jensen),
    equal to it when the two anchors' denominators agree (view 2 = view 1
    reflected by a Householder matrix, which is symmetric and orthogonal)."""
    torch.manual_seed(0)
    n, d = 6, 5
    z1 = F.normalize(torch.randn(n, d, dtype=torch.float64), dim=-1)
    z2 = F.normalize(torch.randn(n, d, dtype=torch.float64), dim=-1)
    z = torch.stack([z1, z2], 1)
    s = (z1 * z2).sum(-1) / t
    all_views = torch.cat([z1, z2])
    den = [(torch.exp(v @ all_views.T / t).sum(1) - torch.exp(
        torch.ones(n, dtype=torch.float64) / t)) for v in (z1, z2)]
    averaged = -(s - torch.log((den[0] + den[1]) / 2)).mean()
    assert mv_infonce(z, t).item() == pytest.approx(averaged.item(), rel=1e-10)
    assert mv_infonce(z, t).item() > _ref_ntxent(z1, z2, t).item()
    w = F.normalize(torch.randn(d, 1, dtype=torch.float64), dim=0)
    house = torch.eye(d, dtype=torch.float64) - 2 * w @ w.T
    mirrored = torch.stack([z1, z1 @ house], 1)
    assert mv_infonce(mirrored, t).item() == pytest.approx(
        _ref_ntxent(z1, z1 @ house, t).item(), rel=1e-10)


@pytest.mark.parametrize('t', [0.2, 0.7])
def test_two_view_mv_dhel_is_both_dhel_directions_with_one_alignment(t):
    """M = 2: -s/T + log E_u + log E_v = DHEL(u, v) + DHEL(v, u) + s/T."""
    torch.manual_seed(1)
    u = torch.randn(5, 4, dtype=torch.float64)
    v = torch.randn(5, 4, dtype=torch.float64)
    s = (F.normalize(u, dim=-1) * F.normalize(v, dim=-1)).sum(-1).mean() / t
    expected = _ref_dhel(u, v, t) + _ref_dhel(v, u, t) + s
    assert mv_dhel(torch.stack([u, v], 1), t).item() == pytest.approx(
        expected.item(), rel=1e-10)


@pytest.mark.parametrize('cls,fn', [(MVInfoNCELoss, mv_infonce),
                                    (MVDHELLoss, mv_dhel)])
def test_registered_modules_weight_the_functions(cls, fn):
    loss = MODELS.build(
        dict(type=cls.__name__, temperature=0.3, loss_weight=2.0))
    z = torch.randn(4, 3, 8)
    assert loss(z).item() == pytest.approx(2 * fn(z, 0.3).item(), rel=1e-6)


def test_half_precision_inputs_give_float32_losses():
    z = torch.randn(4, 3, 8).half()
    assert mv_infonce(z).dtype == torch.float32
    assert mv_dhel(z).dtype == torch.float32


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match='M >= 2'):
        mv_infonce(torch.randn(4, 1, 8))
    with pytest.raises(ValueError, match='N >= 2'):
        mv_dhel(torch.randn(1, 3, 8))
    with pytest.raises(ValueError, match='temperature'):
        MVDHELLoss(temperature=0)
