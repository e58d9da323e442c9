"""Investment items of a plan: what is built, where, when, and at which unit cost.

Prices come from the case: its own tables where it has them (md24:
``conductors``, ``substations``, ``transformer_types``, ``dg_types``), else
``economics.unit_costs`` with the unit in the key. A price may be a number or a
sequence with one value per stage. :mod:`fdnmoo.metrics.economics` turns the
items into present values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..planning import DER_KINDS, Plan, PlanningGrid, dg_type_rows

__all__ = ["ITEM_COLUMNS", "investment_items", "investment_per_stage", "om_per_stage", "price_at_stage"]

#: Columns of :func:`investment_items`.
ITEM_COLUMNS = ["kind", "stage", "where", "quantity", "unit", "unit_cost", "cost",
                "lifetime_years", "om_per_year"]


def price_at_stage(value, stage: int) -> float:
    """A price that is a number or one value per stage."""
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        if stage > len(value):
            raise ValueError(f"price list {list(value)} has no value for stage {stage}")
        return float(value[stage - 1])
    return float(value)


def _unit_cost(grid: PlanningGrid, key: str, stage: int, what: str) -> float:
    costs = grid.case.economics.unit_costs
    if key not in costs:
        raise ValueError(f"case {grid.case.name!r} has no economics.unit_costs[{key!r}] "
                         f"needed to price {what}")
    return price_at_stage(costs[key], stage)


def _om_cost(grid: PlanningGrid, key: str, stage: int) -> float:
    """O&M unit cost; 0 where the case gives none (documented: no O&M term)."""
    costs = grid.case.economics.unit_costs
    return price_at_stage(costs[key], stage) if key in costs else 0.0


def _lifetime(grid: PlanningGrid, key: str) -> float:
    life = grid.case.economics.lifetimes_years
    if key not in life:
        raise ValueError(f"case {grid.case.name!r} has no economics.lifetimes_years[{key!r}]")
    return float(life[key])


# --- what a plan builds --------------------------------------------------------------------
def investment_items(grid: PlanningGrid, plan: Plan) -> pd.DataFrame:
    """Every item a plan builds, with its (undiscounted) investment and O&M.

    Pricing rules:

    * **line** (``plan.new_lines``): ``conductors.investment_per_km`` x length
      where the case has a conductor table (md24), else
      ``unit_costs.line_per_km`` (``line_upgrade_per_km`` when the candidate
      replaces an existing line); O&M ``maintenance_per_km_year`` or
      ``line_om_per_km_year``;
    * **substation** / **transformer** (``plan.substations``): the
      ``substations.investment`` of the site once, in the stage of its first
      transformer, plus ``transformer_types.investment`` per transformer
      (else ``unit_costs.transformer_per_mva`` x rating);
    * **SOP**: ``sop converter`` = increase of every terminal's capacity x
      ``sop_per_mva``; ``sop site`` = ``sop_site_per_site`` per new device (a
      device growing from 2 to more terminals pays no new site, seed 000 eq.
      (8b)); ``sop line`` = one line joining each new terminal to its device:
      a new device's terminals and every later terminal are attached, in
      order of cost (Prim), to the nearest terminal already connected; a pair
      that are the two ends of a case tie line reuses the tie for free
      (seed 000), otherwise the line is the Euclidean distance between the
      buses (``net.bus.x_km/y_km``) x ``sop_line_per_km``;
    * **DER** (``plan.der``, kinds of :data:`~fdnmoo.planning.DER_KINDS`):
      capacity increase per stage x ``<kind>_per_mw`` (``svc_per_mvar``),
      priced in the stage it is added; ``<kind>_site_per_site`` when a
      candidate bus first gets capacity (if the key exists); ESS energy
      capacity = power x the candidate's ``max_mwh / max_mw`` (fixed duration)
      x ``ess_per_mwh``;
    * **DG** (``plan.der["dg"]``, MVA): the alternative is the ``dg_types`` row
      of the candidate's technology with that capacity
      (:func:`~fdnmoo.planning.dg_type_rows`); capacity increase x its
      ``investment_per_mva``, lifetime its ``lifetime_years``, no fixed O&M
      (the energy cost is an operating term, ``dg_energy`` of
      :func:`cost_breakdown`).

    Parameters
    ----------
    grid : PlanningGrid
    plan : Plan

    Returns
    -------
    DataFrame
        One row per item, columns :data:`ITEM_COLUMNS`: ``kind``, ``stage``
        (built in), ``where`` (readable location), ``quantity`` and ``unit``,
        ``unit_cost`` (currency per unit, at the stage's price), ``cost``
        (currency), ``lifetime_years``, ``om_per_year`` (yearly O&M from the
        build stage on).

    Raises
    ------
    ValueError
        A built item has no price or lifetime in the case.
    """
    rows: list[dict] = []
    rows += _line_items(grid, plan)
    rows += _substation_items(grid, plan)
    rows += _sop_items(grid, plan)
    rows += _der_items(grid, plan)
    items = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    return items.astype({"stage": int, "quantity": float, "unit_cost": float, "cost": float,
                         "lifetime_years": float, "om_per_year": float})


def _item(kind, stage, where, quantity, unit, unit_cost, lifetime, om_per_year=0.0) -> dict:
    return {"kind": kind, "stage": int(stage), "where": where, "quantity": float(quantity),
            "unit": unit, "unit_cost": float(unit_cost), "cost": float(quantity) * float(unit_cost),
            "lifetime_years": float(lifetime), "om_per_year": float(om_per_year)}


def _line_items(grid: PlanningGrid, plan: Plan) -> list[dict]:
    rows = []
    conductors = grid.case.candidates.get("conductors")
    for r in plan.new_lines:
        line, stage = int(r["line"]), int(r["stage"])
        if line not in grid.candidate_lines.index:
            raise ValueError(f"plan builds line {line}, which is not a candidate line of the grid")
        cand = grid.candidate_lines.loc[line]
        length = float(cand.length_km)
        ends = f"{grid.net.line.from_bus[line]}-{grid.net.line.to_bus[line]}"
        where = f"corridor {int(cand.corridor)} ({ends})"
        table = None if conductors is None else conductors[conductors.type == int(cand.conductor)]
        if table is not None and len(table):
            c = table.iloc[0]
            rows.append(_item("line", stage, where, length, "km", c.investment_per_km,
                              c.lifetime_years, c.maintenance_per_km_year * length))
        else:
            key = "line_upgrade_per_km" if int(cand.replaces) >= 0 else "line_per_km"
            rows.append(_item("line", stage, where, length, "km",
                              _unit_cost(grid, key, stage, f"line {line}"), _lifetime(grid, "line"),
                              _om_cost(grid, "line_om_per_km_year", stage) * length))
    return rows


def _substation_items(grid: PlanningGrid, plan: Plan) -> list[dict]:
    rows = []
    subs = grid.case.candidates.get("substations")
    types = grid.case.candidates.get("transformer_types")
    built = plan.substations[np.argsort(plan.substations["stage"], kind="stable")]
    seen: set[int] = set()
    for r in built:
        bus, stage, trafo = int(r["bus"]), int(r["stage"]), int(r["trafo"])
        if bus not in seen:  # the site, once
            seen.add(bus)
            site = None if subs is None else subs[subs.bus == bus]
            if site is not None and len(site):
                rows.append(_item("substation", stage, f"bus {bus}", 1, "site",
                                  site.investment.iloc[0], site.lifetime_years.iloc[0]))
        ttype = None if types is None else types[types.type == int(r["type"])]
        if ttype is not None and len(ttype):
            t = ttype.iloc[0]
            rows.append(_item("transformer", stage, f"bus {bus} type {int(r['type'])}", 1, "unit",
                              t.investment, t.lifetime_years, t.maintenance_per_year))
        else:
            sn = float(grid.net.trafo.sn_mva[trafo])
            rows.append(_item("transformer", stage, f"bus {bus}", sn, "MVA",
                              _unit_cost(grid, "transformer_per_mva", stage,
                                         f"transformer {trafo}"),
                              _lifetime(grid, "transformer"),
                              _om_cost(grid, "transformer_om_per_mva_year", stage) * sn))
    return rows


def _sop_items(grid: PlanningGrid, plan: Plan) -> list[dict]:
    sop = plan.sop
    if len(sop) == 0:
        return []
    rows = []
    ties = grid.case.tie_lines
    tie_pairs = {frozenset((int(a), int(b))) for a, b in zip(ties.from_bus, ties.to_bus)}
    bus = grid.net.bus
    xy = dict(zip(bus.index.tolist(), zip(bus.x_km.astype(float), bus.y_km.astype(float))))
    life_sop = _lifetime(grid, "sop")
    has_site = "sop_site_per_site" in grid.case.economics.unit_costs
    stages, devices, buses, caps = sop["stage"], sop["device"], sop["bus"], sop["capacity_mva"]
    for device in np.unique(devices):
        mine = devices == device
        connected: list[int] = []
        capacity: dict[int, float] = {}
        for stage in range(1, plan.n_stages + 1):
            now = np.flatnonzero(mine & (stages == stage))
            if len(now) == 0:
                continue
            if not connected and has_site:
                rows.append(_item("sop site", stage, f"device {device}", 1, "site",
                                  _unit_cost(grid, "sop_site_per_site", stage, "an SOP site"),
                                  life_sop))
            price = _unit_cost(grid, "sop_per_mva", stage, "SOP converters")
            om = _om_cost(grid, "sop_om_per_mva_year", stage)
            for k in now[np.argsort(buses[now], kind="stable")]:
                b = int(buses[k])
                added = caps[k] - capacity.get(b, 0.0)
                if added > 0:
                    rows.append(_item("sop converter", stage, f"device {device} bus {b}", added,
                                      "MVA", price, life_sop, om * added))
                    capacity[b] = float(caps[k])
            new = sorted(set(buses[now].tolist()) - set(connected))
            rows += _sop_lines(grid, stage, device, connected, new, tie_pairs, xy)
    return rows


def _sop_lines(grid, stage, device, connected, new, tie_pairs, xy) -> list[dict]:
    """Attach ``new`` terminals to ``connected`` ones (Prim); extends ``connected``."""
    rows = []
    if not connected and new:
        connected.append(new.pop(0))

    def cost_km(a: int, b: int) -> float:
        if frozenset((a, b)) in tie_pairs:
            return 0.0
        return float(np.hypot(xy[a][0] - xy[b][0], xy[a][1] - xy[b][1]))

    while new:
        km, a, b = min((cost_km(a, b), a, b) for b in new for a in connected)
        new.remove(b)
        connected.append(b)
        if frozenset((a, b)) in tie_pairs:
            rows.append(_item("sop line", stage, f"device {device} {a}-{b} (tie reused)", 0.0,
                              "km", 0.0, _lifetime(grid, "line")))
            continue
        rows.append(_item("sop line", stage, f"device {device} {a}-{b}", km, "km",
                          _unit_cost(grid, "sop_line_per_km", stage, "SOP lines"),
                          _lifetime(grid, "line"),
                          _om_cost(grid, "line_om_per_km_year", stage) * km))
    return rows


def _dg_items(grid: PlanningGrid, cap: np.ndarray) -> list[dict]:
    table, types = grid.case.candidates.get("dg"), grid.case.candidates.get("dg_types")
    if table is None or types is None or len(table) != cap.shape[1]:
        raise ValueError(f"plan.der['dg'] has {cap.shape[1]} candidates, the case's dg table "
                         f"{0 if table is None else len(table)} (and dg_types is needed)")
    rows = []
    type_rows = dg_type_rows(grid.case, cap)
    previous = np.zeros(cap.shape[1])
    for stage in range(1, cap.shape[0] + 1):
        now = np.asarray(cap[stage - 1], dtype=float)
        added = np.clip(now - previous, 0.0, None)
        for i in np.flatnonzero(added > 0):
            t = types.iloc[int(type_rows[stage - 1, i])]
            rows.append(_item("dg", stage, f"bus {int(table.bus.iloc[i])} {t.technology} "
                              f"alternative {int(t.alternative)}", added[i], "MVA",
                              t.investment_per_mva, t.lifetime_years))
        previous = np.maximum(previous, now)
    return rows


def _der_items(grid: PlanningGrid, plan: Plan) -> list[dict]:
    rows = []
    for kind, cap in plan.der.items():
        if kind == "dg":
            rows += _dg_items(grid, cap)
            continue
        table = grid.case.candidates.get(kind)
        if table is None or len(table) != cap.shape[1]:
            raise ValueError(f"plan.der[{kind!r}] has {cap.shape[1]} candidates, the case's "
                             f"{kind} table {0 if table is None else len(table)}")
        unit = DER_KINDS[kind]
        per = unit.lower()
        life = _lifetime(grid, kind)
        hours = (table.max_mwh / table.max_mw).to_numpy(float) if kind == "ess" else None
        previous = np.zeros(cap.shape[1])
        for stage in range(1, plan.n_stages + 1):
            now = np.asarray(cap[stage - 1], dtype=float)
            added = np.clip(now - previous, 0.0, None)
            for i in np.flatnonzero(added > 0):
                where = f"bus {int(table.bus.iloc[i])}"
                if previous[i] <= 0 and f"{kind}_site_per_site" in grid.case.economics.unit_costs:
                    rows.append(_item(f"{kind} site", stage, where, 1, "site",
                                      _unit_cost(grid, f"{kind}_site_per_site", stage,
                                                 f"{kind} sites"),
                                      life))
                rows.append(_item(kind, stage, where, added[i], unit,
                                  _unit_cost(grid, f"{kind}_per_{per}", stage, kind), life,
                                  _om_cost(grid, f"{kind}_om_per_{per}_year", stage) * added[i]))
                if hours is not None:
                    mwh = added[i] * hours[i]
                    rows.append(_item("ess energy", stage, where, mwh, "MWh",
                                      _unit_cost(grid, "ess_per_mwh", stage, "ESS energy"), life,
                                      _om_cost(grid, "ess_om_per_mwh_year", stage) * mwh))
            previous = np.maximum(previous, now)
    return rows


# --- per stage -----------------------------------------------------------------------------
def investment_per_stage(grid: PlanningGrid, plan: Plan) -> np.ndarray:
    """Undiscounted investment of the items built in each stage, shape (n_stages,).

    For budget-per-stage constraints (md24's ``investment_budget_per_stage``).
    """
    items = investment_items(grid, plan)
    out = np.zeros(plan.n_stages)
    np.add.at(out, items.stage.to_numpy(int) - 1, items.cost.to_numpy(float))
    return out


def om_per_stage(grid: PlanningGrid, plan: Plan,
                 items: pd.DataFrame | None = None) -> np.ndarray:
    """Yearly O&M cost in each stage (undiscounted), shape (n_stages,).

    The O&M of every item built up to the stage (``om_per_year`` of
    :func:`investment_items`), plus existing assets where the case prices
    them: base lines not replaced by a built line x
    ``unit_costs.existing_line_maintenance_per_km_year``, and base
    transformers x ``maintenance_per_year`` of the ``existing``
    transformer type of equal rating (md24).
    """
    items = investment_items(grid, plan) if items is None else items
    per_stage = np.zeros(plan.n_stages)
    np.add.at(per_stage, items.stage.to_numpy(np.int64) - 1, items.om_per_year.to_numpy(float))
    out = np.cumsum(per_stage)  # an item's O&M runs from its build stage on
    costs = grid.case.economics.unit_costs
    if "existing_line_maintenance_per_km_year" in costs:
        base = grid.case.net.line
        for s in range(1, plan.n_stages + 1):
            built = plan.new_lines["line"][plan.new_lines["stage"] <= s]
            replaced = set(grid.candidate_lines.replaces.reindex(built).dropna()
                           .astype(int)) - {-1}
            km = base.length_km[~base.index.isin(list(replaced))].sum()
            out[s - 1] += price_at_stage(costs["existing_line_maintenance_per_km_year"], s) * km
    types = grid.case.candidates.get("transformer_types")
    if types is not None and len(grid.case.net.trafo):
        existing = types[types.status == "existing"]
        for _, tr in grid.case.net.trafo.iterrows():
            match = existing[np.isclose(existing.capacity_mva, float(tr.sn_mva))]
            if len(match):
                out += float(match.maintenance_per_year.iloc[0])
    return out
