"""Chance constraints and the violation-probability objective against a brute-force count.

ieee33 at its published loads, one 'peak' snapshot, 400 load samples at +-30 %: the
probabilities the evaluation reports equal a count, over the same samples solved
again by BatchPowerFlow, of the buses outside 0.95-1.05 p.u. and the lines above
their limit.
"""

import copy
from functools import cache

import numpy as np
import pytest

from fdnmoo.cases import load_case
from fdnmoo.pipeline import evaluate_plans
from fdnmoo.objectives import CONSTRAINTS, OBJECTIVES, Evaluated
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.powerflow import BatchPowerFlow
from fdnmoo.scenarios import ScenarioBatch

N_SAMPLES = 400


@cache
def evaluated(max_i_ka: float = 0.4):
    case = copy.deepcopy(load_case("ieee33"))
    case.horizon.load_growth_per_year = 0.0
    case.uncertainty.load_deviation = 0.3
    case.net.line["max_i_ka"] = max_i_ka
    grid = planning_grid(case)
    batch = ScenarioBatch.build(grid, 1, profile="peak", n_samples=N_SAMPLES, seed=3)
    plan = Plan.on_base_topology(grid, 1)
    ops = evaluate_plans(grid, [plan], batch)[0]
    return Evaluated(grid=grid, plan=plan, ops=ops), batch


def brute_force(grid, batch):
    pf = BatchPowerFlow(grid.net, closed_lines=grid.base_closed_lines)
    p = batch.load_p_mw[0, 0] + batch.fixed_p_mw[0]
    q = batch.load_q_mvar[0, 0] + batch.fixed_q_mvar[0]
    res = pf.run(p, q)
    u = grid.case.uncertainty
    v_bad = (res.vm_pu < u.v_min_pu) | (res.vm_pu > u.v_max_pu)
    i_bad = res.i_ka > grid.net.line.max_i_ka.to_numpy()[None, :]
    return v_bad.mean(axis=0), i_bad.mean(axis=0)


@pytest.mark.parametrize("max_i_ka", [0.4, 0.18])
def test_probabilities_equal_a_count_over_the_samples(max_i_ka):
    ev, batch = evaluated(max_i_ka)
    v_count, i_count = brute_force(ev.grid, batch)
    np.testing.assert_allclose(ev.ops.voltage_violation_probability[0], v_count, atol=1e-12)
    np.testing.assert_allclose(ev.ops.current_violation_probability[0], i_count, atol=1e-12)
    assert ((v_count > 0) & (v_count < 1)).any()  # some buses straddle the band
    worst = max(v_count.max(), i_count.max())
    assert OBJECTIVES["violation_probability"](ev) == pytest.approx(worst)
    for gamma in (0.0, 0.05, 0.5):
        chance_v = CONSTRAINTS["chance_voltage"].with_params({"gamma": gamma})
        chance_i = CONSTRAINTS["chance_current"].with_params({"gamma": gamma})
        assert chance_v(ev) == pytest.approx(v_count.max() - gamma)
        assert chance_i(ev) == pytest.approx(i_count.max() - gamma)
    if max_i_ka < 0.2:  # a 180 A limit: the first sections overload in some samples
        assert 0 < i_count.max()


def test_gamma_outside_0_1_is_refused():
    ev, _ = evaluated()
    with pytest.raises(ValueError, match="gamma must lie in"):
        CONSTRAINTS["chance_voltage"].with_params({"gamma": 1.2})(ev)
