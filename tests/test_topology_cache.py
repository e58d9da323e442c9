"""The per-topology cache (fdnmoo.topology_cache): one entry per distinct topology, bounded,
one branch table per grid, and its maps checked against networkx on random radial plans."""

import networkx as nx
import numpy as np
import pytest

import fdnmoo.powerflow.batch as pf_batch
from fdnmoo.branches import branch_table
from fdnmoo.cases import load_case
from fdnmoo.metrics.adaptability import pv_uneven_degrees, structure_terms
from fdnmoo.metrics.reliability import reliability_arrays
from fdnmoo.planning import Plan, PlanBatch, planning_grid
from fdnmoo.powerflow import BatchPowerFlow
from fdnmoo.topology import NonRadialError, spanning_forest
from fdnmoo.topology_cache import TopologyCache


@pytest.fixture(scope="module")
def ieee33():
    return planning_grid(load_case("ieee33"))


@pytest.fixture(scope="module")
def md24():
    return planning_grid(load_case("md24"))


def random_plan(grid, rng, n_stages=2):
    """Random spanning forests of the case's and the candidate lines, per stage."""
    br = branch_table(grid.net)
    # the case's transformers and one type at every candidate substation
    built = np.union1d(grid.base_closed_trafos,
                       grid.candidate_trafos.groupby("bus").head(1).index.to_numpy())
    lines, trafos = [], []
    for _ in range(n_stages):
        weights = np.full(br.from_pos.size, np.inf)
        weights[:br.n_line] = rng.random(br.n_line)
        weights[br.trafo_position(built)] = -1.0
        closed = spanning_forest(br.n_bus, br.from_pos, br.to_pos, weights, br.root_pos)
        lines.append(br.element[np.flatnonzero(closed[:br.n_line])])
        trafos.append(built)
    return Plan(n_stages=n_stages, closed_lines=lines, closed_trafos=trafos)


def test_one_entry_per_distinct_topology_kept_across_calls(ieee33):
    rng = np.random.default_rng(0)
    plans = [random_plan(ieee33, rng) for _ in range(3)]
    plans += [plans[0], Plan.on_base_topology(ieee33, 2)]
    batch = PlanBatch.of(ieee33, plans)
    cache = TopologyCache(ieee33)
    index, topos = cache.of_batch(batch)
    assert len(topos) == len({k for keys in batch.topology_keys for k in keys}) == 7
    assert (index[3] == index[0]).all() and index[4, 0] == index[4, 1]
    assert cache.misses == 7
    again, topos2 = cache.of_batch(batch)
    assert (again == index).all() and all(a is b for a, b in zip(topos, topos2))
    assert cache.misses == 7 and cache.hits == 7  # the second call builds nothing


def test_least_recently_used_is_dropped(ieee33):
    rng = np.random.default_rng(1)
    batch = PlanBatch.of(ieee33, [random_plan(ieee33, rng, n_stages=1) for _ in range(3)])
    keys = [k[0] for k in batch.topology_keys]
    cache = TopologyCache(ieee33, max_topologies=2)
    first = cache.topology(keys[0], batch.closed_lines[0, 0], batch.closed_trafos[0, 0])
    cache.topology(keys[1], batch.closed_lines[1, 0], batch.closed_trafos[1, 0])
    cache.topology(keys[0], batch.closed_lines[0, 0], batch.closed_trafos[0, 0])  # now recent
    cache.topology(keys[2], batch.closed_lines[2, 0], batch.closed_trafos[2, 0])
    assert len(cache) == 2 and cache.misses == 3
    assert cache.topology(keys[0], batch.closed_lines[0, 0], batch.closed_trafos[0, 0]) is first
    cache.topology(keys[1], batch.closed_lines[1, 0], batch.closed_trafos[1, 0])
    assert cache.misses == 4  # keys[1] was the least recently used one


