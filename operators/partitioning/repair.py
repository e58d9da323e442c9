"""Connected clusters: every cluster of a partition becomes one connected subgraph.

:func:`connect_clusters` keeps, for each label, its largest connected piece (the
first in bus order on a tie) and frees the buses of its other pieces; the freed
buses are then grown into the kept pieces (:func:`grow_clusters`). Growth runs in
sweeps over the edges: a free bus adjacent to a labelled bus takes that label, so
each bus joins a cluster through a neighbour already in it and every cluster
stays connected. On a connected graph every bus ends up labelled.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["connect_clusters", "grow_clusters", "seed_partition"]


def grow_clusters(edges: np.ndarray, labels: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Label the free buses (label -1) by growing the labelled ones along ``edges``.

    Parameters
    ----------
    edges : ndarray of int, shape (E, 2)
    labels : ndarray of int, shape (n,)
        -1 marks a free bus. Not modified.
    order : ndarray of int, optional
        Edge order used when a free bus has several labelled neighbours (the last
        one in this order wins); default: the given edge order.

    Raises
    ------
    ValueError
        If some free bus cannot be reached from a labelled one.
    """
    out = np.array(labels, dtype=np.int64, copy=True)
    e = edges if order is None else edges[order]
    both = np.vstack([e, e[:, ::-1]])
    src, dst = both[:, 0], both[:, 1]
    while (out < 0).any():
        step = (out[src] >= 0) & (out[dst] < 0)
        if not step.any():
            raise ValueError(f"{int((out < 0).sum())} buses are not connected to any labelled bus")
        out[dst[step]] = out[src[step]]
    return out


def _pieces(edges: np.ndarray, labels: np.ndarray) -> np.ndarray:
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    n = len(labels)
    e = edges[same]
    graph = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def connect_clusters(edges: np.ndarray, labels) -> np.ndarray:
    """Repair a partition so that each cluster is connected (see the module docstring).

    Returns a new label array; labels that lose all buses disappear, no new labels
    appear. A partition whose clusters are connected is returned unchanged.
    """
    labels = np.asarray(labels, dtype=np.int64)
    piece = _pieces(edges, labels)
    size = np.bincount(piece)
    n_piece = len(size)
    piece_label = np.zeros(n_piece, dtype=np.int64)
    piece_label[piece] = labels
    # largest piece per label; lexsort sorts by label, then size descending, then piece id
    order = np.lexsort((np.arange(n_piece), -size, piece_label))
    first = np.ones(n_piece, dtype=bool)
    first[1:] = piece_label[order][1:] != piece_label[order][:-1]
    kept = np.zeros(n_piece, dtype=bool)
    kept[order[first]] = True
    if kept.all():
        return labels.copy()
    freed = np.where(kept[piece], labels, -1)
    return grow_clusters(edges, freed)


def seed_partition(edges: np.ndarray, n_bus: int, n_clusters: int,
                   random_state: np.random.Generator) -> np.ndarray:
    """A random connected partition: ``n_clusters`` random seed buses grown in random edge order."""
    labels = np.full(n_bus, -1, dtype=np.int64)
    seeds = random_state.choice(n_bus, size=min(n_clusters, n_bus), replace=False)
    labels[seeds] = np.arange(len(seeds))
    return grow_clusters(edges, labels, order=random_state.permutation(len(edges)))
