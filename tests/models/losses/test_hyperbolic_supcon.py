import math

import pytest
import torch

from hclmm.models.losses import HyperbolicSupConLoss, hyperbolic_supcon
from hclmm.geometry import (PoincareBall, build_manifold, expmap0,
                            lorentz_expmap0, project)


def _ref_dist(x, y, c, manifold):
    x, y = x.double(), y.double()
    if manifold == 'poincare':
        num = 2 * c * float((x - y) @ (x - y))
        den = (1 - c * float(x @ x)) * (1 - c * float(y @ y))
        return math.acosh(1 + num / den) / math.sqrt(c)
    x0 = math.sqrt(1 / c + float(x @ x))
    y0 = math.sqrt(1 / c + float(y @ y))
    return math.acosh(max(c * (x0 * y0 - float(x @ y)), 1.0)) / math.sqrt(c)


def _ref_supcon(features, labels, c, temperature, manifold):
    """Khosla et al.'s L_out with s = -d/T, loops over anchors."""
    n, views = features.shape[:2]
    points = [features[i, v] for v in range(views) for i in range(n)]
    labs = [int(labels[i]) for v in range(views) for i in range(n)]
    total, count = 0.0, 0
    for i, zi in enumerate(points):
        sims = [-_ref_dist(zi, za, c, manifold) / temperature for za in points]
        denom = sum(math.exp(s) for a, s in enumerate(sims) if a != i)
        pos = [a for a in range(len(points)) if a != i and labs[a] == labs[i]]
        if not pos:
            continue
        total += -sum(math.log(math.exp(sims[p]) / denom)
                      for p in pos) / len(pos)
        count += 1
    return total / count


@pytest.mark.parametrize('manifold', ['poincare', 'lorentz'])
@pytest.mark.parametrize('n,views,d,c,temperature', [
    (4, 2, 3, 1.0, 0.2),
    (6, 1, 8, 0.05, 0.5),
    (5, 3, 4, 0.3, 0.1),
])
def test_matches_loop_reference(manifold, n, views, d, c, temperature):
    g = torch.Generator().manual_seed(n)
    u = torch.randn(n, views, d, generator=g)
    feats = project(expmap0(u, c), c) if manifold == 'poincare' \
        else lorentz_expmap0(u, c)
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 3][:n])
    space = build_manifold(manifold, c)
    got = HyperbolicSupConLoss(temperature)(feats, labels, space)
    ref = _ref_supcon(feats, labels, c, temperature, manifold)
    assert math.isclose(float(got), ref, rel_tol=1e-4, abs_tol=1e-5)
    if views == 1:
        torch.testing.assert_close(
            hyperbolic_supcon(feats[:, 0], labels, space, temperature),
            got)


def test_no_positive_gives_zero_with_gradient():
    x = project(expmap0(torch.randn(3, 4), 1.0), 1.0).requires_grad_()
    loss = HyperbolicSupConLoss()(x, torch.arange(3), PoincareBall(1.0))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_bad_arguments():
    with pytest.raises(ValueError, match='temperature'):
        HyperbolicSupConLoss(temperature=0)
    ball = PoincareBall(1.0)
    with pytest.raises(TypeError, match='Manifold'):
        HyperbolicSupConLoss()(torch.zeros(3, 2, 4), torch.zeros(3), 'euclid')
    with pytest.raises(ValueError, match='labels'):
        HyperbolicSupConLoss()(torch.zeros(3, 2, 4), torch.zeros(4), ball)
    with pytest.raises(ValueError, match='features'):
        HyperbolicSupConLoss()(torch.zeros(3), torch.zeros(3), ball)
