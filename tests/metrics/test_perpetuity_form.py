"""Form ``perpetuity`` of the present value (seed 002's eq. (1)), by hand on md24.

Reference: seed 002 (Q. Wang, M. Jing, Front. Energy Res. 10:902891 (2022)), eq. (1):
``F = sum_t (1+i)^-t / i c_t^I + sum_t (1+i)^-t (c_t^M + ...) + (1+i)^-nT / i (c_nT^M + ...)``
with ``c_t^I`` the annualised investment (its eq. (2): capital recovery factor x cost) of the
items built in one-year stage ``t``. The numbers below are written out from md24's data
(d = 0.071, 1-year stages) and checked against brute-force sums of the yearly payments.
"""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from fdnmoo.cases import CaseError, load_case, write_case
from fdnmoo.cases.overrides import apply_overrides
from fdnmoo.parameters import ParameterError
from fdnmoo.metrics.cost_model import (capital_recovery_factor, cost_model,
                                       perpetuity_present_value)
from fdnmoo.metrics.economics import cost_breakdown, cost_table
from fdnmoo.planning import Plan, PlanBatch, planning_grid

D = 0.071  # md24's economics.discount_rate


@pytest.fixture(scope="module")
def md24():
    return load_case("md24")


def _two_stage_plan(case):
    """md24's base topology for 2 stages, a 1 MVA conventional DG (500,000 USD/MVA, 20 yr)
    at the first DG candidate (bus 2), built in stage 2."""
    grid = planning_grid(case)
    dg = np.zeros((2, len(case.candidates["dg"])))
    dg[1, 0] = 1.0
    return grid, Plan.on_base_topology(grid, 2, der={"dg": dg})


def _ops():
    """Yearly energies of one plan over 2 stages (a batch of one)."""
    zeros = np.zeros((1, 2))
    return SimpleNamespace(energy_loss_mwh=np.array([[100.0, 200.0]]), pv_energy_mwh=zeros,
                           unserved_energy_mwh=np.array([[0.0, 1.0]]),
                           voltage_violation_energy_mwh=None, overload_energy_mwh=None,
                           slot_loss_mwh=None, dg_energy_mwh=None)


def test_perpetuity_factor_is_the_limit_of_the_yearly_sum():
    # (1+d)^-t / d: seed 002's factor; the yearly sum up to 3000 years is within 1e-12
    for start in (0.0, 1.0, 2.0, 7.0):
        brute = sum((1 + D) ** -t for t in range(int(start) + 1, 3001))
        assert perpetuity_present_value(D, start) == pytest.approx(brute, rel=1e-12)
        assert perpetuity_present_value(D, start) == (1 + D) ** -start / D
    # with inflation f = 2 %: sum of (1.02/1.071)^t, t > 3
    brute = sum((1.02 / 1.071) ** t for t in range(4, 3001))
    assert perpetuity_present_value(D, 3.0, inflation=0.02) == pytest.approx(brute, rel=1e-12)
    with pytest.raises(ValueError, match="discount rate above the inflation"):
        perpetuity_present_value(0.05, 0.0, inflation=0.05)


def test_two_stage_example_by_hand(md24):
    case = apply_overrides(md24, {"economics": {"form": "perpetuity"}})
    grid, plan = _two_stage_plan(case)
    model = cost_model(grid, 2)
    table = cost_table(model, PlanBatch.of(grid, [plan]), _ops())
    # investment, stage 2: 1.071^20 = 3.942661, CRF(7.1 %, 20 yr) = 0.071 * 3.942661 /
    #   2.942661 = 0.0951278, x 500,000 = 47,563.9 USD/yr, for ever from year 3 on:
    #   x 1.071^-2 / 0.071 = 12.27899 -> 584,037 USD
    annual = capital_recovery_factor(D, 20) * 500_000.0
    assert annual == pytest.approx(47563.9, abs=0.05)
    assert table["investment"][0, 1] == pytest.approx(annual * 1.071 ** -2 / 0.071, rel=1e-12)
    assert table["investment"][0, 1] == pytest.approx(584037, abs=1)
    assert table["investment"][0, 0] == 0.0
    # O&M: existing lines 2.2 + 1.7 + 2.7 + 1.9 = 8.5 km x 450 + 2 transformers x 1,000
    #   = 5,825 USD/yr (the DG type has no O&M); stage 1 x 1.071^-1, stage 2 x 1.071^-2
    #   plus the perpetual tail 1.071^-2 / 0.071
    om = 8.5 * 450.0 + 2 * 1000.0
    assert table["om"][0, 0] == pytest.approx(om / 1.071, rel=1e-12)
    assert table["om"][0, 1] == pytest.approx(om * (1.071 ** -2 + 1.071 ** -2 / 0.071),
                                              rel=1e-12)
    # losses at md24's load-level prices weighted by duration x load factor^2:
    #   (2000 * 0.49 * 57.7 + 5760 * 0.6889 * 70 + 1000 * 85.3) / (980 + 3968.064 + 1000)
    #   = (56,546 + 277,764.7 + 85,300) / 5,948.064 = 70.5457 USD/MWh
    price = (2000 * 0.49 * 57.7 + 5760 * 0.6889 * 70 + 1000 * 85.3) / (980 + 3968.064 + 1000)
    assert price == pytest.approx(70.5457, abs=1e-4)
    assert table["energy_loss"][0, 0] == pytest.approx(100 * price / 1.071, rel=1e-12)
    tail = 1 + 1 / 0.071  # stage 2's year, then every year after the horizon
    assert table["energy_loss"][0, 1] == pytest.approx(200 * price * 1.071 ** -2 * tail,
                                                       rel=1e-12)
    # unserved energy, 2,000 USD/MWh, 1 MWh/yr in stage 2 only
    assert table["unserved_penalty"][0, 1] == pytest.approx(2000 * 1.071 ** -2 * tail, rel=1e-12)
    assert table["unserved_penalty"][0, 0] == 0.0
    # eq. (1) summed: the total
    by_hand = (annual * 1.071 ** -2 / 0.071 + om / 1.071 + om * 1.071 ** -2 * tail
               + 100 * price / 1.071 + (200 * price + 2000) * 1.071 ** -2 * tail)
    assert table["total"].sum() == pytest.approx(by_hand, rel=1e-12)


