"""Write ``md24-aa.json``: md24 as the 24-bus system of the AA joint-planning study.

Usage::

    python experiments/cases/build_md24_aa.py [--out md24-aa.json] [--check]

S. Wang, Y. Dong, Q. Zhao and X. Zhang, 'Bi-level multi-objective joint
planning of distribution networks considering uncertainties', Journal of
Modern Power Systems and Clean Energy, 2022 (the AA-NSGA-II paper), Section IV
(case study, Fig. 2): "a modified 24-bus test system [Munoz-Delgado et al.]";
"the planning horizon is divided into 3 stages, each lasting for 5 years. The
data of line and peak load (power factor equals 0.9) are derived from" it. Its
tables of PV/SVC candidates, prices and rates did not survive in our copy of
the paper (nor its equations), so this variant is md24 (the built-in case,
``experiments/cases/build_md24.py``: network, corridors, conductors,
substations, per-stage peak demand at power factor 0.9, load-level energy
prices, voltage band, interest rate) with:

* **horizon** 3 stages x 5 years (the paper), no load growth inside the data:
  each stage's peak demand is md24's ``stage_demand`` of that stage;
* **PV candidates** at Munoz-Delgado's renewable (wind) DG candidate nodes
  1, 4, 5, 9, 15, 17, 18, 19, up to 2.0 MW each (the larger renewable
  alternative's 2.05 MVA, rounded down); **SVC candidates** at its conventional
  DG candidate nodes 2, 3, 7, 13, 15, 16, 17, 20, up to 1.0 Mvar each (the
  smaller conventional alternative's 1 MVA): assumptions, the paper's sites
  (Fig. 2) are not legible in our copy; the DG tables themselves are dropped
  (the paper plans no DG but PV);
* **economics**: interest rate 0.071 (md24's), inflation 0.03 per year
  (assumed: the paper uses both rates, nomenclature "inflation rate and
  interest rate"), PV 1.0e6 USD/MW and SVC 5.0e4 USD/Mvar (assumed), O&M
  1 %/yr of investment (the rule of the built-in feeders), lifetimes 20 yr
  (md24's DG life);
* **uncertainty** PV and load +/-10 % (the level of the paper's AA/IA/MCS
  comparison, Fig. 9).

Every item is written into the case file: ``economics.sources`` per number,
``reference.from_paper`` and ``reference.assumed`` (what, and where in the paper).
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from fdnmoo.cases import Horizon, PlanningCase, load_case, write_case
from fdnmoo.cases.registry import DATA_DIR

NAME = "md24-aa"
AA_PAPER = ("S. Wang, Y. Dong, Q. Zhao and X. Zhang, 'Bi-level multi-objective joint planning of "
            "distribution networks considering uncertainties', Journal of Modern Power Systems "
            "and Clean Energy, 2022, doi:10.35833/MPCE.2020.000930")
STAGES, YEARS_PER_STAGE = 3, 5.0
PV_SITES, PV_MAX_MW = (1, 4, 5, 9, 15, 17, 18, 19), 2.0
SVC_SITES, SVC_MAX_MVAR = (2, 3, 7, 13, 15, 16, 17, 20), 1.0
INFLATION = 0.03
PV_PER_MW, SVC_PER_MVAR = 1.0e6, 5.0e4
OM_SHARE = 0.01
LIFETIME_YEARS = 20.0
DEVIATION = 0.1
DROPPED = ("dg", "dg_types", "wind_speed", "wind_power_curve")

FROM_PAPER = {
    "network": "the modified 24-bus test system derived from Munoz-Delgado et al. (Section IV.A, "
               "Fig. 2): md24's buses, corridors, conductors and substations",
    "horizon": "3 stages of 5 years each (Section IV.A)",
    "peak_load": "line and peak load data, power factor 0.9, from Munoz-Delgado et al. "
                 "(Section IV.A): md24's stage_demand, one peak per stage",
    "uncertainty_levels": "+/-5, 10 and 20 % (Section IV.A, Fig. 8); +/-10 % for the AA/IA/MCS "
                          "comparison (Fig. 9), the case's level",
    "rates": "the total cost is an affine net present value with an inflation rate and an "
             "interest rate (Section II.A, eqs. (1)-(5); nomenclature)",
    "candidate_kinds": "PV and SVC per bus and stage with per-bus caps and a most number of "
                       "PV/SVC buses (eqs. (28)-(29); nomenclature N_PV, N_SVC)",
}
ASSUMED = {
    "pv_sites": f"PV at Munoz-Delgado's renewable (wind) DG candidate nodes "
                f"{', '.join(map(str, PV_SITES))} (the paper's sites, Fig. 2, not legible)",
    "pv_max_mw": f"{PV_MAX_MW} MW per site: the larger renewable DG alternative of Munoz-Delgado "
                 "(2.05 MVA) rounded down",
    "svc_sites": f"SVC at Munoz-Delgado's conventional DG candidate nodes "
                 f"{', '.join(map(str, SVC_SITES))}",
    "svc_max_mvar": f"{SVC_MAX_MVAR} Mvar per site: the smaller conventional DG alternative "
                    "(1 MVA)",
    "inflation_rate": f"{INFLATION} per year: the paper's value is not legible in our copy",
    "discount_rate": "0.071, Munoz-Delgado's interest rate (md24)",
    "prices": f"PV {PV_PER_MW:.3g} USD/MW, SVC {SVC_PER_MVAR:.3g} USD/Mvar, O&M "
              f"{OM_SHARE:.0%}/yr of investment, lifetimes {LIFETIME_YEARS:g} yr: the paper's "
              "prices are not legible in our copy",
    "no_dg": "md24's conventional/wind DG tables are dropped: the paper plans PV and SVC",
    "stage_demand": "md24's per-stage peaks, each held for its whole 5-year stage (no growth "
                    "inside a stage)",
    "budget": "md24's investment_budget_per_stage (6e6 USD) kept per (now 5-year) stage",
}


def build_md24_aa(md24: PlanningCase) -> PlanningCase:
    """The md24-aa case from the built-in md24 case (see the module docstring)."""
    candidates = {k: v.copy() for k, v in md24.candidates.items() if k not in DROPPED}
    candidates["pv"] = pd.DataFrame({"bus": PV_SITES, "max_mw": PV_MAX_MW})
    candidates["svc"] = pd.DataFrame({"bus": SVC_SITES, "max_mvar": SVC_MAX_MVAR})

    e = copy.deepcopy(md24.economics)
    e.inflation_rate = INFLATION
    e.lifetimes_years = {k: v for k, v in e.lifetimes_years.items() if k != "dg"}
    e.lifetimes_years.update(pv=LIFETIME_YEARS, svc=LIFETIME_YEARS)
    e.unit_costs.update(pv_per_mw=PV_PER_MW, svc_per_mvar=SVC_PER_MVAR,
                        pv_om_per_mw_year=OM_SHARE * PV_PER_MW,
                        svc_om_per_mvar_year=OM_SHARE * SVC_PER_MVAR)
    e.sources.update({
        "study": AA_PAPER,
        "inflation_rate": f"assumption: {ASSUMED['inflation_rate']}",
        "discount_rate": f"{ASSUMED['discount_rate']}; the AA paper's interest rate is not legible",
        "pv_per_mw": "assumption: the AA paper's unit PV construction cost is not legible",
        "svc_per_mvar": "assumption: the AA paper's unit SVC construction cost is not legible",
        "pv_om_per_mw_year": f"assumption: {OM_SHARE:.0%} of pv_per_mw per year",
        "svc_om_per_mvar_year": f"assumption: {OM_SHARE:.0%} of svc_per_mvar per year",
        "pv": f"assumption: {LIFETIME_YEARS:g} yr, md24's DG lifetime",
        "svc": f"assumption: {LIFETIME_YEARS:g} yr, md24's DG lifetime",
        "pv_feed_in": "not given: PV energy is valued at the loss-energy price (load levels)",
    })
    e.sources.pop("dg", None)

    reference = {k: v for k, v in md24.reference.items() if k != "n_stages"}
    reference.update(n_stages=STAGES, from_paper=FROM_PAPER, assumed=ASSUMED,
                     source=f"{md24.reference.get('source', '')}; study: {AA_PAPER}")
    description = (
        f"md24 as the modified 24-bus system of the AA joint-planning study: {STAGES} stages x "
        f"{YEARS_PER_STAGE:g} years (each stage at md24's peak demand of that stage), PV "
        f"candidates at buses {', '.join(map(str, PV_SITES))} (<= {PV_MAX_MW} MW), SVC "
        f"candidates at buses {', '.join(map(str, SVC_SITES))} (<= {SVC_MAX_MVAR} Mvar), no DG "
        f"tables, interest 7.1 % and inflation {INFLATION:.0%} per year, PV/load +/-"
        f"{DEVIATION:.0%}. What is the paper's and what is assumed: reference.from_paper, "
        f"reference.assumed, economics.sources. Network: {md24.description}")
    return replace(
        md24, name=NAME, citation=f"{md24.citation}; study: {AA_PAPER}", description=description,
        candidates=candidates, economics=e, reference=reference, source_file=None,
        horizon=Horizon(n_stages=STAGES, years_per_stage=YEARS_PER_STAGE,
                        load_growth_per_year=0.0),
        uncertainty=replace(md24.uncertainty, pv_deviation=DEVIATION, load_deviation=DEVIATION))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR / f"{NAME}.json")
    parser.add_argument("--check", action="store_true",
                        help="compare a fresh build with --out instead of writing it")
    args = parser.parse_args(argv)
    case = build_md24_aa(load_case("md24"))
    if not args.check:
        print(f"wrote {write_case(case, args.out)}: {case.summary()}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_case(case, Path(tmp) / args.out.name)
        same = args.out.is_file() and fresh.read_bytes() == args.out.read_bytes()
    if not same:
        print(f"{args.out} differs from a fresh build", file=sys.stderr)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
