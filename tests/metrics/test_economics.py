"""Investment items, discounting and the cost breakdown (fdnmoo.metrics.economics)."""

import copy

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.metrics import OperationMetrics
from fdnmoo.metrics.economics import (
    BREAKDOWN_COLUMNS,
    MissingPriceError,
    annuity_present_value,
    capital_recovery_factor,
    cost_breakdown,
    investment_items,
    investment_per_stage,
    om_per_stage,
    present_value_factor,
    stage_years,
    total_cost,
)
from fdnmoo.planning import Plan, planning_grid


@pytest.fixture(scope="module")
def ieee33():
    return planning_grid(load_case("ieee33"))


@pytest.fixture(scope="module")
def md24():
    return planning_grid(load_case("md24"))


def plan_on(grid, n_stages=3, **kw):
    """The base topology in every stage plus whatever is built."""
    return Plan.on_base_topology(grid, n_stages, **kw)


def sop_table(rows):
    return pd.DataFrame(rows, columns=["stage", "device", "bus", "capacity_mva"])


def ops_with(n_stages=3, loss=0.0, pv=0.0, unserved=0.0, violation=0.0):
    """Operation metrics with only the yearly energies set (MWh/yr, same in every stage)."""
    full = lambda v: np.full(n_stages, float(v))
    z = np.zeros(n_stages)
    return OperationMetrics(
        energy_loss_mwh=full(loss), sop_loss_mwh=z, demand_mwh=full(1000.0), pv_energy_mwh=full(pv),
        unserved_energy_mwh=full(unserved), violation_energy_mwh=full(violation),
        peak_loss_kw=z, peak_vmin_pu=z + 1, peak_vmax_pu=z + 1, vmin_pu=np.ones((n_stages, 1, 1)),
        vmax_pu=np.ones((n_stages, 1, 1)), i_max_ka=np.zeros((n_stages, 1, 1)),
        i_limit_ka=np.ones(1), voltage_deviation_pu=z, voltage_violation_probability=z[:, None],
        current_violation_probability=z[:, None], substation_peak_mva=z[:, None],
        converged_share=1.0)


# --- discounting ---------------------------------------------------------------------------
def test_capital_recovery_factor_textbook_value():
    # capital recovery factor (A/P, 8 %, 20 yr) = 0.10185 in every engineering-economics
    # interest table (e.g. Newnan, Engineering Economic Analysis, 8 % table)
    assert capital_recovery_factor(0.08, 20) == pytest.approx(0.10185, abs=5e-6)
    # (A/P, 10 %, 20 yr) = 0.11746
    assert capital_recovery_factor(0.10, 20) == pytest.approx(0.11746, abs=5e-6)


def test_zero_rate_limits():
    assert capital_recovery_factor(0.0, 20) == pytest.approx(1 / 20)
    assert capital_recovery_factor(1e-10, 20) == pytest.approx(1 / 20, rel=1e-6)
    assert present_value_factor(0.0, 7) == 1.0
    assert annuity_present_value(0.0, 5, 15) == 10.0
    assert annuity_present_value(1e-10, 5, 15) == pytest.approx(10.0, rel=1e-6)
    assert annuity_present_value(0.1, 5, 5) == 0.0


def test_annuity_present_value_is_the_sum_of_end_of_year_factors():
    d = 0.071
    assert annuity_present_value(d, 2, 9) == pytest.approx(sum(present_value_factor(d, t)
                                                               for t in range(3, 10)))
    np.testing.assert_allclose(present_value_factor(0.1, np.array([0, 1, 2])),
                               [1, 1 / 1.1, 1 / 1.21])
    # a full lifetime of capital-recovery payments repays exactly the capital
    assert capital_recovery_factor(d, 25) * annuity_present_value(d, 0, 25) == pytest.approx(1.0)


def test_stage_years(ieee33):
    np.testing.assert_array_equal(stage_years(ieee33.case.horizon), [[0, 5], [5, 10], [10, 15]])


