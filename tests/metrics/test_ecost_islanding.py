"""ECOST from sector customer damage functions and cluster islanding
(fdnmoo.damage, fdnmoo.metrics.reliability) against hand computations and a
networkx brute force over single-section outages."""

import networkx as nx
import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from fdnmoo.cases import PlanningCase
from fdnmoo.cases.errors import CaseError
from fdnmoo.cases.validate import validate_net
from fdnmoo.damage import LOAD_CLASSES, RBTS_SECTOR_CDF, cost_per_kw, load_class_shares
from fdnmoo.demand import bus_demand
from fdnmoo.metrics.reliability import (Islanding, island_capacity_mw, plan_islanding,
                                        reliability_arrays, reliability_indices)
from fdnmoo.objectives import OBJECTIVES
from fdnmoo.operators import GenomeSampling
from fdnmoo.planning import Plan, PlanBatch, planning_grid
from fdnmoo.problems.planning import ProblemConfig


def radial_case(edges, demand_mw, classes=None) -> PlanningCase:
    """Substation at bus 0; ``edges``: (from, to, failure rate /yr, repair time h)."""
    net = pp.create_empty_network()
    for b in range(len(demand_mw)):
        pp.create_bus(net, 10.0, index=b)
    pp.create_ext_grid(net, 0)
    for f, t, lam, r in edges:
        k = pp.create_line_from_parameters(net, f, t, 1.0, 0.3, 0.3, 0.0, 0.4)
        net.line.loc[k, ["failure_rate_per_year", "repair_time_h"]] = lam, r
    for b, p in enumerate(demand_mw):
        if p > 0:
            pp.create_load(net, b, p_mw=p)
    if classes is not None:
        net.load["load_class"] = classes
    net.bus["feeder"] = "F1"
    net.bus["x_km"] = np.arange(len(demand_mw), dtype=float)
    net.bus["y_km"] = 0.0
    return PlanningCase(name="tiny", net=net)


def indices(case, **kw):
    grid = planning_grid(case)
    demand = np.zeros(len(case.net.bus))
    demand[case.net.load.bus.to_numpy()] = case.net.load.p_mw.to_numpy()
    return reliability_indices(grid, Plan.on_base_topology(grid, 1), 1, demand,
                               switching_time_h=1.0, **kw)


# --- damage function ------------------------------------------------------------------------
def test_damage_function_hits_the_table_and_interpolates_linearly():
    table = np.array([RBTS_SECTOR_CDF[c] for c in LOAD_CLASSES])
    assert np.allclose(cost_per_kw([1 / 60, 20 / 60, 1, 4, 8]), table)
    res = LOAD_CLASSES.index("residential")
    # 5 h between the 4 h (4.914) and 8 h (15.69) points of Allan et al. 1991, residential
    assert cost_per_kw(5.0)[res] == pytest.approx(4.914 + (15.69 - 4.914) / 4)
    assert cost_per_kw(10.0)[res] == pytest.approx(15.69 + 2 * (15.69 - 4.914) / 4)
    assert cost_per_kw(0.0)[res] == 0.0
    with pytest.raises(ValueError, match="durations"):
        cost_per_kw(-1.0)


def test_unknown_load_class_names_the_row_and_the_closest_class():
    case = radial_case([(0, 1, 0.1, 4)], [0, 1.0], classes=["comercial"])
    with pytest.raises(CaseError, match=r"net\.load\[0\]\.load_class.*'comercial'.*did you mean "
                                        r"'commercial'"):
        load_class_shares(case.net, "tiny.json")


def test_case_validation_refuses_an_unknown_load_class():
    case = radial_case([(0, 1, 0.1, 4)], [0, 1.0], classes=["indutrial"])
    with pytest.raises(CaseError, match=r"^my\.json: net\.load\[0\]\.load_class = 'indutrial'.*"
                                        r"'industrial'"):
        validate_net(case.net, "my.json")


def test_missing_load_class_defaults_to_residential():
    shares = load_class_shares(radial_case([(0, 1, 0.1, 4)], [0, 1.0]).net)
    assert shares[LOAD_CLASSES.index("residential")].tolist() == [0.0, 1.0]
    assert shares.sum() == 1.0


# --- ECOST by hand --------------------------------------------------------------------------
def test_ecost_by_hand_on_a_three_bus_feeder():
    # 0 -(0.1/yr, 4 h)- 1 -(0.2/yr, 5 h)- 2; 1 MW residential at 1, 2 MW commercial at 2; t_s 1 h
    case = radial_case([(0, 1, 0.1, 4), (1, 2, 0.2, 5)], [0, 1.0, 2.0],
                       classes=["residential", "commercial"])
    got = indices(case, class_shares=load_class_shares(case.net))
    # fault 0-1: both buses out 4 h: 0.1 x (1000 kW x 4.914 + 2000 kW x 31.32)    = 6755.4
    # fault 1-2: bus 1 out 1 h (0.482 $/kW); bus 2 out 5 h, commercial at 5 h =
    #   31.32 + (83.01 - 31.32) / 4 = 44.2425 $/kW: 0.2 x (482 + 2000 x 44.2425)  = 17793.4
    assert got["ecost"] == pytest.approx(6755.4 + 17793.4)
    assert got["eens_mwh"] == pytest.approx(0.1 * 3 * 4 + 0.2 * (1 * 1 + 2 * 5))