def test_a_loop_is_named(ieee33):
    line_mask = np.ones(len(ieee33.net.line), bool)  # every tie closed
    trafo_mask = np.ones(len(ieee33.net.trafo), bool)
    with pytest.raises(NonRadialError, match="not radial"):
        TopologyCache(ieee33).topology(b"all closed", line_mask, trafo_mask)


def test_one_branch_table_per_grid_for_power_flow_and_metrics(ieee33, monkeypatch):
    calls = []
    real = pf_batch.branch_table
    monkeypatch.setattr(pf_batch, "branch_table", lambda net: calls.append(1) or real(net))
    rng = np.random.default_rng(2)
    batch = PlanBatch.of(ieee33, [random_plan(ieee33, rng) for _ in range(4)])
    engine = BatchPowerFlow(ieee33.net)
    cache = TopologyCache(ieee33, engine=engine)
    for _ in range(2):  # two generations
        structure_terms(ieee33, batch, cache)
        pv_uneven_degrees(ieee33, batch, cache)
        reliability_arrays(ieee33, batch, np.ones((4, 2, len(ieee33.net.bus))), cache=cache)
        index, topos = cache.of_batch(batch)
        for topo in topos:
            eng = cache.engine(topo)
            assert eng is cache.engine(topo)
            assert (eng.closed[:eng.branches.n_line] == topo.closed[:eng.branches.n_line]).all()
            assert eng.structure is topo.structure  # one radial order for both
    assert len(calls) == 1


# --- maps against networkx ---------------------------------------------------------------
def closed_graph(grid, topo):
    """The closed lines and transformers of a topology as a networkx graph of bus labels."""
    net = grid.net
    g = nx.Graph()
    g.add_nodes_from(net.bus.index)
    line, trafo = net.line.loc[topo.closed_lines], net.trafo.loc[topo.closed_trafos]
    for _, r in line.iterrows():
        g.add_edge(int(r.from_bus), int(r.to_bus), r_ohm=r.r_ohm_per_km * r.length_km,
                   trafo=False)
    for _, r in trafo.iterrows():
        g.add_edge(int(r.hv_bus), int(r.lv_bus), trafo=True)
    return g


@pytest.mark.parametrize("name, seed", [("ieee33", 3), ("ieee33", 4), ("md24", 5)])
def test_areas_distances_and_subtrees_agree_with_networkx(name, seed, request):
    grid = request.getfixturevalue(name)
    plan = random_plan(grid, np.random.default_rng(seed), n_stages=1)
    cache = TopologyCache(grid)
    _, (topo,) = cache.of_batch(PlanBatch.of(grid, [plan]))
    br = cache.branches
    g = closed_graph(grid, topo)
    feeder = grid.net.bus.feeder.reindex(br.bus_labels).fillna("").astype(str).to_numpy()
    names = cache.labels.area_names
    roots = [int(b) for b in br.bus_labels[br.root_pos]]
    for root in roots:
        tree = nx.bfs_tree(g, root)
        for bus in tree.nodes:
            path = nx.shortest_path(g, root, bus)  # root ... bus
            pos = br.bus_position([bus])[0]
            # area: the feeder label of the nearest labelled bus on the way up
            own = [feeder[br.bus_position([b])[0]] for b in reversed(path)]
            label = next((f for f in own if f not in ("", "None")), f"root {root}")
            assert names[topo.area[pos]] == label, bus
            if all(not g.edges[u, v]["trafo"] for u, v in zip(path[:-1], path[1:])):
                z_base = grid.net.bus.vn_kv[bus] ** 2 / grid.net.sn_mva
                r_ohm = nx.shortest_path_length(g, root, bus, weight="r_ohm")
                assert topo.r_path_pu[pos] * z_base == pytest.approx(r_ohm, rel=1e-9)
            if bus != root:
                below = nx.descendants(tree, bus) | {bus}
                assert topo.preorder.size[pos] == len(below)
    unsupplied = set(grid.net.bus.index) - set().union(*(nx.node_connected_component(g, r)
                                                          for r in roots))
    assert all(topo.area[br.bus_position([b])[0]] == -1 for b in unsupplied)
