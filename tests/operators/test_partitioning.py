"""GA–SA cluster partitioning: index terms, repair, Q–V sensitivity, optimiser.

References: ``networkx.community.modularity`` (modularity), a pandapower
finite-difference power flow (Q–V sensitivity), a brute force over all connected
partitions of a small graph (optimum), networkx connectivity (repair).
"""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pandapower as pp
import pytest
from hypothesis import given, settings, strategies as st

from fdnmoo.cases import load_case
from fdnmoo.operators.partitioning.electrical import (branch_graph, electrical_distance,
                                                      qv_sensitivity)
from fdnmoo.operators.partitioning.gasa import GASAPartitioner
from fdnmoo.operators.partitioning.index import (PartitionData, modularity, partition_data,
                                                 partition_index, reactive_deficit)
from fdnmoo.operators.partitioning.repair import connect_clusters, seed_partition


def _random_data(n: int, seed: int, extra_edges: int = 2) -> PartitionData:
    """A connected random graph (a random tree plus a few chords) with random powers."""
    rng = np.random.default_rng(seed)
    edges = {(int(rng.integers(k)), k) for k in range(1, n)}
    for _ in range(extra_edges):
        u, v = sorted(rng.choice(n, 2, replace=False))
        edges.add((int(u), int(v)))
    edges = np.array(sorted(edges))
    t = 4
    p = rng.uniform(0.1, 1.0, (t, n)) - rng.uniform(0, 1.5, n) * (rng.random(n) < 0.4)
    return PartitionData(np.arange(n), edges, rng.uniform(0.05, 1.0, len(edges)), p,
                         rng.uniform(0, 1, n), rng.uniform(0, 1.2, n) * (rng.random(n) < 0.5))


def _nx_graph(data: PartitionData) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(data.n_bus))
    g.add_weighted_edges_from((int(u), int(v), float(w)) for (u, v), w in zip(data.edges, data.edge_weight))
    return g


def _communities(labels) -> list[set[int]]:
    return [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]


def _connected(g: nx.Graph, labels) -> bool:
    return all(nx.is_connected(g.subgraph(c)) for c in _communities(np.asarray(labels)))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 30), seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_modularity_equals_networkx(n, seed, k):
    data = _random_data(n, seed)
    labels = np.random.default_rng(seed + 1).integers(0, k, n)
    expected = nx.community.modularity(_nx_graph(data), _communities(labels), weight="weight")
    assert modularity(data, labels) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 40), seed=st.integers(0, 10_000), k=st.integers(1, 8))
