"""Scenario reduction: k-means (k from the SSE elbow and the silhouette) and backward reduction.

Both return :class:`ReducedScenarios` (scenarios, probabilities, the Kantorovich
distance to the full set). Distances are Euclidean between whole scenarios (rows).

* :func:`kmeans_reduction` -- scikit-learn ``KMeans`` for every k in ``k_values``; the
  elbow is the k of the normalised SSE curve farthest below the chord from its first to
  its last point; the silhouette is scikit-learn's ``silhouette_score``. The elbow k is
  kept if its silhouette is within 10 % of the best one, else the best-silhouette k is
  taken. Scenarios are the centres, probabilities the cluster shares.
* :func:`backward_reduction` -- simultaneous backward reduction (Dupacova, Growe-Kuska &
  Roemisch 2003; Heitsch & Roemisch 2003): repeatedly delete the scenario whose deletion
  raises the Kantorovich distance least, then give every deleted scenario's probability
  to its nearest kept one. The first and second nearest kept scenario of every point are
  kept up to date, so that each step costs O(n) plus the rows whose neighbours changed.

For a kept set K with this redistribution, the Kantorovich distance (p = 1) is
``sum_i p_i min_{j in K} |x_i - x_j|`` exactly (the same holds for k-means at
convergence: every point goes to its nearest centre).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

__all__ = ["ReducedScenarios", "kmeans_reduction", "backward_reduction", "kantorovich_to_support"]

_SILHOUETTE_SLACK = 0.10


@dataclass(frozen=True)
class ReducedScenarios:
    """A reduced scenario set.

    Attributes
    ----------
    scenarios : ndarray, shape (k, n_features)
    probability : ndarray, shape (k,)
        Sums to 1.
    labels : ndarray, shape (n_samples,)
        Reduced scenario each original one is mapped to.
    distance : float
        Kantorovich (p = 1) distance between the full and the reduced distribution.
    k : int
    diagnostics : dict
        k-means: ``k_values``, ``sse``, ``silhouette``, ``elbow_k``, ``silhouette_k``;
        backward: ``kept`` (indices into the original set).
    """

    scenarios: np.ndarray
    probability: np.ndarray
    labels: np.ndarray
    distance: float
    k: int
    diagnostics: dict = field(default_factory=dict)


def _check(X, probability):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 2 or not np.isfinite(X).all():
        raise ValueError(f"scenarios must be a finite (n_scenarios >= 2, n_features) array, got shape {X.shape}")
    p = np.full(X.shape[0], 1.0 / X.shape[0]) if probability is None else np.asarray(probability, float)
    if p.shape != (X.shape[0],) or (p < 0).any() or not np.isclose(p.sum(), 1.0):
        raise ValueError(f"probability must be {X.shape[0]} non-negative values summing to 1")
    return X, p


def kantorovich_to_support(X, probability, support) -> tuple[float, np.ndarray]:
    """Distance and nearest-support labels when each scenario moves to its nearest support point."""
    d = cdist(X, support)
    labels = d.argmin(axis=1)
    return float(probability @ d[np.arange(X.shape[0]), labels]), labels


def elbow(k_values, sse) -> int:
    """k farthest below the chord of the SSE curve (both axes scaled to [0, 1])."""
    k = np.asarray(k_values, float)
    s = np.asarray(sse, float)
    kn = (k - k[0]) / (k[-1] - k[0])
    sn = (s - s[-1]) / (s[0] - s[-1]) if s[0] != s[-1] else np.zeros_like(s)
    return int(k_values[int(np.argmax((1 - kn) - sn))])


def kmeans_reduction(X, k_values=range(2, 11), random_state=None, n_init: int = 4) -> ReducedScenarios:
    """Reduce equiprobable scenarios ``X`` by k-means, choosing k (see the module docstring).

    ``k_values`` with one value fixes k: one fit, no SSE or silhouette
    (``diagnostics`` then holds only ``k_values``).
    """
    X, p = _check(X, None)
    k_values = [int(k) for k in k_values]
    if len(k_values) == 1 and 1 <= k_values[0] < X.shape[0]:
        best = KMeans(k_values[0], n_init=n_init, random_state=random_state).fit(X)
        return _from_kmeans(X, p, best, {"k_values": k_values})
    if len(k_values) < 3 or min(k_values) < 2 or max(k_values) >= X.shape[0]:
        raise ValueError(f"k_values needs one value in [1, n_scenarios - 1] (a fixed k) or >= 3 "
                         f"values in [2, n_scenarios - 1], got {k_values}")
    fits = [KMeans(k, n_init=n_init, random_state=random_state).fit(X) for k in k_values]
    sse = np.array([f.inertia_ for f in fits])
    sil = np.array([silhouette_score(X, f.labels_) for f in fits])
    k_elbow = elbow(k_values, sse)
    k_sil = k_values[int(np.argmax(sil))]
    k = k_elbow if sil[k_values.index(k_elbow)] >= (1 - _SILHOUETTE_SLACK) * sil.max() else k_sil
    return _from_kmeans(X, p, fits[k_values.index(k)],
                        {"k_values": k_values, "sse": sse, "silhouette": sil,
                         "elbow_k": k_elbow, "silhouette_k": k_sil})


def _from_kmeans(X, p, fit, diagnostics) -> ReducedScenarios:
    k = int(fit.n_clusters)
    prob = np.bincount(fit.labels_, minlength=k) / X.shape[0]
    dist, _ = kantorovich_to_support(X, p, fit.cluster_centers_)
    return ReducedScenarios(fit.cluster_centers_, prob, fit.labels_, dist, k, diagnostics)


def _two_nearest(c: np.ndarray, rows: np.ndarray, kept: np.ndarray):
    """First and second nearest kept index (not the row itself) and their distances."""
    sub = c[np.ix_(rows, kept)]
    sub[kept[None, :] == rows[:, None]] = np.inf
    if kept.size == 1:
        return kept[np.zeros(rows.size, int)], sub[:, 0], np.full(rows.size, -1), np.full(rows.size, np.inf)
    two = np.argpartition(sub, 1, axis=1)[:, :2]
    d2 = np.take_along_axis(sub, two, axis=1)
    swap = d2[:, 1] < d2[:, 0]
    two[swap] = two[swap][:, ::-1]
    d2[swap] = d2[swap][:, ::-1]
    return kept[two[:, 0]], d2[:, 0], kept[two[:, 1]], d2[:, 1]


def backward_reduction(X, k: int, probability=None) -> ReducedScenarios:
    """Simultaneous backward reduction of ``X`` to ``k`` scenarios (Kantorovich, Euclidean)."""
    X, p = _check(X, probability)
    n = X.shape[0]
    if not 1 <= int(k) < n:
        raise ValueError(f"k must lie in [1, {n - 1}], got {k}")
    c = cdist(X, X)
    is_kept = np.ones(n, bool)
    every = np.arange(n)
    f1, d1, f2, d2 = _two_nearest(c, every, every)
    for _ in range(n - int(k)):
        deleted = ~is_kept
        # extra cost of deleting l: deleted points whose nearest is l move to their second nearest
        extra = np.bincount(f1[deleted], weights=p[deleted] * (d2[deleted] - d1[deleted]), minlength=n)
        cost = np.where(is_kept, extra + p * d1, np.inf)
        l = int(np.argmin(cost))
        is_kept[l] = False
        affected = np.flatnonzero((f1 == l) | (f2 == l))
        if affected.size:
            f1[affected], d1[affected], f2[affected], d2[affected] = _two_nearest(c, affected, np.flatnonzero(is_kept))
    kept = np.flatnonzero(is_kept)
    dist, labels = kantorovich_to_support(X, p, X[kept])
    prob = np.bincount(labels, weights=p, minlength=kept.size)
    return ReducedScenarios(X[kept], prob, labels, dist, kept.size, {"kept": kept})
