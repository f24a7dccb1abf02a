import math

import numpy as np
import pytest
import torch

from hclmm.evaluation import (EXTRA_SCORE_KEYS, RETRIEVAL_SCORES,
                              ZERO_SHOT_KEYS, embedding_knn_top1,
                              retrieval_dist, zero_shot_metrics)
from hclmm.geometry import Euclidean, Lorentz, PoincareBall

# Two scenes and three objects in the plane (Euclidean geometry):
# o0, o1 belong to scene 0; o2 to scene 1.
SCENES = torch.tensor([[1.0, 0.0], [1.2, 1.0]])
OBJECTS = torch.tensor([[2.0, 0.0], [2.2, 0.5], [0.0, 2.0]])
OBJECT_SCENE = [0, 0, 1]
OBJECT_LABELS = [0, 1, 1]


def test_zero_shot_metrics_hand_computed_euclidean():
    out = zero_shot_metrics(
        SCENES,
        OBJECTS,
        OBJECT_SCENE,
        OBJECT_LABELS,
        Euclidean(),
        object_ooc=[0, 1, 0],
        ooc_score='distance',
        extra_scores=True)
    assert list(out) == list(ZERO_SHOT_KEYS) + list(EXTRA_SCORE_KEYS)
    # norms: scenes 1, 1.56; objects 2, 2.26, 2 -> all objects farther.
    assert out['scene_object_norm_auroc'] == pytest.approx(1.0)
    # counts (2, 1) against scene norms (1, 1.56): reversed ranks.
    assert out['label_count_spearman'] == pytest.approx(-1.0)
    # scene 0: distances 1, 1.30, 2.24 -> own objects first, AP 1.
    # scene 1: distances 1.28, 1.12, 1.56 -> own object third, AP 1/3.
    assert out['retrieval_map'] == pytest.approx(2 / 3)
    assert out['retrieval_recall_at_1'] == pytest.approx(0.5)
    # class level: scene 0 holds labels {0, 1}: all three relevant, AP 1;
    # scene 1 holds {1}: o1 (1.12, relevant), o0 (1.28), o2 (1.56, relevant)
    # -> AP (1 + 2/3) / 2.
    assert out['retrieval_class_map'] == pytest.approx((1 + 5 / 6) / 2)
    assert out['retrieval_class_recall_at_1'] == pytest.approx(1.0)
    # distance to own scene: o0 1, o1 1.30 (ooc), o2 1.56 -> 1 of 2 pairs.
    assert out['ooc_score'] == 'distance'
    assert out['ooc_auroc'] == pytest.approx(0.5)
    assert out['ooc_auroc_by_score']['distance'] == out['ooc_auroc']
    # object_norm: o1 has the largest norm, so the lowest score -> 0.
    assert out['ooc_auroc_by_score']['object_norm'] == pytest.approx(0.0)
    # company: every object's nearest other-scene object leads to the one
    # other scene at the same distance: all tied.
    assert out['ooc_auroc_by_score']['company'] == pytest.approx(0.5)
    # nearest other object: o0 -> o1 (label 1, wrong), o1 -> o0 (0, wrong),
    # o2 -> o1 (1, right).
    assert out['object_knn_top1'] == pytest.approx(1 / 3)
    assert out['num_scenes'] == 2 and out['num_objects'] == 3


