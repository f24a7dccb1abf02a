"""Mixed precision for the losses outside the HCL head: DCL, DCLW, SNCLR and
hyperbolic SupCon under ``torch.autocast`` (float16 and bfloat16).

``--amp`` runs the model under autocast, so the features that reach a loss
are the 16-bit outputs of a linear layer. Each case below makes them that
way (a linear layer ``norm * I`` called under autocast, rows of Euclidean
norm 0, 1e-8, 1 or 1e4; 1e-8 underflows to 0 in float16, 1e4 is near the
top of its range) and checks: the loss is a finite float32 scalar, the
gradients reaching the layer's weight and its input are finite, and, where
16-bit features still carry the directions (every norm but the underflowing
ones), the loss equals the float32 loss up to 16-bit rounding.

The HCL head's own terms have the same checks in
``tests/models/heads/test_hyperbolic_head.py``
(``test_no_nan_at_extreme_norms``).
"""
import pytest
import torch
import torch.nn.functional as F

from hclmm.geometry import Lorentz, PoincareBall
from hclmm.models.losses import (DCLLoss, DCLWLoss, HyperbolicSupConLoss,
                                 SNCLRLoss)

NORMS = [0.0, 1e-8, 1.0, 1e4]
AMPS = [None, torch.float16, torch.bfloat16]
# relative error of a 16-bit input: float16 has 11, bfloat16 8 significant
# bits; after normalisation and a temperature of 0.1 the loss moves by a few
# times that
REL_TOL = {torch.float16: 5e-3, torch.bfloat16: 4e-2}
N, D = 8, 16


def _amp_id(amp):
    return 'fp32' if amp is None else str(amp).replace('torch.', '')


class Features:
    """Rows of a given norm, produced by a linear layer under autocast."""

    def __init__(self, norm, *shapes, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.inputs = [
            F.normalize(torch.randn(*s, D, generator=g), dim=-1)
            .requires_grad_() for s in shapes
        ]
        self.weight = (torch.eye(D) * norm).requires_grad_()

    def __call__(self, amp):
        """The features; call inside the autocast region."""
        out = [F.linear(x, self.weight) for x in self.inputs]
        for f in out:
            assert f.dtype == (amp or torch.float32)
        return out

    def check_grads(self):
        assert self.weight.grad is not None
        assert torch.isfinite(self.weight.grad).all()
        for x in self.inputs:
            assert x.grad is not None and torch.isfinite(x.grad).all()


def _run(make_loss, amp, norm, shapes, seed=0):
    """(loss value, features) for one autocast setting; checks finiteness."""
    feats = Features(norm, *shapes, seed=seed)
    with torch.autocast('cpu', dtype=amp or torch.bfloat16,
                        enabled=amp is not None):
        loss = make_loss(*feats(amp))
    assert loss.dim() == 0 and loss.dtype == torch.float32
    assert torch.isfinite(loss), (norm, amp, loss)
    loss.backward()
    feats.check_grads()
    return loss.item()


def _underflows(norm, amp):
    """Is ``norm`` too small to survive as a 16-bit value of this type?"""
    if amp is None or norm == 0:
        return False
    return torch.tensor(norm / D**0.5, dtype=amp).item() == 0


def _check(make_loss, norm, amp, shapes):
    value = _run(make_loss, amp, norm, shapes)
    if amp is not None and norm > 0 and not _underflows(norm, amp):
        ref = _run(make_loss, None, norm, shapes)
        assert value == pytest.approx(ref, rel=REL_TOL[amp], abs=1e-3), \
            (norm, amp, value, ref)


@pytest.mark.parametrize('amp', AMPS, ids=_amp_id)
@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('loss_type', [DCLLoss, DCLWLoss])
def test_dcl_and_dclw(loss_type, norm, amp):
    loss_fn = loss_type(temperature=0.1)
    _check(lambda z1, z2: loss_fn(z1, z2), norm, amp, [(N, ), (N, )])


@pytest.mark.parametrize('amp', AMPS, ids=_amp_id)
@pytest.mark.parametrize('norm', NORMS)
def test_snclr(norm, amp):
    k, m = 3, 2 * N  # 3 neighbours, candidates of two processes
    loss_fn = SNCLRLoss(temperature=0.2)
    g = torch.Generator().manual_seed(1)
    weights = torch.rand(N, k, generator=g)
    weights[0] = 0  # a sample without positive neighbours

    def loss(query, candidates):
        # the positiveness comes from the attention under autocast too
        w = weights.to(query.dtype)
        return loss_fn(query, candidates, w, offset=N)

    _check(loss, norm, amp, [(N, ), (m, 1 + k)])


@pytest.mark.parametrize('amp', AMPS, ids=_amp_id)
@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('manifold_type', [PoincareBall, Lorentz])
def test_hyperbolic_supcon_on_embedded_features(manifold_type, norm, amp):
    """Features mapped onto the manifold as the head does (``expmap0`` and
    ``project``; at 1e4 the ball's points round onto the boundary)."""
    manifold = manifold_type(c=0.1)
    loss_fn = HyperbolicSupConLoss(temperature=0.2)
    labels = torch.arange(N) % 3

    def loss(f1, f2):
        points = torch.stack(
            [manifold.to_manifold(f1), manifold.to_manifold(f2)], 1)
        return loss_fn(points, labels, manifold)

    _check(loss, norm, amp, [(N, ), (N, )])


@pytest.mark.parametrize('amp', AMPS, ids=_amp_id)
@pytest.mark.parametrize('norm', NORMS)
def test_hyperbolic_supcon_on_16bit_lorentz_points(norm, amp):
    """16-bit points straight into the loss (every vector is a point of the
    Lorentz model): the loss computes in float32 itself."""
    manifold = Lorentz(c=0.1)
    loss_fn = HyperbolicSupConLoss(temperature=0.2)
    labels = torch.arange(N) % 3

    def loss(f1, f2):
        return loss_fn(torch.stack([f1, f2], 1), labels, manifold)

    _check(loss, norm, amp, [(N, ), (N, )])
