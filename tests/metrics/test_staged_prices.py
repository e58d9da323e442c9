"""Prices, unit costs and load growth given per stage: case files, overrides and the economics.

By-hand references: every present value below is summed year by year from the
end-of-year factors ``1.1 ** -t`` (d = 10 %, 5-year stages), not taken from the
closed forms of :mod:`fdnmoo.metrics.cost_model`; the single-number values are
pinned from the code before per-stage lists were accepted (commit e5673ef).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fdnmoo.cases import CaseError, load_case
from fdnmoo.cases.model import Horizon, stage_growth_factor
from fdnmoo.cases.overrides import apply_overrides
from fdnmoo.cases.registry import DATA_DIR
from fdnmoo.metrics import OperationMetrics
from fdnmoo.metrics.cost_model import capital_recovery_factor
from fdnmoo.metrics.economics import cost_breakdown
from fdnmoo.parameters import ParameterError
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.scenarios.batch import stage_load

D, Y = 0.1, 5  # ieee33's discount rate and stage length


def pv_years(first: int, last: int) -> float:
    """Sum of end-of-year discount factors 1.1**-t for t = first .. last."""
    return sum((1 + D) ** -t for t in range(first, last + 1))


def ops3(loss, pv):
    n, z = 3, np.zeros(3)
    return OperationMetrics(
        energy_loss_mwh=np.asarray(loss, float), sop_loss_mwh=z, demand_mwh=np.full(n, 1e3),
        pv_energy_mwh=np.asarray(pv, float), unserved_energy_mwh=z, violation_energy_mwh=z,
        peak_loss_kw=z, peak_vmin_pu=z + 1, peak_vmax_pu=z + 1, vmin_pu=np.ones((n, 1, 1)),
        vmax_pu=np.ones((n, 1, 1)), i_max_ka=np.zeros((n, 1, 1)), i_limit_ka=np.ones(1),
        voltage_deviation_pu=z, voltage_violation_probability=z[:, None],
        current_violation_probability=z[:, None], substation_peak_mva=z[:, None],
        converged_share=1.0)


def pv_evcs_plan(grid):
    """PV at ieee33's candidates 0 (bus 7), 3 (bus 22), 6 (bus 32); EVCS at 2 (bus 19), 4 (32)."""
    pv = np.zeros((3, 8))
    pv[0, 0], pv[1, 0], pv[1, 3], pv[2, [0, 3, 6]] = 0.5, 0.75, 1.0, 1.0
    ev = np.zeros((3, 5))
    ev[1, 2], ev[2, 2], ev[2, 4] = 0.25, 0.5, 0.5
    return Plan.on_base_topology(grid, 3, der={"pv": pv, "evcs": ev})


OPS = dict(loss=[1000.0, 1200.0, 1500.0], pv=[300.0, 800.0, 1500.0])


# --- single numbers: unchanged ---------------------------------------------------------------
def test_single_numbers_give_the_costs_they_gave_before():
    grid = planning_grid(load_case("ieee33"))
    plan, ops = pv_evcs_plan(grid), ops3(**OPS)
    # pinned from commit e5673ef (before per-stage lists), repr of the floats
    pinned = {"horizon": [1301268.8035031564, 2249389.716211682, 836444.4084258399],
              "lifetime": [1343905.905582704, 2975059.289310663, 1820267.5281951625]}
    for convention, total in pinned.items():
        got = cost_breakdown(grid, plan, ops, convention=convention)["total"].to_numpy()
        assert got.tolist() == total  # bit for bit
    assert stage_load(load_case("ieee33"), 3)[0].sum(axis=1).tolist() == \
        [4.002110074430451, 4.3114091649684285, 4.644612127620976]


# --- prices per stage --------------------------------------------------------------------------
STAGED = {"economics": {
    "unit_costs": {"pv_per_mw": [8e5, 6e5, 4e5], "evcs_per_mw": [8e5, 6e5, 4e5],
                   "evcs_site_per_site": [3.0e6, 3.5e6, 4.0e6],
                   "pv_om_per_mw_year": None, "evcs_om_per_mw_year": None},
    "prices": {"energy_per_mwh": [350.0, 300.0, 250.0], "pv_feed_in_per_mwh": [350, 300, 250]}}}


@pytest.fixture(scope="module")
def staged_grid():
    return planning_grid(apply_overrides(load_case("ieee33"), STAGED))