def test_zero_shot_metrics_undefined_values_are_none():
    no_ooc = zero_shot_metrics(SCENES, OBJECTS, OBJECT_SCENE, OBJECT_LABELS,
                               Euclidean(), extra_scores=True)
    assert no_ooc['ooc_auroc'] is None
    all_zero = zero_shot_metrics(
        SCENES,
        OBJECTS,
        OBJECT_SCENE,
        OBJECT_LABELS,
        Euclidean(),
        object_ooc=[0, 0, 0])
    assert all_zero['ooc_auroc'] is None
    # equal object counts: the Spearman correlation is undefined.
    same_count = zero_shot_metrics(SCENES, OBJECTS[:2], [0, 1], [0, 1],
                                   Euclidean())
    assert same_count['label_count_spearman'] is None
    no_objects = zero_shot_metrics(SCENES, torch.zeros(0, 2), [], [],
                                   Euclidean())
    assert no_objects['num_objects'] == 0
    assert no_objects['retrieval_map'] is None
    assert no_objects['object_knn_top1'] is None
    assert no_objects['retrieval_class_map'] is None
    assert no_ooc['ooc_auroc_by_score'] is None
    with pytest.raises(ValueError, match='ooc_score'):
        zero_shot_metrics(SCENES, OBJECTS, OBJECT_SCENE, OBJECT_LABELS,
                          Euclidean(), ooc_score='magic')


def test_class_retrieval_with_one_class_and_an_empty_scene():
    # every object of one category: all objects relevant to every scene that
    # holds any; the scene without objects is left out of the mean.
    scenes = torch.tensor([[1.0, 0.0], [2.0, 0.2], [5.0, 5.0]])
    out = zero_shot_metrics(scenes, OBJECTS, OBJECT_SCENE, [3, 3, 3],
                            Euclidean())
    assert out['retrieval_class_map'] == pytest.approx(1.0)
    assert out['retrieval_class_recall_at_1'] == pytest.approx(1.0)
    assert out['retrieval_map'] < 1.0


def test_ooc_scores_hand_computed():
    from hclmm.evaluation import OOC_SCORES, ooc_scores
    from hclmm.geometry import Euclidean, PoincareBall
    got = ooc_scores(SCENES.double(), OBJECTS.double(), OBJECT_SCENE,
                     Euclidean())
    assert list(got) == list(OOC_SCORES)
    n1, n_s1 = math.hypot(2.2, 0.5), math.hypot(1.2, 1.0)
    d2 = math.hypot(1.2, 1.0)  # |o2 - s1| = |(-1.2, 1)|
    cos_01 = 2.2 / n1  # cos(o0, o1) = cos(s0, o1)
    np.testing.assert_allclose(got['distance'], [1.0, 1.3, d2], rtol=1e-6)
    np.testing.assert_allclose(
        got['norm_gap_corrected'], [0.0, 1.3 - (n1 - 1), d2 - (2 - n_s1)],
        rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(
        got['direction'], [0.0, 1 - cos_01, 1 - 2 / (n_s1 * 2)], rtol=1e-6,
        atol=1e-12)
    np.testing.assert_allclose(got['object_norm'], [-2.0, -n1, -2.0])
    # context: o0 and o1 are each other's only company; o2 is alone
    np.testing.assert_allclose(got['context'][:2], [1 - cos_01] * 2)
    assert np.isnan(got['context'][2])
    # company: the only other scene, 1 - cos(s0, s1) apart (geodesic
    # distance |s0 - s1| for company_distance)
    np.testing.assert_allclose(got['company'], [1 - 1.2 / n_s1] * 3)
    np.testing.assert_allclose(got['company_distance'],
                               [math.hypot(0.2, 1.0)] * 3)
    # Euclidean cones: angle between s and o - s, aperture arcsin(k/|s|)
    angles = [0.0, math.atan2(0.5, 1.2),
              math.acos((1.2 * -1.2 + 1.0) / (n_s1 * d2))]
    np.testing.assert_allclose(got['exterior_angle'], angles, atol=2e-3)
    np.testing.assert_allclose(
        got['cone_violation'],
        np.array(angles) - [math.asin(0.1), math.asin(0.1), math.asin(
            0.1 / n_s1)], atol=2e-3)
    # without backbone features the backbone scores are undefined
    assert np.isnan(got['company_backbone']).all()
    assert np.isnan(got['company_norm']).all()
    # with them: scenes compared by cosine of their features (the only
    # other scene for every object), and the mean of the normalised ranks
    # of that and object_norm (-n1 < -2 = -2: ranks 0, 0.75, 0.75)
    feats = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]],
                         dtype=torch.float64)
    got = ooc_scores(SCENES.double(), OBJECTS.double(), OBJECT_SCENE,
                     Euclidean(), scene_feats=feats)
    np.testing.assert_allclose(got['company_backbone'],
                               [1 - 1 / math.sqrt(2)] * 3)
    np.testing.assert_allclose(got['company_norm'],
                               [(0.5 + 0.75) / 2, 0.5 / 2,
                                (0.5 + 0.75) / 2])
    # on the ball the same scores come from the ball's own functions
    ball = PoincareBall(1.0)
    s, o = SCENES.double() * 0.3, OBJECTS.double() * 0.3
    hyp = ooc_scores(s, o, OBJECT_SCENE, ball)
    idx = torch.tensor(OBJECT_SCENE)
    np.testing.assert_allclose(hyp['distance'], ball.dist(s[idx], o).numpy())
    np.testing.assert_allclose(hyp['exterior_angle'],
                               ball.cone_angle(s[idx], o).numpy())


