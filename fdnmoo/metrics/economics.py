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

A price is needed only for an energy the plan has (losses always, PV energy
when it builds PV, ...): a case without ``economics`` still runs studies whose
objectives use no cost. :func:`cost_breakdown` raises :class:`MissingPriceError`
naming the missing key (``economics.prices.energy_per_mwh``), or, with
``unpriced="nan"`` (the plan reports), leaves the term NaN.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..planning import Plan, PlanningGrid, dg_type_rows
from .investment import (ITEM_COLUMNS, price_at_stage, investment_items,
                         investment_per_stage, om_per_stage)

__all__ = [
    "BREAKDOWN_COLUMNS",
    "ITEM_COLUMNS",
    "MissingPriceError",
    "PRICED_TERMS",
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

#: Columns of :func:`cost_breakdown` (besides the index ``stage``).
BREAKDOWN_COLUMNS = ["investment", "om", "energy_loss", "pv_profit", "dg_energy",
                     "unserved_penalty", "violation_penalty", "total"]
_CONVENTIONS = ("horizon", "lifetime")
_UNPRICED = ("raise", "nan")

#: Operating terms priced per MWh -> (key in ``economics.prices``, what it prices,
#: where else the price may come from).
PRICED_TERMS: dict[str, tuple[str, str, str]] = {
    "energy_loss": ("energy_per_mwh", "energy losses", "a candidates.load_levels table"),
    "pv_profit": ("pv_feed_in_per_mwh", "PV energy", "prices.energy_per_mwh"),
    "dg_energy": ("energy_per_mwh", "DG energy (the grid purchases it displaces)",
                  "a candidates.load_levels table"),
    "unserved_penalty": ("unserved_energy_per_mwh", "unserved energy", ""),
    "violation_penalty": ("violation_penalty_per_mwh", "load out of its limits",
                          "prices.energy_per_mwh"),
}


class MissingPriceError(ValueError):
    """A cost term needs a price the case does not have.

    Attributes
    ----------
    key : str
        The missing key, ``"economics.prices.<name>"``.
    what : str
        What it prices (``"energy losses"``).
    case : str
        The case name.
    """

    def __init__(self, key: str, what: str, case: str, message: str) -> None:
        self.key, self.what, self.case = key, what, case
        super().__init__(message)

    def __reduce__(self):  # raised in workers, re-raised in the main process
        return type(self), (self.key, self.what, self.case, str(self))


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
def _energy_price(grid: PlanningGrid, stage: int) -> float | None:
    """Price of loss energy: ``prices.energy_per_mwh``, else the load levels' prices
    weighted by duration x load factor^2 (losses grow with the square of the load)."""
    prices = grid.case.economics.prices
    if "energy_per_mwh" in prices:
        return price_at_stage(prices["energy_per_mwh"], stage)
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


def _priced(energy_mwh: float, price: float | None, term: str, case: str,
            unpriced: str = "raise") -> float:
    """``energy_mwh * price``; a missing price raises (or gives NaN) only for energy > 0."""
    if energy_mwh == 0 or not np.isfinite(energy_mwh):
        return 0.0 if energy_mwh == 0 else float("nan")
    if price is None:
        if unpriced == "nan":
            return float("nan")
        name, what, other = PRICED_TERMS[term]
        key = f"economics.prices.{name}"
        raise MissingPriceError(key, what, case, f"case {case!r} has no {key}"
                                f"{f' (nor {other})' if other else ''} to price {what}: the "
                                f"plan has {energy_mwh:g} MWh/yr of it")
    return energy_mwh * price


def _dg_energy_cost(grid: PlanningGrid, plan: Plan, ops, stage: int, price: float | None,
                    unpriced: str = "raise") -> float:
    """Yearly DG energy cost of a stage, net of the grid purchases the DG energy displaces."""
    energy = getattr(ops, "dg_energy_mwh", None)
    cap = plan.der.get("dg")
    if energy is None or cap is None or np.size(energy) == 0:
        return 0.0
    e = np.asarray(energy[stage - 1], dtype=float)
    rows = dg_type_rows(grid.case, cap[stage - 1])
    unit = grid.case.candidates["dg_types"].energy_cost_per_mwh.to_numpy(float)
    own = float(np.sum(np.where(rows >= 0, e * unit[np.maximum(rows, 0)], 0.0)))
    return own - _priced(float(e.sum()), price, "dg_energy", grid.case.name, unpriced)


def _yearly_operation(grid: PlanningGrid, ops, stage: int, plan: Plan | None = None,
                      unpriced: str = "raise") -> dict[str, float]:
    """Yearly operating amounts of one stage (currency/yr, PV profit negative)."""
    if ops is None:
        return {"energy_loss": 0.0, "pv_profit": 0.0, "dg_energy": 0.0, "unserved_penalty": 0.0,
                "violation_penalty": 0.0}
    prices = grid.case.economics.prices
    name = grid.case.name
    energy = _energy_price(grid, stage)
    feed_in = price_at_stage(prices["pv_feed_in_per_mwh"], stage) if "pv_feed_in_per_mwh" in prices \
        else energy
    violation = price_at_stage(prices["violation_penalty_per_mwh"], stage) \
        if "violation_penalty_per_mwh" in prices else energy
    unserved = price_at_stage(prices["unserved_energy_per_mwh"], stage) \
        if "unserved_energy_per_mwh" in prices else None
    i = stage - 1
    level_prices = _level_prices(grid, ops)
    if level_prices is not None:  # one slot per load level (profile "levels"): exact pricing
        loss_cost = float(np.dot(ops.slot_loss_mwh[i], level_prices))
    else:
        loss_cost = _priced(float(ops.energy_loss_mwh[i]), energy, "energy_loss", name,
                            unpriced)
    return {
        "energy_loss": loss_cost,
        "pv_profit": -_priced(float(ops.pv_energy_mwh[i]), feed_in, "pv_profit", name,
                              unpriced),
        "dg_energy": 0.0 if plan is None else _dg_energy_cost(grid, plan, ops, stage, energy,
                                                              unpriced),
        "unserved_penalty": _priced(float(ops.unserved_energy_mwh[i]), unserved,
                                    "unserved_penalty", name, unpriced),
        "violation_penalty": _priced(float(ops.violation_energy_mwh[i]), violation,
                                     "violation_penalty", name, unpriced),
    }


def cost_breakdown(grid: PlanningGrid, plan: Plan, ops=None, *,
                   convention: str = "horizon", unpriced: str = "raise") -> pd.DataFrame:
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
    unpriced : {"raise", "nan"}
        What a term needing a price the case lacks becomes: an error, or NaN
        (and the stage's ``total`` NaN).

    Returns
    -------
    DataFrame
        Index ``stage`` (1..n_stages), columns :data:`BREAKDOWN_COLUMNS`,
        present values at year 0 in the case currency.

    Raises
    ------
    MissingPriceError
        With ``unpriced="raise"``, a term of the plan that needs a price the
        case lacks; the message names the key.
    """
    if convention not in _CONVENTIONS:
        raise ValueError(f"convention must be one of {_CONVENTIONS}, got {convention!r}")
    if unpriced not in _UNPRICED:
        raise ValueError(f"unpriced must be one of {_UNPRICED}, got {unpriced!r}")
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
        yearly = _yearly_operation(grid, ops, s, plan, unpriced)
        annuity = annuity_present_value(d, start, stop)
        row = {"investment": investment, "om": om[s - 1] * annuity}
        row.update({k: v * annuity for k, v in yearly.items()})
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.RangeIndex(1, plan.n_stages + 1, name="stage"))
    out["total"] = out.sum(axis=1, skipna=False)  # a term unknown (NaN): the total too
    return out[BREAKDOWN_COLUMNS]


def total_cost(grid: PlanningGrid, plan: Plan, ops=None, *,
               convention: str = "horizon") -> float:
    """Net present value of the plan: the sum of :func:`cost_breakdown`'s ``total``."""
    return float(cost_breakdown(grid, plan, ops, convention=convention)["total"].sum())