def test_repair_gives_connected_clusters(n, seed, k):
    data = _random_data(n, seed, extra_edges=n // 5)
    g = _nx_graph(data)
    labels = np.random.default_rng(seed + 2).integers(0, k, n)
    before = labels.copy()
    fixed = connect_clusters(data.edges, labels)
    assert np.array_equal(labels, before)                  # input not mutated
    assert _connected(g, fixed)
    assert set(fixed) <= set(labels)                        # no new labels
    assert np.array_equal(connect_clusters(data.edges, fixed), fixed)   # connected: unchanged
    seeded = seed_partition(data.edges, n, k, np.random.default_rng(seed))
    assert _connected(g, seeded) and len(set(seeded)) == min(k, n)


def _set_partitions(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1:]
        yield [[first]] + part


def _brute_force(data: PartitionData, weights, use_filter: bool, min_clusters: int = 2) -> float:
    g = _nx_graph(data)
    best = -np.inf
    for part in _set_partitions(list(range(data.n_bus))):
        labels = np.empty(data.n_bus, dtype=int)
        for c, members in enumerate(part):
            labels[members] = c
        if len(part) < min_clusters or not _connected(g, labels) or (use_filter and (reactive_deficit(data, labels) > 0).any()):
            continue
        best = max(best, partition_index(data, labels, weights))
    return best


@pytest.mark.parametrize("seed", [3, 11])
def test_gasa_finds_the_brute_force_optimum(seed):
    data = _random_data(7, seed)
    weights = (0.4, 0.2, 0.2, 0.2)
    # all 877 partitions of 7 buses; those of >= 2 connected clusters are the candidates
    optimum = _brute_force(data, weights, use_filter=False)
    result = GASAPartitioner(max_clusters=7, weights=weights, pop_size=20, reactive_filter=False,
                             random_state=seed).fit(data)
    assert result.index == pytest.approx(optimum, abs=1e-12)
    assert partition_index(data, result.cluster, weights) == pytest.approx(result.index, abs=1e-12)


def test_gasa_reactive_filter_matches_the_filtered_brute_force():
    data = _random_data(7, 5)
    data = PartitionData(data.bus_labels, data.edges, data.edge_weight, data.p_mw,
                         data.q_need_mvar, data.q_need_mvar.sum() * 0.4 * (np.arange(7) % 3 == 0))
    optimum = _brute_force(data, (0.4, 0.2, 0.2, 0.2), use_filter=True)
    assert optimum < _brute_force(data, (0.4, 0.2, 0.2, 0.2), use_filter=False)   # the filter bites
    result = GASAPartitioner(max_clusters=7, pop_size=20, random_state=1).fit(data)
    assert result.reactive_filter_met and not result.reactive_deficient.any()
    assert result.index == pytest.approx(optimum, abs=1e-12)


def test_same_seed_same_partition():
    data = _random_data(25, 7, extra_edges=3)
    run = lambda s: GASAPartitioner(max_clusters=5, pop_size=10, cooling=0.7, random_state=s).fit(data)
    a, b = run(4), run(4)
    assert np.array_equal(a.cluster, b.cluster) and a.index == b.index
    assert a.best_per_level == b.best_per_level


@pytest.mark.parametrize("kwargs, match", [({"cooling": 1.0}, "cooling"), ({"pop_size": 1}, "pop_size"),
                                           ({"mut_prob": 2.0}, "mut_prob"), ({"weights": (1, 2)}, "weights")])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GASAPartitioner(**kwargs).fit(_random_data(5, 0))


@pytest.fixture(scope="module")
def ieee33():
    return load_case("ieee33").net


def test_qv_sensitivity_matches_a_pandapower_finite_difference(ieee33):
    labels = np.array(sorted(branch_graph(ieee33).nodes))
    s = qv_sensitivity(ieee33, labels)
    net = copy.deepcopy(ieee33)
    pp.runpp(net)
    v0 = net.res_bus.vm_pu.loc[labels].to_numpy()
    dq_mvar = 0.01          # small injection: linear regime (second-order error ~1e-3 relative)
    bus = 17
    pp.create_sgen(net, bus, p_mw=0.0, q_mvar=dq_mvar)
    pp.runpp(net)
    dv = net.res_bus.vm_pu.loc[labels].to_numpy() - v0
    column = s[:, list(labels).index(bus)] * dq_mvar / net.sn_mva
    assert np.allclose(dv, column, rtol=0.02, atol=1e-7)
    slack = list(labels).index(int(ieee33.ext_grid.bus.iloc[0]))
    assert np.all(s[slack] == 0) and np.all(s[:, slack] == 0)   # the slack holds its voltage
    d = electrical_distance(s)
    assert np.allclose(d, d.T) and d.min() >= -1e-12


def test_qv_sensitivity_names_a_failed_power_flow(ieee33):
    net = copy.deepcopy(ieee33)
    net.load["p_mw"] *= 50          # far beyond the feeder's loadability
    with pytest.raises(ValueError, match="did not converge"):
        qv_sensitivity(net)


def _ieee33_with_pv(net):
    """ieee33 with PV/SVC at five buses and 24 hourly slots (an illustrative day)."""
    net = copy.deepcopy(net)
    for bus, p_mw, q_mvar in ((7, 0.6, 0.3), (13, 0.5, 0.3), (17, 0.4, 0.2), (24, 0.8, 0.4), (30, 0.7, 0.4)):
        pp.create_sgen(net, bus, p_mw=0.0, q_mvar=0.0, max_q_mvar=q_mvar, name=f"pv{p_mw}")
    hours = np.arange(24)
    load_pu = 0.6 + 0.4 * np.exp(-((hours - 19) / 3.0) ** 2)
    pv_pu = np.clip(np.sin(np.pi * (hours - 6) / 12), 0, None)
    labels = np.array(sorted(branch_graph(net).nodes))
    load = net.load.groupby("bus").p_mw.sum().reindex(labels, fill_value=0).to_numpy()
    pv = np.zeros(len(labels))
    for bus, p_mw in ((7, 0.6), (13, 0.5), (17, 0.4), (24, 0.8), (30, 0.7)):
        pv[list(labels).index(bus)] += p_mw
    return partition_data(net, p_mw=load_pu[:, None] * load - pv_pu[:, None] * pv)


def _nx_labels(communities, n):
    labels = np.zeros(n, dtype=int)
    for c, members in enumerate(communities):
        labels[list(members)] = c
    return labels


def compare_with_networkx(data: PartitionData, result) -> dict[str, dict[str, float]]:
    g = _nx_graph(data)
    rows = {"gasa": {"index": result.index, "modularity": result.terms["modularity"],
                     "clusters": len(set(result.cluster))}}
    for name, comms in (("greedy", nx.community.greedy_modularity_communities(g, weight="weight")),
                        ("louvain", nx.community.louvain_communities(g, weight="weight", seed=0))):
        labels = _nx_labels(comms, data.n_bus)
        rows[name] = {"index": partition_index(data, labels), "modularity": modularity(data, labels),
                      "clusters": len(comms)}
    return rows


def test_ieee33_at_least_networkx_on_the_index(ieee33):
    data = _ieee33_with_pv(ieee33)
    result = GASAPartitioner(max_clusters=8, reactive_filter=False, random_state=0).fit(data)
    rows = compare_with_networkx(data, result)
    print(rows)
    assert _connected(_nx_graph(data), result.cluster)
    for name in ("greedy", "louvain"):
        assert rows["gasa"]["index"] >= rows[name]["index"], (name, rows)


@pytest.mark.slow
@pytest.mark.parametrize("case, max_clusters", [("tpc84", 12), ("synthetic", 40)])
def test_large_cases_at_least_networkx_on_the_index(case, max_clusters):
    """tpc84 and the 1,000-bus synthetic feeder (loads only: the balance terms are 0)."""
    data = partition_data(load_case(case).net)
    result = GASAPartitioner(max_clusters=max_clusters, reactive_filter=False, random_state=0).fit(data)
    rows = compare_with_networkx(data, result)
    print(case, rows)
    assert _connected(_nx_graph(data), result.cluster)
    for name in ("greedy", "louvain"):
        assert rows["gasa"]["index"] >= rows[name]["index"], (name, rows)