def test_yearly_brute_force_of_the_stage_two_investment(md24):
    # the same investment as 3000 yearly payments discounted one by one
    case = apply_overrides(md24, {"economics": {"form": "perpetuity"}})
    grid, plan = _two_stage_plan(case)
    costs = cost_breakdown(grid, plan)
    annual = capital_recovery_factor(D, 20) * 500_000.0
    brute = sum(annual * (1 + D) ** -t for t in range(3, 3001))
    assert costs.loc[2, "investment"] == pytest.approx(brute, rel=1e-12)


def test_default_form_is_bit_identical_to_the_horizon_convention(md24):
    grid, plan = _two_stage_plan(md24)
    assert md24.economics.form == "horizon"
    model = cost_model(grid, 2)
    batch = PlanBatch.of(grid, [plan])
    default = cost_table(model, batch, _ops())
    explicit = cost_table(model, batch, _ops(), convention="horizon")
    for key in default:
        assert (default[key] == explicit[key]).all(), key
    # and the horizon formula itself: annuities in year 2 only (horizon end: year 2)
    annual = capital_recovery_factor(D, 20) * 500_000.0
    assert default["investment"][0, 1] == annual * ((1.071 ** -1 - 1.071 ** -2) / 0.071)


def test_perpetuity_costs_more_than_the_horizon_form(md24):
    # the same plan: the perpetual annuities and tail only add positive amounts
    grid, plan = _two_stage_plan(md24)
    g2, p2 = _two_stage_plan(apply_overrides(md24, {"economics": {"form": "perpetuity"}}))
    a = cost_table(cost_model(grid, 2), PlanBatch.of(grid, [plan]), _ops())
    b = cost_table(cost_model(g2, 2), PlanBatch.of(g2, [p2]), _ops())
    assert b["total"].sum() > 10 * a["total"].sum()  # 1/d = 14 years of operation per year


def test_bad_form_names_the_field_and_the_closest_form(md24):
    # refused where the case is validated: on load and on overrides
    with pytest.raises(ParameterError, match=r"case_overrides.economics.form: unknown form "
                                             r"\(did you mean 'perpetuity'\?\)"):
        apply_overrides(md24, {"economics": {"form": "perpetuty"}})


def test_perpetuity_with_inflation_not_below_the_rate_is_refused(md24):
    with pytest.raises(ParameterError, match="discount_rate > inflation_rate"):
        apply_overrides(md24, {"economics": {"form": "perpetuity", "inflation_rate": 0.08}})


def test_form_written_only_when_not_the_default(tmp_path, md24):
    path = write_case(md24, tmp_path / "md24.json")
    assert "form" not in json.loads(path.read_text())["economics"]
    case = apply_overrides(md24, {"economics": {"form": "perpetuity"}})
    assert case.economics.sources["form"] == "case_overrides"
    path = write_case(case, tmp_path / "perpetual.json")
    assert json.loads(path.read_text())["economics"]["form"] == "perpetuity"
    assert load_case(str(path)).economics.form == "perpetuity"


def test_a_case_file_with_an_unknown_form_is_refused_on_load(tmp_path):
    path = tmp_path / "md24_form.json"
    write_case(load_case("md24"), path)
    data = json.loads(path.read_text())
    data.setdefault("economics", {})["form"] = "perpetuty"
    path.write_text(json.dumps(data))
    with pytest.raises(CaseError, match=r"economics.form.*did you mean 'perpetuity'"):
        load_case(str(path))
