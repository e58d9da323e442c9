"""The md24-aa case: md24 as the AA joint-planning study's 24-bus system
(experiments/cases/build_md24_aa.py).

Expected values are read by hand from shared/data/munoz_delgado_24node.json
(Munoz-Delgado, Contreras, Arroyo, IEEE Trans. Power Syst. 30(5), 2015: DG
candidate nodes, DG alternative ratings, interest rate) and from S. Wang et al.
2022 (the AA-NSGA-II paper, Section IV.A: 3 stages x 5 years), not computed
with the builder.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from fdnmoo.cases import load_case, validate_case
from fdnmoo.cases.registry import DATA_DIR
from fdnmoo.metrics.cost_model import annuity_present_value
from fdnmoo.metrics.economics import cost_breakdown
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.scenarios.batch import stage_load

REPO = Path(__file__).resolve().parents[2]
# Munoz-Delgado's DG candidate nodes (source JSON, dg_candidates)
WIND_NODES = [1, 4, 5, 9, 15, 17, 18, 19]
CONVENTIONAL_NODES = [2, 3, 7, 13, 15, 16, 17, 20]


@cache
def _case():
    return load_case("md24-aa")


@cache
def _md24():
    return load_case("md24")


def test_loads_validates_and_cites_both_sources():
    case = _case()
    validate_case(case)
    assert case.name == "md24-aa"
    assert "Munoz-Delgado" in case.citation
    assert "doi:10.35833/MPCE.2020.000930" in case.citation
    assert "doi:10.35833/MPCE.2020.000930" in case.economics.sources["study"]


def test_horizon_three_stages_of_five_years_at_md24s_stage_peaks():
    case = _case()
    h = case.horizon
    assert (h.n_stages, h.years_per_stage, h.load_growth_per_year) == (3, 5.0, 0.0)
    # the peak of every stage is md24's (stage 1..3: 16.64, 27.58, 46.85 MVA at pf 0.9,
    # summed by hand in tests/cases/test_md24.py)
    p, _ = stage_load(case, 3)
    np.testing.assert_allclose(p.sum(axis=1), 0.9 * np.array([16.64, 27.58, 46.85]), rtol=1e-9)
    p_md24, _ = stage_load(_md24(), 3)
    np.testing.assert_array_equal(p, p_md24)


def test_pv_and_svc_candidates_at_the_dg_candidate_nodes():
    pv, svc = _case().candidates["pv"], _case().candidates["svc"]
    assert pv.bus.tolist() == WIND_NODES and (pv.max_mw == 2.0).all()  # 2.05 MVA rounded down
    assert svc.bus.tolist() == CONVENTIONAL_NODES and (svc.max_mvar == 1.0).all()  # 1 MVA
    assert not {"dg", "dg_types", "wind_speed", "wind_power_curve"} & set(_case().candidates)


def test_network_and_expansion_tables_are_md24s():
    case, md24 = _case(), _md24()
    for name in ("corridors", "conductors", "substations", "transformer_types", "stage_demand",
                 "load_levels"):
        assert case.candidates[name].equals(md24.candidates[name]), name
    assert case.net.bus.equals(md24.net.bus) and case.net.line.equals(md24.net.line)


def test_economics_interest_and_inflation_with_their_sources():
    e = _case().economics
    assert e.discount_rate == 0.071  # Munoz-Delgado's interest rate (source JSON)
    assert e.inflation_rate == 0.03
    for key in ("inflation_rate", "pv_per_mw", "svc_per_mvar"):
        assert e.sources[key].startswith("assumption"), key
    for key in ("pv_per_mw", "svc_per_mvar", "pv_om_per_mw_year", "svc_om_per_mvar_year"):
        assert key in e.unit_costs and key in e.sources
    assert e.lifetimes_years["pv"] == e.lifetimes_years["svc"] == 20.0


def test_reference_says_what_is_the_papers_and_what_is_assumed():
    ref = _case().reference
    assert "3 stages of 5 years" in ref["from_paper"]["horizon"]
    assert "Section IV.A" in ref["from_paper"]["horizon"]
    assert {"pv_sites", "svc_sites", "inflation_rate", "prices"} <= set(ref["assumed"])
    assert _case().uncertainty.pv_deviation == _case().uncertainty.load_deviation == 0.1


def test_pv_in_stage_two_costs_the_inflated_price_hand_computed():
    # 1 MW PV at bus 1 from stage 2: price 1e6 USD/MW (year 0) * 1.03^5 = 1,159,274.07 at the
    # stage start; CRF(7.1 %, 20) = 0.071 * 1.071^20 / (1.071^20 - 1) = 0.0951278;
    # annuities paid years 6..15: sum 1.071^-t = 4.9614225
    #   -> 1,159,274.07 * 0.0951278 * 4.9614225 = 547,141.80 USD
    grid = planning_grid(_case())
    pv = np.zeros((3, 8))
    pv[1:, 0] = 1.0
    costs = cost_breakdown(grid, Plan.on_base_topology(grid, 3, der={"pv": pv}))
    crf = 0.071 * 1.071 ** 20 / (1.071 ** 20 - 1)
    years = sum(1.071 ** -t for t in range(6, 16))
    assert costs.loc[2, "investment"] == pytest.approx(1e6 * 1.03 ** 5 * crf * years, rel=1e-12)
    assert costs.loc[2, "investment"] == pytest.approx(547141.80, abs=0.01)
    om = 1e4 * sum((1.03 / 1.071) ** t for t in range(6, 11))
    assert costs.loc[2, "om"] - costs.loc[1, "om"] * annuity_present_value(
        0.071, 5, 10, inflation=0.03) / annuity_present_value(0.071, 0, 5, inflation=0.03) \
        == pytest.approx(om, rel=1e-9)


def test_shipped_file_is_rebuilt_byte_identically():
    proc = subprocess.run([sys.executable, str(REPO / "experiments/cases/build_md24_aa.py"),
                           "--check", "--out", str(DATA_DIR / "md24-aa.json")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
