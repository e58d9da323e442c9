"""Scenario reduction: k-means picks the planted k; backward reduction against enumeration and an LP."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.spatial.distance import cdist

from fdnmoo.uncertainty.reduction import backward_reduction, elbow, kmeans_reduction


def _transport_lp(x, p, y, q):
    """Kantorovich distance between two discrete distributions, by linear programming."""
    c = cdist(x, y)
    n, m = c.shape
    a_eq = np.vstack([np.kron(np.eye(n), np.ones(m)), np.kron(np.ones(n), np.eye(m))])
    return linprog(c.ravel(), A_eq=a_eq, b_eq=np.r_[p, q], bounds=(0, None), method="highs").fun


def _best_subset(x, p, k):
    c = cdist(x, x)
    return min(p @ c[:, list(kept)].min(axis=1) for kept in itertools.combinations(range(len(x)), k))


@pytest.fixture(scope="module")
def four_cluster_days():
    rng = np.random.default_rng(0)
    hours = np.arange(24)
    shapes = [0.5 + 0.3 * np.sin(2 * np.pi * (hours - 6 * s) / 24) for s in range(4)]
    return np.vstack([shape + rng.normal(0, 0.02, (100, 24)) for shape in shapes])


def test_kmeans_chooses_four_planted_clusters(four_cluster_days):
    red = kmeans_reduction(four_cluster_days, k_values=range(2, 9), random_state=0)
    assert red.k == 4
    assert red.diagnostics["elbow_k"] == 4 and red.diagnostics["silhouette_k"] == 4
    np.testing.assert_allclose(np.sort(red.probability), [0.25] * 4)
    # centres weighted by cluster shares are the sample mean (each centre is its cluster's mean)
    np.testing.assert_allclose(red.probability @ red.scenarios, four_cluster_days.mean(axis=0), atol=1e-9)
    assert red.distance == pytest.approx(_transport_lp(four_cluster_days, np.full(400, 1 / 400),
                                                       red.scenarios, red.probability), rel=1e-6)


def test_elbow_of_a_kinked_curve():
    assert elbow([1, 2, 3, 4, 5, 6], [100, 50, 10, 8, 7, 6]) == 3


@pytest.mark.parametrize("seed", range(5))
def test_backward_one_deletion_is_the_enumerated_optimum(seed):
    rng = np.random.default_rng(seed)
    x, p = rng.random((5, 3)), rng.dirichlet(np.ones(5))
    red = backward_reduction(x, 4, p)
    assert red.distance == pytest.approx(_best_subset(x, p, 4), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_backward_two_of_five_against_enumeration_and_lp(seed):
    rng = np.random.default_rng(seed)
    x, p = rng.random((5, 2)), rng.dirichlet(np.ones(5))
    red = backward_reduction(x, 2, p)
    assert red.probability.sum() == pytest.approx(1.0)
    # the reported distance is the optimal transport to the reduced distribution
    assert red.distance == pytest.approx(_transport_lp(x, p, red.scenarios, red.probability), rel=1e-7)
    best = _best_subset(x, p, 2)
    assert best - 1e-12 <= red.distance <= 1.5 * best   # a greedy heuristic, never better than optimal


def test_backward_finds_two_obvious_groups():
    x = np.array([[0.0], [0.1], [0.2], [10.0], [10.1]])
    red = backward_reduction(x, 2)
    assert list(red.diagnostics["kept"]) == [1, 3] or list(red.diagnostics["kept"]) == [1, 4]
    np.testing.assert_allclose(red.probability, [0.6, 0.4])
    assert red.distance == pytest.approx(_best_subset(x, np.full(5, 0.2), 2))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="k must lie"):
        backward_reduction(np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match="probability"):
        backward_reduction(np.zeros((3, 2)), 1, [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="k_values"):
        kmeans_reduction(np.zeros((5, 2)), k_values=[2, 3])


def test_kmeans_at_a_fixed_k_is_scikit_learns_fit(four_cluster_days):
    from sklearn.cluster import KMeans

    red = kmeans_reduction(four_cluster_days, k_values=[3], random_state=7)
    ref = KMeans(3, n_init=4, random_state=7).fit(four_cluster_days)   # the reference, called directly
    np.testing.assert_array_equal(red.scenarios, ref.cluster_centers_)
    np.testing.assert_allclose(red.probability, np.bincount(ref.labels_) / 400)
    d = cdist(four_cluster_days, ref.cluster_centers_).min(axis=1).mean()
    assert red.k == 3 and red.distance == pytest.approx(d, rel=1e-12)
    assert red.diagnostics == {"k_values": [3]}


@pytest.mark.parametrize("seed", range(3))
def test_backward_three_of_seven_is_near_the_best_subset(seed):
    rng = np.random.default_rng(10 + seed)
    x, p = rng.random((7, 4)), rng.dirichlet(np.ones(7))
    red = backward_reduction(x, 3, p)
    best = _best_subset(x, p, 3)   # brute force over the 35 kept sets
    assert best - 1e-12 <= red.distance <= 1.5 * best
    assert red.distance == pytest.approx(p @ cdist(x, red.scenarios).min(axis=1), rel=1e-12)
