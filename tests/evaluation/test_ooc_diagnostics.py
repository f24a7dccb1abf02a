"""The out-of-context diagnostics against hand-computed values."""
import numpy as np
import pytest
import torch

from hclmm.evaluation import OOC_DIAGNOSTIC_KEYS, ooc_diagnostics

# Scenes 0, 1 of type 'a', scenes 2, 3 of type 'b'; backbone features:
SCENE_FEATS = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.6, 0.8], [0.0, 1.0]])
SCENE_TYPES = ['a', 'a', 'b', 'b']
# Objects: class 0 lives in type a, class 1 in type b; o4 is a class-0 object
# pasted into scene 2 (type b).
OBJECTS = torch.tensor([[1.0, 0.0], [1.0, 0.2], [0.0, 1.0], [0.2, 1.0],
                        [1.0, 0.1]])
OBJECT_SCENE = [0, 1, 2, 3, 2]
LABELS = [0, 0, 1, 1, 0]
OOC = [0, 0, 0, 0, 1]


def test_hand_computed_k1():
    out = ooc_diagnostics(OBJECTS, OBJECT_SCENE, LABELS, OOC, SCENE_FEATS,
                          SCENE_TYPES, k=1)
    assert list(out) == list(OOC_DIAGNOSTIC_KEYS)
    # nearest object of another scene (cosine): o0 -> o4 (scene 2, type b),
    # o1 -> o4 (b), o2 -> o3 (b), o3 -> o2 (b), o4 -> o1 (a, cos 0.99522 vs
    # 0.99504 for o0). Scores by type: [1, 1, 0, 0, 1]; o4 is positive:
    # it beats o2, o3 and ties o0, o1 -> (2 + 0.5 * 2) / 4.
    assert out['company_oracle_scenes'] == pytest.approx(0.75)
    # same-class neighbours are the same here; scene cosine distances:
    # d(s0, s2) = 0.4, d(s1, s2) = 0, d(s2, s3) = 0.2 -> scores
    # [0.4, 0, 0.2, 0.2, 0]; o4 (0) only ties o1 -> 0.5 / 4.
    assert out['company_oracle_neighbours'] == pytest.approx(0.125)
    # pairs of different types {0.4, 1, 0, 0.2} vs one type {0.4, 0.2}:
    # (1.5 + 2 + 0 + 0.5) / 8
    assert out['scene_type_pair_auroc'] == pytest.approx(0.5)
    assert out['neighbour_class_purity'] == pytest.approx(1.0)
    assert out['ooc_neighbour_share'] == pytest.approx(0.0)
    assert out['ooc_rate'] == pytest.approx(0.2)


def test_hand_computed_k2_and_edge_cases():
    # second neighbours: o0 -> o1, o1 -> o0, o2 -> o1 (cos 0.196, wrong
    # class), o3 -> o1 (0.385, wrong), o4 -> o0: purity 8 / 10
    out = ooc_diagnostics(OBJECTS, OBJECT_SCENE, LABELS, OOC, SCENE_FEATS,
                          SCENE_TYPES, k=2)
    assert out['neighbour_class_purity'] == pytest.approx(0.8)
    # pasted neighbours of pasted objects: a second pasted object in scene 3
    # whose nearest other-scene object is o4
    objects = torch.cat([OBJECTS, torch.tensor([[1.0, 0.12]])])
    out = ooc_diagnostics(objects, OBJECT_SCENE + [3], LABELS + [0],
                          OOC + [1], SCENE_FEATS, SCENE_TYPES, k=1)
    # o4 -> o5 (cos 0.99990) now, o5 -> o4: both neighbours pasted
    assert out['ooc_neighbour_share'] == pytest.approx(1.0)
    assert out['ooc_rate'] == pytest.approx(2 / 6)
    # no object marked: the AUROCs are undefined, the rest is not
    out = ooc_diagnostics(OBJECTS, OBJECT_SCENE, LABELS, [0] * 5, SCENE_FEATS,
                          SCENE_TYPES, k=1)
    assert out['company_oracle_scenes'] is None
    assert out['company_oracle_neighbours'] is None
    assert out['ooc_neighbour_share'] is None and out['ooc_rate'] == 0.0
    assert out['scene_type_pair_auroc'] == pytest.approx(0.5)
    # one scene type: no pair of different types
    out = ooc_diagnostics(OBJECTS, OBJECT_SCENE, LABELS, OOC, SCENE_FEATS,
                          ['a'] * 4, k=1)
    assert out['scene_type_pair_auroc'] is None
    assert out['company_oracle_scenes'] == pytest.approx(0.5)  # all zero
    with pytest.raises(ValueError, match='scene_types'):
        ooc_diagnostics(OBJECTS, OBJECT_SCENE, LABELS, OOC, SCENE_FEATS,
                        ['a'] * 3)
    assert all(v is None for v in ooc_diagnostics(
        OBJECTS[:1], [0], [0], [1], SCENE_FEATS, SCENE_TYPES).values())


def test_agrees_with_a_naive_loop():
    rng = np.random.default_rng(0)
    n_scene, n_obj, k = 12, 40, 3
    feats = torch.tensor(rng.normal(size=(n_scene, 5)))
    types = rng.integers(0, 3, n_scene)
    points = torch.tensor(rng.normal(size=(n_obj, 4)))
    scene = rng.integers(0, n_scene, n_obj)
    labels = rng.integers(0, 4, n_obj)
    ooc = (rng.random(n_obj) < 0.3).astype(int)
    out = ooc_diagnostics(points, scene, labels, ooc, feats, types, k=k)
    unit = points.numpy() / np.linalg.norm(points.numpy(), axis=1,
                                           keepdims=True)
    funit = feats.numpy() / np.linalg.norm(feats.numpy(), axis=1,
                                           keepdims=True)
    s_oracle, s_nbr = [], []
    for i in range(n_obj):
        order = np.argsort(-(unit @ unit[i]), kind='stable')
        others = [j for j in order if scene[j] != scene[i]][:k]
        s_oracle.append(np.mean([types[scene[j]] != types[scene[i]]
                                 for j in others]))
        same = [j for j in order
                if scene[j] != scene[i] and labels[j] == labels[i]][:k]
        s_nbr.append(np.mean([1 - funit[scene[i]] @ funit[scene[j]]
                              for j in same]) if same else np.nan)

    def naive_auroc(score, pos):
        score, pos = np.asarray(score), np.asarray(pos, bool)
        keep = np.isfinite(score)
        score, pos = score[keep], pos[keep]
        p, n = score[pos], score[~pos]
        return np.mean([(a > b) + 0.5 * (a == b) for a in p for b in n])

    assert out['company_oracle_scenes'] == pytest.approx(
        naive_auroc(s_oracle, ooc))
    assert out['company_oracle_neighbours'] == pytest.approx(
        naive_auroc(s_nbr, ooc))
