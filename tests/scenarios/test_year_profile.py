"""profile "year": every 15-minute step of a SimBench case's load and generation profiles.

Reference: the absolute values ``simbench.get_absolute_values(net,
profiles_instead_of_study_cases=True)`` of the original SimBench net, and pandapower's
Newton-Raphson on the case net with its loads and sgens set to those values at a step.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import simbench

from fdnmoo.cases import SIMBENCH_CASES, load_case
from fdnmoo.cases.model import stage_growth_factor
from fdnmoo.cases.simbench_cases import simbench_net
from fdnmoo.planning import planning_grid
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower
from fdnmoo.scenarios import PROFILE_NAMES, ScenarioBatch

NAME = "simbench-mv-rural"
N_STEPS = 35_136  # SimBench's profile year 2016: 366 days x 96 quarter-hours


@pytest.fixture(scope="module")
def grid():
    return planning_grid(load_case(NAME))


@pytest.fixture(scope="module")
def batch(grid):
    return ScenarioBatch.build(grid, n_stages=2, profile="year")


@pytest.fixture(scope="module")
def absolute():
    net = simbench_net(SIMBENCH_CASES[NAME])
    return simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)


def test_year_has_every_step_of_a_quarter_hour(batch, grid):
    assert "year" in PROFILE_NAMES
    assert batch.load_p_mw.shape == (2, N_STEPS, 1, len(grid.net.bus))
    assert np.all(batch.slot_hours == 0.25) and batch.slot_hours.sum() == pytest.approx(8784.0)
    assert batch.pv_pu.shape[1] == N_STEPS and batch.evcs_pu.shape == (N_STEPS,)
    assert 0 < batch.pv_pu.max() <= 1.0 and batch.pv_pu.min() >= 0


def test_yearly_energies_equal_simbench_sums(batch, grid, absolute):
    load = absolute[("load", "p_mw")].to_numpy().sum(axis=1)
    sgen = absolute[("sgen", "p_mw")].to_numpy().sum(axis=1)
    q = absolute[("load", "q_mvar")].to_numpy().sum(axis=1)
    # every stage grows the loads (not the existing generators) to the stage's end
    growth = stage_growth_factor(grid.case.horizon, np.array([1, 2]))
    for s, g in enumerate(growth):
        np.testing.assert_allclose(batch.load_p_mw[s, :, 0, :].sum(axis=1), g * load, atol=1e-9)
        np.testing.assert_allclose(batch.fixed_p_mw.sum(axis=1), -sgen, atol=1e-9)
        ours = batch.load_p_mw[s, :, 0, :].sum(axis=1) + batch.fixed_p_mw.sum(axis=1)
        np.testing.assert_allclose(ours, g * load - sgen, atol=1e-9)
        assert (ours * batch.slot_hours).sum() == pytest.approx(((g * load - sgen) * 0.25).sum())
        np.testing.assert_allclose(batch.load_q_mvar[s, :, 0, :].sum(axis=1), g * q, atol=1e-9)


def test_peak_slot_is_the_largest_simbench_load(batch, absolute):
    assert batch.peak_slot == int(np.argmax(absolute[("load", "p_mw")].to_numpy().sum(axis=1)))


@pytest.mark.parametrize("step", [0, 2056, 20_000])
def test_power_flow_at_a_step_matches_runpp_with_simbench_values(grid, batch, absolute, step):
    case = grid.case
    net = copy.deepcopy(case.net)
    g = float(stage_growth_factor(case.horizon, 1))
    net.load["p_mw"] = g * absolute[("load", "p_mw")].loc[step, net.load.index].to_numpy()
    net.load["q_mvar"] = g * absolute[("load", "q_mvar")].loc[step, net.load.index].to_numpy()
    net.sgen["p_mw"] = absolute[("sgen", "p_mw")].loc[step, net.sgen.index].to_numpy()
    ref = run_pandapower(net)
    pos = pd.Index(batch.bus_labels).get_indexer(case.net.bus.index)
    pf = BatchPowerFlow(case.net)
    p = batch.load_p_mw[0, step, 0, pos] + batch.fixed_p_mw[step, pos]
    q = batch.load_q_mvar[0, step, 0, pos] + batch.fixed_q_mvar[step, pos]
    ours = pf.run(p[None], q[None])
    assert ref.converged[0] and ours.converged.all()
    assert np.abs(ours.vm_pu[0] - ref.vm_pu[0]).max() <= 1e-6


def test_year_needs_a_simbench_case():
    with pytest.raises(ValueError, match="has no year of profiles"):
        ScenarioBatch.build(planning_grid(load_case("ieee33")), profile="year")


def test_year_takes_no_day_reduction(grid):
    with pytest.raises(ValueError, match="days must be None"):
        ScenarioBatch.build(grid, profile="year", days=4)
