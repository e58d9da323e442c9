"""Analytic radial reliability (fdnmoo.metrics.reliability) against hand computation and a
brute-force enumeration of section outages with networkx."""

import networkx as nx
import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from fdnmoo.cases import PlanningCase, load_case
from fdnmoo.metrics.reliability import reliability_indices
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.branches import branch_table
from fdnmoo.topology import spanning_forest


# --- a 5-bus case by hand ------------------------------------------------------------------
def tiny_case(with_tie: bool) -> PlanningCase:
    """Substation 0; feeder F1 = 0-1-2-3, feeder F2 = 0-4; optional tie 3-4 (open).

    failure rates 0.1, 0.2, 0.3, 0.4 /yr and repair times 4, 5, 6, 8 h for lines
    0-1, 1-2, 2-3, 0-4; demand 1, 2, 3, 4 MW at buses 1..4.
    """
    net = pp.create_empty_network()
    for b in range(5):
        pp.create_bus(net, 10.0, index=b)
    pp.create_ext_grid(net, 0)
    for (f, t, lam, r) in [(0, 1, 0.1, 4), (1, 2, 0.2, 5), (2, 3, 0.3, 6), (0, 4, 0.4, 8)]:
        k = pp.create_line_from_parameters(net, f, t, 1.0, 0.3, 0.3, 0.0, 0.4)
        net.line.loc[k, ["failure_rate_per_year", "repair_time_h"]] = lam, r
    if with_tie:
        k = pp.create_line_from_parameters(net, 3, 4, 1.0, 0.3, 0.3, 0.0, 0.4, in_service=False)
        net.line.loc[k, ["failure_rate_per_year", "repair_time_h"]] = 0.5, 9
    for b, p in [(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)]:
        pp.create_load(net, b, p_mw=p)
    net.bus["feeder"] = ["F1", "F1", "F1", "F1", "F2"]
    net.bus["x_km"] = [0.0, 1.0, 2.0, 3.0, 0.0]
    net.bus["y_km"] = [0.0, 0.0, 0.0, 0.0, 1.0]
    return PlanningCase(name="tiny", net=net)


def base_plan(grid, n_stages=1, **kw):
    return Plan.on_base_topology(grid, n_stages, **kw)


TINY_DEMAND = np.array([0.0, 1.0, 2.0, 3.0, 4.0])


def test_hand_computed_indices_with_a_tie():
    grid = planning_grid(tiny_case(with_tie=True))
    got = reliability_indices(grid, base_plan(grid), 1, TINY_DEMAND, switching_time_h=1.0,
                              ecost_per_mwh=1000.0)
    # every section's downstream buses reach the tie 3-4 (or 4-3) -> restored after 1 h:
    #   0-1: 0.1 x (0 x 1 + 6 x 1) = 0.6     1-2: 0.2 x (1 x 1 + 5 x 1) = 1.2
    #   2-3: 0.3 x (3 x 1 + 3 x 1) = 1.8     0-4: 0.4 x (4 x 1)         = 1.6   -> EENS 5.2
    # SAIFI: every fault interrupts its whole feeder: (0.1*3 + 0.2*3 + 0.3*3 + 0.4*1) / 4 = 0.55
    # SAIDI: every customer restored after 1 h: same sum / 4 = 0.55
    assert got["eens_mwh"] == pytest.approx(5.2)
    assert got["saifi"] == pytest.approx(0.55)
    assert got["saidi"] == pytest.approx(0.55)
    assert got["ecost"] == pytest.approx(5200.0)
    assert got["customers"] == 4


def test_hand_computed_indices_without_a_tie():
    grid = planning_grid(tiny_case(with_tie=False))
    got = reliability_indices(grid, base_plan(grid), 1, TINY_DEMAND, switching_time_h=1.0)
    # downstream buses wait for the repair:
    #   0-1: 0.1 x 6 x 4                 = 2.4    (SAIDI part 0.1 x 3 x 4         = 1.2)
    #   1-2: 0.2 x (1 x 1 + 5 x 5)       = 5.2    (0.2 x (1 x 1 + 2 x 5)          = 2.2)
    #   2-3: 0.3 x (3 x 1 + 3 x 6)       = 6.3    (0.3 x (2 x 1 + 1 x 6)          = 2.4)
    #   0-4: 0.4 x 4 x 8                 = 12.8   (0.4 x 1 x 8                    = 3.2)
    # EENS = 26.7 MWh/yr, SAIFI = 2.2 / 4 = 0.55, SAIDI = 9.0 / 4 = 2.25
    assert got["eens_mwh"] == pytest.approx(26.7)
    assert got["saifi"] == pytest.approx(0.55)
    assert got["saidi"] == pytest.approx(2.25)
    assert "ecost" not in got


def test_an_sop_restores_like_a_tie():
    grid = planning_grid(tiny_case(with_tie=False))
    sop = pd.DataFrame({"stage": [1, 1], "device": [0, 0], "bus": [3, 4],
                        "capacity_mva": [1.0, 1.0]})
    got = reliability_indices(grid, base_plan(grid, sop=sop), 1, TINY_DEMAND)
    assert got["eens_mwh"] == pytest.approx(5.2)


