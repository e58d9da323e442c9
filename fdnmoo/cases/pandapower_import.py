"""The user's own pandapower net as a planning case.

>>> import pandapower.networks as pn
>>> from fdnmoo.cases import from_pandapower
>>> case = from_pandapower(pn.case33bw(), name="my33")
>>> len(case.tie_lines), case.feeders[:3]
(5, ['F1', 'F2', 'F3'])

:func:`from_pandapower` normalises the net (:mod:`fdnmoo.cases.normalise`:
fused bus-bus switches, open ties instead of open switches, unsupported
elements refused), labels supply areas and sets coordinates
(:mod:`fdnmoo.cases.net_layout`), fills reliability data, builds candidate
tables by documented rules (:mod:`fdnmoo.cases.candidate_rules`) and takes
horizon, economics and uncertainty from the built-in Baran & Wu cases. Every
default is marked as assumed in the case (``reference.assumed``,
``economics.sources``), and ``reference`` records the original-to-case bus map,
the normalisation notes and pandapower's power flow of the original net next
to the case's.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pandas as pd

from .candidate_rules import RULE_PARAMETERS, default_candidates
from .errors import CaseError
from .model import Economics, Horizon, PlanningCase, Uncertainty
from .net_layout import case_coordinates, path_length_km, supply_areas
from .normalise import normalise_net
from .registry import DATA_DIR
from .schema import CANDIDATE_TABLES
from .validate import validate_case

__all__ = ["from_pandapower", "DEFAULTS_CASE", "FAILURE_RATE_PER_KM_YEAR", "REPAIR_TIME_H"]

#: Built-in case whose horizon, economics and uncertainty are the defaults.
DEFAULTS_CASE = "ieee33"
#: RBTS 11 kV feeder sections (Allan et al., IEEE Trans. Power Syst. 6(2), 1991), as in the
#: built-in feeders.
FAILURE_RATE_PER_KM_YEAR = 0.065
REPAIR_TIME_H = 5.0
RBTS = ("R. N. Allan, R. Billinton, I. Sjarief, L. Goel and K. S. So, 'A reliability test system "
        "for educational purposes - basic distribution system data and results', IEEE Trans. "
        "Power Syst. 6(2), 813-820, 1991")

#: Where each kind of default comes from (stored in the case as ``reference.assumed_sources``).
ASSUMED_SOURCES = {
    "horizon": f"built-in case {DEFAULTS_CASE}: 3 stages of 5 years (S. Wang et al. 2022), "
               "load growth 1.5 %/yr and PV/EV penetration per stage from R. Wang et al. 2024's stages I-III",
    "economics": f"built-in case {DEFAULTS_CASE}: CNY stage-I prices of R. Wang et al. 2024 and "
                 "its released code; "
                 "one source per number in economics.sources",
    "uncertainty": f"built-in case {DEFAULTS_CASE}: +/-10 % PV and load (S. Wang et al. 2022), "
                   "0.95-1.05 p.u. (R. Wang et al. 2024, Q. Wang and J. Ma 2022), SOP loss "
                   "coefficient 0.02 (R. Wang et al. 2024)",
    "reliability": f"{FAILURE_RATE_PER_KM_YEAR} failures/(km yr), {REPAIR_TIME_H} h repair: {RBTS}",
    "candidates": "rules of fdnmoo.cases.candidate_rules (shares of the ieee33 caps to its peak "
                  "demand; R. Wang et al. 2024's SOP and storage rules)",
}
_RECORDS = {"horizon": Horizon, "economics": Economics, "uncertainty": Uncertainty}
_OPTIONS = {"name", "citation", "description", "coordinates", "failure_rate_per_km_year",
            "repair_time_h", "min_area_share", "reference_power_flow", "file"}


def from_pandapower(net, **overrides: Any) -> PlanningCase:
    """Build a validated :class:`PlanningCase` from a radial-operated pandapower net.

    Parameters
    ----------
    net : pandapowerNet
        Not modified. Its closed elements must form a radial network or forest.
    **overrides
        ``name``, ``citation``, ``description`` (str; the description is put
        before the generated one); ``horizon``, ``economics``, ``uncertainty``
        (a record or a dict of its fields, replacing the defaults field by
        field); a candidate table name (``pv``, ``svc``, ``ess``, ``evcs``,
        ``sop_nodes``, ``corridors``, ``conductors``, ``substations``, ... : a
        DataFrame or list of records, or None to leave the table out); a rule
        parameter of :data:`~fdnmoo.cases.candidate_rules.RULE_PARAMETERS`;
        ``coordinates`` (``"auto"``: geodata where complete, else schematic;
        ``"schematic"``); ``failure_rate_per_km_year`` and ``repair_time_h``
        (for lines without ``failure_rate_per_year``/``repair_time_h``);
        ``min_area_share`` (single-feeder area split, default 0.1);
        ``reference_power_flow`` (bool, default True: run pandapower on the
        original and the case net and record both); ``file`` (name used in
        error messages).

    Returns
    -------
    PlanningCase

    Raises
    ------
    CaseError
        Unknown keyword (with the closest match), unsupported element (table,
        index, reason), non-radial base topology, invalid override.
    """
    file = str(overrides.get("file") or overrides.get("name") or net.name or "<net>")
    _check_keys(overrides, file)
    opt = {**RULE_PARAMETERS, **{k: v for k, v in overrides.items() if k in RULE_PARAMETERS}}
    norm = normalise_net(net, file)
    case_net = norm.net
    defaults = _defaults()

    case_net.bus["feeder"] = _areas(case_net, overrides.get("min_area_share", 0.1), file)
    mode = overrides.get("coordinates", "auto")
    if mode not in ("auto", "schematic"):
        raise CaseError(file, "coordinates", mode, "must be 'auto' or 'schematic'")
    xy, coordinates_note = case_coordinates(case_net, allow_geodata=mode == "auto")
    case_net.bus["x_km"] = xy.x_km.astype(float)
    case_net.bus["y_km"] = xy.y_km.astype(float)
    assumed = _reliability(case_net, overrides)
    for table in [t for t in case_net if t.startswith("res_")]:
        case_net[table] = case_net[table].iloc[0:0]

    records = {key: _record(cls, defaults[key], overrides.get(key), key, file)
               for key, cls in _RECORDS.items()}
    candidates = _candidates(case_net, records["economics"], opt, overrides, file)
    assumed += [f"candidates.{t}" for t in candidates if t not in overrides]
    assumed += [k for k in _RECORDS if overrides.get(k) is None]

    name = str(overrides.get("name") or net.name or "imported")
    reference = {
        "source": f"pandapower net {net.name or '(unnamed)'!r} imported by fdnmoo.cases.from_pandapower",
        "assumed": assumed,
        "assumed_sources": ASSUMED_SOURCES,
        "coordinates": coordinates_note,
        "notes": norm.notes,
        "open_at_one_end_lines": norm.open_at_one_end,
        "bus_map": [[orig, new] for orig, new in sorted(norm.bus_map.items())],
    }
    if overrides.get("reference_power_flow", True):
        reference["pandapower"] = _compare(net, case_net, norm.bus_map)
    description = " ".join(filter(None, [
        overrides.get("description", ""),
        f"Imported from a pandapower net ({len(net.bus)} buses; {len(case_net.bus)} after normalisation).",
        " ".join(norm.notes), coordinates_note,
        "Supply areas (column 'feeder'): the subtrees hanging from the lines that leave each "
        "substation (fdnmoo.cases.net_layout).",
        f"Assumed (defaults, see reference.assumed): {', '.join(assumed)}; candidate rules in "
        "fdnmoo.cases.candidate_rules; horizon, economics and uncertainty of the built-in case "
        f"{DEFAULTS_CASE} (sources in economics.sources).",
    ]))
    case = PlanningCase(name=name, net=case_net, description=description, candidates=candidates,
                        citation=str(overrides.get("citation", "")) or reference["source"],
                        reference=reference, **records)
    validate_case(case, file=file)
    return case


def _candidates(net, economics: Economics, params: dict, overrides: dict, file: str) -> dict:
    """Default tables by rule, then the tables given by keyword (None drops a table)."""
    candidates = default_candidates(net, path_length_km(net), economics, params)
    for name in CANDIDATE_TABLES:
        if name not in overrides:
            continue
        candidates.pop(name, None)
        table = overrides[name]
        if table is None:
            continue
        if not isinstance(table, (pd.DataFrame, list)):
            raise CaseError(file, name, type(table).__name__,
                            "a candidate table is a DataFrame or a list of records (or None)")
        candidates[name] = pd.DataFrame(table).reset_index(drop=True)
    return candidates


def _check_keys(overrides: dict, file: str) -> None:
    known = _OPTIONS | set(_RECORDS) | set(CANDIDATE_TABLES) | set(RULE_PARAMETERS)
    for key in overrides:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
            raise CaseError(file, key, None, f"unknown keyword of from_pandapower{hint}")


def _areas(net, min_share: float, file: str) -> pd.Series:
    from ..topology import NonRadialError

    try:
        return supply_areas(net, min_share)
    except NonRadialError as exc:
        raise CaseError(file, "net.line", exc.loop_branches,
                        f"base topology is not radial after normalisation: {exc}") from None


def _reliability(net, overrides: dict) -> list[str]:
    """Fill missing failure rates / repair times; names of the columns filled by default."""
    assumed = []
    rate = float(overrides.get("failure_rate_per_km_year", FAILURE_RATE_PER_KM_YEAR))
    repair = float(overrides.get("repair_time_h", REPAIR_TIME_H))
    defaults = {"failure_rate_per_year": rate * net.line.length_km.astype(float),
                "repair_time_h": pd.Series(repair, index=net.line.index)}
    for col, value in defaults.items():
        have = net.line[col].astype(float) if col in net.line else pd.Series(np.nan, index=net.line.index)
        missing = have.isna()
        if missing.any():
            net.line[col] = have.where(~missing, value)
            given = "failure_rate_per_km_year" if col == "failure_rate_per_year" else "repair_time_h"
            if given not in overrides:
                assumed.append(f"net.line.{col} (RBTS: {FAILURE_RATE_PER_KM_YEAR}/(km yr), "
                               f"{REPAIR_TIME_H} h; {RBTS})")
    return assumed


def _defaults() -> dict[str, dict]:
    """Horizon, economics and uncertainty of the built-in defaults case, marked as assumed."""
    doc = json.loads((DATA_DIR / f"{DEFAULTS_CASE}.json").read_text(encoding="utf-8"))
    econ = copy.deepcopy(doc["economics"])
    econ["sources"] = {k: f"assumed: default copied from the built-in case {DEFAULTS_CASE}, where: {v}"
                       for k, v in econ.get("sources", {}).items()}
    return {"horizon": doc["horizon"], "economics": econ, "uncertainty": doc["uncertainty"]}


def _record(cls, default: dict, override, key: str, file: str):
    base = cls(**default)
    if override is None:
        return base
    if isinstance(override, cls):
        return override
    if not isinstance(override, dict):
        raise CaseError(file, key, override, f"must be a {cls.__name__} or a dict of its fields")
    allowed = {f.name for f in fields(cls)}
    for k in override:
        if k not in allowed:
            close = difflib.get_close_matches(k, sorted(allowed), n=1)
            raise CaseError(file, f"{key}.{k}", None, "unknown field" +
                            (f"; did you mean {close[0]!r}?" if close else f"; fields: {sorted(allowed)}"))
    return replace(base, **override)


def _compare(original, case_net, bus_map: dict[int, int | None]) -> dict:
    """pandapower on the original net and on the case net, and their largest voltage difference."""
    from ..powerflow.reference import run_pandapower

    import pandapower as pp

    # run_pandapower solves the net it is given in place: give it copies
    a, b = run_pandapower(copy.deepcopy(original)), run_pandapower(copy.deepcopy(case_net))
    out = {"tool": f"pandapower {pp.__version__} runpp (Newton-Raphson)",
           "original": _summary(a), "case": _summary(b)}
    if a.converged[0] and b.converged[0]:
        va = pd.Series(a.vm_pu[0], index=a.bus_labels)
        vb = pd.Series(b.vm_pu[0], index=b.bus_labels)
        pairs = [(o, c) for o, c in bus_map.items() if c is not None and np.isfinite(va[o])]
        dv = np.abs(np.array([va[o] - vb[c] for o, c in pairs]))
        out["max_abs_dv_pu"] = round(float(dv.max()), 9) if len(dv) else 0.0
        out["losses_difference_kw"] = round(out["case"]["losses_kw"] - out["original"]["losses_kw"], 6)
    return out


def _summary(result) -> dict:
    if not result.converged[0]:
        return {"converged": False}
    vm = result.vm_pu[0]
    return {"converged": True, "losses_kw": round(float(result.loss_mw[0]) * 1e3, 6),
            "vmin_pu": round(float(np.nanmin(vm)), 9), "vmax_pu": round(float(np.nanmax(vm)), 9)}
