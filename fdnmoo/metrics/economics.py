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
  from the first year of its stage, in the form the case's ``economics.form``
  names (or the ``convention`` argument, which overrides it)

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

Form ``perpetuity`` (``economics.form: perpetuity``; the default form is
``horizon`` above, ``lifetime`` its variant). Seed 002 (Q. Wang and M. Jing,
Front. Energy Res. 10:902891 (2022), eq. (1), after Muñoz-Delgado et al.'s
multistage model) minimises, over one-year stages ``t = 1..n_T`` at interest
rate ``i``::

    F = sum_t (1+i)^-t / i * c_t^I
      + sum_t (1+i)^-t (c_t^M + c_t^E + c_t^R + c_t^U)
      + (1+i)^-n_T / i * (c_nT^M + c_nT^E + c_nT^R + c_nT^U)

where ``c_t^I`` (its eq. (2)) is the sum over items built in stage ``t`` of
``CRF(i, lifetime) * investment``: every item is paid by annuities for ever
(the present value of a perpetuity of annuities), the yearly operation
(maintenance, energy, losses, unserved-load penalty) is counted in its stage,
and the last stage's operation continues for ever after the horizon (the
perpetual tail ``(1+i)^-n_T / i``). Here, for stages of ``Y`` years:

* an item built in stage ``u`` costs ``cost * (1+f)^((u-1) Y) * eps(d, L) *
  perpetuity_present_value(d, (u-1) Y + 1)`` (annuities at the end of every
  year after year ``(u-1) Y + 1``; for ``Y = 1`` exactly ``(1+d)^-u / d``);
* yearly amounts of stage ``u`` are counted as in the other forms
  (``annuity_present_value(d, (u-1) Y, u Y, inflation=f)``, ``(1+d)^-u`` for
  ``Y = 1``), and those of the last stage ``H`` also every year after the
  horizon end: their factor gains ``perpetuity_present_value(d, H Y,
  inflation=f)`` (``(1+d)^-H / d`` for ``f = 0``). The tail is in the last
  stage's row of the breakdown.

A perpetuity needs ``d > f`` (the case check refuses it otherwise).

Inflation (seed 004, S. Wang et al. 2022, the AA-NSGA-II joint-planning paper,
prices its cost terms (1)-(5) with an inflation rate and an interest rate; its
equations did not survive extraction, so the standard form is used):
``economics.inflation_rate`` ``f`` escalates the case's prices, which are in
money of year 0, and ``economics.discount_rate`` ``d`` is the interest rate
that discounts and annualises:

* an item built in stage ``u`` costs ``cost * (1+f)^((u-1) Y)`` (its price at
  the stage start), repaid by constant annuities ``eps(d, L)`` times that, each
  discounted by ``(1+d)^-t`` (``convention="lifetime"``: the escalated lump sum
  discounted to the stage start);
* a yearly amount of stage ``u`` paid at the end of year ``t`` is its year-0
  value times ``(1+f)^t (1+d)^-t``, summed over the stage's years by
  :func:`~fdnmoo.metrics.cost_model.annuity_present_value` with ``inflation=f``.

With ``f = 0`` (every case file without the key) all factors are those above,
bit for bit.

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

:func:`cost_table` computes the breakdown of a whole population at once, on
the arrays of a :class:`~fdnmoo.planning.PlanBatch` and the prices and
discount factors of the problem's :class:`~fdnmoo.metrics.cost_model.CostModel`;
:func:`cost_breakdown` is its table for one plan, :func:`population_costs`
the row of one evaluated plan, computed once for its population.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..cases.model import ECONOMIC_FORMS
from ..planning import Plan, PlanBatch, PlanningGrid, dg_type_rows
from .cost_model import (CostModel, annuity_present_value, capital_recovery_factor, cost_model,
                         present_value_factor, stage_years)
from .investment import (ITEM_COLUMNS, investment_items, investment_per_stage, om_per_stage,
                         om_table, priced_items)
from .items import PricedItems
from .operation import OperationMetrics

