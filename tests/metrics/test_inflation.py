"""Inflation in the economics: prices escalated by (1+f)^t, discounted by (1+d)^-t.

References are computed independently here: year-by-year sums, and the
closed forms of the engineering-economics tables (numpy_financial's ``pv`` of
an ordinary annuity, written out below, at the real rate of the Fisher
relation ``1 + r = (1+d)/(1+f)``), and a hand computation in the comments.
"""

import json
import math

import numpy as np
import pytest

from fdnmoo.cases import CaseError, load_case, read_case
from fdnmoo.cases.overrides import apply_overrides
from fdnmoo.cases.registry import DATA_DIR
from fdnmoo.metrics.cost_model import (annuity_present_value, capital_recovery_factor,
                                       escalation_factor, present_value_factor)
from fdnmoo.metrics.economics import cost_breakdown
from fdnmoo.parameters import ParameterError
from fdnmoo.planning import Plan, planning_grid


def npf_pv(rate: float, nper: int, pmt: float) -> float:
    """numpy_financial.pv(rate, nper, pmt, fv=0, when='end'), sign flipped: the value today
    of ``nper`` end-of-period payments ``pmt``, ``pmt (1 - (1+rate)^-nper) / rate``."""
    if rate == 0:
        return pmt * nper
    return pmt * (1.0 - (1.0 + rate) ** -nper) / rate


def brute_force(d: float, f: float, start: int, end: int) -> float:
    return sum((1.0 + f) ** t * (1.0 + d) ** -t for t in range(start + 1, end + 1))


# --- the factors -----------------------------------------------------------------------------
def test_hand_computed_two_years():
    # d = 10 %, f = 5 %, years 1 and 2: q = 1.05 / 1.10 = 0.954545..., q + q^2
    #   = 0.9545454545 + 0.9111570248 = 1.8657024793
    assert annuity_present_value(0.10, 0, 2, inflation=0.05) == pytest.approx(1.8657024793,
                                                                              abs=1e-10)
    # one unit of year-0 price paid at the end of year 2: 1.05^2 / 1.1^2 = 1.1025 / 1.21
    assert present_value_factor(0.10, 2, inflation=0.05) == pytest.approx(1.1025 / 1.21,
                                                                          rel=1e-15)
    assert escalation_factor(0.05, 2) == pytest.approx(1.1025, rel=1e-15)


@pytest.mark.parametrize("d, f, start, end", [(0.071, 0.03, 0, 5), (0.071, 0.03, 5, 15),
                                              (0.1, 0.02, 10, 15), (0.08, -0.01, 3, 9),
                                              (0.05, 0.09, 0, 15), (0.0, 0.02, 0, 10)])
def test_escalated_annuity_against_sums_and_real_rate_table(d, f, start, end):
    value = annuity_present_value(d, start, end, inflation=f)
    assert value == pytest.approx(brute_force(d, f, start, end), rel=1e-12)
    # the same as an ordinary annuity at the real rate r = (1+d)/(1+f) - 1, discounted
    # from its start year at that rate
    real = (1.0 + d) / (1.0 + f) - 1.0
    from_start = npf_pv(real, end - start, 1.0) * (1.0 + real) ** -start
    assert value == pytest.approx(from_start, rel=1e-12)


def test_inflation_equal_to_interest_and_just_below_it():
    # q = 1: every year is worth 1 today
    assert annuity_present_value(0.07, 5, 15, inflation=0.07) == 10.0
    # f = d - 1e-13: no cancellation (expm1), the brute-force sum to 1e-12
    f = 0.07 - 1e-13
    assert annuity_present_value(0.07, 5, 15, inflation=f) == pytest.approx(
        brute_force(0.07, f, 5, 15), rel=1e-12)


def test_zero_inflation_is_the_plain_formula_bit_for_bit():
    for d, s, e in [(0.1, 0, 5), (0.1, 5, 15), (0.071, 2, 9)]:
        plain = ((1.0 + d) ** -s - (1.0 + d) ** -e) / d
        assert annuity_present_value(d, s, e, inflation=0.0) == plain
        assert present_value_factor(d, e, inflation=0.0) == (1.0 + d) ** -e
    assert escalation_factor(0.0, 7.0) == 1.0


# --- the cost breakdown ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ieee33():
    return load_case("ieee33")


def _pv_in_stage_two(case):
    grid = planning_grid(case)
    pv = np.zeros((3, len(case.candidates["pv"])))
    pv[1:, 0] = 1.0  # 1 MW at the first candidate, built in stage 2
    return grid, Plan.on_base_topology(grid, 3, der={"pv": pv})


