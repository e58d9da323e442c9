"""Economics of a plan: what it builds, what that costs, and the net present value.

Timing convention (seed 000, R. Wang et al., Nature Communications 15 (2024),
eq. (7): ``f = sum_u sum_y lambda_yu (eps * phi_u^CO + phi_u^OP)`` with
``lambda_yu = (1 + d)^-[(u-1) Y + y]``, ``eps = d (1+d)^L / ((1+d)^L - 1)``):

* year 0 is the start of the horizon; stage ``u`` (1-based, ``Y`` =
  ``horizon.years_per_stage`` years long) covers the years
  ``(u-1) Y + 1 .. u Y``; the horizon ends after the plan's ``H`` stages
  (``plan.n_stages``, which may be fewer than the case's). Every yearly
  amount is paid at the **end** of its year and discounted by ``(1 + d)^-t``;
* an item built in stage ``u`` is paid for by equal annual payments
  ``eps(d, L) * cost`` (capital recovery factor over the item's lifetime L),
  from the first year of its stage

  - ``convention="horizon"`` (default): until the horizon end ``H Y``, whatever
    ``L`` (assets outliving the horizon are charged only for the years inside
    it; assets with ``L`` shorter than the remaining horizon are implicitly
    renewed at the same annual cost);
  - ``convention="lifetime"``: for its whole lifetime ``L``, which equals the
    lump sum discounted to the stage start, ``cost * (1 + d)^-((u-1) Y)``.
    Seed 000's published cost table (Table 2) follows this; the test suite
    reproduces its stage I and II entries. (Read literally, its eq. (7a) would
    count a stage's annuities only during that stage's own years, which its
    table does not do.)

  In stage 1 with ``L`` equal to the horizon both conventions coincide;
* yearly operating amounts (O&M, losses, PV profit, penalties) of stage ``u``
  are the stage's yearly values (from :class:`~fdnmoo.metrics.OperationMetrics`)
  paid in each year of the stage; an item's O&M runs from its build stage on,
  at the O&M price of its build stage.

Seed 004 (AA-NSGA-II) uses inflation and interest rates; its equations did not
survive extraction, so a single discount rate ``economics.discount_rate`` is
used here.

Prices come from the case: ``economics.unit_costs`` (the unit is in the key:
``pv_per_mw``, ``sop_per_mva``, ``line_per_km``, ``pv_om_per_mw_year``, ...)
and ``economics.prices``, or from candidate tables that carry their own costs
(md24: ``conductors``, ``substations``, ``transformer_types``,
``load_levels``). A price may be a number or a sequence with one value per
stage. All results are in the case currency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..planning import DER_KINDS, Plan, PlanningGrid, dg_type_rows

__all__ = [
    "BREAKDOWN_COLUMNS",
    "ITEM_COLUMNS",
    "annuity_present_value",
    "capital_recovery_factor",
    "cost_breakdown",
    "investment_items",
    "investment_per_stage",
    "om_per_stage",
    "present_value_factor",
    "stage_years",
    "total_cost",
]

#: Columns of :func:`investment_items`.
ITEM_COLUMNS = ["kind", "stage", "where", "quantity", "unit", "unit_cost", "cost",
                "lifetime_years", "om_per_year"]
#: Columns of :func:`cost_breakdown` (besides the index ``stage``).
BREAKDOWN_COLUMNS = ["investment", "om", "energy_loss", "pv_profit", "dg_energy",
                     "unserved_penalty", "violation_penalty", "total"]
_CONVENTIONS = ("horizon", "lifetime")


# --- discounting ---------------------------------------------------------------------------
def capital_recovery_factor(rate: float, lifetime_years: float) -> float:
    """Capital recovery factor ``d (1+d)^L / ((1+d)^L - 1)``; ``1/L`` for ``d = 0``.

    The equal end-of-year payment, per unit of capital, that repays the capital
    over ``L`` years at interest rate ``d`` (seed 000, eq. (7c)).
    """
    if lifetime_years <= 0:
        raise ValueError(f"lifetime must be positive, got {lifetime_years}")
    if rate == 0:
        return 1.0 / lifetime_years
    growth = (1.0 + rate) ** lifetime_years
    return rate * growth / (growth - 1.0)


def present_value_factor(rate: float, year):
    """Present value at year 0 of one unit paid at (the end of) ``year``: ``(1+d)^-t``."""
    factor = (1.0 + rate) ** -np.asarray(year, dtype=float)
    return float(factor) if factor.ndim == 0 else factor


def annuity_present_value(rate: float, start_year: float, end_year: float) -> float:
    """Present value of one unit paid at the end of every year in ``(start_year, end_year]``.

    ``sum_{t = start+1}^{end} (1+d)^-t = ((1+d)^-start - (1+d)^-end) / d``
    (``end - start`` for ``d = 0``; the closed form extends to fractional years).
    """
    if end_year <= start_year:
        return 0.0
    if rate == 0:
        return float(end_year - start_year)
    return ((1.0 + rate) ** -start_year - (1.0 + rate) ** -end_year) / rate


def stage_years(horizon, n_stages: int | None = None) -> np.ndarray:
    """Start and end year of every stage, shape (n_stages, 2).

    Stage ``u`` spans ``((u-1) Y, u Y]``: its yearly amounts are paid at the
    ends of years ``(u-1) Y + 1 .. u Y``.
    """
    n = horizon.n_stages if n_stages is None else n_stages
    y = float(horizon.years_per_stage)
    start = np.arange(n, dtype=float) * y
    return np.column_stack([start, start + y])


# --- prices --------------------------------------------------------------------------------
def _at_stage(value, stage: int) -> float:
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
    return _at_stage(costs[key], stage)


def _om_cost(grid: PlanningGrid, key: str, stage: int) -> float:
    """O&M unit cost; 0 where the case gives none (documented: no O&M term)."""
    costs = grid.case.economics.unit_costs
    return _at_stage(costs[key], stage) if key in costs else 0.0


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
    for _, r in plan.new_lines.iterrows():
        line, stage = int(r.line), int(r.stage)
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
    built = plan.substations.sort_values("stage", kind="stable")
    seen: set[int] = set()
    for _, r in built.iterrows():
        bus, stage, trafo = int(r.bus), int(r.stage), int(r.trafo)
        if bus not in seen:  # the site, once
            seen.add(bus)
            site = None if subs is None else subs[subs.bus == bus]
            if site is not None and len(site):
                rows.append(_item("substation", stage, f"bus {bus}", 1, "site",
                                  site.investment.iloc[0], site.lifetime_years.iloc[0]))
        ttype = None if types is None else types[types.type == int(r.type)]
        if ttype is not None and len(ttype):
            t = ttype.iloc[0]
            rows.append(_item("transformer", stage, f"bus {bus} type {int(r.type)}", 1, "unit",
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
    stages = sop.stage.to_numpy(np.int64)
    devices = sop.device.to_numpy()
    buses = sop.bus.to_numpy(np.int64)
    caps = sop.capacity_mva.to_numpy(float)
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
            built = plan.new_lines[plan.new_lines.stage <= s].line.astype(int)
            replaced = set(grid.candidate_lines.replaces.reindex(built.to_numpy()).dropna()
                           .astype(int)) - {-1}
            km = base.length_km[~base.index.isin(list(replaced))].sum()
            out[s - 1] += _at_stage(costs["existing_line_maintenance_per_km_year"], s) * km
    types = grid.case.candidates.get("transformer_types")
    if types is not None and len(grid.case.net.trafo):
        existing = types[types.status == "existing"]
        for _, tr in grid.case.net.trafo.iterrows():
            match = existing[np.isclose(existing.capacity_mva, float(tr.sn_mva))]
            if len(match):
                out += float(match.maintenance_per_year.iloc[0])
    return out


def _energy_price(grid: PlanningGrid, stage: int) -> float | None:
    """Price of loss energy: ``prices.energy_per_mwh``, else the load levels' prices
    weighted by duration x load factor^2 (losses grow with the square of the load)."""
    prices = grid.case.economics.prices
    if "energy_per_mwh" in prices:
        return _at_stage(prices["energy_per_mwh"], stage)
    levels = grid.case.candidates.get("load_levels")
    if levels is not None and len(levels):
        w = levels.duration_h.to_numpy(float) * levels.load_factor.to_numpy(float) ** 2
        return float(np.sum(w * levels.energy_price_per_mwh.to_numpy(float)) / w.sum())
    return None


def _level_prices(grid: PlanningGrid, ops) -> np.ndarray | None:
    """Energy price of every time slot when the slots are the case's load levels.

    Used when the case has no ``prices.energy_per_mwh`` but a ``load_levels``
    table and ``ops.slot_loss_mwh`` has one slot per level (the scenario
    profile ``"levels"`` orders its slots by level number).
    """
    levels = grid.case.candidates.get("load_levels")
    slots = getattr(ops, "slot_loss_mwh", None)
    if "energy_per_mwh" in grid.case.economics.prices or levels is None or slots is None \
            or np.ndim(slots) != 2 or np.shape(slots)[1] != len(levels):
        return None
    return levels.sort_values("level").energy_price_per_mwh.to_numpy(float)


def _priced(energy_mwh: float, price: float | None, what: str, keys: str, case: str) -> float:
    if energy_mwh == 0 or not np.isfinite(energy_mwh):
        return 0.0 if energy_mwh == 0 else float("nan")
    if price is None:
        raise ValueError(f"case {case!r} has no price for {what} ({keys}) but the plan has "
                         f"{energy_mwh:g} MWh/yr of it")
    return energy_mwh * price


def _dg_energy_cost(grid: PlanningGrid, plan: Plan, ops, stage: int, price: float | None) -> float:
    """Yearly DG energy cost of a stage, net of the grid purchases the DG energy displaces."""
    energy = getattr(ops, "dg_energy_mwh", None)
    cap = plan.der.get("dg")
    if energy is None or cap is None or np.size(energy) == 0:
        return 0.0
    e = np.asarray(energy[stage - 1], dtype=float)
    rows = dg_type_rows(grid.case, cap[stage - 1])
    unit = grid.case.candidates["dg_types"].energy_cost_per_mwh.to_numpy(float)
    own = float(np.sum(np.where(rows >= 0, e * unit[np.maximum(rows, 0)], 0.0)))
    return own - _priced(float(e.sum()), price, "DG energy (displaced grid purchases)",
                         "prices.energy_per_mwh or candidates.load_levels", grid.case.name)


def _yearly_operation(grid: PlanningGrid, ops, stage: int, plan: Plan | None = None
                      ) -> dict[str, float]:
    """Yearly operating amounts of one stage (currency/yr, PV profit negative)."""
    if ops is None:
        return {"energy_loss": 0.0, "pv_profit": 0.0, "dg_energy": 0.0, "unserved_penalty": 0.0,
                "violation_penalty": 0.0}
    prices = grid.case.economics.prices
    name = grid.case.name
    energy = _energy_price(grid, stage)
    feed_in = _at_stage(prices["pv_feed_in_per_mwh"], stage) if "pv_feed_in_per_mwh" in prices \
        else energy
    violation = _at_stage(prices["violation_penalty_per_mwh"], stage) \
        if "violation_penalty_per_mwh" in prices else energy
    unserved = _at_stage(prices["unserved_energy_per_mwh"], stage) \
        if "unserved_energy_per_mwh" in prices else None
    i = stage - 1
    level_prices = _level_prices(grid, ops)
    if level_prices is not None:  # one slot per load level (profile "levels"): exact pricing
        loss_cost = float(np.dot(ops.slot_loss_mwh[i], level_prices))
    else:
        loss_cost = _priced(float(ops.energy_loss_mwh[i]), energy, "energy losses",
                            "prices.energy_per_mwh or candidates.load_levels", name)
    return {
        "energy_loss": loss_cost,
        "pv_profit": -_priced(float(ops.pv_energy_mwh[i]), feed_in, "PV energy",
                              "prices.pv_feed_in_per_mwh or energy_per_mwh", name),
        "dg_energy": 0.0 if plan is None else _dg_energy_cost(grid, plan, ops, stage, energy),
        "unserved_penalty": _priced(float(ops.unserved_energy_mwh[i]), unserved,
                                    "unserved energy", "prices.unserved_energy_per_mwh", name),
        "violation_penalty": _priced(float(ops.violation_energy_mwh[i]), violation,
                                     "violating load", "prices.violation_penalty_per_mwh or "
                                     "energy_per_mwh", name),
    }


def cost_breakdown(grid: PlanningGrid, plan: Plan, ops=None, *,
                   convention: str = "horizon") -> pd.DataFrame:
    """Present value of every cost term, per stage.

    See the module docstring for the timing convention. Per stage ``u``:

    * ``investment``: sum over items built in ``u`` of
      ``cost * eps(d, L) * annuity_present_value(d, (u-1) Y, H Y)``
      (``convention="horizon"``) or ``cost * (1+d)^-((u-1) Y)``
      (``convention="lifetime"``);
    * ``om``: yearly O&M of the stage (:func:`om_per_stage`) x
      ``annuity_present_value(d, (u-1) Y, u Y)``;
    * ``energy_loss``: ``ops.energy_loss_mwh`` (lines, transformers, SOP
      converters) x the energy price ``prices.energy_per_mwh``; without it
      (md24) every load level's losses at its own price when
      ``ops.slot_loss_mwh`` has one slot per level, else the levels' prices
      weighted by duration x load factor^2; same annuity;
    * ``pv_profit`` (negative): ``ops.pv_energy_mwh`` x
      ``prices.pv_feed_in_per_mwh`` (default: the energy price);
    * ``dg_energy``: sum over DG units of ``ops.dg_energy_mwh`` x the
      alternative's ``energy_cost_per_mwh`` (fuel/O&M per MWh, md24) minus the
      grid purchases that energy displaces, ``ops.dg_energy_mwh`` summed x the
      energy price (as for PV: without it DG would only ever add cost, since
      the energy bought at the substations is not a cost term); negative when
      the DG is cheaper than the grid;
    * ``unserved_penalty``: ``ops.unserved_energy_mwh`` x
      ``prices.unserved_energy_per_mwh``;
    * ``violation_penalty``: ``ops.violation_energy_mwh`` x
      ``prices.violation_penalty_per_mwh`` (default: the energy price, "generally
      assigned as the electricity price", seed 000);
    * ``total``: their sum.

    Parameters
    ----------
    grid : PlanningGrid
    plan : Plan
    ops : OperationMetrics, optional
        Yearly energies per stage; ``None`` sets the operating terms to 0.
    convention : {"horizon", "lifetime"}
        How long an item's annual payments are counted (module docstring).

    Returns
    -------
    DataFrame
        Index ``stage`` (1..n_stages), columns :data:`BREAKDOWN_COLUMNS`,
        present values at year 0 in the case currency.
    """
    if convention not in _CONVENTIONS:
        raise ValueError(f"convention must be one of {_CONVENTIONS}, got {convention!r}")
    if ops is not None and ops.n_stages != plan.n_stages:
        raise ValueError(f"operation metrics have {ops.n_stages} stages, the plan {plan.n_stages}")
    d = float(grid.case.economics.discount_rate)
    years = stage_years(grid.case.horizon, plan.n_stages)
    end = float(years[-1, 1])
    items = investment_items(grid, plan)
    om = om_per_stage(grid, plan, items)

    built_in = items.stage.to_numpy(np.int64)
    cost = items.cost.to_numpy(float)
    if convention == "horizon":
        crf = np.array([capital_recovery_factor(d, life) for life in items.lifetime_years])
        annual = cost * crf if len(cost) else cost
    rows = []
    for s in range(1, plan.n_stages + 1):
        start, stop = years[s - 1]
        mine = built_in == s
        if convention == "horizon":
            investment = float(annual[mine].sum() * annuity_present_value(d, start, end))
        else:
            investment = float(cost[mine].sum() * present_value_factor(d, start))
        yearly = _yearly_operation(grid, ops, s, plan)
        annuity = annuity_present_value(d, start, stop)
        row = {"investment": investment, "om": om[s - 1] * annuity}
        row.update({k: v * annuity for k, v in yearly.items()})
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.RangeIndex(1, plan.n_stages + 1, name="stage"))
    out["total"] = out.sum(axis=1)
    return out[BREAKDOWN_COLUMNS]


def total_cost(grid: PlanningGrid, plan: Plan, ops=None, *,
               convention: str = "horizon") -> float:
    """Net present value of the plan: the sum of :func:`cost_breakdown`'s ``total``."""
    return float(cost_breakdown(grid, plan, ops, convention=convention)["total"].sum())