def test_switching_slower_than_repair_is_capped_by_the_repair():
    grid = planning_grid(tiny_case(with_tie=True))
    got = reliability_indices(grid, base_plan(grid), 1, TINY_DEMAND, switching_time_h=100.0)
    # every interruption lasts the repair time: 0.1*6*4 + 0.2*6*5 + 0.3*6*6 + 0.4*4*8
    assert got["eens_mwh"] == pytest.approx(2.4 + 6.0 + 10.8 + 12.8)


def test_shapes_are_checked():
    grid = planning_grid(tiny_case(with_tie=True))
    with pytest.raises(ValueError, match="shape"):
        reliability_indices(grid, base_plan(grid), 1, np.ones(3))
    with pytest.raises(ValueError, match="customers"):
        reliability_indices(grid, base_plan(grid), 1, TINY_DEMAND, customers=np.ones(2))


# --- brute force: enumerate every section outage -------------------------------------------
def brute_force(grid, plan, stage, demand, customers, t_switch):
    """Independent FMEA with networkx on bus labels (no branch table, no pre-order)."""
    net = grid.net
    closed_lines = {int(k) for k in plan.closed_lines[stage - 1]}
    closed_trafos = {int(k) for k in plan.closed_trafos[stage - 1]}
    g = nx.MultiGraph()
    g.add_nodes_from(net.bus.index)
    for k in closed_lines:
        g.add_edge(int(net.line.from_bus[k]), int(net.line.to_bus[k]), key=("l", k))
    trafo_graph = nx.Graph()
    trafo_graph.add_nodes_from(net.bus.index)
    for k in closed_trafos:
        hv, lv = int(net.trafo.hv_bus[k]), int(net.trafo.lv_bus[k])
        g.add_edge(hv, lv, key=("t", k))
        trafo_graph.add_edge(hv, lv)
    roots = {int(b) for b in net.ext_grid.bus[net.ext_grid.in_service.astype(bool)]}
    supplied = set().union(*(nx.node_connected_component(g, r) for r in roots))
    station = set().union(*(nx.node_connected_component(trafo_graph, r) for r in roots))
    links = [(int(net.line.from_bus[k]), int(net.line.to_bus[k]))
             for k in grid.base_lines if k not in closed_lines]
    for _, t in pd.DataFrame(plan.sop_terminals(stage)).groupby("device"):
        b = list(t.bus.astype(int))
        links += [(b[i], b[j]) for i in range(len(b)) for j in range(i + 1, len(b))]
    pos = {b: i for i, b in enumerate(net.bus.index)}
    load = {b: demand[pos[b]] for b in supplied}
    cust = {b: customers[pos[b]] for b in supplied}

    def reached(graph):
        return set().union(*(nx.node_connected_component(graph, r) for r in roots))

    eens = n_int = dur = 0.0
    for k in closed_lines:
        u, v = int(net.line.from_bus[k]), int(net.line.to_bus[k])
        if u not in supplied:
            continue
        lam, r = float(net.line.failure_rate_per_year[k]), float(net.line.repair_time_h[k])
        feeder_graph = g.subgraph(set(g.nodes) - station)
        feeder = nx.node_connected_component(feeder_graph, u if u not in station else v)
        after = g.copy()
        after.remove_edge(u, v, key=("l", k))
        upstream = reached(after) & feeder
        backfed = after.copy()
        backfed.add_edges_from(links)
        rescued = reached(backfed)
        for b in feeder:
            t = min(t_switch, r) if (b in upstream or b in rescued) else r
            eens += lam * load[b] * t
            n_int += lam * cust[b]
            dur += lam * cust[b] * t
    total = sum(cust.values())
    return {"eens_mwh": eens, "saifi": n_int / total, "saidi": dur / total}


def random_radial_plan(grid, rng, n_sop=0, n_stages=1):
    """A random spanning forest of the case's own lines plus random SOP pairs."""
    br = branch_table(grid.net)
    n_line = br.n_line
    weights = np.full(len(br.from_pos), np.inf)
    weights[br.line_position(grid.base_lines)] = rng.random(len(grid.base_lines))
    trafos = br.trafo_position(grid.base_closed_trafos) if len(grid.base_closed_trafos) else []
    weights[trafos] = -1.0
    closed = spanning_forest(br.n_bus, br.from_pos, br.to_pos, weights, br.root_pos)
    lines = br.element[np.flatnonzero(closed[:n_line])]
    nodes = grid.case.candidates.get("sop_nodes")
    sop_buses = nodes.bus.to_numpy() if nodes is not None and len(nodes) >= 4 \
        else np.setdiff1d(grid.net.bus.index, grid.net.ext_grid.bus)
    rows = []
    for dev in range(n_sop):
        for b in rng.choice(sop_buses, size=rng.integers(2, 4), replace=False):
            rows.append((1, dev, int(b), 1.0))
    sop = pd.DataFrame(rows, columns=["stage", "device", "bus", "capacity_mva"])
    sop = sop.drop_duplicates(["bus"])
    sop = sop[sop.groupby("device").bus.transform("size") >= 2]
    return Plan(n_stages=n_stages, closed_lines=[lines] * n_stages,
                closed_trafos=[grid.base_closed_trafos] * n_stages, sop=sop)


