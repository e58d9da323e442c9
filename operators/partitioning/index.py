"""The comprehensive cluster-partition index of the zonal-planning seed paper.

The paper's equations were lost in extraction; these are our definitions. A
partition is an integer label per bus (any integers; clusters are the distinct
labels). ``K`` is the number of clusters, ``T`` the number of time slots.

Modularity ``ρ``
    Newman's weighted modularity on the branch graph with the electrical-distance
    weights (:mod:`.electrical`): ``ρ = Σ_c [W_c / m - (D_c / 2m)²]``, with ``W_c``
    the weight inside cluster c, ``D_c`` its total weighted degree and ``m`` the
    total weight (resolution 1, as ``networkx.community.modularity``).
Active-power balance ``φP``
    ``1 - Σ_c Σ_t |Σ_{i∈c} p_i(t)| / Σ_c Σ_t Σ_{i∈c} |p_i(t)|``: the share of the
    gross power that the clusters balance inside themselves, slot by slot (1 when
    every cluster's generation meets its load in every slot, 0 when no cluster
    holds both; 1 if the network has no power at all).
Reactive-power balance ``φQ``
    ``Σ_c min(Q_sup,c, Q_need,c) / Σ_c Q_need,c``: the share of the reactive
    demand that can be met inside its own cluster (1 if there is no demand).
    Both balances are sums over clusters, not means of per-cluster ratios, so a
    cluster without load (e.g. the slack bus alone) earns nothing by itself.
Node affiliation ``φA``
    Per bus, ``(k_in - k_other) / k`` with ``k`` its number of branches, ``k_in``
    those inside its cluster and ``k_other`` the most it has to any one other
    cluster (a bus that would rather belong elsewhere scores below 0); ``φA`` is
    the mean over buses.
Index
    ``w1 ρ + w2 φP + w3 φQ + w4 φA`` (default weights :data:`DEFAULT_WEIGHTS`).
Reactive filter (step 1 of the paper's algorithm)
    A cluster is reactive-deficient if ``Q_sup,c < Q_need,c``
    (:func:`reactive_deficit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fdnmoo.demand import bus_demand, element_demand

from .electrical import branch_graph, edge_weights, electrical_distance, qv_sensitivity

__all__ = ["DEFAULT_WEIGHTS", "PartitionData", "active_balance", "affiliation", "index_terms",
           "modularity", "partition_data", "partition_index", "reactive_balance",
           "reactive_deficit"]

#: default (w1, w2, w3, w4) of modularity, active balance, reactive balance, affiliation
DEFAULT_WEIGHTS: tuple[float, float, float, float] = (0.4, 0.2, 0.2, 0.2)


@dataclass(frozen=True)
class PartitionData:
    """Arrays the index reads; buses are positions ``0..n-1`` of ``bus_labels``.

    Attributes
    ----------
    bus_labels : ndarray, shape (n,)
    edges : ndarray of int, shape (E, 2)
        Branch graph edges as bus positions (each edge once).
    edge_weight : ndarray, shape (E,)
        Modularity weights (non-negative).
    p_mw : ndarray, shape (T, n)
        Net active demand per slot and bus (+ = consumption, pandapower's load sign).
    q_need_mvar, q_supply_mvar : ndarray, shape (n,)
        Reactive demand and reactive supply capability per bus (both ≥ 0).
    """

    bus_labels: np.ndarray
    edges: np.ndarray
    edge_weight: np.ndarray
    p_mw: np.ndarray
    q_need_mvar: np.ndarray
    q_supply_mvar: np.ndarray

    @property
    def n_bus(self) -> int:
        return len(self.bus_labels)


def partition_data(net, p_mw=None, q_supply_mvar=None, q_need_mvar=None) -> PartitionData:
    """Build :class:`PartitionData` from a pandapower net.

    Parameters
    ----------
    net : pandapowerNet
    p_mw : array_like, shape (T, n_bus), optional
        Net demand per slot in the order of the in-service buses (default: one
        slot, the net's loads minus static generators, :func:`fdnmoo.demand.bus_demand`).
    q_supply_mvar : array_like, shape (n_bus,), optional
        Default: per bus, the ``max_q_mvar`` of its in-service static generators
        (where the column is present and finite) plus the output of capacitive
        shunts (``-q_mvar`` of shunts with ``q_mvar < 0``).
    q_need_mvar : array_like, shape (n_bus,), optional
        Default: the loads' ``q_mvar`` per bus (inductive demand, ≥ 0 part).
    """
    graph = branch_graph(net)
    labels = np.array(sorted(graph.nodes), dtype=np.int64)
    distance = electrical_distance(qv_sensitivity(net, labels))
    weights = edge_weights(graph, distance, labels)
    pos = {int(b): k for k, b in enumerate(labels)}
    edges = np.array([(pos[u], pos[v]) for u, v in weights], dtype=np.int64).reshape(-1, 2)
    if p_mw is None:
        p_mw = bus_demand(net, labels)[0][None, :]
    if q_need_mvar is None:
        q_need_mvar = np.clip(bus_demand(net, labels, tables=(("load", 1.0),))[1], 0.0, None)
    if q_supply_mvar is None:
        q_supply_mvar = _q_capability(net, labels)
    p_mw = np.atleast_2d(np.asarray(p_mw, dtype=float))
    for name, value, shape in (("p_mw", p_mw, (p_mw.shape[0], len(labels))),
                               ("q_need_mvar", np.asarray(q_need_mvar), (len(labels),)),
                               ("q_supply_mvar", np.asarray(q_supply_mvar), (len(labels),))):
        if value.shape != shape:
            raise ValueError(f"partition_data: {name} has shape {value.shape}, expected {shape} "
                             f"(in-service buses {len(labels)})")
    return PartitionData(labels, edges, np.array(list(weights.values()), dtype=float), p_mw,
                         np.asarray(q_need_mvar, dtype=float), np.asarray(q_supply_mvar, dtype=float))


def _q_capability(net, labels: np.ndarray) -> np.ndarray:
    lookup = {int(b): k for k, b in enumerate(labels)}
    q = np.zeros(len(labels))
    if "sgen" in net and len(net.sgen) and "max_q_mvar" in net.sgen:
        sgen = net.sgen[net.sgen.in_service.astype(bool)]
        cap = sgen.max_q_mvar.to_numpy(float)
        for bus, value in zip(sgen.bus.astype(int), cap):
            if np.isfinite(value) and bus in lookup:
                q[lookup[bus]] += max(value, 0.0)
    bus, _, q_shunt = element_demand(net, "shunt") if "shunt" in net else (np.zeros(0, int),) * 3
    for b, value in zip(bus, q_shunt):
        if value < 0 and int(b) in lookup:
            q[lookup[int(b)]] -= value
    return q


def _compact(labels) -> tuple[np.ndarray, int]:
    uniq, inverse = np.unique(np.asarray(labels), return_inverse=True)
    return inverse.astype(np.int64), len(uniq)


def modularity(data: PartitionData, labels) -> float:
    """Weighted modularity ``ρ`` (resolution 1) of a partition."""
    c, k = _compact(labels)
    w = data.edge_weight
    m = w.sum()
    if m <= 0:
        return 0.0
    a, b = c[data.edges[:, 0]], c[data.edges[:, 1]]
    inside = np.bincount(a[a == b], weights=w[a == b], minlength=k)
    degree = np.bincount(a, weights=w, minlength=k) + np.bincount(b, weights=w, minlength=k)
    return float((inside / m - (degree / (2 * m)) ** 2).sum())


def active_balance(data: PartitionData, labels) -> float:
    """Active-power balance ``φP`` over the T slots."""
    c, k = _compact(labels)
    gross = np.abs(data.p_mw).sum()
    if gross <= 0:
        return 1.0
    residual = sum(np.abs(np.bincount(c, weights=p_t, minlength=k)).sum() for p_t in data.p_mw)
    return float(max(0.0, 1.0 - residual / gross))   # residual <= gross; rounding aside


def _cluster_q(data: PartitionData, labels) -> tuple[np.ndarray, np.ndarray]:
    c, k = _compact(labels)
    return (np.bincount(c, weights=data.q_supply_mvar, minlength=k),
            np.bincount(c, weights=data.q_need_mvar, minlength=k))


def reactive_balance(data: PartitionData, labels) -> float:
    """Reactive-power balance ``φQ`` (share of ``Q_need`` met inside its cluster)."""
    supply, need = _cluster_q(data, labels)
    total = need.sum()
    return float(np.minimum(supply, need).sum() / total) if total > 0 else 1.0


def reactive_deficit(data: PartitionData, labels) -> np.ndarray:
    """``max(0, Q_need,c - Q_sup,c)`` per cluster (clusters in sorted-label order)."""
    supply, need = _cluster_q(data, labels)
    return np.maximum(0.0, need - supply)


def affiliation(data: PartitionData, labels) -> float:
    """Node affiliation ``φA`` (mean over buses of ``(k_in - k_other) / k``)."""
    c, k = _compact(labels)
    n = data.n_bus
    links = np.zeros((n, k))
    u, v = data.edges[:, 0], data.edges[:, 1]
    np.add.at(links, (u, c[v]), 1.0)
    np.add.at(links, (v, c[u]), 1.0)
    degree = links.sum(axis=1)
    own = links[np.arange(n), c]
    links[np.arange(n), c] = -np.inf
    other = np.maximum(links.max(axis=1), 0.0) if k > 1 else np.zeros(n)
    score = np.where(degree > 0, (own - other) / np.where(degree > 0, degree, 1.0), 1.0)
    return float(score.mean())


def index_terms(data: PartitionData, labels) -> dict[str, float]:
    """The four terms ``{"modularity", "active_balance", "reactive_balance", "affiliation"}``."""
    return {"modularity": modularity(data, labels), "active_balance": active_balance(data, labels),
            "reactive_balance": reactive_balance(data, labels),
            "affiliation": affiliation(data, labels)}


def partition_index(data: PartitionData, labels, weights=DEFAULT_WEIGHTS) -> float:
    """``w1 ρ + w2 φP + w3 φQ + w4 φA`` of a partition."""
    terms = index_terms(data, labels)
    return float(np.dot(np.asarray(weights, dtype=float), list(terms.values())))