# --- a hand-computed NPV -------------------------------------------------------------------
def test_pv_built_in_stage_two_hand_computed(ieee33):
    # ieee33: 3 stages x 5 years, d = 0.1, PV lifetime 20 yr, 800,000 CNY/MW, O&M 8,000 CNY/(MW yr)
    case = ieee33.case
    assert (case.economics.discount_rate, case.economics.lifetimes_years["pv"]) == (0.1, 20.0)
    assert case.economics.unit_costs["pv_per_mw"] == 800000.0
    pv = np.zeros((3, len(case.candidates["pv"])))
    pv[1:, 0] = 1.0  # 1 MW at the first candidate, built in stage 2
    plan = plan_on(ieee33, der={"pv": pv})

    # CRF = 0.1 * 1.1^20 / (1.1^20 - 1) = 0.1174596; annual payment 800,000 * CRF = 93,967.70
    annual = 93967.6998
    # paid at the ends of years 6..15: sum 1.1^-t = (1.1^-5 - 1.1^-15) / 0.1
    #   = (0.6209213 - 0.2393920) / 0.1 = 3.8152927  ->  PV = 93,967.70 * 3.8152927 = 358,514.28
    years_6_to_15 = sum(1.1 ** -t for t in range(6, 16))
    assert years_6_to_15 == pytest.approx(3.8152927, abs=1e-7)
    # O&M 8,000 CNY/yr in stage 2 (years 6..10: 2.3537803) and stage 3 (11..15: 1.4615124)
    costs = cost_breakdown(ieee33, plan)
    assert costs.loc[2, "investment"] == pytest.approx(annual * 3.8152927, rel=1e-7)
    assert costs.loc[2, "investment"] == pytest.approx(358514.28, abs=0.01)
    assert costs.loc[[1, 3], "investment"].tolist() == [0.0, 0.0]
    assert costs.om.tolist() == pytest.approx([0.0, 8000 * 2.3537803, 8000 * 1.4615124], rel=1e-7)
    np.testing.assert_allclose(investment_per_stage(ieee33, plan), [0.0, 800000.0, 0.0])
    # the "lifetime" convention pays 20 years from year 6: the lump sum discounted 5 years
    life = cost_breakdown(ieee33, plan, convention="lifetime")
    assert life.loc[2, "investment"] == pytest.approx(800000 * 1.1 ** -5)


def test_breakdown_sums_to_total_and_signs(ieee33):
    pv = np.zeros((3, 8))
    pv[:, 2] = 0.5
    sop = sop_table([(1, 0, 8, 0.4), (1, 0, 21, 0.4), (2, 0, 8, 0.6), (2, 0, 21, 0.6)])
    plan = plan_on(ieee33, sop=sop, der={"pv": pv})
    ops = ops_with(loss=300.0, pv=700.0, unserved=1.0, violation=20.0)
    costs = cost_breakdown(ieee33, plan, ops)
    assert list(costs.columns) == BREAKDOWN_COLUMNS
    assert list(costs.index) == [1, 2, 3]
    np.testing.assert_allclose(costs.total, costs.drop(columns="total").sum(axis=1))
    assert total_cost(ieee33, plan, ops) == pytest.approx(costs.total.sum())
    assert (costs.pv_profit < 0).all() and (costs.energy_loss > 0).all()
    # yearly loss cost 300 MWh * 350 CNY/MWh, paid in years 1..5 of stage 1
    assert costs.loc[1, "energy_loss"] == pytest.approx(
        300 * 350 * annuity_present_value(0.1, 0, 5))
    assert costs.loc[3, "unserved_penalty"] == pytest.approx(
        16000 * annuity_present_value(0.1, 10, 15))
    # without operation metrics the operating terms are 0
    bare = cost_breakdown(ieee33, plan)
    operating = ["energy_loss", "pv_profit", "unserved_penalty", "voltage_penalty",
                 "overload_penalty"]
    assert (bare[operating] == 0).all().all()
    np.testing.assert_allclose(bare.investment, costs.investment)