def test_ecost_is_the_share_weighted_sum_of_single_class_ecosts():
    case = radial_case([(0, 1, 0.1, 4), (1, 2, 0.2, 5), (1, 3, 0.3, 7)], [0, 1.0, 2.0, 1.5])
    grid_loads = case.net.load.bus.to_numpy()
    rng = np.random.default_rng(3)
    mix = rng.dirichlet(np.ones(len(LOAD_CLASSES)))
    shares = np.zeros((len(LOAD_CLASSES), 4))
    shares[:, grid_loads] = mix[:, None]
    mixed = indices(case, class_shares=shares)["ecost"]
    single = []
    for c in range(len(LOAD_CLASSES)):
        one = np.zeros_like(shares)
        one[c, grid_loads] = 1.0
        single.append(indices(case, class_shares=one)["ecost"])
    assert mixed == pytest.approx(float(mix @ np.array(single)))
    assert len(set(np.round(single, 6))) == len(LOAD_CLASSES)  # the classes do differ


def test_ecost_is_a_registered_objective():
    assert OBJECTIVES["ecost"].unit == "currency/yr" and OBJECTIVES["ecost"].sense == "min"


# --- islanding ------------------------------------------------------------------------------
# 0-1, 1-2 (cluster A = {0, 1, 2}); 1-3, 3-4, 3-5 (cluster B = {3, 4, 5}); every line 0.1/yr
# and 5 h; 1 MW at every bus 1..5; PV 4 MW at 4 (availability 0.5) and ESS 1 MW at 5, so
# B's island capacity 2 + 1 = 3 MW covers its 3 MW.
EDGES = [(0, 1, 0.1, 5), (1, 2, 0.1, 5), (1, 3, 0.1, 5), (3, 4, 0.1, 5), (3, 5, 0.1, 5)]
LABELS = np.array([0, 0, 0, 1, 1, 1])
PV = np.array([0, 0, 0, 0, 4.0, 0])
ESS = np.array([0, 0, 0, 0, 0, 1.0])


@pytest.fixture
def two_clusters():
    case = radial_case(EDGES, [0, 1.0, 1, 1, 1, 1])
    return case, Islanding(LABELS, island_capacity_mw(PV, ESS, pv_availability=0.5))


def test_islanding_by_hand(two_clusters):
    case, islanding = two_clusters
    got = indices(case, islanding=islanding)
    # upstream of the fault 1 h, downstream 5 h unless its part of a cluster islands (1 h):
    #   0-1: A part {1,2} 2 MW x 5 + B {3,4,5} islands 3 x 1    = 13  -> 1.3
    #   1-2: up {1,3,4,5} 4 x 1 + {2} 1 x 5                    =  9  -> 0.9
    #   1-3: up {1,2} 2 x 1 + B {3,4,5} islands 3 x 1          =  5  -> 0.5
    #   3-4: up 4 x 1 + {4} (PV 2 MW >= 1 MW) islands 1 x 1     =  5  -> 0.5
    #   3-5: up 4 x 1 + {5} (ESS 1 MW >= 1 MW) islands 1 x 1    =  5  -> 0.5
    assert got["eens_mwh"] == pytest.approx(3.7)
    # without islanding: 2.5 + 0.9 + 1.7 + 0.9 + 0.9
    assert indices(case)["eens_mwh"] == pytest.approx(6.9)
    # SAIFI unchanged: every fault trips the one feeder of 5 customers
    assert got["saifi"] == pytest.approx(0.5)
    assert got["saidi"] == pytest.approx(3.7 / 5)


def test_a_cluster_short_of_capacity_does_not_island(two_clusters):
    case, _ = two_clusters
    weak = Islanding(LABELS, island_capacity_mw(PV, ESS, pv_availability=0.49))  # 2.96 MW < 3
    got = indices(case, islanding=weak)
    # B no longer islands as a whole (faults 0-1, 1-3); buses 4 (1.96 MW) and 5 still do
    assert got["eens_mwh"] == pytest.approx(2.5 + 0.9 + 1.7 + 0.5 + 0.5)


