"""Default candidate tables of an imported net, by documented rules.

Used by :func:`fdnmoo.cases.from_pandapower`; every table can be replaced by a
keyword of that function. Sizes are shares of the peak demand of the bus's
feeder (``p_mw * scaling`` of its loads, :func:`fdnmoo.demand.bus_demand`),
rounded up to 0.1 MW (at least 0.1); the shares are the ratios of the built-in
ieee33 case's caps to its 3.715 MW peak (PV 1 MW, storage 1 MW / 3 MWh, EV
charging 0.5 MW). "Far end" of a feeder: its bus with the longest supply path
(line km from the substation), where voltage drops most.

========== ===================================================================
table      rule
========== ===================================================================
sop_nodes  both ends of every tie line (seed 000's rule); with no ties, the far
           end of every feeder
pv         far end and largest-load bus of every feeder, up to 0.27 x feeder peak
svc        far end of every feeder, up to the feeder's reactive peak demand
           (the built-in feeders' rule)
ess        the SOP-capable nodes, up to 0.27 x feeder peak and 3 h of it
           (seed 000's 10 MVA / 30 MWh ratio)
evcs       largest-load bus of every feeder, up to 0.135 x feeder peak
corridors  ``new``: from every feeder's far end to the nearest bus (straight
           distance) of another feeder not already joined to it by a tie, length
           = that distance (at least 0.05 km); ``existing_replaceable``: every
           line leaving a substation (the most loaded sections), when a stronger
           conductor exists in the net
conductors ``new``: the net's in-service line type with the most km;
           ``existing_replaceable``: its line type with the largest ``max_i_ka``;
           priced with ``economics.unit_costs`` line_per_km / line_upgrade_per_km,
           O&M line_om_per_km_year, lifetime ``lifetimes_years['line']``
========== ===================================================================
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..demand import bus_demand
from .build import tie_end_sop_nodes
from .model import Economics

__all__ = ["RULE_PARAMETERS", "default_candidates"]

#: Rule parameters (override by keyword of ``from_pandapower``).
RULE_PARAMETERS: dict[str, float] = {
    "pv_share": 0.27,
    "ess_share": 0.27,
    "ess_hours": 3.0,
    "evcs_share": 0.135,
    "min_corridor_km": 0.05,
}
_STEP = 0.1  # MW / Mvar rounding of caps


def default_candidates(net, path_km: pd.Series, economics: Economics,
                       params: dict[str, float]) -> dict[str, pd.DataFrame]:
    """All default candidate tables of ``net`` (which carries ``feeder``, ``x_km``, ``y_km``)."""
    feeder = net.bus.feeder.astype(str)
    p, q = bus_demand(net, net.bus.index, tables=(("load", 1.0),))
    demand = pd.DataFrame({"p": p, "q": q, "feeder": feeder, "km": path_km}, index=net.bus.index)
    demand = demand[demand.feeder != ""]
    peak_p = demand.groupby("feeder").p.sum()
    peak_q = demand.groupby("feeder").q.sum()
    far = demand.groupby("feeder").km.idxmax().astype(int)
    big = demand.groupby("feeder").p.idxmax().astype(int)

    def cap(share: float, buses) -> list[float]:
        return [_round_up(share * peak_p[feeder[b]]) for b in buses]

    sop = tie_end_sop_nodes(net)
    if not len(sop):
        sop = pd.DataFrame({"bus": sorted(far), "feeder": [feeder[b] for b in sorted(far)]})
    pv_buses = sorted(set(far) | set(big))
    ess_mw = cap(params["ess_share"], sop.bus)
    out = {
        "sop_nodes": sop,
        "pv": pd.DataFrame({"bus": pv_buses, "max_mw": cap(params["pv_share"], pv_buses)}),
        "svc": pd.DataFrame({"bus": sorted(far),
                             "max_mvar": [_round_up(peak_q[feeder[b]]) for b in sorted(far)]}),
        "ess": pd.DataFrame({"bus": sop.bus.to_numpy(), "max_mw": ess_mw,
                             "max_mwh": [round(m * params["ess_hours"], 6) for m in ess_mw]}),
        "evcs": pd.DataFrame({"bus": sorted(big), "max_mw": cap(params["evcs_share"], sorted(big))}),
    }
    corridors, conductors = _corridors(net, far, economics, params)
    if len(corridors):
        out["corridors"], out["conductors"] = corridors, conductors
    return out


def _round_up(value: float) -> float:
    return round(max(_STEP, math.ceil(round(value / _STEP, 6)) * _STEP), 6)


def _corridors(net, far: pd.Series, economics: Economics, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    line = net.line[net.line.in_service.astype(bool)]
    if not len(line):
        return pd.DataFrame(), pd.DataFrame()
    xy = net.bus[["x_km", "y_km"]].astype(float)
    feeder = net.bus.feeder.astype(str)
    tied = {frozenset((feeder[a], feeder[b])) for a, b in
            zip(net.line.from_bus[~net.line.in_service.astype(bool)],
                net.line.to_bus[~net.line.in_service.astype(bool)])}
    rows, seen = [], set()
    for f, bus in far.items():
        others = xy[(feeder != f) & (feeder != "")]
        others = others[[frozenset((f, feeder[o])) not in tied for o in others.index]]
        if not len(others):
            continue
        d = np.hypot(others.x_km - xy.x_km[bus], others.y_km - xy.y_km[bus])
        to = int(d.idxmin())
        key = frozenset((int(bus), to))
        if key in seen:
            continue
        seen.add(key)
        rows.append({"from_bus": int(bus), "to_bus": to, "kind": "new", "line": -1,
                     "length_km": round(max(float(d[to]), params["min_corridor_km"]), 6)})

    km = line.length_km.astype(float)
    kinds = line.groupby(["r_ohm_per_km", "x_ohm_per_km", "max_i_ka"]).length_km.sum()
    common = kinds.idxmax()
    strongest = max(kinds.index, key=lambda k: (k[2], -k[0]))
    subs = set(int(b) for b in net.ext_grid.bus) | set(int(b) for b in net.trafo.lv_bus)
    for k, row in line.iterrows():
        leaves = int(row.from_bus) in subs or int(row.to_bus) in subs
        if leaves and strongest[2] > float(row.max_i_ka):
            rows.append({"from_bus": int(row.from_bus), "to_bus": int(row.to_bus),
                         "kind": "existing_replaceable", "line": int(k),
                         "length_km": round(float(km[k]), 6)})
    u, life = economics.unit_costs, economics.lifetimes_years
    for key in ("line_per_km", "line_upgrade_per_km", "line_om_per_km_year"):
        if isinstance(u.get(key), (list, tuple)):
            raise ValueError(f"economics.unit_costs.{key} is given per stage; the conductor table "
                             f"of an imported case takes one price")
    conductors = pd.DataFrame([
        {"type": 1, "kind": "new", "r_ohm_per_km": common[0], "x_ohm_per_km": common[1],
         "max_i_ka": common[2], "investment_per_km": u.get("line_per_km", 0.0),
         "maintenance_per_km_year": u.get("line_om_per_km_year", 0.0),
         "lifetime_years": life.get("line", 30.0)},
        {"type": 2, "kind": "existing_replaceable", "r_ohm_per_km": strongest[0],
         "x_ohm_per_km": strongest[1], "max_i_ka": strongest[2],
         "investment_per_km": u.get("line_upgrade_per_km", 0.0),
         "maintenance_per_km_year": u.get("line_om_per_km_year", 0.0),
         "lifetime_years": life.get("line", 30.0)},
    ])
    corridors = pd.DataFrame(rows, columns=["from_bus", "to_bus", "length_km", "kind", "line"])
    ends = pd.DataFrame(np.sort(corridors[["from_bus", "to_bus"]].to_numpy(), axis=1))
    corridors = corridors[~ends.duplicated().to_numpy()].reset_index(drop=True)
    used = set(corridors.kind)
    return corridors, conductors[conductors.kind.isin(used)].reset_index(drop=True)