def test_norms_equal_up_to_float_noise_are_ties():
    # Every point on the same sphere (as with feature clipping), radii
    # differing only in the last float32 digits.
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(40, 8))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radius = 0.47 * (1 + 1e-7 * rng.standard_normal((40, 1)))
    points = torch.tensor(directions * radius, dtype=torch.float32)
    scenes, objects = points[:10], points[10:]
    object_scene = np.repeat(np.arange(10), 3)
    out = zero_shot_metrics(scenes, objects, object_scene, object_scene % 4,
                            PoincareBall(c=0.05))
    assert out['scene_object_norm_auroc'] == 0.5
    assert out['label_count_spearman'] is None  # constant norms
    noisy = zero_shot_metrics(scenes, objects, object_scene,
                              object_scene % 4, PoincareBall(c=0.05), rtol=0)
    assert noisy['scene_object_norm_auroc'] != 0.5


def test_zero_shot_metrics_checks_inputs():
    # the geometry is a Manifold object, never a name (plus curvature)
    with pytest.raises(TypeError, match='Manifold object'):
        zero_shot_metrics(SCENES, OBJECTS, OBJECT_SCENE, OBJECT_LABELS,
                          'sphere')
    with pytest.raises(TypeError, match='Manifold object'):
        zero_shot_metrics(SCENES, OBJECTS, OBJECT_SCENE, OBJECT_LABELS,
                          'poincare')
    with pytest.raises(ValueError, match='outside'):
        zero_shot_metrics(SCENES, OBJECTS, [0, 0, 2], OBJECT_LABELS,
                          Euclidean())


def test_poincare_geometry_changes_the_ranking():
    # c = 1. From the scene (0.5, 0), object a = (0.9, 0) is nearer in the
    # Euclidean sense (0.40 vs 0.45), but b = (0.5, -0.45) is nearer
    # hyperbolically: arcosh(1 + 2*0.16/(0.75*0.19)) = arcosh(3.25) vs
    # arcosh(1 + 2*0.2025/(0.75*0.5475)) = arcosh(1.99).
    scenes = torch.tensor([[0.5, 0.0]])
    objects = torch.tensor([[0.9, 0.0], [0.5, -0.45]])
    d = PoincareBall(c=1.0).pairwise_dist(scenes, objects)[0]
    expected = [math.acosh(1 + 2 * 0.16 / (0.75 * 0.19)),
                math.acosh(1 + 2 * 0.2025 / (0.75 * 0.5475))]
    np.testing.assert_allclose(d.numpy(), expected, rtol=1e-5)
    # Retrieval: b belongs to the scene, a to a second scene at (-0.5, 0)
    # (which is nearer to b under both geometries).
    two_scenes = torch.tensor([[0.5, 0.0], [-0.5, 0.0]])
    hyp = zero_shot_metrics(two_scenes, objects, [1, 0], [0, 1], PoincareBall(c=1.0), retrieval_score='distance')
    euc = zero_shot_metrics(two_scenes, objects, [1, 0], [0, 1], Euclidean(),
                            retrieval_score='distance')
    assert hyp['retrieval_recall_at_1'] == 0.5
    assert euc['retrieval_recall_at_1'] == 0.0
    # Out of context: both objects in the scene, a marked; a is the farther
    # one only hyperbolically.
    kwargs = dict(object_scene=[0, 0], object_labels=[0, 1],
                  object_ooc=[1, 0])
    hyp = zero_shot_metrics(scenes, objects, manifold=PoincareBall(c=1.0),
                            ooc_score='distance', **kwargs)
    euc = zero_shot_metrics(scenes, objects, manifold=Euclidean(),
                            ooc_score='distance', **kwargs)
    assert hyp['ooc_auroc'] == 1.0 and euc['ooc_auroc'] == 0.0