def test_stage_count_mismatch_is_refused(ieee33):
    plan = plan_on(ieee33)
    # a plan may cover fewer stages than the case horizon: its horizon ends earlier
    short = cost_breakdown(ieee33, plan_on(ieee33, n_stages=2), ops_with(n_stages=2, loss=1.0))
    assert list(short.index) == [1, 2]
    with pytest.raises(ValueError, match="operation metrics have 2 stages"):
        cost_breakdown(ieee33, plan, ops_with(n_stages=2))
    with pytest.raises(ValueError, match="convention"):
        cost_breakdown(ieee33, plan, convention="salvage")


# --- SOP pricing ---------------------------------------------------------------------------
def test_sop_reusing_a_tie_line_pays_no_line(ieee33):
    # ieee33 tie line 33 joins buses 21 and 8
    assert {21, 8} == set(ieee33.case.tie_lines.loc[33, ["from_bus", "to_bus"]])
    plan = plan_on(ieee33, sop=sop_table([(1, 0, 8, 0.5), (1, 0, 21, 0.5)]))
    items = investment_items(ieee33, plan)
    assert items.groupby("kind").cost.sum().to_dict() == {
        "sop converter": 1.0 * 800000, "sop line": 0.0, "sop site": 3000000.0}


def test_sop_between_non_tie_buses_pays_the_distance(ieee33):
    # buses 8 (7.0, 0.0) km and 22 (5.0, 1.5) km: 2.5 km apart, 100,000 CNY/km
    plan = plan_on(ieee33, sop=sop_table([(1, 0, 8, 0.5), (1, 0, 22, 0.5)]))
    line = investment_items(ieee33, plan).query("kind == 'sop line'")
    assert line.quantity.tolist() == pytest.approx([2.5])
    assert line.cost.tolist() == pytest.approx([250000.0])


def test_growing_sop_pays_capacity_increments_and_one_line_per_new_terminal(ieee33):
    # stage 1: 2 terminals 8-21 (tie reused); stage 2: capacities grow and bus 22 joins,
    # attached to its nearest terminal, 21 (1 km away, 8 is 2.5 km away); no new site
    sop = sop_table([(1, 0, 8, 0.5), (1, 0, 21, 0.5),
                     (2, 0, 8, 0.5), (2, 0, 21, 0.8), (2, 0, 22, 0.3),
                     (3, 0, 8, 0.5), (3, 0, 21, 0.8), (3, 0, 22, 0.3)])
    items = investment_items(ieee33, plan_on(ieee33, sop=sop))
    stage2 = items[items.stage == 2]
    assert sorted(stage2.kind) == ["sop converter", "sop converter", "sop line"]
    assert stage2.query("kind == 'sop converter'").quantity.sum() == pytest.approx(0.6)
    assert stage2.query("kind == 'sop line'").quantity.tolist() == pytest.approx([1.0])
    assert (items.kind == "sop site").sum() == 1
    assert (items.stage == 3).sum() == 0


