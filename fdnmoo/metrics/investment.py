"""Investment items of plans: what is built, where, when, and at which unit cost.

:func:`priced_items` prices every item of a whole :class:`~fdnmoo.planning.PlanBatch`
at once, by array lookups in the problem's :class:`~fdnmoo.metrics.cost_model.CostModel`
(loops run over stages and item kinds, never over plans or table rows);
:func:`investment_items` is the readable item list of one plan (reports),
built from the same arrays. Prices come from the case: its own tables where it
has them (md24: ``conductors``, ``substations``, ``transformer_types``,
``dg_types``), else ``economics.unit_costs`` with the unit in the key. A price
may be a number or a sequence with one value per stage.
:mod:`fdnmoo.metrics.economics` turns the items into present values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..planning import DER_KINDS, Plan, PlanBatch, PlanningGrid, dg_type_rows, label_positions
from .cost_model import CostModel, cost_model, first_match, price_at_stage
from .feeder_transformers import feeder_transformer_items
from .investment_sop import sop_items
from .items import ITEM_COLUMNS, PricedItems

__all__ = ["ITEM_COLUMNS", "PricedItems", "investment_items", "investment_per_stage",
           "om_per_stage", "om_table", "price_at_stage", "priced_items"]


def investment_items(grid: PlanningGrid, plan: Plan) -> pd.DataFrame:
    """Every item a plan builds, with its (undiscounted) investment and O&M.

    Pricing rules:

    * **line** (``plan.new_lines``): ``conductors.investment_per_km`` x length
      where the case has a conductor table (md24), else
      ``unit_costs.line_per_km`` (``line_upgrade_per_km`` when the candidate
      replaces an existing line; a reinforcement corridor's ``cost_factor`` x
      ``line_per_km``); O&M ``maintenance_per_km_year`` or
      ``line_om_per_km_year``;
    * **feeder transformer**: a reinforcement corridor with a ``transformer_factor``
      expands its feeder's transformer, ``unit_costs.transformer_per_mva`` x the
      MVA added (:mod:`fdnmoo.metrics.feeder_transformers`);
    * **substation** / **transformer** (``plan.substations``): the
      ``substations.investment`` of the site once, in the stage of its first
      transformer, plus ``transformer_types.investment`` per transformer
      (else ``unit_costs.transformer_per_mva`` x rating);
    * **SOP**: site, converter capacity and connecting lines, see
      :mod:`fdnmoo.metrics.investment_sop`;
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
      :func:`~fdnmoo.metrics.economics.cost_breakdown`).

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
    items = priced_items(cost_model(grid, plan.n_stages), PlanBatch.of(grid, [plan]))
    table = pd.DataFrame({c: (items.where() if c == "where" else getattr(items, c))
                          for c in ITEM_COLUMNS}, columns=ITEM_COLUMNS)
    return table.astype({"kind": object, "unit": object, "stage": int, "quantity": float,
                         "unit_cost": float, "cost": float, "lifetime_years": float,
                         "om_per_year": float})


def priced_items(model: CostModel, batch: PlanBatch) -> PricedItems:
    """Every item the plans of ``batch`` build, priced (rules: :func:`investment_items`).

    Raises
    ------
    ValueError
        A built item has no price or lifetime in the case (the message names
        the key and the item), or a plan builds a line that is not a candidate.
    """
    parts = [_line_items(model, batch), feeder_transformer_items(model, batch),
             *_substation_items(model, batch)]
    parts += sop_items(model, batch)
    for kind, cap in batch.der.items():
        parts += _dg_items(model, cap) if kind == "dg" else _der_items(model, kind, cap)
    return PricedItems.concat(parts)