__all__ = [
    "BREAKDOWN_COLUMNS",
    "ITEM_COLUMNS",
    "MissingPriceError",
    "PRICED_TERMS",
    "annuity_present_value",
    "capital_recovery_factor",
    "cost_breakdown",
    "cost_table",
    "investment_items",
    "investment_per_stage",
    "investment_table",
    "om_per_stage",
    "population_costs",
    "population_investment",
    "present_value_factor",
    "stage_years",
    "total_cost",
]

#: Columns of :func:`cost_breakdown` (besides the index ``stage``).
BREAKDOWN_COLUMNS = ["investment", "om", "energy_loss", "pv_profit", "dg_energy",
                     "unserved_penalty", "voltage_penalty", "overload_penalty", "total"]
#: Column added before ``total`` when the metrics have curtailed PV energy (the
#: curtailment option of :mod:`fdnmoo.operation.controls`).
CURTAILMENT_COLUMN = "curtailment_penalty"
_CONVENTIONS = ECONOMIC_FORMS
_UNPRICED = ("raise", "nan")

#: Operating terms priced per MWh -> (key in ``economics.prices``, what it prices,
#: where else the price may come from).
PRICED_TERMS: dict[str, tuple[str, str, str]] = {
    "energy_loss": ("energy_per_mwh", "energy losses", "a candidates.load_levels table"),
    "pv_profit": ("pv_feed_in_per_mwh", "PV energy", "prices.energy_per_mwh"),
    "dg_energy": ("energy_per_mwh", "DG energy (the grid purchases it displaces)",
                  "a candidates.load_levels table"),
    "unserved_penalty": ("unserved_energy_per_mwh", "unserved energy", ""),
    "voltage_penalty": ("violation_penalty_per_mwh", "load at buses out of the voltage band",
                        "prices.energy_per_mwh"),
    "overload_penalty": ("violation_penalty_per_mwh", "load downstream of overloaded lines",
                         "prices.energy_per_mwh"),
    CURTAILMENT_COLUMN: ("pv_curtailment_per_mwh", "curtailed PV energy", ""),
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


# --- the cost table of a population ----------------------------------------------------
def cost_table(model: CostModel, batch: PlanBatch, ops: OperationMetrics | None = None, *,
               convention: str | None = None, unpriced: str = "raise",
               items: PricedItems | None = None) -> dict[str, np.ndarray]:
    """Present value of every cost term of every plan, per stage.

    The terms of :func:`cost_breakdown` (its docstring gives each one's
    definition), for all plans of ``batch`` at once.

    Parameters
    ----------
    model : CostModel
        Of the batch's grid, for ``batch.n_stages`` stages.
    batch : PlanBatch
    ops : OperationMetrics, optional
        A batch of operation metrics (plan axis first,
        :meth:`OperationMetrics.stack`); ``None`` sets the operating terms to 0.
    convention : {"horizon", "lifetime", "perpetuity"}, optional
        The form of the present value (module docstring); default: the case's
        ``economics.form`` (``model.form``).
    unpriced : {"raise", "nan"}
    items : PricedItems, optional
        ``priced_items(model, batch)``, when the caller has them already.

    Returns
    -------
    dict of str to ndarray, shape (n_plans, n_stages)
        One entry per column of :data:`BREAKDOWN_COLUMNS`.

    Raises
    ------
    MissingPriceError
        With ``unpriced="raise"``, a term of a plan that needs a price the
        case lacks; the message names the key.
    ValueError
        An item without price or lifetime; operation metrics of another stage count.
    """
    convention = model.form if convention is None else convention
    if convention not in _CONVENTIONS:
        raise ValueError(f"convention must be one of {_CONVENTIONS}, got {convention!r}")
    if unpriced not in _UNPRICED:
        raise ValueError(f"unpriced must be one of {_UNPRICED}, got {unpriced!r}")
    n_plans, n_stages = len(batch), model.n_stages
    if batch.n_stages != n_stages:
        raise ValueError(f"the cost model is for {n_stages} stages, the plans have "
                         f"{batch.n_stages}")
    if ops is not None and np.shape(ops.energy_loss_mwh)[1:] != (n_stages,):
        raise ValueError(f"operation metrics have {np.shape(ops.energy_loss_mwh)[1]} stages, the "
                         f"plan {n_stages}")
    items = priced_items(model, batch) if items is None else items
    om = om_table(model, batch, items)
    operating = model.annuity_in_stage
    if convention == "lifetime":
        investment = items.per_stage(items.cost, n_plans, n_stages) * model.discount_at_start
    else:
        crf = _recovery_factors(model.discount_rate, items.lifetime_years)
        investment = items.per_stage(items.cost * crf, n_plans, n_stages)
        if convention == "horizon":
            investment = investment * model.annuity_to_end
        else:
            if not model.discount_rate > model.inflation_rate:
                raise ValueError(f"a perpetuity needs the discount rate above the inflation "
                                 f"rate, got d = {model.discount_rate}, f = "
                                 f"{model.inflation_rate}")
            investment = investment * model.perpetuity_from_start
            operating = operating.copy()
            operating[-1:] += model.operation_tail
    out = {"investment": investment, "om": om * operating}
    yearly = _yearly_operation(model, batch, ops, unpriced)
    out.update({k: v * operating for k, v in yearly.items()})
    columns = list(BREAKDOWN_COLUMNS)
    if CURTAILMENT_COLUMN in out:
        columns.insert(-1, CURTAILMENT_COLUMN)
    out["total"] = sum(out[k] for k in columns[:-1])  # a NaN term: the total too
    return {k: out[k] for k in columns}


def investment_table(model: CostModel, batch: PlanBatch,
                     items: PricedItems | None = None) -> np.ndarray:
    """Undiscounted investment of the items every plan builds in each stage,
    shape (n_plans, n_stages) (:func:`investment_per_stage` of every plan)."""
    items = priced_items(model, batch) if items is None else items
    return items.per_stage(items.cost, len(batch), model.n_stages)


def _recovery_factors(rate: float, lifetimes: np.ndarray) -> np.ndarray:
    """:func:`capital_recovery_factor` of every lifetime (computed once per distinct one)."""
    if not len(lifetimes):
        return np.zeros(0)
    unique, inverse = np.unique(lifetimes, return_inverse=True)
    return np.array([capital_recovery_factor(rate, life) for life in unique])[inverse.reshape(-1)]


def _priced(energy_mwh: np.ndarray, price, term: str, model: CostModel,
            unpriced: str) -> np.ndarray:
    """``energy_mwh * price`` per plan; 0 for no energy, NaN for an unknown energy; a missing
    price (``None``) raises (or gives NaN) only where the energy is nonzero."""
    e = np.asarray(energy_mwh, dtype=float)
    if price is None:
        needs = (e != 0) & np.isfinite(e)
        if needs.any() and unpriced == "raise":
            name, what, other = PRICED_TERMS[term]
            key = f"economics.prices.{name}"
            raise MissingPriceError(key, what, model.case_name,
                                    f"case {model.case_name!r} has no {key}"
                                    f"{f' (nor {other})' if other else ''} to price {what}: the "
                                    f"plan has {float(e[needs][0]):g} MWh/yr of it")
        return np.where(e == 0, 0.0, np.nan)
    with np.errstate(invalid="ignore"):
        return np.where(e == 0, 0.0, np.where(np.isfinite(e), e * price, np.nan))


def _yearly_operation(model: CostModel, batch: PlanBatch, ops, unpriced: str) -> dict:
    """Yearly operating amounts of every plan and stage (currency/yr, PV profit negative)."""
    shape = (len(batch), model.n_stages)
    terms = ("energy_loss", "pv_profit", "dg_energy", "unserved_penalty", "voltage_penalty",
             "overload_penalty")
    out = {k: np.zeros(shape) for k in terms}
    if ops is None:
        return out
    curtailed = getattr(ops, "curtailed_energy_mwh", None)
    if curtailed is not None:
        price = model.price("pv_curtailment_per_mwh")
        out[CURTAILMENT_COLUMN] = np.stack(
            [_priced(np.asarray(curtailed)[:, s - 1], float(price.at([s])[0]) if price.given
                     else None, CURTAILMENT_COLUMN, model, unpriced)
             for s in range(1, model.n_stages + 1)], axis=1)
    energy = model.energy
    feed_in, violation, unserved = (model.price(k) for k in (
        "pv_feed_in_per_mwh", "violation_penalty_per_mwh", "unserved_energy_per_mwh"))
    slots = getattr(ops, "slot_loss_mwh", None)
    levels = model.level_prices is not None and slots is not None and np.ndim(slots) == 3 \
        and np.shape(slots)[2] == len(model.level_prices)
    dg = _dg_operation(model, batch, ops)
    for s in range(1, model.n_stages + 1):
        i = s - 1
        at = {}  # the stage's prices, None where the case has none (a short list raises)
        for name, price, fallback in (("energy", energy, None), ("feed_in", feed_in, "energy"),
                                      ("violation", violation, "energy"),
                                      ("unserved", unserved, None)):
            at[name] = float(price.at([s])[0]) if price.given else \
                (at[fallback] if fallback else None)
        if levels:  # one slot per load level (profile "levels"): exact pricing
            out["energy_loss"][:, i] = np.asarray(slots)[:, i] @ model.level_prices
        else:
            out["energy_loss"][:, i] = _priced(ops.energy_loss_mwh[:, i], at["energy"],
                                               "energy_loss", model, unpriced)
        out["pv_profit"][:, i] = -_priced(ops.pv_energy_mwh[:, i], at["feed_in"], "pv_profit",
                                          model, unpriced)
        if dg is not None:
            own, total = dg[0][:, i], dg[1][:, i]
            out["dg_energy"][:, i] = own - _priced(total, at["energy"], "dg_energy", model,
                                                   unpriced)
        out["unserved_penalty"][:, i] = _priced(ops.unserved_energy_mwh[:, i], at["unserved"],
                                                "unserved_penalty", model, unpriced)
        for term, field in (("voltage_penalty", "voltage_violation_energy_mwh"),
                            ("overload_penalty", "overload_energy_mwh")):
            energy_mwh = getattr(ops, field, None)
            if energy_mwh is not None:
                out[term][:, i] = _priced(np.asarray(energy_mwh)[:, i], at["violation"], term,
                                          model, unpriced)
    return out


def _dg_operation(model: CostModel, batch: PlanBatch, ops):
    """Yearly DG energy cost at the alternatives' own prices and DG energy, (n_plans,
    n_stages) each, zero for plans without DG; None when no plan has DG energy."""
    energy = getattr(ops, "dg_energy_mwh", None)
    cap = batch.der.get("dg")
    if energy is None or cap is None or np.size(energy) == 0:
        return None
    e = np.asarray(energy, dtype=float)
    has = np.array(["dg" in p.der for p in batch.plans])[:, None]
    rows = dg_type_rows(model.case, cap)
    unit = model.table("dg_types.energy_cost_per_mwh")
    own = np.where(rows >= 0, e * unit[np.maximum(rows, 0)], 0.0).sum(axis=2)
    return np.where(has, own, 0.0), np.where(has, e.sum(axis=2), 0.0)


#: The fields of :class:`OperationMetrics` the cost terms read.
_PRICED_OPS = ("energy_loss_mwh", "pv_energy_mwh", "unserved_energy_mwh",
               "voltage_violation_energy_mwh", "overload_energy_mwh",
               "slot_loss_mwh", "dg_energy_mwh", "curtailed_energy_mwh")


def _stacked(ops: OperationMetrics | None):
    """The priced fields of one plan's metrics as a batch of one (views, no copies)."""
    if ops is None:
        return None
    return SimpleNamespace(**{k: None if getattr(ops, k, None) is None
                              else np.asarray(getattr(ops, k))[None] for k in _PRICED_OPS})


# --- one plan --------------------------------------------------------------------------------
def cost_breakdown(grid: PlanningGrid, plan: Plan, ops=None, *,
                   convention: str | None = None, unpriced: str = "raise") -> pd.DataFrame:
    """Present value of every cost term, per stage.

    See the module docstring for the timing convention. Per stage ``u``:

    * ``investment``: sum over items built in ``u`` (:func:`investment_items`) of
      ``cost * (1+f)^((u-1) Y) * eps(d, L) * annuity_present_value(d, (u-1) Y, H Y)``
      (``convention="horizon"``) or ``cost * (1+f)^((u-1) Y) * (1+d)^-((u-1) Y)``
      (``convention="lifetime"``), ``f`` the inflation rate (0 by default); form
      ``"perpetuity"``: the module docstring;
    * ``om``: yearly O&M of the stage (:func:`om_per_stage`) x
      ``annuity_present_value(d, (u-1) Y, u Y, inflation=f)`` (and so every
      yearly term below);
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
    * ``voltage_penalty``: ``ops.voltage_violation_energy_mwh`` (load at buses
      out of the voltage band) and ``overload_penalty``: ``ops.overload_energy_mwh``
      (load downstream of each overloaded line, summed over the lines), each x
      ``prices.violation_penalty_per_mwh`` (default: the energy price, "generally
      assigned as the electricity price", seed 000: the SOP/EVCS planning paper's
      two penalty terms; 0 for metrics without these fields);
    * ``curtailment_penalty`` (only for metrics with ``curtailed_energy_mwh``, the
      curtailment option): that energy x ``prices.pv_curtailment_per_mwh`` (the
      copula-scenario paper's curtailment penalty, seed 001 eq. of section 3.1);
    * ``total``: their sum.

    It is the :func:`cost_table` of a batch of one plan.

    Parameters
    ----------
    grid : PlanningGrid
    plan : Plan
    ops : OperationMetrics, optional
        Yearly energies per stage; ``None`` sets the operating terms to 0.
    convention : {"horizon", "lifetime", "perpetuity"}, optional
        How long an item's annual payments are counted (module docstring);
        default: the case's ``economics.form``.
    unpriced : {"raise", "nan"}
        What a term needing a price the case lacks becomes: an error, or NaN
        (and the stage's ``total`` NaN).

    Returns
    -------
    DataFrame
        Index ``stage`` (1..n_stages), columns :data:`BREAKDOWN_COLUMNS` (and
        ``curtailment_penalty`` before ``total``, see above), present values at year 0 in the case currency.

    Raises
    ------
    MissingPriceError
        With ``unpriced="raise"``, a term of the plan that needs a price the
        case lacks; the message names the key.
    """
    if ops is not None and ops.n_stages != plan.n_stages:
        raise ValueError(f"operation metrics have {ops.n_stages} stages, the plan {plan.n_stages}")
    table = cost_table(cost_model(grid, plan.n_stages), PlanBatch.of(grid, [plan]), _stacked(ops),
                       convention=convention, unpriced=unpriced)
    return pd.DataFrame({k: v[0] for k, v in table.items()},
                        index=pd.RangeIndex(1, plan.n_stages + 1, name="stage"))


def total_cost(grid: PlanningGrid, plan: Plan, ops=None, *,
               convention: str | None = None) -> float:
    """Net present value of the plan: the sum of :func:`cost_breakdown`'s ``total``."""
    return float(cost_breakdown(grid, plan, ops, convention=convention)["total"].sum())


# --- objectives: one table per population ----------------------------------------------------
def _population_items(population) -> PricedItems:
    return priced_items(cost_model(population.grid, population.plans.n_stages), population.plans)


def population_costs(ev, operating: bool = True) -> dict[str, np.ndarray]:
    """The cost breakdown of an evaluated plan, shape (n_stages,) per column.

    Computed once for the plan's population (``ev.population.computed``, which
    keeps the :func:`cost_table` of all its plans) and read at ``ev.index``.
    ``operating=False`` leaves out the operating terms (0), which need energy
    prices (the ``investment`` objective).
    """
    pop, index = ev.population, ev.index

    def table(p):
        items = p.computed(("economics", "items"), _population_items)
        return cost_table(cost_model(p.grid, p.plans.n_stages), p.plans,
                          p.ops if operating else None, items=items)

    return {k: v[index] for k, v in pop.computed(("economics", "costs", operating), table).items()}


def population_investment(ev) -> np.ndarray:
    """Undiscounted investment per build stage of an evaluated plan (its population's
    :func:`investment_table`, computed once), shape (n_stages,)."""
    pop, index = ev.population, ev.index

    def table(p):
        items = p.computed(("economics", "items"), _population_items)
        return investment_table(cost_model(p.grid, p.plans.n_stages), p.plans, items)

    return pop.computed(("economics", "investment"), table)[index]