# --- md24: the case's own cost tables -------------------------------------------------------
def test_md24_conductor_and_substation_costs_from_their_tables(md24):
    g = md24
    # candidate line 5 = corridor 0 (1-5, 2.22 km) with conductor type 4: 25,030 $/km
    assert tuple(g.candidate_lines.loc[5, ["corridor", "conductor", "length_km"]]) == (0, 4, 2.22)
    # candidate transformer 2 = type 2 (750,000 $) at candidate substation 23 (site 140,000 $)
    assert tuple(g.candidate_trafos.loc[2, ["bus", "type"]]) == (23, 2)
    new_lines = pd.DataFrame({"line": [5], "corridor": [0], "conductor": [4], "stage": [1]})
    subs = pd.DataFrame({"bus": [23], "trafo": [2], "type": [2], "stage": [2]})
    plan = Plan(n_stages=3, closed_lines=[np.append(g.base_closed_lines, 5)] * 3,
                closed_trafos=[g.base_closed_trafos, np.append(g.base_closed_trafos, 2),
                               np.append(g.base_closed_trafos, 2)],
                new_lines=new_lines, substations=subs)
    items = investment_items(g, plan).set_index("kind")
    assert items.loc["line", "cost"] == pytest.approx(25030 * 2.22)
    assert items.loc["line", "lifetime_years"] == 25.0
    assert items.loc["substation", "cost"] == 140000.0
    assert items.loc["transformer", "cost"] == 750000.0
    np.testing.assert_allclose(investment_per_stage(g, plan), [25030 * 2.22, 890000.0, 0.0])
    # O&M per year: existing lines 450 $/(km yr) x (2.2 + 1.7 + 2.7 + 1.9) km, two existing
    # 7.5 MVA transformers at 1,000 $/yr; plus the new line (450 x 2.22) and transformer (2,000)
    existing = 450 * 8.5 + 2 * 1000
    np.testing.assert_allclose(om_per_stage(g, plan),
                               [existing + 450 * 2.22, existing + 450 * 2.22 + 2000,
                                existing + 450 * 2.22 + 2000])


def test_md24_replacing_a_line_stops_its_maintenance(md24):
    g = md24
    # candidate line 11 = corridor 3 (1-21, 2.2 km, conductor type 2) replaces existing line 0
    assert int(g.candidate_lines.loc[11, "replaces"]) == 0
    new_lines = pd.DataFrame({"line": [11], "corridor": [3], "conductor": [2], "stage": [1]})
    closed = np.append(np.setdiff1d(g.base_closed_lines, [0]), 11)
    plan = Plan(n_stages=3, closed_lines=[closed] * 3, closed_trafos=[g.base_closed_trafos] * 3,
                new_lines=new_lines)
    assert investment_items(g, plan).cost.tolist() == pytest.approx([29870 * 2.2])
    existing = 450 * (8.5 - 2.2) + 2 * 1000
    np.testing.assert_allclose(om_per_stage(g, plan), existing + 450 * 2.2)


def test_md24_loss_price_from_load_levels(md24):
    # levels: (duration h, load factor, $/MWh) = (2000, 0.7, 57.7), (5760, 0.83, 70.0),
    # (1000, 1.0, 85.3); loss weights duration x lf^2 = 980, 3968.064, 1000
    # -> (980*57.7 + 3968.064*70 + 1000*85.3) / 5948.064 = 70.5457 $/MWh
    plan = plan_on(md24)
    costs = cost_breakdown(md24, plan, ops_with(loss=100.0))
    d = md24.case.economics.discount_rate
    want = 100 * 70.54572 * annuity_present_value(d, 0, 1)
    assert costs.loc[1, "energy_loss"] == pytest.approx(want, rel=1e-6)


def test_md24_losses_per_load_level_at_their_own_price(md24):
    # with one time slot per load level (scenario profile "levels") every level's losses
    # are priced at its price: 10 MWh x 57.7 + 50 MWh x 70.0 + 20 MWh x 85.3 = 5783 $/yr
    ops = ops_with(loss=80.0)
    ops.slot_loss_mwh = np.tile([10.0, 50.0, 20.0], (3, 1))
    costs = cost_breakdown(md24, plan_on(md24), ops)
    d = md24.case.economics.discount_rate
    assert costs.loc[2, "energy_loss"] == pytest.approx(5783.0 * annuity_present_value(d, 1, 2))