def test_embedding_norms_and_paired_distances():
    x = torch.tensor([[0.3, 0.4], [0.0, 0.0], [-0.6, 0.0]])
    c = 0.5
    norms = PoincareBall(c=c).dist0(x)
    radius = np.array([0.5, 0.0, 0.6])
    np.testing.assert_allclose(
        norms.numpy(),
        2 / np.sqrt(c) * np.arctanh(np.sqrt(c) * radius),
        rtol=1e-5,
        atol=1e-6)
    np.testing.assert_allclose(
        Euclidean().dist0(x).numpy(), radius, atol=1e-7)
    y = torch.tensor([[0.1, 0.1], [0.2, -0.3], [0.0, 0.5]])
    paired = Lorentz(c=c).dist(x, y)
    full = Lorentz(c=c).pairwise_dist(x, y)
    np.testing.assert_allclose(
        paired.numpy(), torch.diagonal(full).numpy(), rtol=1e-4, atol=1e-5)
    # Lorentz distance to the origin (space part 0) is the Lorentz norm.
    np.testing.assert_allclose(
        Lorentz(c=c).dist0(x).numpy(),
        Lorentz(c=c).pairwise_dist(x, torch.zeros(1, 2))[:, 0].numpy(),
        rtol=1e-4,
        atol=1e-5)


def test_embedding_knn_with_a_bank_and_chunks():
    rng = np.random.default_rng(0)
    centres = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, 0.0]])
    labels = rng.integers(0, 3, size=30)
    points = torch.tensor(centres[labels] + 0.3 * rng.normal(size=(30, 2)))
    assert embedding_knn_top1(points, labels, Euclidean(),
                              chunk_size=7) == 1.0
    flipped = (labels + 1) % 3
    assert embedding_knn_top1(
        points, labels, Euclidean(), bank_points=points,
        bank_labels=flipped) == 0.0
    with pytest.raises(ValueError, match='bank_labels'):
        embedding_knn_top1(points, labels, Euclidean(), bank_points=points)


