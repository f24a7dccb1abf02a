"""The hyperbolic scene-object head on its own."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from hclmm.geometry import Lorentz, PoincareBall
from hclmm.models.heads import (HyperbolicSceneObjectAblationHead,
                                HyperbolicSceneObjectHead)
from hclmm.registry import MODELS
from hclmm.utils import register_all_modules
from hclmm_test_utils import REPO

register_all_modules(init_default_scope=False)

#: The recipe, from its one source.
RECIPE = Config.fromfile(
    osp.join(REPO, 'configs', '_base_', 'models', 'hcl_head.py')).hyp_head
RECIPE.pop('_delete_')

PAPER = dict(online_pair=False, pair_losses={})


def head(c=0.05, manifold='PoincareBall', clip_r=4.6, scale_norm=None,
         norm_only_grad=False, cls=HyperbolicSceneObjectHead, **kwargs):
    kwargs.setdefault('feat_dim', 4)
    kwargs.setdefault('queue_len', 8)
    # the recipe's terms unless given
    kwargs.setdefault('contrast_loss', RECIPE.contrast_loss)
    kwargs.setdefault('pair_losses', RECIPE.pair_losses)
    return cls(
        embedder=dict(
            type='HyperbolicEmbedder',
            manifold=dict(type=manifold, c=c),
            clip_r=clip_r,
            scale_norm=scale_norm,
            norm_only_grad=norm_only_grad),
        **kwargs)


def ref_dist(x, y, c):
    """Poincare distance of every row of x to every row of y (float64)."""
    x, y = x.double()[:, None], y.double()[None]
    num = 2 * c * ((x - y)**2).sum(-1)
    den = (1 - c * (x**2).sum(-1)) * (1 - c * (y**2).sum(-1))
    return torch.acosh(1 + num / den) / c**0.5


def test_recipe_config():
    h = MODELS.build(RECIPE)
    assert isinstance(h.manifold, PoincareBall)
    assert float(h.manifold.c) == pytest.approx(0.05)
    # distances to the origin: the reference's Euclidean 2.3 on the ball
    assert h.embedder.scale_norm == 3.0 and h.embedder.norm_only_grad
    assert h.embedder.clip_r == 4.6 and h.online_pair
    assert list(h.pair_losses) == ['entail']
    assert h.contrast_loss.loss_weight == pytest.approx(0.1)


def test_paper_loss_matches_formula_with_queue():
    torch.manual_seed(0)
    h = head(c=0.5, contrast_loss=dict(type='HyperbolicInfoNCELoss',
                                       temperature=0.2, loss_weight=0.3),
             **PAPER)
    scene_u, obj_u = torch.randn(3, 4), torch.randn(3, 4)
    queue = h.queue.keys.clone()
    out = h.loss(scene_u, obj_u)
    assert set(out) == {'loss_hyp', 'scene_norm', 'object_norm',
                        'scene_sat', 'object_sat', 'norm_spread',
                        'proj_norm'}
    s = h.to_manifold(scene_u).double()
    k = h.to_manifold(obj_u).double()
    pos = ref_dist(s, k, 0.5).diagonal()
    neg = ref_dist(s, queue, 0.5)
    logits = torch.cat([-pos[:, None], -neg], 1) / 0.2
    ref = torch.nn.functional.cross_entropy(logits, torch.zeros(3).long())
    assert out['loss_hyp'].item() == pytest.approx(0.3 * ref.item(), rel=1e-4)
    # the keys were enqueued
    assert torch.allclose(h.queue.keys[:3], k.float(), atol=1e-6)
    assert int(h.queue.ptr) == 3
    norms = torch.cat([h.manifold.dist0(s), h.manifold.dist0(k)])
    assert out['norm_spread'].item() == pytest.approx(norms.std().item(),
                                                      rel=1e-4)


def test_queue_wraps_around():
    h = head(queue_len=5, feat_dim=2, **PAPER)
    for _ in range(3):
        h.loss(torch.randn(2, 2), torch.randn(2, 2))
    assert int(h.queue.ptr) == 1 and int(h.queue.count) == 5


def test_pair_losses_are_composed_by_config():
    torch.manual_seed(0)
    u, k, v = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)
    two = head(pair_losses=dict(
        entail=dict(type='EntailmentConeLoss', loss_weight=1.0),
        wide=dict(type='EntailmentConeLoss', k=0.5, loss_weight=2.0)))
    out = two.loss(u, k, v)
    assert {'loss_hyp', 'loss_entail', 'loss_wide', 'entail_apex_frac'} \
        <= set(out)
    none = head(pair_losses=dict(entail=None))
    assert 'loss_entail' not in none.loss(u, k, v)
    with pytest.raises(ValueError, match='online_key_u'):
        two.loss(u, k)


def test_online_pair_is_radial_with_norm_only_grad():
    torch.manual_seed(0)
    h = head(clip_r=None, scale_norm=2.0, norm_only_grad=True)
    u = torch.randn(3, 4, requires_grad=True)
    v = torch.randn(3, 4, requires_grad=True)
    out = h.loss(u, torch.randn(3, 4), v)
    (out['loss_hyp'] + out['loss_entail']).backward()
    for x in (u, v):
        g, d = x.grad, x.detach() / x.detach().norm(dim=-1, keepdim=True)
        tangential = g - (g * d).sum(-1, keepdim=True) * d
        assert tangential.abs().max() < 1e-6 < g.abs().max()


def _tangential(x):
    g, d = x.grad, x.detach() / x.detach().norm(dim=-1, keepdim=True)
    return (g - (g * d).sum(-1, keepdim=True) * d).abs().max()


@pytest.mark.parametrize('online_pair', [True, False])
def test_scene_direction_grad_frees_only_the_scene_side(online_pair):
    torch.manual_seed(0)
    h = head(clip_r=None, scale_norm=2.0, norm_only_grad=True,
             scene_direction_grad=True, online_pair=online_pair,
             cls=HyperbolicSceneObjectAblationHead)
    u = torch.randn(3, 4, requires_grad=True)
    v = torch.randn(3, 4, requires_grad=True)
    out = h.loss(u, torch.randn(3, 4), v if online_pair else None)
    (out['loss_hyp'] + out['loss_entail']).backward()
    assert _tangential(u) > 1e-3  # scenes: directions move too
    if online_pair:
        assert _tangential(v) < 1e-6 < v.grad.abs().max()  # objects: radial
    # with objects as the query, the query side stays radial
    h = head(clip_r=None, scale_norm=2.0, norm_only_grad=True,
             scene_direction_grad=True, online_pair=online_pair,
             query='object', cls=HyperbolicSceneObjectAblationHead)
    u = torch.randn(3, 4, requires_grad=True)
    v = torch.randn(3, 4, requires_grad=True)
    out = h.loss(u, torch.randn(3, 4), v if online_pair else None)
    (out['loss_hyp'] + out['loss_entail']).backward()
    assert _tangential(u) < 1e-6 < u.grad.abs().max()
    if online_pair:
        assert _tangential(v) > 1e-3


def test_in_batch_negatives_without_queue():
    h = head(queue_len=0, **PAPER)
    assert h.queue is None
    out = h.loss(torch.randn(5, 4), torch.randn(5, 4))
    assert torch.isfinite(out['loss_hyp'])


def test_learnable_curvature_reported_and_in_range():
    h = HyperbolicSceneObjectHead(
        embedder=dict(type='HyperbolicEmbedder',
                      manifold=dict(type='PoincareBall', c=0.05,
                                    learnable=True)),
        queue_len=8, feat_dim=4, **PAPER)
    out = h.loss(torch.randn(3, 4), torch.randn(3, 4))
    assert 0.005 <= float(out['curvature']) <= 0.5


@pytest.mark.parametrize('cls, kwargs, match', [
    (HyperbolicSceneObjectHead, dict(queue_len=-2), 'queue_len'),
    (HyperbolicSceneObjectAblationHead, dict(query='both'), 'query'),
])
def test_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize('manifold', ['PoincareBall', 'Lorentz'])
@pytest.mark.parametrize('scale', [0.0, 1e-8, 1e4])
@pytest.mark.parametrize('amp', [None, torch.bfloat16, torch.float16])
def test_no_nan_at_extreme_norms(manifold, scale, amp):
    h = head(manifold=manifold, clip_r=None, scale_norm=3.0)
    u = (torch.randn(4, 4) * scale).requires_grad_()
    v = (torch.randn(4, 4) * scale).requires_grad_()
    with torch.autocast('cpu', dtype=amp or torch.bfloat16,
                        enabled=amp is not None):
        out = h.loss(u, torch.randn(4, 4) * scale, v)
    total = out['loss_hyp'] + out['loss_entail']
    total.backward()
    assert torch.isfinite(total)
    assert torch.isfinite(u.grad).all() and torch.isfinite(v.grad).all()


@pytest.mark.parametrize('manifold', ['PoincareBall', 'Lorentz'])
def test_entailment_term_pulls_scenes_inside_their_objects(manifold):
    """A scene farther out than its object (same direction) violates the
    cone and its gradient shrinks the scene; a scene nearer the origin on
    the object's ray costs nothing."""
    torch.manual_seed(0)
    h = head(manifold=manifold, clip_r=None, queue_len=0,
             online_pair=False,
             pair_losses=dict(entail=dict(type='EntailmentConeLoss',
                                          loss_weight=0.5)))
    d = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    outer = (3.0 * d).requires_grad_()
    out = h.loss(outer, 1.0 * d)
    assert out['loss_entail'].item() > 0.5 * 1.0  # angle ~pi, aperture small
    out['loss_entail'].backward()
    assert ((outer.grad * d).sum(1) > 0).all()  # descent: towards the origin
    assert h.loss((1.0 * d), 3.0 * d)['loss_entail'].item() == 0


def test_the_head_decides_which_view_is_the_query():
    scene, obj = torch.zeros(2, 3, 8, 8), torch.ones(2, 3, 8, 8)
    query, key = head().query_and_key(scene, obj)
    assert query is scene and key is obj
    ablation = head(cls=HyperbolicSceneObjectAblationHead, query='object')
    query, key = ablation.query_and_key(scene, obj)
    assert query is obj and key is scene
