"""Penalty bases, chance constraints and penalty costs on a 5-bus feeder, computed by hand.

Feeder: 0 (substation) - 1 - 2 - 3 and 1 - 4, loads 1: 0.2, 2: 0.3, 3: 0.4, 4: 0.1 MW, one
'peak' slot standing for the 8760 h of a year, the forecast only. Lines 0-1 (limit 0.04 kA, flow about 1.0 MW / (sqrt(3) 12.66 kV)
= 0.046 kA) and 1-2 (0.03 kA against about 0.032 kA) are overloaded; 2-3 and 1-4 (0.4 kA) are
not. With the band 0.9999-1.1 every
loaded bus is out of band (any flow drops the voltage below 0.9999 p.u.).

By hand:
* voltage base = load at buses 1-4 = 1.0 MW x 8760 h;
* overload base = load below 0-1 (buses 1-4: 1.0 MW) + load below 1-2 (buses 2, 3: 0.7 MW)
  = 1.7 MW x 8760 h (buses 2 and 3 count twice); the union base counts them once: 1.0 MW;
* probabilities: 1 at buses 1-4 and lines 0-1, 1-2, 0 elsewhere; so chance_voltage at gamma
  0.05 is 1 - 0.05 and violation_probability is 1;
* penalties: each base x 350 CNY/MWh (violation_penalty_per_mwh), paid in every year of
  the single 5-year stage, discounted at 10 %.
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pytest

from fdnmoo.cases import from_pandapower
from fdnmoo.metrics.economics import cost_breakdown
from fdnmoo.objectives import CONSTRAINTS, OBJECTIVES, Evaluated
from fdnmoo.pipeline import evaluate_plans
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.scenarios import ScenarioBatch

HOURS = 8760.0


@pytest.fixture(scope="module")
def evaluated():
    net = pp.create_empty_network()
    buses = [pp.create_bus(net, vn_kv=12.66) for _ in range(5)]
    pp.create_ext_grid(net, buses[0], vm_pu=1.0)
    limits = {(0, 1): 0.04, (1, 2): 0.03, (2, 3): 0.4, (1, 4): 0.4}
    for (a, b), i_max in limits.items():
        pp.create_line_from_parameters(net, a, b, length_km=1.0, r_ohm_per_km=0.3,
                                       x_ohm_per_km=0.2, c_nf_per_km=0.0, max_i_ka=i_max)
    for b, p_mw in ((1, 0.2), (2, 0.3), (3, 0.4), (4, 0.1)):
        pp.create_load(net, b, p_mw=p_mw, q_mvar=0.0)
    case = from_pandapower(net, name="five", horizon={"n_stages": 1, "years_per_stage": 5,
                                                       "load_growth_per_year": 0.0,
                                                       "pv_penetration": [], "ev_penetration": []},
                           uncertainty={"v_min_pu": 0.9999, "v_max_pu": 1.1},
                           economics={"discount_rate": 0.1,
                                      "prices": {"energy_per_mwh": 350.0,
                                                 "violation_penalty_per_mwh": 350.0}},
                           reference_power_flow=False)
    grid = planning_grid(case)
    batch = ScenarioBatch.build(grid, 1, profile="peak")
    plan = Plan.on_base_topology(grid, 1)
    ops = evaluate_plans(grid, [plan], batch)[0]
    return grid, plan, ops


def test_penalty_bases_by_hand(evaluated):
    grid, plan, ops = evaluated
    assert ops.converged_share == 1.0
    assert ops.voltage_violation_energy_mwh[0] == pytest.approx(1.0 * HOURS, rel=1e-12)
    assert ops.overload_energy_mwh[0] == pytest.approx(1.7 * HOURS, rel=1e-12)
    assert ops.violation_energy_mwh[0] == pytest.approx(1.0 * HOURS, rel=1e-12)


def test_probabilities_and_chance_constraints_by_hand(evaluated):
    grid, plan, ops = evaluated
    labels = grid.net.bus.index.to_numpy()
    np.testing.assert_array_equal(ops.voltage_violation_probability[0], (labels != 0) * 1.0)
    lines = grid.net.line
    closed = lines.index.isin(plan.closed_lines[0])  # the grid adds open candidate lines
    over = [(int(a), int(b)) in ((0, 1), (1, 2)) and c
            for a, b, c in zip(lines.from_bus, lines.to_bus, closed)]
    assert sum(over) == 2
    np.testing.assert_array_equal(ops.current_violation_probability[0], np.array(over) * 1.0)
    ev = Evaluated(grid, plan, ops)
    chance = CONSTRAINTS["chance_voltage"].with_params({"gamma": 0.05})
    assert chance(ev) == pytest.approx(0.95)
    assert CONSTRAINTS["chance_current"](ev) == pytest.approx(0.95)  # default gamma 0.05
    assert OBJECTIVES["violation_probability"](ev) == 1.0


def test_penalty_costs_by_hand(evaluated):
    grid, plan, ops = evaluated
    costs = cost_breakdown(grid, plan, ops)
    annuity = sum(1.1 ** -t for t in range(1, 6))  # years 1..5 of the stage
    assert costs.voltage_penalty.iloc[0] == pytest.approx(1.0 * HOURS * 350 * annuity, rel=1e-9)
    assert costs.overload_penalty.iloc[0] == pytest.approx(1.7 * HOURS * 350 * annuity, rel=1e-9)
