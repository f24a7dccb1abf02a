import math

import pytest
import torch

from hclmm.geometry import Curvature
from hclmm.registry import MODELS


def test_fixed_curvature_is_a_buffer():
    curv = Curvature(0.05)
    assert list(curv.parameters()) == []
    assert 'log_c' in curv.state_dict()
    c = curv()
    assert c.shape == () and not c.requires_grad
    torch.testing.assert_close(c, torch.tensor(0.05))


@pytest.mark.parametrize('direction', [1.0, -1.0])
def test_learnable_curvature_stays_in_range(direction):
    c0 = 0.05
    curv = MODELS.build(dict(type='Curvature', c=c0, learnable=True))
    assert [n for n, _ in curv.named_parameters()] == ['log_c']
    opt = torch.optim.SGD(curv.parameters(), lr=10.0)
    values = []
    for _ in range(5):
        c = curv()
        values.append(float(c.detach()))
        opt.zero_grad()
        (direction * c * 100).backward()  # pushes c down (+) or up (-)
        opt.step()
    values.append(float(curv().detach()))
    assert min(values) >= c0 / 10 * (1 - 1e-6)
    assert max(values) <= c0 * 10 * (1 + 1e-6)
    # it did move to the bound it was pushed to, and the stored value too
    bound = c0 / 10 if direction > 0 else c0 * 10
    assert math.isclose(values[-1], bound, rel_tol=1e-5)
    assert math.isclose(math.exp(float(curv.log_c.detach())),
                        bound,
                        rel_tol=1e-5)


def test_learnable_curvature_gets_gradient_through_distances():
    from hclmm.geometry import dist
    curv = Curvature(1.0, learnable=True)
    x = torch.tensor([[0.1, 0.2]])
    y = torch.tensor([[-0.3, 0.1]])
    dist(x, y, curv()).sum().backward()
    assert curv.log_c.grad is not None and curv.log_c.grad.abs() > 0


def test_out_of_range_state_is_clamped_on_output():
    curv = Curvature(1.0, learnable=True).eval()
    curv.load_state_dict({'log_c': torch.tensor(math.log(1000.0))})
    torch.testing.assert_close(curv(), torch.tensor(10.0))


@pytest.mark.parametrize(
    'kwargs',
    [dict(c=0.0),
     dict(c=-1.0),
     dict(c=float('nan')),
     dict(c=1.0, ratio=0.5)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        Curvature(**kwargs)