def test_retrieval_scores_by_hand():
    """``excess_distance`` = d(scene, object) - d(0, object) and
    ``direction`` = 1 - cos, on the two-scene example: from the scene at
    (0.5, 0) the geodesic distance prefers the low-norm object b, the excess
    distance and the direction prefer a, which lies in the scene's
    direction."""
    scenes = torch.tensor([[0.5, 0.0], [-0.5, 0.0]], dtype=torch.float64)
    objects = torch.tensor([[0.9, 0.0], [0.5, -0.45]], dtype=torch.float64)
    ball = PoincareBall(c=1.0)

    def dist(s, o):
        s, o = np.asarray(s), np.asarray(o)
        return math.acosh(1 + 2 * np.sum((s - o)**2) /
                          ((1 - np.sum(s**2)) * (1 - np.sum(o**2))))

    def dist0(o):
        return 2 * math.atanh(float(np.linalg.norm(o)))

    excess = [[dist(s, o) - dist0(o) for o in objects.numpy()]
              for s in scenes.numpy()]
    np.testing.assert_allclose(
        retrieval_dist(scenes, objects, ball, 'excess_distance').numpy(),
        excess, rtol=1e-9)
    cos_b = 0.5 / math.hypot(0.5, 0.45)
    np.testing.assert_allclose(
        retrieval_dist(scenes, objects, ball, 'direction').numpy(),
        [[0, 1 - cos_b], [2, 1 + cos_b]], atol=1e-12)
    np.testing.assert_allclose(
        retrieval_dist(scenes, objects, ball, 'distance').numpy(),
        [[dist(s, o) for o in objects.numpy()] for s in scenes.numpy()],
        rtol=1e-9)
    # Euclidean analogue: |s - o| - |o|
    flat = Euclidean()
    np.testing.assert_allclose(
        retrieval_dist(scenes, objects, flat, 'excess_distance').numpy(),
        torch.cdist(scenes, objects).numpy() -
        objects.norm(dim=1).numpy()[None], rtol=1e-12)
    with pytest.raises(ValueError, match='retrieval score'):
        retrieval_dist(scenes, objects, ball, 'angle')
    # a belongs to scene 0, b to scene 1 (classes 0 and 1)
    out = {
        name: zero_shot_metrics(scenes, objects, [0, 1], [0, 1],
                                PoincareBall(c=1.0), retrieval_score=name,
                                extra_scores=True)
        for name in RETRIEVAL_SCORES
    }
    assert out['distance']['retrieval_recall_at_1'] == 0.5
    assert out['distance']['retrieval_map'] == pytest.approx(0.75)
    for name in ('excess_distance', 'direction'):
        assert out[name]['retrieval_recall_at_1'] == 1.0
        assert out[name]['retrieval_map'] == 1.0
        assert out[name]['retrieval_score'] == name
    # every key of the by-score dict equals that score's class-level mAP
    for name, result in out.items():
        assert result['retrieval_class_map_by_score'] == pytest.approx(
            {n: out[n]['retrieval_class_map'] for n in RETRIEVAL_SCORES})
    assert out['distance']['retrieval_class_map_by_score'] == pytest.approx(
        dict(distance=0.75, excess_distance=1.0, direction=1.0))
    with pytest.raises(ValueError, match='retrieval_score'):
        zero_shot_metrics(scenes, objects, [0, 1], [0, 1], PoincareBall(c=1.0),
                          retrieval_score='angle')


def test_extra_scores_are_opt_in():
    """By default: the paper's tasks, one out-of-context AUROC (unusual
    company: backbone features of the scenes where given, else their
    embeddings); the candidate scores only on request, with the default
    values unchanged."""
    from hclmm.evaluation import ooc_scores, unusual_company
    from hclmm.evaluation.functional import auroc
    rng = np.random.default_rng(0)
    scenes = torch.tensor(rng.normal(size=(12, 4)) * 0.2)
    objects = torch.tensor(rng.normal(size=(40, 4)) * 0.3)
    owner, labels = rng.integers(0, 12, 40), rng.integers(0, 5, 40)
    ooc = (np.arange(40) % 4 == 0).astype(int)
    feats = torch.tensor(rng.normal(size=(12, 6)))
    ball = PoincareBall(c=0.5)
    for scene_feats, name in ((feats, 'company_backbone'), (None,
                                                            'company')):
        kwargs = dict(object_ooc=ooc, scene_feats=scene_feats)
        default = zero_shot_metrics(scenes, objects, owner, labels, ball,
                                    **kwargs)
        extra = zero_shot_metrics(scenes, objects, owner, labels, ball,
                                  extra_scores=True, **kwargs)
        assert list(default) == list(ZERO_SHOT_KEYS)
        assert {k: extra[k] for k in ZERO_SHOT_KEYS} == default
        assert extra['ooc_score'] == name
        assert default['ooc_auroc'] == extra['ooc_auroc_by_score'][name]
        # the unusual company score of every object, and its AUROC
        score = unusual_company(scenes, objects, owner, scene_feats)
        np.testing.assert_allclose(
            score, ooc_scores(scenes, objects, owner, ball,
                              scene_feats=scene_feats)[name])
        assert default['ooc_auroc'] == pytest.approx(auroc(score, ooc))