def _line_items(model: CostModel, batch: PlanBatch) -> PricedItems | None:
    rows = batch.new_lines
    if not len(rows):
        return None
    known = np.isin(rows["line"], model.line_labels)
    if not known.all():
        raise ValueError(f"plan builds line {int(rows['line'][~known][0])}, which is not a "
                         f"candidate line of the grid")
    pos = label_positions(model.line_labels, rows["line"], "grid.candidate_lines")
    stage, length, table = rows["stage"], model.line_length_km[pos], model.line_table_row[pos]
    unit, life, om = np.empty(len(rows)), np.empty(len(rows)), np.empty(len(rows))
    own = table >= 0  # priced by the case's conductor table (md24)
    if own.any():
        t = table[own]
        unit[own] = model.table("conductors.investment_per_km")[t]
        life[own] = model.table("conductors.lifetime_years")[t]
        om[own] = model.table("conductors.maintenance_per_km_year")[t] * length[own]
    other = np.flatnonzero(~own)
    if len(other):
        factor = model.line_cost_factor[pos[other]]
        reinforced = np.isfinite(factor)
        upgrade = (model.line_replaces[pos[other]] >= 0) & ~reinforced
        for key, k in (("line_upgrade_per_km", other[upgrade]), ("line_per_km", other[~upgrade])):
            if len(k):
                unit[k] = model.unit_cost(key).at(
                    stage[k], lambda i, k=k: f"line {int(rows['line'][k[i]])}")
        unit[other[reinforced]] *= factor[reinforced]
        life[other] = model.lifetime("line")
        om[other] = model.om_cost("line_om_per_km_year").values[stage[other] - 1] * length[other]

    def where():
        ends = model.line_ends[pos]
        return [f"corridor {c} ({a}-{b})" for c, (a, b) in zip(model.line_corridor[pos], ends)]

    return PricedItems.of("line", "km", rows["plan"], stage, length, unit, life, om, where=where)


def _substation_items(model: CostModel, batch: PlanBatch) -> list[PricedItems]:
    rows = batch.substations
    if not len(rows):
        return []
    rows = rows[np.lexsort((rows["stage"], rows["plan"]))]  # a plan's rows by stage
    plan, bus, stage, ttype = rows["plan"], rows["bus"], rows["stage"], rows["type"]
    parts = []
    site = first_match(model.table("substations.bus"), bus)
    _, first = np.unique(plan * (1 << 32) + bus, return_index=True)  # the site once
    first = first[site[first] >= 0]
    if len(first):
        s = site[first]
        parts.append(PricedItems.of(
            "substation", "site", plan[first], stage[first], np.ones(len(first)),
            model.table("substations.investment")[s], model.table("substations.lifetime_years")[s],
            where=lambda: [f"bus {b}" for b in bus[first]]))
    row = first_match(model.table("transformer_types.type"), ttype)
    k = np.flatnonzero(row >= 0)
    if len(k):
        r = row[k]
        parts.append(PricedItems.of(
            "transformer", "unit", plan[k], stage[k], np.ones(len(k)),
            model.table("transformer_types.investment")[r],
            model.table("transformer_types.lifetime_years")[r],
            model.table("transformer_types.maintenance_per_year")[r],
            where=lambda k=k: [f"bus {b} type {t}" for b, t in zip(bus[k], ttype[k])]))
    k = np.flatnonzero(row < 0)
    if len(k):
        sn = model.trafo_sn_mva[label_positions(model.trafo_labels, rows["trafo"][k], "net.trafo")]
        price = model.unit_cost("transformer_per_mva").at(
            stage[k], lambda i: f"transformer {int(rows['trafo'][k[i]])}")
        om = model.om_cost("transformer_om_per_mva_year").values[stage[k] - 1] * sn
        parts.append(PricedItems.of("transformer", "MVA", plan[k], stage[k], sn, price,
                                    model.lifetime("transformer"), om,
                                    where=lambda k=k: [f"bus {b}" for b in bus[k]]))
    return parts