def test_staged_prices_give_the_hand_computed_investment(staged_grid):
    plan = pv_evcs_plan(staged_grid)
    # what each stage builds, at its own stage's price (CNY):
    # I: PV 0.5 MW x 8e5; II: PV +0.25 +1.0 MW x 6e5, EVCS site 3.5e6 + 0.25 MW x 6e5;
    # III: PV +0.25 +1.0 MW x 4e5, EVCS site 4e6 + (0.25 + 0.5) MW x 4e5
    built = np.array([0.5 * 8e5, 1.25 * 6e5 + 3.5e6 + 0.25 * 6e5, 1.25 * 4e5 + 4.0e6 + 0.75 * 4e5])
    lifetime = cost_breakdown(staged_grid, plan, convention="lifetime")
    np.testing.assert_allclose(lifetime["investment"], built * (1 + D) ** -np.array([0, 5, 10]),
                               rtol=1e-12)
    # annuities eps(10 %, 20 yr) from the build stage's first year to the horizon end (year 15)
    horizon = cost_breakdown(staged_grid, plan, convention="horizon")
    annuities = [pv_years(1, 15), pv_years(6, 15), pv_years(11, 15)]
    np.testing.assert_allclose(horizon["investment"],
                               built * capital_recovery_factor(D, 20) * annuities, rtol=1e-12)
    assert (horizon["om"] == 0).all()


def test_staged_prices_give_the_hand_computed_operating_costs(staged_grid):
    table = cost_breakdown(staged_grid, pv_evcs_plan(staged_grid), ops3(**OPS))
    years = [pv_years(1, 5), pv_years(6, 10), pv_years(11, 15)]
    np.testing.assert_allclose(table["energy_loss"],
                               np.array([1000 * 350, 1200 * 300, 1500 * 250]) * years, rtol=1e-12)
    np.testing.assert_allclose(table["pv_profit"],
                               -np.array([300 * 350, 800 * 300, 1500 * 250]) * years, rtol=1e-12)


def test_a_list_of_equal_prices_is_the_single_number():
    case = load_case("ieee33")
    same = {"economics": {"unit_costs": {k: [v] * 3 for k, v in case.economics.unit_costs.items()},
                          "prices": {k: [v] * 3 for k, v in case.economics.prices.items()}}}
    a, b = planning_grid(case), planning_grid(apply_overrides(case, same))
    for convention in ("horizon", "lifetime"):
        ta = cost_breakdown(a, pv_evcs_plan(a), ops3(**OPS), convention=convention)
        tb = cost_breakdown(b, pv_evcs_plan(b), ops3(**OPS), convention=convention)
        assert ta.equals(tb)


# --- load growth per stage -------------------------------------------------------------------
def test_growth_per_stage_compounds_stage_by_stage():
    # seed 000 (R. Wang et al. 2024, Fig. 3): 2, 1.5, 1 and 0.5 %/yr in stages I-IV
    h = Horizon(n_stages=4, years_per_stage=5.0, load_growth_per_year=[0.02, 0.015, 0.01, 0.005])
    hand = [1.02 ** 5, 1.02 ** 5 * 1.015 ** 5, 1.02 ** 5 * 1.015 ** 5 * 1.01 ** 5,
            1.02 ** 5 * 1.015 ** 5 * 1.01 ** 5 * 1.005 ** 5]
    np.testing.assert_allclose(stage_growth_factor(h, np.arange(1, 5)), hand, rtol=1e-14)
    assert stage_growth_factor(h, 2) == pytest.approx(hand[1], rel=1e-14)
    with pytest.raises(ValueError, match="no rate for stage 5"):
        stage_growth_factor(h, 5)


def test_problem_horizon_sets_growth_per_stage_and_the_demand_follows():
    case = load_case("ieee33")
    grown = apply_overrides(case, {"horizon": {"load_growth_per_year": [0.02, 0.01, 0.0]}},
                            key="problem", sections=("horizon",))
    p, _ = stage_load(grown, 3)
    # Baran & Wu's 3715 kW grown 1.02**5, then 1.01**5, then not at all
    np.testing.assert_allclose(p.sum(axis=1), 3.715 * np.array(
        [1.02 ** 5, 1.02 ** 5 * 1.01 ** 5, 1.02 ** 5 * 1.01 ** 5]), rtol=1e-12)
    with pytest.raises(ParameterError, match=r"problem\.horizon\.load_growth_per_year.*one value "
                                             r"per stage: 2 given.*3 stages"):
        apply_overrides(case, {"horizon": {"load_growth_per_year": [0.02, 0.01]}},
                        key="problem", sections=("horizon",))


