"""Transcribe the three built-in distribution feeders into fdnmoo case files.

Usage (from the repository root)::

    python experiments/cases/build_feeders.py                 # writes fdnmoo/cases/data/*.json
    python experiments/cases/build_feeders.py --shared PATH   # folder holding data/ (default ../shared)

Sources read (the package itself only needs the JSON files written here):

* ``ieee33``: Baran & Wu 33-bus feeder, numbers from ``pandapower.networks.case33bw()``
  (MATPOWER's ``case33bw``), relabelled so that bus and line labels are the published
  numbers;
* ``ieee69``: Baran & Wu 69-bus feeder, ``<shared>/data/ieee69_baran_wu.json``;
* ``tpc84``: Su & Lee (2003) Taiwan Power Company 11.4 kV network,
  ``<shared>/data/tpc84_su_lee_2003.dss`` (OpenDSS). DSS bus ``n >= 12`` becomes
  bus ``n - 11``; the DSS source bus 1 and the zero-impedance feeder stubs to
  buses 2..11 merge into the single source bus 0, held at 1.0 p.u.

Every number of a case file is cited in the file (``citation``, ``description``,
``economics.sources``, ``reference.source``). After building, each net is solved
with ``pandapower.runpp`` and the result is checked against the published base case;
the script fails if it does not reproduce it.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
import sys
from collections import deque
from pathlib import Path

import pandas as pd
import pandapower as pp

from fdnmoo.cases import Economics, Horizon, PlanningCase, Uncertainty, write_case
from fdnmoo.cases.build import add_case_columns, set_reliability, tie_end_sop_nodes
from fdnmoo.cases.registry import DATA_DIR

REPO = Path(__file__).resolve().parents[2]

# --- citations ---------------------------------------------------------------------------
BARAN_WU_33 = ("M. E. Baran and F. F. Wu, 'Network reconfiguration in distribution systems for "
               "loss reduction and load balancing', IEEE Trans. Power Delivery 4(2), 1401-1407, 1989")
BARAN_WU_69 = ("M. E. Baran and F. F. Wu, 'Optimal capacitor placement on radial distribution "
               "systems', IEEE Trans. Power Delivery 4(1), 725-734, 1989")
SU_LEE = ("C.-T. Su and C.-S. Lee, 'Network reconfiguration of distribution systems using improved "
          "mixed-integer hybrid differential evolution', IEEE Trans. Power Delivery 18(3), "
          "1022-1027, 2003")
WANG_NC = ("R. Wang, H. Ji, P. Li, H. Yu et al., 'Multi-resource dynamic coordinated planning of "
           "flexible distribution network', Nature Communications 15 (2024), "
           "doi:10.1038/s41467-024-48862-5")
WANG_CODE = ("code released with the Nature Communications FDN paper, github.com/fdn-planning/"
             "FDN_Model, data_parameters.py")
WANG_Q = ("Q. Wang and J. Ma, 'Multi-stage expansion planning of distribution network considering "
          "distributed power generation', Frontiers in Energy Research, 2022")
AA_PAPER = ("S. Wang, Y. Dong, Q. Zhao and X. Zhang, 'Bi-level multi-objective joint planning of "
            "distribution networks considering uncertainties', Journal of Modern Power Systems and "
            "Clean Energy, 2022, doi:10.35833/MPCE.2020.000930 (affine-arithmetic NSGA-II, AA-NSGA-II)")
SUSTAINABILITY = ("'Sustainable distribution network planning for enhancing PV accommodation: a "
                  "source-network-storage coordinated stochastic approach', Sustainability 17(12), "
                  "5324, 2025, doi:10.3390/su17125324")
MUNOZ = ("G. Munoz-Delgado, J. Contreras and J. M. Arroyo, 'Joint expansion planning of distributed "
         "generation and distribution networks', IEEE Trans. Power Syst. 30(5), 2579-2590, 2015 "
         "(24-node system data, shared/data/munoz_delgado_24node.json)")
RBTS = ("R. N. Allan, R. Billinton, I. Sjarief, L. Goel and K. S. So, 'A reliability test system "
        "for educational purposes - basic distribution system data and results', IEEE Trans. "
        "Power Syst. 6(2), 813-820, 1991 (RBTS 11 kV lines: 0.065 failures per km-year, 5 h repair)")

# --- data shared by the three cases --------------------------------------------------------
# R. Wang et al. 2024: "The rated current of the distribution network is 400 A"
RATED_CURRENT_KA = 0.4
FAILURE_RATE_PER_KM_YEAR = 0.065  # RBTS 11 kV feeder sections
REPAIR_TIME_H = 5.0               # RBTS 11 kV feeder sections
SOP_LOSS_COEFFICIENT = 0.02       # R. Wang et al. 2024 (converter efficiency > 98 %)


def shared_economics() -> Economics:
    """One price set (CNY, stage-I values) for all three feeders, from R. Wang et al. 2024 and
    Q. Wang and J. Ma 2022."""
    prices_note = "stage-I value; stages I-IV: "
    unit_costs = {
        "sop_per_mva": 0.8e6, "sop_site_per_site": 3.0e6, "sop_line_per_km": 1.0e5,
        "line_per_km": 1.0e5, "line_upgrade_per_km": 3.0e5,
        "transformer_per_mva": 0.5e6,
        "pv_per_mw": 0.8e6, "svc_per_mvar": 0.8e6,
        "ess_per_mw": 0.8e6, "ess_per_mwh": 1.0e6, "ess_site_per_site": 3.0e6,
        "evcs_per_mw": 0.8e6, "evcs_site_per_site": 3.0e6,
    }
    om_of = {"line_om_per_km_year": "line_per_km", "sop_om_per_mva_year": "sop_per_mva",
             "pv_om_per_mw_year": "pv_per_mw", "svc_om_per_mvar_year": "svc_per_mvar",
             "ess_om_per_mwh_year": "ess_per_mwh", "evcs_om_per_mw_year": "evcs_per_mw"}
    for om_key, invest_key in om_of.items():
        unit_costs[om_key] = 0.01 * unit_costs[invest_key]
    converter = f"converter purchase price 800 CNY/kVA ({prices_note}800/600/400/200 CNY/kVA; {WANG_CODE} price_cvt)"
    sources = {
        "currency": f"CNY, the currency of {WANG_NC}",
        "discount_rate": f"0.1, the rate of the present-value factors (variable 'infla') in {WANG_CODE}",
        "sop_per_mva": converter,
        "sop_site_per_site": f"land exploitation 3e6 CNY per SOP site ({prices_note}3/3.5/4/5 million CNY; {WANG_CODE} price_sit)",
        "sop_line_per_km": f"line construction 1e5 CNY/km ({prices_note}1.0/1.2/1.6/2.0e5 CNY/km; {WANG_CODE} price_ref); reused tie lines cost nothing ({WANG_NC})",
        "line_per_km": f"new lines priced at R. Wang et al. 2024's line construction price, 1e5 CNY/km in stage I ({WANG_CODE} price_ref)",
        "line_upgrade_per_km": f"line expansion costs thrice line construction per km ({WANG_NC}, Case IV; {WANG_CODE} price_exp)",
        "transformer_per_mva": f"transformer 500 CNY/kVA ({prices_note}500/400/350/300 CNY/kVA; {WANG_CODE} price_trs)",
        "pv_per_mw": f"PV investment counted as converter purchase only, as in {WANG_NC}: {converter}",
        "svc_per_mvar": f"assumption: none of the source papers gives an SVC price; priced as a power-electronic converter at the {converter}",
        "ess_per_mw": f"ESS converter: {converter}",
        "ess_per_mwh": f"battery 1000 CNY/kWh ({prices_note}1000/800/500/300 CNY/kWh; {WANG_CODE} price_bat)",
        "ess_site_per_site": f"assumption: ESS site priced like an SOP/EVCS site (3e6 CNY, {WANG_CODE} price_sit); {WANG_NC} Case III counts site, converter and battery",
        "evcs_per_mw": f"EVCS converter (capacity in MVA): {converter}",
        "evcs_site_per_site": f"EVCS land exploitation 3e6 CNY per site ({WANG_CODE} price_sit)",
    }
    for om_key, invest_key in om_of.items():
        sources[om_key] = (f"assumption: 1 % of {invest_key} per year (the O&M coefficients of the "
                           f"source papers are not legible in our copies; R. Wang et al. 2024 has no O&M term)")
    prices = {"energy_per_mwh": 350.0, "violation_penalty_per_mwh": 350.0,
              "pv_feed_in_per_mwh": 350.0, "unserved_energy_per_mwh": 16000.0}
    sources.update({
        "energy_per_mwh": f"electricity price 0.35 CNY/kWh ({prices_note}0.35/0.30/0.25/0.20 CNY/kWh; {WANG_CODE} price_ele); also the price of losses ({WANG_NC})",
        "violation_penalty_per_mwh": f"penalty price for load at violating buses / downstream of overloaded lines 'generally assigned as the electricity price' ({WANG_NC})",
        "pv_feed_in_per_mwh": "assumption: PV energy valued at the electricity price it displaces (the PV profit coefficient of S. Wang et al. 2022 is not legible in our copy)",
        "unserved_energy_per_mwh": f"load cutting cost 16 yuan/kWh ({WANG_Q})",
    })
    lifetimes = {"line": 30.0, "substation": 100.0, "transformer": 15.0, "pv": 20.0,
                 "sop": 20.0, "svc": 20.0, "evcs": 20.0, "ess": 15.0}
    sources.update({
        "line": f"feeder life of 30 years ({WANG_Q})",
        "substation": f"substation lifetime 100 years ({MUNOZ})",
        "transformer": f"transformer lifetime 15 years ({MUNOZ})",
        "pv": f"generator (DG) lifetime 20 years ({MUNOZ})",
        "sop": f"assumption: converter life taken equal to the 20-year DG life of {MUNOZ}",
        "svc": f"assumption: converter life taken equal to the 20-year DG life of {MUNOZ}",
        "evcs": f"assumption: converter life taken equal to the 20-year DG life of {MUNOZ}",
        "ess": "assumption: 15-year battery system life (none of the source papers gives one)",
    })
    return Economics(currency="CNY", discount_rate=0.1, lifetimes_years=lifetimes,
                     unit_costs=unit_costs, prices=prices, sources=sources)


def shared_uncertainty() -> Uncertainty:
    """+/-10 % PV and load intervals (S. Wang et al. 2022's main level), R. Wang et al. 2024's
    voltage band and SOP loss."""
    return Uncertainty(pv_deviation=0.1, load_deviation=0.1,
                       sop_loss_coefficient=SOP_LOSS_COEFFICIENT, v_min_pu=0.95, v_max_pu=1.05)


UNCERTAINTY_NOTE = (
    "Uncertainty: PV and load intervals +/-10 % (the level at which S. Wang et al. 2022 compare "
    "AA, IA and Monte Carlo; the Sustainability 2025 PV accommodation paper also "
    "uses +/-10 % forecast errors); voltage band 0.95-1.05 p.u. "
    "(R. Wang et al. 2024 and Q. Wang and J. Ma 2022); SOP loss coefficient 0.02 (R. Wang et al. 2024).")
ECONOMICS_NOTE = (
    "Economics: CNY, stage-I prices of the Nature Communications FDN study (R. Wang et al. 2024 "
    "and its released "
    "code), shared by all built-in feeders; per-stage price paths and every assumption are listed in "
    "economics.sources.")
RELIABILITY_NOTE = (
    "Reliability: every section (and tie) fails 0.065 times per km-year with a 5 h repair time "
    "(RBTS 11 kV lines, Allan et al. 1991).")


# --- helpers ------------------------------------------------------------------------------
def new_net(name: str, vn_kv: float, buses) -> pp.pandapowerNet:
    """Empty net with one bus per label (``name`` = the label as text)."""
    net = pp.create_empty_network(name=name)
    for b in buses:
        pp.create_bus(net, vn_kv=vn_kv, name=str(b), index=int(b))
    return net


def add_line(net, label: int, from_bus: int, to_bus: int, r_ohm_per_km: float,
             x_ohm_per_km: float, length_km: float, in_service: bool) -> None:
    pp.create_line_from_parameters(
        net, from_bus=int(from_bus), to_bus=int(to_bus), length_km=float(length_km),
        r_ohm_per_km=float(r_ohm_per_km), x_ohm_per_km=float(x_ohm_per_km), c_nf_per_km=0.0,
        max_i_ka=RATED_CURRENT_KA, index=int(label), name=str(label), in_service=bool(in_service))


def area_labels(net, heads: dict[int, str]) -> pd.Series:
    """Label every bus with the area of the nearest area head on its path from the substation.

    ``heads`` maps the first bus of every supply area to its label; the substation
    bus must be one of them. Uses the in-service (radial) lines only.
    """
    adj: dict[int, list[int]] = {int(b): [] for b in net.bus.index}
    for f, t in net.line.loc[net.line.in_service.astype(bool), ["from_bus", "to_bus"]].to_numpy():
        adj[int(f)].append(int(t))
        adj[int(t)].append(int(f))
    root = int(net.ext_grid.bus.iloc[0])
    label = {root: heads[root]}
    queue = deque([root])
    while queue:
        u = queue.popleft()
        for c in adj[u]:
            if c not in label:
                label[c] = heads.get(c, label[u])
                queue.append(c)
    missing = set(adj) - set(label)
    if missing:
        raise ValueError(f"buses not supplied in the base topology: {sorted(missing)}")
    return pd.Series([label[int(b)] for b in net.bus.index], index=net.bus.index, name="feeder")


def base_case(net) -> dict:
    """Losses and minimum voltage of the base topology with pandapower's Newton-Raphson."""
    pp.runpp(net, tolerance_mva=1e-10)
    vm = net.res_bus.vm_pu
    out = {"losses_kw": float(net.res_line.pl_mw.sum() * 1e3), "vmin_pu": float(vm.min()),
           "vmin_bus": int(vm.idxmin()), "vm": vm.copy()}
    return out


def area_end_buses(net, vm: pd.Series) -> dict[str, int]:
    """Per supply area, the bus with the lowest base-case voltage (the end of its main path)."""
    feeder = net.bus.feeder
    return {a: int(vm[feeder == a].idxmin()) for a in sorted(set(feeder))}


def area_reactive_demand_mvar(net) -> pd.Series:
    """Reactive peak demand per supply area."""
    q = net.load.groupby("bus").q_mvar.sum().reindex(net.bus.index, fill_value=0.0)
    return q.groupby(net.bus.feeder).sum()


def svc_candidates(net, vm: pd.Series) -> pd.DataFrame:
    """Rule: one SVC candidate per supply area at its lowest-voltage bus, sized up to the
    area's reactive peak demand (rounded up to 0.1 Mvar)."""
    ends = area_end_buses(net, vm)
    q_area = area_reactive_demand_mvar(net)
    rows = [{"bus": b, "max_mvar": max(0.1, math.ceil(round(q_area[a] * 10, 6)) / 10)}
            for a, b in ends.items()]
    return pd.DataFrame(rows).sort_values("bus", ignore_index=True)


def largest_loads(net, n: int) -> list[int]:
    p = net.load.groupby("bus").p_mw.sum().sort_values(ascending=False, kind="stable")
    return [int(b) for b in p.index[:n]]


def largest_load_per_area(net) -> list[int]:
    """The bus with the largest active demand in every supply area that has load."""
    p = net.load.groupby("bus").p_mw.sum()
    by_area = pd.DataFrame({"p": p, "area": net.bus.feeder.reindex(p.index)})
    return sorted(int(g.p.idxmax()) for _, g in by_area.groupby("area"))


def ess_at_tie_ends(net, max_mw: float, max_mwh: float) -> pd.DataFrame:
    buses = tie_end_sop_nodes(net).bus
    return pd.DataFrame({"bus": buses, "max_mw": max_mw, "max_mwh": max_mwh})


def finish_net(net, feeder_names: dict[int, str] | None = None,
               area_heads: dict[int, str] | None = None) -> None:
    """Add the case columns: supply areas, schematic coordinates, reliability data.

    Supply areas are the substation's feeders (``feeder_names``, see
    :func:`fdnmoo.cases.build.feeder_labels`) or, for a single-feeder case, the
    areas starting at ``area_heads`` (see :func:`area_labels`).
    """
    add_case_columns(net, feeder_names=feeder_names)
    if area_heads is not None:
        net.bus["feeder"] = area_labels(net, area_heads)
    set_reliability(net, FAILURE_RATE_PER_KM_YEAR, REPAIR_TIME_H)


def check_reference(name: str, got: dict, ref: dict, tol_kw: float = 0.5, tol_pu: float = 1e-4) -> None:
    ok = (abs(got["losses_kw"] - ref["losses_kw"]) <= tol_kw
          and abs(got["vmin_pu"] - ref["vmin_pu"]) <= tol_pu
          and ("vmin_bus" not in ref or got["vmin_bus"] == ref["vmin_bus"]))
    print(f"{name}: pandapower {got['losses_kw']:.3f} kW, Vmin {got['vmin_pu']:.5f} p.u. at bus "
          f"{got['vmin_bus']} | published {ref['losses_kw']} kW, Vmin {ref['vmin_pu']} p.u."
          + (f" at bus {ref['vmin_bus']}" if "vmin_bus" in ref else ""))
    if not ok:
        raise SystemExit(f"{name}: the transcribed network does not reproduce the published base case")


def computed_reference(got: dict) -> dict:
    return {"losses_kw": round(got["losses_kw"], 4), "vmin_pu": round(got["vmin_pu"], 6),
            "vmin_bus": got["vmin_bus"], "tool": f"pandapower {pp.__version__} runpp (Newton-Raphson)"}


# --- ieee33 -------------------------------------------------------------------------------
IEEE33_AREAS = {1: "A", 10: "B", 19: "C", 23: "D", 26: "E"}


def baran_wu_description(intro: list[str], areas: str, feeder_mw: float) -> str:
    """Description of a Baran & Wu feeder: its own intro and supply areas, and the sentences
    both feeders share (rating, coordinates, reliability, candidate rules, horizon, notes)."""
    return " ".join(intro + [
        "max_i_ka = 0.4: assumption, the 400 A rated current of the Nature Communications FDN network "
        "(R. Wang et al. 2024); Baran & Wu give no ratings.",
        areas,
        "Coordinates x_km/y_km are schematic coordinates (tree layout), not geography.",
        RELIABILITY_NOTE,
        "Candidates (none of the source papers gives any for this feeder; documented rules): "
        "sop_nodes = both ends of every "
        "tie (R. Wang et al. 2024's rule); pv = lowest-voltage bus of every area plus the 4 largest loads, "
        "up to 1 MW each; svc = lowest-voltage bus of every area, up to the area's reactive peak demand "
        "(rounded up to 0.1 Mvar); ess = tie-line ends (R. Wang et al. 2024's Case III rule), "
        "1 MW / 3 MWh (R. Wang et al. 2024's "
        f"10 MVA / 30 MWh bounds scaled to this {feeder_mw} MW feeder); evcs = largest load of every "
        "area, 0.5 MW.",
        "Horizon: 3 stages of 5 years (S. Wang et al. 2022); load growth 1.5 %/yr and PV/EV penetration "
        "15/30/50 % and 5/15/20 % per stage are R. Wang et al. 2024's stages I-III (growth 2, 1.5, 1 %/yr, "
        "geometric mean 1.5 %/yr).",
        UNCERTAINTY_NOTE, ECONOMICS_NOTE,
    ])


def area_rule_candidates(net, vm) -> dict[str, pd.DataFrame]:
    """Candidate tables of the Baran & Wu feeders, for which none of the source papers gives any
    (rules in the
    case descriptions): PV at every area's lowest-voltage bus and the 4 largest loads, SVC at
    the lowest-voltage buses, storage at tie ends, EV charging at every area's largest load."""
    pv_buses = sorted(set(area_end_buses(net, vm).values()) | set(largest_loads(net, 4)))
    return {
        "sop_nodes": tie_end_sop_nodes(net),
        "pv": pd.DataFrame({"bus": pv_buses, "max_mw": 1.0}),
        "svc": svc_candidates(net, vm),
        "ess": ess_at_tie_ends(net, 1.0, 3.0),
        "evcs": pd.DataFrame({"bus": largest_load_per_area(net), "max_mw": 0.5}),
    }


def build_ieee33() -> PlanningCase:
    import pandapower.networks as pn

    src = pn.case33bw()  # MATPOWER case33bw: buses 0..32, sections 0..31, ties 32..36
    net = new_net("ieee33", 12.66, range(1, 34))
    for k, row in src.line.iterrows():
        label = int(k) + 1
        f, t = int(row.from_bus) + 1, int(row.to_bus) + 1
        if label <= 32 and t != label + 1:
            raise SystemExit(f"ieee33: section {label} does not feed bus {label + 1}")
        add_line(net, label, f, t, row.r_ohm_per_km, row.x_ohm_per_km, row.length_km, row.in_service)
    for _, row in src.load.iterrows():
        pp.create_load(net, int(row.bus) + 1, p_mw=float(row.p_mw), q_mvar=float(row.q_mvar))
    pp.create_ext_grid(net, 1, vm_pu=float(src.ext_grid.vm_pu.iloc[0]), name="substation")

    finish_net(net, area_heads=IEEE33_AREAS)
    got = base_case(net)
    ref = {"losses_kw": 202.68, "vmin_pu": 0.9131, "vmin_bus": 18}
    check_reference("ieee33", got, ref)

    candidates = area_rule_candidates(net, got["vm"])
    description = baran_wu_description([
        "Baran & Wu 33-bus radial feeder, 12.66 kV, one substation (bus 1 at 1.0 p.u.), 32 sections "
        "and 5 normally-open tie lines. Bus labels are the published numbers 1..33 (bus 'name' = label); "
        "section k feeds bus k+1 (k = 1..32), ties are lines 33..37 (8-21, 9-15, 12-22, 18-33, 25-29). "
        "Impedances are given in ohm, so every line has length_km = 1 and r/x in ohm; c = 0.",
    ], areas=(
        "Supply areas (column 'feeder'), chosen so that every tie joins two areas: A = trunk buses 1-9 "
        "(with the substation), B = trunk buses 10-18 (the trunk is split at its middle because tie 9-15 "
        "joins two trunk buses), C = lateral 19-22, D = lateral 23-25, E = lateral 26-33."), feeder_mw=3.7)
    reference = {**ref, "source": (
        "Base case of the Baran & Wu (1989) 33-bus feeder as commonly reported in the reconfiguration "
        "literature and reproduced by MATPOWER case33bw: losses 202.68 kW, Vmin 0.9131 p.u. at bus 18"),
        "pandapower": computed_reference(got)}
    return PlanningCase(
        name="ieee33", net=net,
        citation=(f"{BARAN_WU_33}; data as distributed in MATPOWER case33bw / pandapower.networks.case33bw; "
                  f"planning data: {AA_PAPER}, {WANG_NC}, {WANG_CODE}, {WANG_Q}, {MUNOZ}, "
                  f"{SUSTAINABILITY}; reliability: {RBTS}"),
        description=description, candidates=candidates,
        horizon=Horizon(n_stages=3, years_per_stage=5.0, load_growth_per_year=0.015,
                        pv_penetration=[0.15, 0.30, 0.50], ev_penetration=[0.05, 0.15, 0.20]),
        economics=shared_economics(), uncertainty=shared_uncertainty(), reference=reference)


# --- ieee69 -------------------------------------------------------------------------------
IEEE69_AREAS = {1: "A", 15: "B", 28: "C", 36: "D", 47: "E", 53: "F"}


def build_ieee69(path: Path) -> PlanningCase:
    data = json.loads(path.read_text(encoding="utf-8"))
    net = new_net("ieee69", float(data["v_base_kv"]), range(1, 70))
    for br in data["branches"]:
        add_line(net, br["id"], br["from"], br["to"], br["r_ohm"], br["x_ohm"], 1.0,
                 not br["normally_open"])
    for bus, (p_kw, q_kvar) in sorted(data["loads_kw_kvar"].items(), key=lambda kv: int(kv[0])):
        pp.create_load(net, int(bus), p_mw=p_kw / 1e3, q_mvar=q_kvar / 1e3)
    pp.create_ext_grid(net, int(data["slack_bus"]), vm_pu=float(data["slack_vm_pu"]), name="substation")

    finish_net(net, area_heads=IEEE69_AREAS)
    got = base_case(net)
    ref = {"losses_kw": 224.99, "vmin_pu": 0.9092, "vmin_bus": 65}
    check_reference("ieee69", got, ref)

    candidates = area_rule_candidates(net, got["vm"])
    description = baran_wu_description([
        "Baran & Wu 69-bus radial feeder, 12.66 kV, one substation (bus 1 at 1.0 p.u.), 68 sections "
        "(lines 1..68) and 5 normally-open tie lines (lines 69..73: 11-43, 13-21, 15-46, 50-59, 27-65); "
        "line labels are the branch ids of the source, bus labels the published numbers 1..69. "
        "Impedances are given in ohm, so every line has length_km = 1 and r/x in ohm; c = 0.",
    ], areas=(
        "Supply areas (column 'feeder'), following the branch points so that every tie joins two areas: "
        "A = trunk buses 1-14 with the short laterals 51-52 (from bus 8), 66-67 (from 11) and 68-69 "
        "(from 12); B = trunk buses 15-27 (the trunk 1-27 is split at its middle because tie 13-21 joins "
        "two trunk buses); C = lateral 28-35 and D = lateral 36-46 (both from bus 3); E = lateral 47-50 "
        "(from bus 4); F = lateral 53-65 (from bus 9, the heavily loaded one)."), feeder_mw=3.8)
    reference = {**ref, "source": (
        "Base case of the Baran & Wu (1989) 69-bus feeder: losses 224.99 kW, Vmin 0.9092 p.u. at bus 65 "
        "(as reproduced with MATPOWER case69 data)"),
        "pandapower": computed_reference(got)}
    return PlanningCase(
        name="ieee69", net=net,
        citation=(f"{BARAN_WU_69}; data as in MATPOWER case69 (shared/data/ieee69_baran_wu.json); "
                  "tie lines 69-73 as used for reconfiguration since H.-D. Chiang and R. Jean-Jumeau (1990); "
                  f"planning data: {AA_PAPER}, {WANG_NC}, {WANG_CODE}, {WANG_Q}, {MUNOZ}, "
                  f"{SUSTAINABILITY}; reliability: {RBTS}"),
        description=description, candidates=candidates,
        horizon=Horizon(n_stages=3, years_per_stage=5.0, load_growth_per_year=0.015,
                        pv_penetration=[0.15, 0.30, 0.50], ev_penetration=[0.05, 0.15, 0.20]),
        economics=shared_economics(), uncertainty=shared_uncertainty(), reference=reference)


# --- tpc84 --------------------------------------------------------------------------------
TPC84_FEEDERS = {1: "A", 11: "B", 15: "C", 25: "D", 30: "E", 43: "F", 47: "G", 56: "H",
                 65: "I", 73: "J", 77: "K"}  # first bus of each feeder (new labels) -> name
TPC84_OPTIMAL_OPEN = [7, 13, 34, 39, 42, 55, 62, 72, 83, 86, 89, 90, 92]
# R. Wang et al. 2024, Table 1 (Case I): buses that receive PV / EVCS by stage IV (paper numbering = ours)
TPC84_PV = [10, 11, 24, 29, 39, 40, 55, 60, 63, 64, 76]
TPC84_EVCS = [28, 49, 68, 72, 82, 83]


def parse_dss(text: str) -> tuple[dict[str, dict[str, str]], list[dict[str, str]], set[str]]:
    """Lines (by name), loads and names of opened lines of an OpenDSS script.

    Only what the TPC file uses: ``new line.X key=value,...``, ``new load.X ...`` and
    ``open line.X``; comments start with ``!``.
    """
    lines: dict[str, dict[str, str]] = {}
    loads: list[dict[str, str]] = []
    opened: set[str] = set()
    for raw in text.splitlines():
        stmt = raw.split("!", 1)[0].strip()
        m = re.match(r"(new|open)\s+(line|load)\.(\S+)\s*(.*)", stmt, re.IGNORECASE)
        if not m:
            continue
        verb, kind, name, rest = m.group(1).lower(), m.group(2).lower(), m.group(3), m.group(4)
        props = {k.lower(): v for k, v in (p.split("=", 1) for p in re.split(r"[,\s]+", rest) if "=" in p)}
        if verb == "open":
            opened.add(name)
        elif kind == "line":
            lines[name] = props
        else:
            loads.append(props)
    return lines, loads, opened


def tpc_bus(dss_bus: str) -> int:
    """DSS bus n -> our label: the source bus 1 and feeder heads 2..11 -> 0, n >= 12 -> n - 11."""
    n = int(dss_bus)
    return 0 if n <= 11 else n - 11


def build_tpc84(path: Path) -> PlanningCase:
    text = path.read_text(encoding="utf-8", errors="replace")
    dss_lines, dss_loads, opened = parse_dss(text)
    net = new_net("tpc84", 11.4, range(84))
    net.f_hz = 60.0
    for name, p in dss_lines.items():
        f, t = tpc_bus(p["bus1"]), tpc_bus(p["bus2"])
        length = float(p["length"])
        if not name.isdigit():  # zero-impedance stubs from the source to the feeder heads
            if f != 0 or t != 0 or float(p["r1"]) != 0 or float(p["x1"]) * length > 1e-5:
                raise SystemExit(f"tpc84: line {name} is not a zero-impedance feeder stub")
            continue
        if p.get("units", "km").lower() != "km":
            raise SystemExit(f"tpc84: line {name} is not given in km")
        add_line(net, int(name), f, t, p["r1"], p["x1"], length, name not in opened)
    for p in dss_loads:
        bus = tpc_bus(p["bus1"])
        if bus == 0:
            raise SystemExit("tpc84: a load sits on the merged source bus")
        pp.create_load(net, bus, p_mw=float(p["kw"]) / 1e3, q_mvar=float(p["kvar"]) / 1e3)
    net.line.sort_index(inplace=True)
    # The merged source bus is held at 1.0 p.u. (11.4 kV), which is what the DSS file's
    # source set-point pu=1.01451 behind its internal impedance achieves at DSS bus 1.
    pp.create_ext_grid(net, 0, vm_pu=1.0, name="substation")

    finish_net(net, feeder_names=TPC84_FEEDERS)
    got = base_case(net)
    ref = {"losses_kw": 532.01, "vmin_pu": 0.9285}
    check_reference("tpc84", got, ref)

    reconfigured = copy.deepcopy(net)
    reconfigured.line["in_service"] = ~reconfigured.line.index.isin(TPC84_OPTIMAL_OPEN)
    opt = base_case(reconfigured)
    print(f"tpc84 optimal configuration (open {TPC84_OPTIMAL_OPEN}): pandapower "
          f"{opt['losses_kw']:.3f} kW | published 469.88 kW")
    if abs(opt["losses_kw"] - 469.88) > 0.5:
        raise SystemExit("tpc84: the optimal configuration does not reproduce Su & Lee's losses")

    vm = got["vm"]
    candidates = {
        "sop_nodes": tie_end_sop_nodes(net),
        "pv": pd.DataFrame({"bus": TPC84_PV, "max_mw": 3.0}),
        "svc": svc_candidates(net, vm),
        "ess": ess_at_tie_ends(net, 10.0, 30.0),
        "evcs": pd.DataFrame({"bus": TPC84_EVCS, "max_mw": 2.0}),
    }
    g = 1.02 ** 5 * 1.015 ** 5 * 1.01 ** 5 * 1.005 ** 5
    growth = round(g ** (1 / 20) - 1, 4)
    description = " ".join([
        "Taiwan Power Company 11.4 kV distribution network (Su & Lee 2003): 11 feeders A-K from one "
        "substation, 83 sections (lines 1..83) and 13 normally-open tie lines (lines 84..96); line labels "
        "are the OpenDSS line names. Bus labels: DSS bus n >= 12 is bus n-11 (1..83); the DSS source bus 1 "
        "and the zero-impedance feeder stubs to DSS buses 2..11 are merged into the single source bus 0, "
        "held at 1.0 p.u. (11.4 kV; the DSS file's pu=1.01451 behind the source impedance gives 11.4 kV at "
        "bus 1). This numbering matches the node numbers of the Nature Communications FDN paper "
        "(R. Wang et al. 2024: "
        "e.g. tie (29, 39) between feeders D and E, node 83 on feeder K, node 64 on feeder H).",
        "Lines: positive-sequence R1/X1 in ohm/km with the DSS lengths (1 km each); c = 0; max_i_ka = 0.4, "
        "the 400 A rated current of R. Wang et al. 2024. Feeders (column 'feeder') are the subtrees "
        "of the source's "
        "children: A from bus 1, B 11, C 15, D 25, E 30, F 43, G 47, H 56, I 65, J 73, K 77 (DSS 12, 22, 26, "
        "36, 41, 54, 58, 67, 76, 84, 88); the source bus carries label A. Twelve ties join two feeders; tie "
        "95 (DSS 51-53, our 40-42) closes a loop inside feeder E, as in the source data.",
        "Coordinates x_km/y_km are schematic coordinates (tree layout), not geography.",
        RELIABILITY_NOTE,
        "Candidates: sop_nodes = both ends of every tie (R. Wang et al. 2024: 'the terminal nodes of "
        "existing tie lines "
        "are selected as the available nodes'); pv = the 11 buses where R. Wang et al. 2024's Case I installs PV "
        "(Table 1; all reach the 3 MVA cap by stage IV except bus 40), max 3 MVA each (PV converter power "
        "factor 0.95); evcs = the 6 buses where Case I builds EV charging stations (Table 1), max 2 MVA each; "
        "ess = tie-line ends (the storage candidates of R. Wang et al. 2024's released code), "
        "converter up to 10 MVA and "
        "battery up to 30 MWh (its bounds); svc (not planned in R. Wang et al. 2024; documented "
        "rule) = lowest-voltage "
        "bus of every feeder, up to the feeder's reactive peak demand rounded up to 0.1 Mvar. "
        "R. Wang et al. 2024 also "
        "limits one SOP to 10 MVA in 10 kVA modules.",
        f"Horizon (R. Wang et al. 2024): 4 stages of 5 years; conventional load grows 2, 1.5, 1 and "
        f"0.5 %/yr in stages "
        f"I-IV, stored as the equivalent constant rate {growth} (same load after 20 years); PV penetration "
        "15/30/50/65 % and EV penetration 5/15/20/24 % per stage.",
        UNCERTAINTY_NOTE, ECONOMICS_NOTE,
    ])
    reference = {
        **ref, "source": (
            "Su & Lee (2003): base-case losses 532.01 kW; Vmin 0.9285 p.u. (at bus 9, DSS bus 20, feeder A) "
            "as obtained with the 1.0 p.u. source"),
        "pandapower": computed_reference(got),
        "reconfigured_open_lines": TPC84_OPTIMAL_OPEN,
        "reconfigured_losses_kw": 469.88,
        "reconfigured_source": (
            "Su & Lee (2003) optimal configuration: close all 13 ties and open lines 7, 13, 34, 39, 42, "
            "55, 62, 72, 83, 86, 89, 90, 92 (DSS names = our line labels), losses 469.88 kW (the DSS "
            "transcription's comment quotes 469.89 kW)"),
        "reconfigured_pandapower_losses_kw": round(opt["losses_kw"], 4),
    }
    return PlanningCase(
        name="tpc84", net=net,
        citation=(f"{SU_LEE}; data as in the OpenDSS transcription shared/data/tpc84_su_lee_2003.dss; "
                  f"the practical network of {WANG_NC}; planning data: {WANG_NC}, {WANG_CODE}, {WANG_Q}, "
                  f"{MUNOZ}, {AA_PAPER}, {SUSTAINABILITY}; reliability: {RBTS}"),
        description=description, candidates=candidates,
        horizon=Horizon(n_stages=4, years_per_stage=5.0, load_growth_per_year=growth,
                        pv_penetration=[0.15, 0.30, 0.50, 0.65], ev_penetration=[0.05, 0.15, 0.20, 0.24]),
        economics=shared_economics(), uncertainty=shared_uncertainty(), reference=reference)


# --- main ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                        help="folder holding data/ieee69_baran_wu.json and data/tpc84_su_lee_2003.dss")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write the case files")
    args = parser.parse_args(argv)
    data = args.shared / "data"
    args.out.mkdir(parents=True, exist_ok=True)
    cases = [build_ieee33(), build_ieee69(data / "ieee69_baran_wu.json"),
             build_tpc84(data / "tpc84_su_lee_2003.dss")]
    for case in cases:
        # drop power-flow results so that the files hold data only
        for table in [t for t in case.net if t.startswith("res_")]:
            case.net[table] = case.net[table].iloc[0:0]
        path = write_case(case, args.out / f"{case.name}.json")
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
              f"{len(case.net.bus)} buses, {int(case.net.line.in_service.sum())} sections, "
              f"{len(case.tie_lines)} ties, areas {''.join(case.feeders)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
