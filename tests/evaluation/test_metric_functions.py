import itertools

import numpy as np
import pytest
import torch

from hclmm.evaluation.functional import (auroc, cosine_distance,
                                         knn_predict, knn_top1,
                                         merge_close_values, recall_at_k,
                                         retrieval_average_precision,
                                         retrieval_map, spearman)


def _auroc_pairs(scores, labels):
    """Slow reference: fraction of (positive, negative) pairs ordered right."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    total = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos
                for n in neg)
    return total / (len(pos) * len(neg))


def _ap_fixed_order(order_rel):
    hits, total = 0, 0.0
    for rank, rel in enumerate(order_rel, start=1):
        if rel:
            hits += 1
            total += hits / rank
    return total / hits


def _expected_ap(dist, rel):
    """Slow reference: AP averaged over every order of the tied items."""
    dist, rel = list(dist), list(rel)
    aps = []
    for perm in itertools.permutations(range(len(dist))):
        d = [dist[i] for i in perm]
        if all(d[i] <= d[i + 1] for i in range(len(d) - 1)):
            aps.append(_ap_fixed_order([rel[i] for i in perm]))
    return float(np.mean(aps))


def test_merge_close_values():
    x = [4.6000001, 1.0, 4.5999998, 2.0, 4.6]
    merged = merge_close_values(x, rtol=1e-6)
    # every member becomes the group mean
    np.testing.assert_allclose(merged[[0, 2, 4]],
                               (4.6000001 + 4.5999998 + 4.6) / 3)
    assert merged[0] == merged[2] == merged[4]
    np.testing.assert_array_equal(merged[[1, 3]], [1.0, 2.0])
    # exact equality only with rtol=0
    assert len(set(merge_close_values(x, rtol=0))) == 5
    with pytest.raises(ValueError, match='rtol'):
        merge_close_values(x, rtol=-1)


def test_auroc_hand_computed():
    # positives 0.35, 0.8; negatives 0.1, 0.4: pairs (0.35>0.1, 0.35<0.4,
    # 0.8>0.1, 0.8>0.4) -> 3 / 4.
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auroc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1]) == pytest.approx(1.0)
    assert auroc([0.9, 0.8, 0.1, 0.2], [0, 0, 1, 1]) == pytest.approx(0.0)


def test_auroc_ties_count_half():
    # pos {1, 2}, neg {1, 0}: (1 vs 1 tie -> .5) + 1 + 1 + 1 = 3.5 / 4.
    assert auroc([1, 2, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.875)
    assert auroc([5, 5, 5], [1, 0, 0]) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=40).astype(float)  # many ties
    labels = rng.integers(0, 2, size=40)
    assert auroc(scores, labels) == pytest.approx(
        _auroc_pairs(scores, labels))


def test_auroc_accepts_torch_and_rejects_one_class():
    assert auroc(torch.tensor([0.2, 0.7]), torch.tensor([0, 1])) == 1.0
    with pytest.raises(ValueError, match='positive and one negative'):
        auroc([0.1, 0.2, 0.3], [0, 0, 0])
    with pytest.raises(ValueError, match='same shape'):
        auroc([0.1, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match='NaN'):
        auroc([0.1, float('nan')], [0, 1])


def test_spearman_hand_computed_and_ties():
    # ranks (1,2,3,4) vs (1,3,2,4): 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # x ranks (1, 2.5, 2.5, 4), y ranks (1, 2, 3, 4): centred dot 4.5,
    # norms sqrt(4.5) and sqrt(5) -> 4.5 / sqrt(22.5).
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(
        4.5 / np.sqrt(22.5))
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match='same length'):
        spearman([1, 2], [1, 2, 3])


def test_average_precision_hand_computed():
    dist = [[0.1, 0.5, 0.2, 0.9], [3.0, 2.0, 1.0, 0.0]]
    rel = [[1, 0, 0, 1], [1, 0, 0, 0]]
    # query 0: order 0(r), 2, 1, 3(r) -> (1/1 + 2/4) / 2 = 0.75
    # query 1: order 3, 2, 1, 0(r) -> 1/4
    np.testing.assert_allclose(
        retrieval_average_precision(dist, rel), [0.75, 0.25])
    assert retrieval_map(dist, rel) == pytest.approx(0.5)


def test_average_precision_ties_are_averaged():
    # relevant item tied with an irrelevant one at the top: AP is 1 or 1/2.
    np.testing.assert_allclose(
        retrieval_average_precision([[1.0, 1.0]], [[1, 0]]), [0.75])
    rng = np.random.default_rng(1)
    for _ in range(20):
        dist = rng.integers(0, 3, size=6).astype(float)
        rel = rng.integers(0, 2, size=6)
        if rel.sum() == 0:
            rel[0] = 1
        got = retrieval_average_precision(dist[None], rel[None])[0]
        assert got == pytest.approx(_expected_ap(dist, rel))


def test_map_skips_queries_without_relevant_items():
    dist = [[0.1, 0.2], [0.1, 0.2], [0.3, 0.1]]
    rel = [[0, 1], [0, 0], [0, 1]]
    ap = retrieval_average_precision(dist, rel)
    assert ap[0] == pytest.approx(0.5) and np.isnan(ap[1]) and ap[2] == 1
    value, skipped = retrieval_map(dist, rel, return_num_skipped=True)
    assert value == pytest.approx(0.75) and skipped == 1
    assert np.isnan(retrieval_map([[0.1]], [[0]]))


def test_recall_at_k():
    dist = [[0.1, 0.5, 0.2, 0.9], [3.0, 2.0, 1.0, 0.0], [1, 2, 3, 4]]
    rel = [[1, 0, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]]
    assert recall_at_k(dist, rel, k=1) == pytest.approx(0.5)
    assert recall_at_k(dist, rel, k=3) == pytest.approx(0.5)
    assert recall_at_k(dist, rel, k=4) == pytest.approx(1.0)
    per_query = recall_at_k(dist, rel, k=1, reduction='none')
    assert per_query[:2].tolist() == [1.0, 0.0] and np.isnan(per_query[2])
    # 4 tied items, 1 relevant, k=2: 1 - C(3,2)/C(4,2) = 0.5
    assert recall_at_k([[1, 1, 1, 1]], [[0, 0, 1, 0]], k=2) == 0.5
    with pytest.raises(ValueError, match='positive integer'):
        recall_at_k(dist, rel, k=0)


def test_knn_leave_one_out_nearest_neighbour():
    points = np.array([0.0, 0.1, 1.0, 1.15, 5.0])
    labels = np.array([0, 0, 1, 1, 0])
    dist = np.abs(points[:, None] - points[None])
    # nearest others: 1, 0, 3, 2, 3 -> labels 0, 0, 1, 1, 1 vs truth
    # 0, 0, 1, 1, 0 -> 4 / 5 right.
    np.testing.assert_array_equal(
        knn_predict(dist, labels, self_index=np.arange(5)), [0, 0, 1, 1, 1])
    assert knn_top1(dist, labels) == pytest.approx(0.8)
    # Without leave-one-out every point would find itself (accuracy 1).
    assert knn_top1(dist, labels, query_labels=labels) == 1.0


def test_knn_majority_vote_and_ties():
    # Query 0's three nearest: labels 2, 1, 1 -> majority 1.
    # Query 1's two nearest: labels 2, 1 (one vote each) -> the nearer, 2.
    dist = np.array([[0.1, 0.2, 0.3, 0.9], [0.1, 0.2, 0.8, 0.9]])
    bank = np.array([2, 1, 1, 3])
    assert knn_predict(dist, bank, k=3)[0] == 1
    assert knn_predict(dist, bank, k=2)[1] == 2
    # equal distances: the lower bank index wins.
    assert knn_predict([[1.0, 1.0]], [7, 8])[0] == 7
    assert knn_top1(dist, bank, k=3, query_labels=[1, 1]) == 1.0
    with pytest.raises(ValueError, match='square'):
        knn_top1(dist, bank)
    with pytest.raises(ValueError, match='neighbours requested'):
        knn_top1(np.zeros((2, 2)), [0, 1], k=2)


def _knn_reference(dist, labels, k, self_index):
    """Slow reference: sort each row by (distance, index), skip self, vote."""
    preds = []
    for i, row in enumerate(dist):
        order = [j for j in sorted(range(len(row)), key=lambda j: (row[j], j))
                 if j != self_index[i]][:k]
        votes = {}
        for rank, j in enumerate(order):
            count, first = votes.get(labels[j], (0, rank))
            votes[labels[j]] = (count + 1, first)
        preds.append(min(votes, key=lambda y: (-votes[y][0], votes[y][1])))
    return preds


@pytest.mark.parametrize('k', [1, 2, 3])
def test_knn_predict_matches_a_slow_reference_with_ties(k):
    rng = np.random.default_rng(k)
    dist = rng.integers(0, 4, size=(12, 12)).astype(float)  # many ties
    labels = rng.integers(0, 3, size=12)
    self_index = np.arange(12)
    np.testing.assert_array_equal(
        knn_predict(dist, labels, k=k, self_index=self_index),
        _knn_reference(dist, labels, k, self_index))


def test_cosine_distance_matches_the_formula():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    b = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    want = [[1 - float(x @ y) / float(x.norm() * y.norm()) for y in b]
            for x in a]
    np.testing.assert_allclose(cosine_distance(a, b).numpy(), want,
                               rtol=1e-12)
    np.testing.assert_allclose(
        cosine_distance(a[:4], b, pairwise=False).numpy(),
        np.diag(np.array(want)[:4]), rtol=1e-12)
    # against itself: zero on the diagonal, symmetric
    own = cosine_distance(a)
    np.testing.assert_allclose(own.diagonal().numpy(), 0, atol=1e-12)
    torch.testing.assert_close(own, own.T)