def test_missing_price_is_an_error_not_a_zero(md24):
    case = copy.deepcopy(md24.case)
    case.economics.prices = {}
    grid = planning_grid(case)
    with pytest.raises(MissingPriceError, match=r"no economics\.prices\.unserved_energy_per_mwh "
                                                r"to price unserved energy") as err:
        cost_breakdown(grid, plan_on(grid), ops_with(unserved=5.0))
    assert err.value.key == "economics.prices.unserved_energy_per_mwh"
    # the plan reports leave the unpriced term unknown, and so the stage's total
    report = cost_breakdown(grid, plan_on(grid), ops_with(unserved=5.0), unpriced="nan")
    assert report.unserved_penalty.isna().all() and report.total.isna().all()
    np.testing.assert_allclose(report.om, cost_breakdown(grid, plan_on(grid), ops_with()).om)
    # zero energy needs no price (md24's existing lines and transformers still cost O&M)
    costs = cost_breakdown(grid, plan_on(grid), ops_with())
    np.testing.assert_allclose(costs.total, costs.om)


def test_missing_unit_cost_is_reported(md24):
    pv_less = plan_on(md24)
    assert len(investment_items(md24, pv_less)) == 0
    sop = sop_table([(1, 0, 1, 1.0), (1, 0, 8, 1.0)])
    with pytest.raises(ValueError, match="sop"):
        investment_items(md24, plan_on(md24, sop=sop))


# --- published figures: seed 000 (Nature Communications FDN planning), Table 2 -------------
@pytest.fixture(scope="module")
def tpc84_staged_prices():
    # stage I-IV prices of seed 000's released code (data_parameters.py, cited in the case file):
    # converter 800/600/400/200 CNY/kVA, land 3/3.5/4/5 million CNY per site
    case = copy.deepcopy(load_case("tpc84"))
    costs = case.economics.unit_costs
    for key in ("evcs_per_mw", "pv_per_mw"):
        costs[key] = [800000.0, 600000.0, 400000.0, 200000.0]
    costs["evcs_site_per_site"] = [3e6, 3.5e6, 4e6, 5e6]
    return planning_grid(case)


def _capacities(table, per_stage, n_stages=4):
    cap = np.zeros((n_stages, len(table)))
    for s, sites in enumerate(per_stage):
        for bus, mva in sites.items():
            cap[s:, table.index[table.bus == bus][0]] = mva
    return cap


def test_seed000_table2_stage_one_and_two_costs(tpc84_staged_prices):
    g = tpc84_staged_prices
    cand = g.case.candidates
    # Table 1 of seed 000, Case I: EVCS and PV sites (capacity MVA) in stages I and II
    evcs = _capacities(cand["evcs"], [{49: 1.65}, {28: 2.00, 49: 2.00, 68: 1.96}])
    pv = _capacities(cand["pv"], [
        {10: 2.87, 24: 0.45, 39: 0.79, 40: 0.04, 55: 0.79, 64: 0.31},
        {10: 3.00, 24: 1.63, 29: 1.92, 39: 1.81, 40: 0.04, 55: 2.54, 60: 0.15, 63: 0.70,
         64: 0.55, 76: 0.23}])
    n = 4
    evcs[2:] = evcs[1]
    pv[2:] = pv[1]
    # Table 2 (10^6 CNY), present values of the annualised costs:
    # EVCS land + converter: stage I 3.00 + 1.32, stage II 4.35 + 1.61; PV: 4.20, 2.73
    for der, expected in (({"evcs": evcs}, [3.00 + 1.32, 4.35 + 1.61]), ({"pv": pv}, [4.20, 2.73])):
        plan = plan_on(g, n_stages=n, der=der)
        life = cost_breakdown(g, plan, convention="lifetime").investment / 1e6
        assert life.loc[[1, 2]].tolist() == pytest.approx(expected, abs=0.011)
        # stage I: a 20-year life ends with the 20-year horizon, so both conventions agree
        horizon = cost_breakdown(g, plan).investment / 1e6
        assert horizon.loc[1] == pytest.approx(life.loc[1], rel=1e-12)
        assert horizon.loc[2] < life.loc[2]
