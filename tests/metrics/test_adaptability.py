"""Tie connection degree, network cohesion degree and PV uneven degree
(fdnmoo.metrics.adaptability), with hand-computed values."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.metrics.adaptability import (
    interconnections,
    network_cohesion_degree,
    pv_uneven_degree,
    structural_adaptability,
    tie_connection_degree,
)
from fdnmoo.planning import Plan, planning_grid


@pytest.fixture(scope="module")
def ieee33():
    return planning_grid(load_case("ieee33"))


def plan_on(grid, n_stages=3, **kw):
    return Plan.on_base_topology(grid, n_stages, **kw)


def sop_table(rows):
    return pd.DataFrame(rows, columns=["stage", "device", "bus", "capacity_mva"])


# ieee33 areas (net.bus.feeder): A = 1..9, B = 10..18, C = 19..22, D = 23..25, E = 26..33.
# Closed lines with an end in the area: A: 1-2 .. 8-9 (8), 9-10, 2-19, 3-23, 6-26 -> 12;
# B: 9-10, 10-11 .. 17-18 -> 9; C: 2-19, 19-20, 20-21, 21-22 -> 4; D: 3-23, 23-24, 24-25 -> 3;
# E: 6-26, 26-27 .. 32-33 -> 8. Ties: 21-8 (C-A), 9-15 (A-B), 12-22 (B-C), 18-33 (B-E),
# 25-29 (D-E): T = A 2, B 3, C 2, D 1, E 2.
TCD_BASE = (2 / 14 + 3 / 12 + 2 / 6 + 1 / 4 + 2 / 10) / 5  # = 0.2352381


def test_ties_only_tcd_and_ncd_by_hand(ieee33):
    plan = plan_on(ieee33)
    assert tie_connection_degree(ieee33, plan, 1) == pytest.approx(TCD_BASE)
    # 5 of the C(5, 2) = 10 area pairs are joined by a tie (no zones: regions = areas)
    assert network_cohesion_degree(ieee33, plan, 1) == pytest.approx(0.5)
    links = interconnections(ieee33, plan, 1)
    assert sorted(zip(links.bus_a, links.bus_b)) == [(8, 21), (9, 15), (12, 22), (18, 33), (25, 29)]
    assert set(links.kind) == {"tie"}


def test_an_sop_between_two_areas_raises_tcd_and_ncd(ieee33):
    # SOP 9 (A) - 25 (D): T_A = 3, T_D = 2 and the pair A-D becomes connected
    plan = plan_on(ieee33, sop=sop_table([(1, 0, 9, 0.5), (1, 0, 25, 0.5)]))
    tcd = (3 / 15 + 3 / 12 + 2 / 6 + 2 / 5 + 2 / 10) / 5  # = 0.2766667
    assert tie_connection_degree(ieee33, plan, 1) == pytest.approx(tcd)
    assert tcd > TCD_BASE
    assert network_cohesion_degree(ieee33, plan, 1) == pytest.approx(0.6)
    # stage 2 has no SOP: back to the ties only
    assert tie_connection_degree(ieee33, plan, 2) == pytest.approx(TCD_BASE)


def test_sop_on_a_tie_pair_or_inside_one_area_adds_nothing(ieee33):
    on_tie = plan_on(ieee33, sop=sop_table([(1, 0, 8, 0.5), (1, 0, 21, 0.5)]))  # reuses tie 33
    same_area = plan_on(ieee33, sop=sop_table([(1, 0, 12, 0.5), (1, 0, 15, 0.5)]))  # both in B
    for plan in (on_tie, same_area):
        assert tie_connection_degree(ieee33, plan, 1) == pytest.approx(TCD_BASE)
        assert network_cohesion_degree(ieee33, plan, 1) == pytest.approx(0.5)


def test_closing_a_tie_removes_it_from_the_links(ieee33):
    # close tie 37 (25-29), open section 28 (28-29): still radial, one link fewer
    line = ieee33.net.line
    assert tuple(line.loc[37, ["from_bus", "to_bus"]]) == (25, 29)
    assert tuple(line.loc[28, ["from_bus", "to_bus"]]) == (28, 29)
    closed = np.append(np.setdiff1d(ieee33.base_closed_lines, [28]), 37)
    plan = Plan(n_stages=1, closed_lines=[closed], closed_trafos=[np.array([], int)])
    assert sorted(interconnections(ieee33, plan, 1).element) == [28, 33, 34, 35, 36]
    # the open section 28-29 lies inside E: pairs C-A, A-B, B-C, B-E remain -> 4 / 10
    assert network_cohesion_degree(ieee33, plan, 1) == pytest.approx(0.4)
    # T: A 2, B 3, C 2, D 0, E 1; N: D gains the closed 25-29 (4), E loses 28-29 and gains 25-29 (8)
    tcd = (2 / 14 + 3 / 12 + 2 / 6 + 0 / 4 + 1 / 9) / 5
    assert tie_connection_degree(ieee33, plan, 1) == pytest.approx(tcd)


def test_structural_adaptability_weights_and_stage_mean(ieee33):
    plan = plan_on(ieee33, sop=sop_table([(3, 0, 9, 0.5), (3, 0, 25, 0.5)]))
    tcd3 = (3 / 15 + 3 / 12 + 2 / 6 + 2 / 5 + 2 / 10) / 5
    want = (2 * (0.5 * TCD_BASE + 0.5 * 0.5) + (0.5 * tcd3 + 0.5 * 0.6)) / 3
    assert structural_adaptability(ieee33, plan) == pytest.approx(want)
    tcd_only = structural_adaptability(ieee33, plan, w1=1.0, w2=0.0)
    assert tcd_only == pytest.approx((2 * TCD_BASE + tcd3) / 3)
    assert 0 <= structural_adaptability(ieee33, plan) <= 1


@pytest.fixture(scope="module")
def md24():
    return planning_grid(load_case("md24"))


def test_no_links_means_zero(md24):
    # md24 base: 2 substations with 2 feeders each and no tie
    grid = md24
    plan = plan_on(grid)
    assert tie_connection_degree(grid, plan, 1) == 0.0
    assert network_cohesion_degree(grid, plan, 1) == 0.0
    assert structural_adaptability(grid, plan) == 0.0


def test_md24_zones_are_the_regions_of_ncd(md24):
    grid = md24
    # supplied buses 1 (zone B), 2 (C), 6 (B), 8 (C); an SOP 1-8 joins zones B-C (the only
    # pair: NCD = 1) and areas S21-S22: T = 1 each, N_S21 = lines 1-21, 2-21 = 2, N_S22 = 2
    plan = plan_on(grid, sop=sop_table([(1, 0, 1, 1.0), (1, 0, 8, 1.0)]))
    assert network_cohesion_degree(grid, plan, 1) == pytest.approx(1.0)
    assert tie_connection_degree(grid, plan, 1) == pytest.approx((1 / 3 + 1 / 3) / 2)
    # an SOP between two buses of zone B (1 and 6) joins the areas but not the zones
    plan = plan_on(grid, sop=sop_table([(1, 0, 1, 1.0), (1, 0, 6, 1.0)]))
    assert network_cohesion_degree(grid, plan, 1) == 0.0
    assert tie_connection_degree(grid, plan, 1) == pytest.approx(1 / 3)


# --- PV uneven degree ----------------------------------------------------------------------
def path_resistance_ohm(grid, bus):
    """Independent path resistance from the substation (bus 1) with networkx."""
    line = grid.net.line.loc[grid.base_closed_lines]
    g = nx.Graph()
    for _, r in line.iterrows():
        g.add_edge(int(r.from_bus), int(r.to_bus), r=r.r_ohm_per_km * r.length_km)
    return nx.shortest_path_length(g, 1, bus, weight="r")


def pv_plan(grid, per_stage):
    table = grid.case.candidates["pv"]
    cap = np.zeros((len(per_stage), len(table)))
    for s, sites in enumerate(per_stage):
        for bus, mw in sites.items():
            cap[s, table.index[table.bus == bus][0]] = mw
    return plan_on(grid, n_stages=len(per_stage), der={"pv": cap})


def test_no_pv_is_even(ieee33):
    assert pv_uneven_degree(ieee33, plan_on(ieee33)) == 0.0


def test_one_pv_at_the_end_of_an_area_by_hand(ieee33):
    # area D has PV candidates 24 and 25; 25 is its most distant bus (delta = 1).
    # 1 MW at 25 only: distance-weighted capacities (0, 1) -> std 0.5, in every stage
    plan = pv_plan(ieee33, [{25: 1.0}] * 3)
    assert pv_uneven_degree(ieee33, plan) == pytest.approx(0.5)
    # built in stage 3 only: mean over stages (0 + 0 + 0.5) / 3
    assert pv_uneven_degree(ieee33, pv_plan(ieee33, [{}, {}, {25: 1.0}])) == pytest.approx(0.5 / 3)
    # areas add up: the same in area E (candidates 32, 33; 33 is its end)
    assert pv_uneven_degree(ieee33, pv_plan(ieee33, [{25: 1.0, 33: 1.0}] * 3)) == pytest.approx(1.0)


def test_distance_even_pv_has_zero_unevenness(ieee33):
    # equal distance-weighted capacity: P_24 * R_24 = P_25 * R_25
    ratio = path_resistance_ohm(ieee33, 24) / path_resistance_ohm(ieee33, 25)
    plan = pv_plan(ieee33, [{24: 1.0 / ratio, 25: 1.0}] * 3)
    assert pv_uneven_degree(ieee33, plan) == pytest.approx(0.0, abs=1e-12)


def test_extreme_configuration_is_the_most_uneven(ieee33):
    ratio = path_resistance_ohm(ieee33, 24) / path_resistance_ohm(ieee33, 25)
    extreme = pv_uneven_degree(ieee33, pv_plan(ieee33, [{25: 2.0}] * 3))
    spread = pv_uneven_degree(ieee33, pv_plan(ieee33, [{24: 1.0, 25: 1.0}] * 3))
    near = pv_uneven_degree(ieee33, pv_plan(ieee33, [{24: 2.0}] * 3))
    assert extreme == pytest.approx(1.0)             # std of (0, 2)
    assert spread == pytest.approx((1 - ratio) / 2)  # std of (ratio, 1)
    assert near == pytest.approx(ratio)              # std of (2 ratio, 0)
    assert extreme > near > spread