def brute_force(edges, demand, labels, capacity, classes_share, t_s):
    """EENS and ECOST by removing each section in turn (networkx components): the fault
    interrupts its feeder (the buses below the first line from bus 0 towards it)."""
    g = nx.Graph([(f, t) for f, t, _, _ in edges])

    def below(u, v):
        h = g.copy()
        h.remove_edge(u, v)
        return set(h.nodes) - nx.node_connected_component(h, 0)

    eens = ecost = 0.0
    for f, t, lam, r in edges:
        down = below(f, t)
        child = f if f in down else t
        head = nx.shortest_path(g, 0, child)[1]
        for b in below(0, head):
            if demand[b] == 0:
                continue
            dur = min(t_s, r)
            if b in down:
                part = [x for x in down if labels[x] == labels[b]]
                island = sum(capacity[x] for x in part) >= sum(demand[x] for x in part)
                dur = min(t_s, r) if island else r
            eens += lam * demand[b] * dur
            ecost += lam * 1e3 * demand[b] * float(classes_share[:, b] @ cost_per_kw(dur))
    return eens, ecost


def test_islanding_matches_brute_force_on_random_trees():
    rng = np.random.default_rng(11)
    islanded_somewhere = False
    for _ in range(5):
        n = 7
        edges = [(int(rng.integers(0, b)), b, float(rng.uniform(0.05, 0.5)),
                  float(rng.uniform(0.5, 9))) for b in range(1, n)]
        demand = np.concatenate([[0.0], rng.uniform(0.2, 2.0, n - 1)])
        labels = rng.integers(0, 3, n)
        capacity = rng.uniform(0, 2.0, n) * (rng.random(n) < 0.5)
        shares = rng.dirichlet(np.ones(len(LOAD_CLASSES)), n).T
        got = indices(radial_case(edges, demand), islanding=Islanding(labels, capacity),
                      class_shares=shares)
        eens, ecost = brute_force(edges, demand, labels, capacity, shares, 1.0)
        assert got["eens_mwh"] == pytest.approx(eens)
        assert got["ecost"] == pytest.approx(ecost)
        no_island = brute_force(edges, demand, labels, np.zeros(n), shares, 1.0)[0]
        islanded_somewhere |= no_island > eens + 1e-9
    assert islanded_somewhere  # the trees do exercise the islanding rule


def test_bad_islanding_input_is_refused(two_clusters):
    case, _ = two_clusters
    with pytest.raises(ValueError, match="islanding.labels"):
        indices(case, islanding=Islanding(LABELS[:3], np.zeros(6)))
    with pytest.raises(ValueError, match="islanding.capacity_mw"):
        indices(case, islanding=Islanding(LABELS, -np.ones(6)))
    with pytest.raises(ValueError, match="pv_availability"):
        island_capacity_mw(PV, ESS, 1.5)


def test_plan_islanding_reads_the_plans_pv_and_ess(two_clusters):
    case, islanding = two_clusters
    case.candidates["pv"] = pd.DataFrame({"bus": [4, 2], "max_mw": [5.0, 5.0]})
    case.candidates["ess"] = pd.DataFrame({"bus": [5], "max_mw": [2.0], "max_mwh": [4.0]})
    grid = planning_grid(case)
    plan = Plan.on_base_topology(grid, 1, der={"pv": np.array([[4.0, 0.0]]),
                                              "ess": np.array([[1.0]])})
    got = plan_islanding(grid, PlanBatch.of(grid, [plan]), LABELS, pv_availability=0.5)
    np.testing.assert_allclose(got.capacity_mw[0, 0], islanding.capacity_mw)
    demand = np.array([0, 1.0, 1, 1, 1, 1])
    one = reliability_indices(grid, plan, 1, demand, islanding=got)
    assert one["eens_mwh"] == pytest.approx(3.7)  # test_islanding_by_hand


def test_reliability_objectives_take_cluster_labels_as_shared_options():
    base = dict(case="ieee33", preset="dg_siting", n_stages=1, n_days=1, n_samples=1, seed=0,
                objectives=("eens_mwh", "saidi", "ecost"))
    labels = tuple(range(33))  # every bus its own cluster: it islands on its own PV
    plain = ProblemConfig(**base).build()
    islands = ProblemConfig(**base, options=(("islanding_labels", labels),
                                             ("pv_availability", 0.8))).build()
    X = GenomeSampling()._do(plain, 6, random_state=np.random.default_rng(1))
    f_plain, _ = plain.evaluate_genomes(X)
    f_islands, _ = islands.evaluate_genomes(X)
    assert np.all(f_islands <= f_plain + 1e-9) and np.any(f_islands < f_plain - 1e-6)
    population = islands.evaluated(X)[0].population
    grid = population.grid
    base_mw, _ = bus_demand(grid.net, tables=(("load", 1.0),))
    mean = population.ops.demand_mwh / 8760.0
    want = reliability_arrays(grid, population.plans, mean[:, :, None] * base_mw / base_mw.sum(),
                              class_shares=load_class_shares(grid.net),
                              islanding=plan_islanding(grid, population.plans, labels, 0.8))
    np.testing.assert_allclose(f_islands[:, 0], want["eens_mwh"].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(f_islands[:, 2], want["ecost"].mean(axis=1), rtol=1e-12)