def _added(cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capacity before each stage (running maximum) and added in it, (plans, stages, n)."""
    before = np.maximum.accumulate(np.concatenate([np.zeros_like(cap[:, :1]), cap[:, :-1]],
                                                  axis=1), axis=1)
    return before, np.clip(cap - before, 0.0, None)


def _der_items(model: CostModel, kind: str, cap: np.ndarray) -> list[PricedItems]:
    buses = model.der_buses.get(kind)
    if buses is None or len(buses) != cap.shape[2]:
        raise ValueError(f"plan.der[{kind!r}] has {cap.shape[2]} candidates, the case's "
                         f"{kind} table {0 if buses is None else len(buses)}")
    unit = DER_KINDS[kind]
    per = unit.lower()
    life = model.lifetime(kind)
    before, added = _added(np.asarray(cap, dtype=float)[:, :model.n_stages])
    p, s, i = np.nonzero(added > 0)
    stage, gain = s + 1, added[p, s, i]

    def where(mask=None):
        return lambda: [f"bus {b}" for b in (buses[i] if mask is None else buses[i[mask]])]

    parts = []
    if model.has_unit_cost(f"{kind}_site_per_site"):
        new = before[p, s, i] <= 0
        price = model.unit_cost(f"{kind}_site_per_site").at(stage[new], f"{kind} sites")
        parts.append(PricedItems.of(f"{kind} site", "site", p[new], stage[new],
                                    np.ones(int(new.sum())), price, life, where=where(new)))
    price = model.unit_cost(f"{kind}_per_{per}").at(stage, kind)
    om = model.om_cost(f"{kind}_om_per_{per}_year").values[s] * gain
    parts.append(PricedItems.of(kind, unit, p, stage, gain, price, life, om, where=where()))
    if kind == "ess":  # energy capacity at the candidate's fixed duration
        mwh = gain * model.ess_hours[i]
        price = model.unit_cost("ess_per_mwh").at(stage, "ESS energy")
        om = model.om_cost("ess_om_per_mwh_year").values[s] * mwh
        parts.append(PricedItems.of("ess energy", "MWh", p, stage, mwh, price, life, om,
                                    where=where()))
    return parts


def _dg_items(model: CostModel, cap: np.ndarray) -> list[PricedItems]:
    case = model.case
    table, types = case.candidates.get("dg"), case.candidates.get("dg_types")
    if table is None or types is None or len(table) != cap.shape[2]:
        raise ValueError(f"plan.der['dg'] has {cap.shape[2]} candidates, the case's dg table "
                         f"{0 if table is None else len(table)} (and dg_types is needed)")
    type_rows = dg_type_rows(case, cap)
    _, added = _added(np.asarray(cap, dtype=float))
    p, s, i = np.nonzero(added > 0)
    t = type_rows[p, s, i]

    def where():
        tech, alt = types.technology.to_numpy(str), types.alternative.to_numpy(np.int64)
        return [f"bus {b} {tech[r]} alternative {alt[r]}"
                for b, r in zip(table.bus.to_numpy(np.int64)[i], t)]

    return [PricedItems.of("dg", "MVA", p, s + 1, added[p, s, i],
                           model.table("dg_types.investment_per_mva")[t],
                           model.table("dg_types.lifetime_years")[t], where=where)]


# --- per stage -----------------------------------------------------------------------------
def om_table(model: CostModel, batch: PlanBatch, items: PricedItems) -> np.ndarray:
    """Yearly O&M cost of every plan in each stage (undiscounted), shape (n_plans, n_stages).

    The O&M of every item built up to the stage (``om_per_year``), plus
    existing assets where the case prices them: base lines not replaced by a
    built line x ``unit_costs.existing_line_maintenance_per_km_year``, and base
    transformers x ``maintenance_per_year`` of the ``existing`` transformer
    type of equal rating (md24).
    """
    n_plans, n_stages = len(batch), model.n_stages
    out = np.cumsum(items.per_stage(items.om_per_year, n_plans, n_stages), axis=1)
    key = "existing_line_maintenance_per_km_year"
    if model.has_unit_cost(key):
        price = model.unit_cost(key).at(np.arange(1, n_stages + 1))
        rows = batch.new_lines
        pos = label_positions(model.line_labels, rows["line"], "grid.candidate_lines")
        old = model.line_replaces_row[pos]
        k = np.flatnonzero((old >= 0) & (rows["stage"] <= n_stages))
        replaced = np.zeros((n_plans, n_stages, len(model.existing_line_km)), bool)
        replaced[rows["plan"][k], rows["stage"][k] - 1, old[k]] = True
        replaced = np.logical_or.accumulate(replaced, axis=1)  # replaced from its stage on
        out += price * np.where(replaced, 0.0, model.existing_line_km).sum(axis=2)
    return out + model.existing_trafo_om


def om_per_stage(grid: PlanningGrid, plan: Plan) -> np.ndarray:
    """Yearly O&M cost of ``plan`` in each stage (undiscounted), shape (n_stages,);
    see :func:`om_table`."""
    model, batch = cost_model(grid, plan.n_stages), PlanBatch.of(grid, [plan])
    return om_table(model, batch, priced_items(model, batch))[0]


def investment_per_stage(grid: PlanningGrid, plan: Plan) -> np.ndarray:
    """Undiscounted investment of the items built in each stage, shape (n_stages,).

    For budget-per-stage constraints (md24's ``investment_budget_per_stage``).
    """
    model, batch = cost_model(grid, plan.n_stages), PlanBatch.of(grid, [plan])
    items = priced_items(model, batch)
    return items.per_stage(items.cost, 1, model.n_stages)[0]