def test_a_problem_config_takes_staged_growth_and_prices():
    from fdnmoo.problems.config import ProblemConfig

    config = ProblemConfig(case="ieee33", preset="sop_planning",
                           horizon={"load_growth_per_year": [0.02, 0.01, 0.0]},
                           case_overrides={"economics": {"prices": {"energy_per_mwh": [350, 300,
                                                                                       250]}}})
    problem = config.build()
    case = problem.grid.case
    assert case.horizon.load_growth_per_year == [0.02, 0.01, 0.0]
    assert case.economics.prices["energy_per_mwh"] == [350, 300, 250]


# --- the case file ---------------------------------------------------------------------------
@pytest.fixture
def doc():
    return json.loads((DATA_DIR / "ieee33.json").read_text())


def load_doc(tmp_path, doc):
    path = tmp_path / "staged_case.json"
    path.write_text(json.dumps(doc))
    return load_case(path)


def test_case_file_takes_one_value_per_stage(tmp_path, doc):
    doc["horizon"]["load_growth_per_year"] = [0.02, 0.015, 0.01]
    doc["economics"]["unit_costs"]["pv_per_mw"] = [8e5, 6e5, 4e5]
    doc["economics"]["prices"]["energy_per_mwh"] = [350.0, 300.0, 250.0]
    case = load_doc(tmp_path, doc)
    assert case.economics.unit_costs["pv_per_mw"] == [8e5, 6e5, 4e5]
    assert case.horizon.load_growth_per_year == [0.02, 0.015, 0.01]


@pytest.mark.parametrize("section, key, value, field, problem", [
    ("economics.unit_costs", "pv_per_mw", [8e5, 6e5], "economics.unit_costs.pv_per_mw",
     "one value per stage: 2 given, the horizon has 3 stages"),
    ("economics.prices", "energy_per_mwh", [350, "cheap", 250],
     "economics.prices.energy_per_mwh[1]", "finite number"),
    ("economics.prices", "energy_per_mwh", [350, -1, 250],
     "economics.prices.energy_per_mwh[1]", ">= 0"),
    ("economics.unit_costs", "pv_per_mw", {"I": 8e5}, "economics.unit_costs.pv_per_mw",
     "a list with one number per stage (3)"),
    ("horizon", "load_growth_per_year", [0.02, 0.01, 0.0, 0.0], "horizon.load_growth_per_year",
     "4 given, the horizon has 3 stages"),
    ("horizon", "load_growth_per_year", [0.02, -1.0, 0.0], "horizon.load_growth_per_year[1]",
     "> -1.0"),
    ("economics.lifetimes_years", "pv", [20, 20, 20], "economics.lifetimes_years.pv",
     "finite number"),
])
def test_bad_stage_lists_name_file_field_and_value(tmp_path, doc, section, key, value, field,
                                                   problem):
    target = doc
    for part in section.split("."):
        target = target[part]
    target[key] = value
    with pytest.raises(CaseError) as err:
        load_doc(tmp_path, doc)
    message = str(err.value)
    assert message.startswith("staged_case.json: ") or "staged_case.json" in message
    assert err.value.field == field
    assert problem in message


def test_a_yaml_exponent_without_sign_gets_a_hint():
    import yaml

    from fdnmoo.cases.overrides import check_overrides

    value = yaml.safe_load("[8.0e5, 6.0e+5]")  # PyYAML: the first is a string
    with pytest.raises(ParameterError, match=r"unit_costs\.pv_per_mw\[0\]: expected a number, "
                                             r"got the string '8.0e5'.*write 800000 or 8.0e\+5"):
        check_overrides({"economics": {"unit_costs": {"pv_per_mw": value}}})


def test_seed_000_published_horizon_and_prices_build_a_problem():
    from pathlib import Path

    import yaml

    from fdnmoo.problems.config import ProblemConfig

    published = yaml.safe_load((Path(__file__).parents[2] / "experiments" / "published"
                                / "s000_dynamic.yaml").read_text())
    problem = ProblemConfig(case="tpc84", preset="sop_planning", horizon=published["horizon"],
                            case_overrides=published["case_overrides"]).build()
    case = problem.grid.case
    # seed 000, Fig. 3 caption: 28.35 MW grown 2, 1.5, 1, 0.5 %/yr over 5-year stages
    p, _ = stage_load(case, 4)
    hand = 28.35 * np.cumprod([1.02 ** 5, 1.015 ** 5, 1.01 ** 5, 1.005 ** 5])
    np.testing.assert_allclose(p.sum(axis=1), hand, rtol=1e-12)
    assert case.economics.unit_costs["sop_per_mva"] == [8e5, 6e5, 4e5, 2e5]
