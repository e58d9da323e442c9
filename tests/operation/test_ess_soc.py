"""Storage state-of-charge limits (seed 000's Case III: ESS between 10 % and 90 % SOC)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdnmoo.cases import load_case
from fdnmoo.operation.injections import (DerLayout, ess_schedule, ess_soc_limits,
                                         ess_state_of_charge)
from fdnmoo.planning import planning_grid


def test_four_slot_day_by_hand():
    # 6-hour slots, a 1 MW / 4 MWh unit between 10 % and 90 %: 0.8 x 4 = 3.2 MWh usable
    # (two charging slots could take 12 MWh); the lowest slot alone takes it, at part power
    # 3.2 MWh / 6 h = 0.5333 MW, and the highest slot gives it back
    load = np.array([[[5.0, 1.0, 3.0, 9.0]]])  # ranks: slot 1 lowest, slot 3 highest
    out = ess_schedule(load, np.ones((1, 1)), np.full((1, 1), 4.0), 6.0, 0.1, 0.9)[0, 0, :, 0]
    assert out.tolist() == pytest.approx([0.0, 3.2 / 6, 0.0, -3.2 / 6])
    soc = ess_state_of_charge(out[None, None, :, None], np.full((1, 1), 4.0), 6.0, 0.1)[0, 0, :, 0]
    # starts at 10 %, charges 3.2 MWh in slot 1 (90 %), discharges it in slot 3
    assert soc.tolist() == pytest.approx([0.1, 0.9, 0.9, 0.1])
    # without limits the whole 4 MWh moves
    full = ess_schedule(load, np.ones((1, 1)), np.full((1, 1), 4.0), 6.0)[0, 0, :, 0]
    assert full.tolist() == pytest.approx([0.0, 4 / 6, 0.0, -4 / 6])


def test_power_limited_day_keeps_within_the_window():
    # 24 one-hour slots, 1 MW / 10 MWh, 10-90 %: 8 MWh usable, 12 charging hours allow 12 MWh;
    # so 8 h at full power
    load = np.arange(24.0)[None, None, :]
    out = ess_schedule(load, np.ones((1, 1)), np.full((1, 1), 10.0), 1.0, 0.1, 0.9)[0, 0, :, 0]
    assert out[:8].tolist() == [1.0] * 8 and out[-8:].tolist() == [-1.0] * 8
    assert not out[8:16].any()


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 24), st.floats(0.1, 2.0), st.floats(0.1, 8.0), st.floats(0.0, 0.45),
       st.floats(0.55, 1.0), st.integers(0, 2 ** 31))
def test_state_of_charge_stays_in_its_window(spd, power, hours, lo, hi, seed):
    rng = np.random.default_rng(seed)
    net_load = rng.random((2, 3, spd))
    energy = np.full((2, 1), power * hours)
    h = 24.0 / spd
    out = ess_schedule(net_load, np.full((2, 1), power), energy, h, lo, hi)
    np.testing.assert_allclose(out.sum(axis=2), 0.0, atol=1e-9)
    soc = ess_state_of_charge(out, energy, h, lo)
    assert soc.min() >= lo - 1e-9 and soc.max() <= hi + 1e-9


def test_case_columns_reach_the_dispatch_and_bad_limits_are_refused():
    case = copy.deepcopy(load_case("tpc84"))
    assert ess_soc_limits(case).tolist()[0] == [0.0, 1.0]  # the columns are optional
    case.candidates["ess"]["soc_min"] = 0.1
    case.candidates["ess"]["soc_max"] = 0.9
    grid = planning_grid(case)
    layout = DerLayout.of(grid, grid.net.bus.index.to_numpy())
    assert layout.ess_soc.shape == (len(case.candidates["ess"]), 2)
    assert np.all(layout.ess_soc == [0.1, 0.9])
    case.candidates["ess"].loc[3, "soc_min"] = 0.95
    with pytest.raises(ValueError, match=r"candidates\['ess'\] row 3 \(bus 12\): soc_min=0.95"):
        ess_soc_limits(case)