def test_pv_built_in_stage_two_with_inflation_hand_computed(ieee33):
    # ieee33: 3 stages x 5 years, d = 0.1, PV 800,000 CNY/MW (year-0 price), life 20 yr,
    # O&M 8,000 CNY/(MW yr). With f = 3 %:
    #   price at the start of stage 2 (year 5): 800,000 * 1.03^5 = 800,000 * 1.1592741
    #     = 927,419.26
    #   annual payment: CRF(10 %, 20) = 0.1174596 -> 927,419.26 * 0.1174596 = 108,934.32,
    #   paid years 6..15: sum 1.1^-t, t = 6..15 = 3.8152927 -> PV 415,616.31
    #   O&M in stage 2: 8,000 * sum_{t=6}^{10} (1.03/1.1)^t
    #     = 8,000 * (0.6740 + 0.6311 + 0.5910 + 0.5534 + 0.5181) = 8,000 * 2.9676 = 23,741
    case = apply_overrides(ieee33, {"economics": {"inflation_rate": 0.03}})
    assert case.economics.sources["inflation_rate"] == "case_overrides"
    grid, plan = _pv_in_stage_two(case)
    costs = cost_breakdown(grid, plan)
    assert 800000 * 1.03 ** 5 == pytest.approx(927419.26, abs=0.01)
    assert capital_recovery_factor(0.1, 20) * 800000 * 1.03 ** 5 == pytest.approx(108934.32,
                                                                                  abs=0.01)
    assert costs.loc[2, "investment"] == pytest.approx(415616.31, abs=0.05)
    assert costs.loc[2, "om"] == pytest.approx(8000 * brute_force(0.1, 0.03, 5, 10), rel=1e-12)
    assert costs.loc[2, "om"] == pytest.approx(23741, abs=1)
    assert costs.loc[3, "om"] == pytest.approx(8000 * brute_force(0.1, 0.03, 10, 15), rel=1e-12)
    # the "lifetime" convention: the escalated lump sum discounted 5 years
    life = cost_breakdown(grid, plan, convention="lifetime")
    assert life.loc[2, "investment"] == pytest.approx(800000 * 1.03 ** 5 * 1.1 ** -5, rel=1e-12)


def test_zero_inflation_leaves_the_breakdown_unchanged_bit_for_bit(ieee33):
    grid, plan = _pv_in_stage_two(ieee33)
    explicit = apply_overrides(ieee33, {"economics": {"inflation_rate": 0.0}})
    grid0, plan0 = _pv_in_stage_two(explicit)
    a, b = cost_breakdown(grid, plan), cost_breakdown(grid0, plan0)
    assert (a.to_numpy() == b.to_numpy()).all()
    # and equal to the pre-inflation formulas (the hand-computed ieee33 test's numbers)
    annual = capital_recovery_factor(0.1, 20) * 800000
    assert a.loc[2, "investment"] == annual * ((1.1 ** -5 - 1.1 ** -15) / 0.1)


def test_inflation_raises_every_later_stage_cost(ieee33):
    grid, plan = _pv_in_stage_two(ieee33)
    inflated = apply_overrides(ieee33, {"economics": {"inflation_rate": 0.03}})
    g2, p2 = _pv_in_stage_two(inflated)
    a, b = cost_breakdown(grid, plan), cost_breakdown(g2, p2)
    assert b.loc[2, "investment"] > a.loc[2, "investment"]
    assert (b.om.to_numpy()[1:] > a.om.to_numpy()[1:]).all()
    assert b.loc[1, "om"] == a.loc[1, "om"] == 0.0  # nothing is operated in stage 1


# --- bad input -----------------------------------------------------------------------------------
@pytest.fixture
def doc():
    return json.loads((DATA_DIR / "ieee33.json").read_text())


@pytest.mark.parametrize("value, problem", [
    (3, "did you mean 0.03"), (1.0, "must be < 1"), (-0.9, "must be >= -0.5"),
    ("3 %", "finite number"), (math.inf, "finite number")])
def test_bad_inflation_in_a_case_file_names_file_field_and_value(tmp_path, doc, value, problem):
    doc["economics"]["inflation_rate"] = value  # json writes inf as Infinity, and reads it
    path = tmp_path / "bad_case.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CaseError) as err:
        read_case(path)
    msg = str(err.value)
    assert msg.startswith("bad_case.json: economics.inflation_rate"), msg
    assert problem in msg and err.value.field == "economics.inflation_rate"


def test_bad_inflation_override_names_the_override_key(ieee33):
    with pytest.raises(ParameterError) as err:
        apply_overrides(ieee33, {"economics": {"inflation_rate": 4.0}})
    assert err.value.key == "case_overrides.economics.inflation_rate"
    assert "did you mean 0.04" in str(err.value)


def test_case_files_without_inflation_are_written_without_the_key(tmp_path, ieee33):
    from fdnmoo.cases import write_case

    path = write_case(ieee33, tmp_path / "ieee33.json")
    assert "inflation_rate" not in json.loads(path.read_text())["economics"]
    case = apply_overrides(ieee33, {"economics": {"inflation_rate": 0.025}})
    path = write_case(case, tmp_path / "inflated.json")
    assert json.loads(path.read_text())["economics"]["inflation_rate"] == 0.025
    assert load_case(str(path)).economics.inflation_rate == 0.025