def bus_demand(grid, rng):
    demand = np.zeros(len(grid.net.bus))
    pos = grid.net.bus.index.get_indexer(grid.net.load.bus)
    np.add.at(demand, pos, grid.net.load.p_mw.to_numpy(float))
    return demand * rng.uniform(0.5, 1.5, len(demand))


@pytest.fixture(scope="module")
def ieee33():
    return planning_grid(load_case("ieee33"))


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_ieee33(ieee33, seed):
    rng = np.random.default_rng(seed)
    plan = random_radial_plan(ieee33, rng, n_sop=seed % 3)
    demand = bus_demand(ieee33, rng)
    customers = rng.integers(0, 50, len(demand)).astype(float)
    t_switch = [0.5, 1.0, 2.0][seed % 3]
    got = reliability_indices(ieee33, plan, 1, demand, customers, switching_time_h=t_switch)
    want = brute_force(ieee33, plan, 1, demand, customers, t_switch)
    for key in ("eens_mwh", "saifi", "saidi"):
        assert got[key] == pytest.approx(want[key], rel=1e-10), key


def test_base_ieee33_matches_brute_force(ieee33):
    plan = base_plan(ieee33)
    demand = bus_demand(ieee33, np.random.default_rng(0))
    customers = (demand > 0).astype(float)
    got = reliability_indices(ieee33, plan, 1, demand)
    want = brute_force(ieee33, plan, 1, demand, customers, 1.0)
    for key in ("eens_mwh", "saifi", "saidi"):
        assert got[key] == pytest.approx(want[key], rel=1e-10), key


def test_matches_brute_force_through_transformer_stations():
    # md24: feeders hang below 132/20 kV transformers; build the candidate substation 23
    # (transformer 2) and supply buses 3, 10, 7 from it through candidate lines
    grid = planning_grid(load_case("md24"))
    cl = grid.candidate_lines
    # corridors 9, 25, 22 = 3-23, 10-23, 7-23 with the new conductor type 4
    pick = [cl.index[(cl.corridor == c) & (cl.conductor == 4)][0] for c in (9, 25, 22)]
    lines = np.concatenate([grid.base_closed_lines, pick])
    trafos = np.append(grid.base_closed_trafos, 2)
    sop = pd.DataFrame({"stage": [1, 1], "device": [0, 0], "bus": [8, 7],
                        "capacity_mva": [1.0, 1.0]})
    plan = Plan(n_stages=1, closed_lines=[lines], closed_trafos=[trafos], sop=sop)
    rng = np.random.default_rng(3)
    demand = rng.uniform(0.1, 2.0, len(grid.net.bus))
    customers = np.ones(len(demand))
    got = reliability_indices(grid, plan, 1, demand, customers)
    want = brute_force(grid, plan, 1, demand, customers, 1.0)
    for key in ("eens_mwh", "saifi", "saidi"):
        assert got[key] == pytest.approx(want[key], rel=1e-10), key


@pytest.fixture(scope="module")
def synthetic():
    # 2 substations, 4 feeders, one tie: most sections have no alternative supply
    return planning_grid(load_case("synthetic", n_bus=60, n_feeders=4, n_substations=2, n_ties=1,
                                   seed=5))


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_on_two_substations(synthetic, seed):
    rng = np.random.default_rng(200 + seed)
    plan = random_radial_plan(synthetic, rng, n_sop=seed)
    demand = bus_demand(synthetic, rng)
    customers = rng.integers(1, 20, len(demand)).astype(float)
    got = reliability_indices(synthetic, plan, 1, demand, customers, switching_time_h=0.75)
    want = brute_force(synthetic, plan, 1, demand, customers, 0.75)
    for key in ("eens_mwh", "saifi", "saidi"):
        assert got[key] == pytest.approx(want[key], rel=1e-10), key


def test_adding_ties_or_sops_never_worsens(synthetic):
    improved = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        plan = random_radial_plan(synthetic, rng)
        # same generator state -> same topology, plus 1-3 random SOP devices
        more = random_radial_plan(synthetic, np.random.default_rng(100 + seed), n_sop=1 + seed % 3)
        demand = bus_demand(synthetic, rng)
        without = reliability_indices(synthetic, plan, 1, demand)
        with_sop = reliability_indices(synthetic, more, 1, demand)
        assert with_sop["eens_mwh"] <= without["eens_mwh"] + 1e-12
        assert with_sop["saidi"] <= without["saidi"] + 1e-12
        assert with_sop["saifi"] == pytest.approx(without["saifi"])
        improved += with_sop["eens_mwh"] < without["eens_mwh"] - 1e-9
    assert improved >= 4  # the SOPs do help in most draws
