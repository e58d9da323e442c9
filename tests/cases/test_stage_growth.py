"""One load-growth convention: stage u is planned at its demand at the end of year u * Y."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.cases.model import Horizon, stage_growth_factor
from fdnmoo.metrics.economics import stage_years
from fdnmoo.problems.encodings import stage_peak_load_mw
from fdnmoo.scenarios.batch import stage_load


@pytest.mark.parametrize("growth, years, stage, expected", [
    # hand-computed: 1.02 ** 5, 1.02 ** 10, 1.02 ** 15
    (0.02, 5.0, 1, 1.1040808032),
    (0.02, 5.0, 2, 1.21899441999476),
    (0.02, 5.0, 3, 1.34586833832413),
    (0.0, 5.0, 3, 1.0),
    (-0.01, 1.0, 1, 0.99),
    (0.04, 2.5, 2, 1.2166529024),  # 1.04 ** 5: fractional stage lengths
])
def test_factor_is_growth_to_the_end_of_the_stage(growth, years, stage, expected):
    h = Horizon(n_stages=3, years_per_stage=years, load_growth_per_year=growth)
    assert stage_growth_factor(h, stage) == pytest.approx(expected, rel=1e-12)


def test_stages_as_array_and_the_last_year_economics_gives_each_stage():
    h = Horizon(n_stages=4, years_per_stage=5.0, load_growth_per_year=0.0125)
    f = stage_growth_factor(h, np.arange(1, 5))
    assert f.shape == (4,)
    # economics: stage u covers years (u-1) Y + 1 .. u Y; its demand is that of year u Y
    np.testing.assert_allclose(f, 1.0125 ** stage_years(h)[:, 1], rtol=1e-14)
    np.testing.assert_allclose(f, [1.0125 ** 5, 1.0125 ** 10, 1.0125 ** 15, 1.0125 ** 20])


@pytest.mark.parametrize("stage", [0, -1, 1.5, True, "2", [1, 0]])
def test_stage_must_be_a_whole_number_from_one(stage):
    with pytest.raises(ValueError, match="stage must be a whole number >= 1"):
        stage_growth_factor(Horizon(), stage)


def test_scenario_batch_and_pv_targets_use_the_same_stage_load():
    case = load_case("ieee33")
    p, q = stage_load(case, 3)
    # Baran & Wu: 3715 kW, 2300 kvar; 1.015 ** (5, 10, 15) hand-computed
    growth = np.array([1.077284003884375, 1.16054082502515, 1.2502320666543696])
    np.testing.assert_allclose(p.sum(axis=1), 3.715 * growth, rtol=1e-12)
    np.testing.assert_allclose(q.sum(axis=1), 2.3 * growth, rtol=1e-12)
    assert [stage_peak_load_mw(case, s) for s in (1, 2, 3)] == pytest.approx(3.715 * growth)


def test_stage_demand_table_replaces_the_grown_load():
    case = load_case("md24")
    sd = case.candidates["stage_demand"]
    p, _ = stage_load(case, 3)
    np.testing.assert_allclose(p.sum(axis=1), sd.groupby("stage").p_mw.sum().to_numpy())
    assert stage_peak_load_mw(case, 2) == pytest.approx(sd.p_mw[sd.stage == 2].sum())


def test_stage_demand_at_an_unknown_bus_is_named():
    case = copy.deepcopy(load_case("md24"))
    sd = case.candidates["stage_demand"]
    case.candidates["stage_demand"] = pd.concat(
        [sd, pd.DataFrame({"bus": [999], "stage": [1], "p_mw": [1.0], "q_mvar": [0.5]})],
        ignore_index=True)
    with pytest.raises(KeyError, match=f"stage_demand row {len(sd)} names bus 999"):
        stage_load(case, 3)
    # rows of stages beyond the ones asked for are left out
    p, _ = stage_load(load_case("md24"), 2)
    assert p.shape == (2, len(case.net.bus))
