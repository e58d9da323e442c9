"""What a problem's economics read from its case, once: prices per stage and discount factors.

A :class:`CostModel` is built per problem (``CostModel.of(grid, n_stages)``,
or :func:`cost_model`, which keeps one per grid and stage count) and holds,
as arrays, everything the pricing of :mod:`fdnmoo.metrics.investment` and the
present values of :mod:`fdnmoo.metrics.economics` read from the case: the
unit costs of every candidate line, transformer type, substation site and DG
alternative, the ``economics.unit_costs`` and ``economics.prices`` as one
value per stage, lifetimes, and the discount factors of every stage.

Building it never fails for a missing price: a price the case lacks is kept
as missing (:class:`StagePrice`), and the error is raised only when an item
or a cost term actually needs it, with the message the case lookup gives
(``case 'md24' has no economics.unit_costs['sop_per_mva'] needed to price SOP
converters``).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..cases.forms import check_form
from ..planning import DER_KINDS, PlanningGrid
from .feeder_transformers import FeederExpansion

__all__ = ["CostModel", "StagePrice", "annuity_present_value", "capital_recovery_factor",
           "cost_model", "escalation_factor", "first_match",
           "perpetuity_present_value", "present_value_factor", "price_at_stage", "stage_years"]


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


def escalation_factor(inflation: float, year):
    """Price of year ``t`` per unit of year-0 price: ``(1+f)^t`` (exactly 1 for ``f = 0``)."""
    factor = (1.0 + inflation) ** np.asarray(year, dtype=float)
    return float(factor) if factor.ndim == 0 else factor


def present_value_factor(rate: float, year, inflation: float = 0.0):
    """Present value at year 0 of one unit of year-0 price paid at (the end of) ``year``.

    ``(1+f)^t (1+d)^-t``: the price escalated by inflation ``f`` to year ``t``,
    discounted at interest rate ``d``; ``(1+d)^-t`` for ``f = 0``.
    """
    factor = (1.0 + rate) ** -np.asarray(year, dtype=float)
    if inflation != 0:
        factor = factor * escalation_factor(inflation, year)
    return float(factor) if factor.ndim == 0 else factor


def annuity_present_value(rate: float, start_year: float, end_year: float,
                          inflation: float = 0.0) -> float:
    """Present value of one unit of year-0 price paid at the end of every year in
    ``(start_year, end_year]``, the price escalating at ``inflation``.

    ``sum_{t = start+1}^{end} q^t`` with ``q = (1+f)/(1+d)``. For ``f = 0`` that is
    ``((1+d)^-start - (1+d)^-end) / d`` (``end - start`` for ``d = 0``); otherwise
    ``q^(start+1) (q^(end-start) - 1) / (q - 1)``, computed from
    ``log q = log(1+f) - log(1+d)`` with ``expm1`` so that it stays exact as ``f``
    approaches ``d`` (``end - start`` when they are equal). Both closed forms
    extend to fractional years.
    """
    if end_year <= start_year:
        return 0.0
    if inflation != 0:
        log_q = math.log1p(inflation) - math.log1p(rate)
        if log_q == 0:
            return float(end_year - start_year)
        n = end_year - start_year
        return math.exp(log_q * (start_year + 1)) * math.expm1(log_q * n) / math.expm1(log_q)
    if rate == 0:
        return float(end_year - start_year)
    return ((1.0 + rate) ** -start_year - (1.0 + rate) ** -end_year) / rate


def perpetuity_present_value(rate: float, start_year: float, inflation: float = 0.0) -> float:
    """Present value of one unit of year-0 price paid at the end of every year after
    ``start_year``, for ever, the price escalating at ``inflation``.

    ``sum_{t > start} q^t = q^(start+1) / (1 - q)`` with ``q = (1+f)/(1+d)``, which is
    ``(1+d)^-start / d`` for ``f = 0`` (seed 002's ``(1+i)^-t / i``): the limit of
    :func:`annuity_present_value` as ``end_year`` grows. Needs ``d > f`` (else the
    sum diverges).
    """
    if not rate > inflation:
        raise ValueError(f"a perpetuity needs the discount rate above the inflation rate, got "
                         f"d = {rate}, f = {inflation}")
    if inflation == 0:
        return (1.0 + rate) ** -start_year / rate
    log_q = math.log1p(inflation) - math.log1p(rate)
    return math.exp(log_q * (start_year + 1)) / -math.expm1(log_q)


def stage_years(horizon, n_stages: int | None = None) -> np.ndarray:
    """Start and end year of every stage, shape (n_stages, 2).

    Stage ``u`` spans ``((u-1) Y, u Y]``: its yearly amounts are paid at the
    ends of years ``(u-1) Y + 1 .. u Y``.
    """
    n = horizon.n_stages if n_stages is None else n_stages
    y = float(horizon.years_per_stage)
    start = np.arange(n, dtype=float) * y
    return np.column_stack([start, start + y])


# --- prices per stage ----------------------------------------------------------------------
def _is_list(value) -> bool:
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str)


def price_at_stage(value, stage: int) -> float:
    """A price that is a number or one value per stage."""
    if _is_list(value):
        if stage > len(value):
            raise ValueError(f"price list {list(value)} has no value for stage {stage}")
        return float(value[stage - 1])
    return float(value)


@dataclass(frozen=True, eq=False)
class StagePrice:
    """One price of the case, as a value per stage (1-based stage ``s`` at ``values[s-1]``).

    Attributes
    ----------
    values : ndarray, shape (n_stages,)
        NaN where there is no value (missing key, or a price list too short).
    given : bool
        The case has the price (or a documented default applies).
    missing : str or None
        Error message (without what is priced) when a stage needs the price and
        the case lacks it; None when the caller decides (energy prices).
    listed : list or None
        The case's price list, when the price is one.
    """

    values: np.ndarray
    given: bool
    missing: str | None = None
    listed: list | None = None

    @classmethod
    def of(cls, mapping, key: str, n_stages: int, missing: str | None = None,
           default: float | None = None) -> "StagePrice":
        """``mapping[key]`` per stage; ``default`` (every stage) when the key is absent."""
        if key not in mapping:
            if default is not None:
                return cls(np.full(n_stages, float(default)), True)
            return cls(np.full(n_stages, np.nan), False, missing)
        value = mapping[key]
        listed = list(value) if _is_list(value) else None
        n = n_stages if listed is None else min(len(listed), n_stages)
        values = np.full(n_stages, np.nan)
        values[:n] = [price_at_stage(value, s) for s in range(1, n + 1)]
        return cls(values, True, missing, listed)

    def known(self, stages: np.ndarray) -> np.ndarray:
        """Whether the price has a value at each 1-based stage of ``stages``."""
        stages = np.asarray(stages, dtype=np.int64)
        if not self.given:
            return np.zeros(stages.shape, bool)
        if self.listed is None:
            return np.ones(stages.shape, bool)
        return stages <= len(self.listed)

    def at(self, stages, what="") -> np.ndarray:
        """The price at every stage of ``stages``; the case's error for the first without.

        ``what`` (a string, or a function of the row position returning one)
        completes the missing-key message: the item that needs the price.
        """
        stages = np.asarray(stages, dtype=np.int64)
        bad = ~self.known(stages)
        if bad.any():
            k = int(np.argmax(bad))
            if not self.given:
                raise ValueError(self.missing + (what(k) if callable(what) else what))
            price_at_stage(self.listed, int(stages[k]))  # raises: the list has no such stage
        return self.values[stages - 1]


# --- the model -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CostModel:
    """Prices and discount factors of one problem (see the module docstring).

    Attributes
    ----------
    case : PlanningCase
        The case of the grid (the model keeps no reference to the grid itself).
    n_stages : int
        Stages of the plans priced (the horizon ends after them).
    discount_rate : float
        Interest rate ``d`` (``economics.discount_rate``).
    inflation_rate : float
        ``f`` (``economics.inflation_rate``): the case's prices are in year-0 money.
    annuity_to_end : ndarray, shape (n_stages,)
        ``(1+f)^((u-1) Y) annuity_present_value(d, (u-1) Y, H Y)``: an item built in
        stage ``u`` costs its price escalated to the stage start and is paid by
        constant annuities until the horizon end (``convention="horizon"``).
    annuity_in_stage : ndarray, shape (n_stages,)
        ``annuity_present_value(d, (u-1) Y, u Y, inflation=f)``: yearly amounts of
        stage ``u``, at the prices of the years they are paid in.
    discount_at_start : ndarray, shape (n_stages,)
        ``(1+f)^((u-1) Y) (1+d)^-((u-1) Y)`` (``convention="lifetime"``).
    line_table_row : ndarray, shape (n_candidate_lines,)
        Per row of ``grid.candidate_lines``: the first row of the case's
        ``conductors`` table of its conductor type, else -1 (priced by
        ``unit_costs.line_per_km`` / ``line_upgrade_per_km``).
    line_cost_factor : ndarray, shape (n_candidate_lines,)
        ``grid.candidate_lines.cost_factor``: a reinforcement costs that factor x
        ``unit_costs.line_per_km`` (NaN for the other candidates).
    line_length_km, line_corridor, line_replaces, line_replaces_row : ndarray
        Per candidate line: length, corridor, the ``case.net.line`` label it
        replaces (-1 if none) and that line's row (-1 if none or not a line of the case).
    line_ends : ndarray, shape (n_candidate_lines, 2)
        ``grid.net.line`` from and to bus of every candidate line.
    existing_line_km : ndarray
        ``case.net.line.length_km``.
    existing_trafo_om : float
        Yearly maintenance of the case's transformers (``transformer_types``
        rows with status ``existing`` of equal rating).
    tables : dict of str to ndarray
        Columns of the case's cost tables by name ``"<table>.<column>"``
        (``conductors``, ``substations``, ``transformer_types``, ``dg_types``).
    level_prices : ndarray or None
        Energy price of every load level (by level number) when the case has a
        ``load_levels`` table and no ``prices.energy_per_mwh``.
    energy : StagePrice
        Price of loss energy: ``prices.energy_per_mwh``, else the load levels'
        prices weighted by duration x load factor^2 (losses grow with the square
        of the load).
    line_labels, bus_labels, trafo_labels : ndarray
        ``grid.candidate_lines.index``, ``grid.net.bus.index``, ``grid.net.trafo.index``.
    bus_xy_km : ndarray, shape (n_bus, 2)
        ``grid.net.bus`` coordinates (SOP line lengths).
    trafo_sn_mva : ndarray
        ``grid.net.trafo.sn_mva``.
    der_buses : dict of str to ndarray
        Bus label of every candidate of each kind of
        :data:`~fdnmoo.planning.DER_KINDS` the case has (but ``dg``).
    ess_hours : ndarray or None
        ``max_mwh / max_mw`` of every ESS candidate (fixed duration).
    feeder_expansion : FeederExpansion or None
        Feeder transformers the reinforcement candidates expand
        (:mod:`~fdnmoo.metrics.feeder_transformers`); None: no candidate does.
    tie_keys : ndarray
        The case's tie lines as sorted bus pairs, ``min * 2**32 + max`` (see :meth:`pair_key`).
    form : str
        ``economics.form`` of the case (:data:`~fdnmoo.cases.model.ECONOMIC_FORMS`).
    perpetuity_from_start : ndarray, shape (n_stages,)
        ``(1+f)^((u-1) Y) perpetuity_present_value(d, (u-1) Y + 1)``: constant annuities of
        an item built in stage ``u``, paid at the end of every year after year
        ``(u-1) Y + 1``, for ever (form ``"perpetuity"``; NaN unless ``d > f``).
    operation_tail : float
        ``perpetuity_present_value(d, H Y, inflation=f)``: the last stage's yearly
        amounts repeated every year after the horizon end (form ``"perpetuity"``; NaN
        unless ``d > f``).
    """

    case: object
    n_stages: int
    discount_rate: float
    inflation_rate: float
    annuity_to_end: np.ndarray
    annuity_in_stage: np.ndarray
    discount_at_start: np.ndarray
    line_table_row: np.ndarray
    line_cost_factor: np.ndarray
    line_length_km: np.ndarray
    line_corridor: np.ndarray
    line_replaces: np.ndarray
    line_replaces_row: np.ndarray
    line_ends: np.ndarray
    existing_line_km: np.ndarray
    existing_trafo_om: float
    tables: dict
    level_prices: np.ndarray | None
    energy: StagePrice
    line_labels: np.ndarray
    bus_labels: np.ndarray
    bus_xy_km: np.ndarray
    trafo_labels: np.ndarray
    trafo_sn_mva: np.ndarray
    der_buses: dict
    ess_hours: np.ndarray | None
    tie_keys: np.ndarray
    form: str = "horizon"
    perpetuity_from_start: np.ndarray | None = None
    operation_tail: float = math.nan
    feeder_expansion: FeederExpansion | None = None

    @classmethod
    def of(cls, grid: PlanningGrid, n_stages: int) -> "CostModel":
        """Read the case of ``grid`` for plans of ``n_stages`` stages."""
        case = grid.case
        d = float(case.economics.discount_rate)
        f = float(case.economics.inflation_rate)
        years = stage_years(case.horizon, n_stages)
        end = float(years[-1, 1]) if n_stages else 0.0
        form = check_form(case.economics, case.name)
        perpetuity, tail = np.full(n_stages, np.nan), np.nan
        if d > f:  # a perpetuity converges
            first = years[:, 0] + 1.0  # seed 002: (1+i)^-t / i for a build in (one-year) stage t
            perpetuity = np.array([perpetuity_present_value(d, s) * escalation_factor(f, s - 1.0)
                                   for s in first])
            tail = perpetuity_present_value(d, end, inflation=f)
        cand = case.candidates
        tables = {}
        for name, cols in (("conductors", ("type", "investment_per_km", "maintenance_per_km_year",
                                           "lifetime_years")),
                           ("substations", ("bus", "investment", "lifetime_years")),
                           ("transformer_types", ("type", "investment", "maintenance_per_year",
                                                  "lifetime_years")),
                           ("dg_types", ("investment_per_mva", "lifetime_years",
                                         "energy_cost_per_mwh"))):
            table = cand.get(name)
            if table is not None and len(table):
                tables.update({f"{name}.{c}": table[c].to_numpy() for c in cols if c in table})
        lines = grid.candidate_lines
        conductor_types = tables.get("conductors.type")
        line_cost_factor = (lines.cost_factor.to_numpy(float) if "cost_factor" in lines
                            else np.full(len(lines), np.nan))
        line_table_row = np.where(np.isnan(line_cost_factor),
                                  first_match(conductor_types, lines.conductor.to_numpy(np.int64)), -1)
        base = case.net.line
        replaces = lines.replaces.to_numpy(np.int64)
        replaces_row = np.full(len(replaces), -1, np.int64)
        has = replaces >= 0
        replaces_row[has] = first_match(base.index.to_numpy(np.int64), replaces[has])
        trafo_om = 0.0
        types = cand.get("transformer_types")
        if types is not None and len(case.net.trafo):
            existing = types[types.status == "existing"]
            for sn in case.net.trafo.sn_mva.to_numpy(float):
                match = existing[np.isclose(existing.capacity_mva, sn)]
                if len(match):
                    trafo_om += float(match.maintenance_per_year.iloc[0])
        prices = case.economics.prices
        levels = cand.get("load_levels")
        energy = StagePrice.of(prices, "energy_per_mwh", n_stages)
        level_prices = None
        if not energy.given and levels is not None and len(levels):
            w = levels.duration_h.to_numpy(float) * levels.load_factor.to_numpy(float) ** 2
            weighted = float(np.sum(w * levels.energy_price_per_mwh.to_numpy(float)) / w.sum())
            energy = StagePrice(np.full(n_stages, weighted), True)
            level_prices = levels.sort_values("level").energy_price_per_mwh.to_numpy(float)
        bus, ties = grid.net.bus, case.tie_lines
        ends = grid.net.line.loc[lines.index, ["from_bus", "to_bus"]].to_numpy(np.int64)
        der_buses = {k: cand[k].bus.to_numpy(np.int64) for k in DER_KINDS
                     if k != "dg" and cand.get(k) is not None}
        ess = cand.get("ess")
        ess_hours = None if ess is None else (ess.max_mwh / ess.max_mw).to_numpy(float)
        return cls(
            case=case, n_stages=n_stages, discount_rate=d, inflation_rate=f,
            annuity_to_end=np.array([annuity_present_value(d, s, end) * escalation_factor(f, s)
                                     for s in years[:, 0]]),
            annuity_in_stage=np.array([annuity_present_value(d, a, b, inflation=f)
                                       for a, b in years]),
            discount_at_start=np.array([present_value_factor(d, s, inflation=f)
                                        for s in years[:, 0]]),
            line_table_row=line_table_row, line_cost_factor=line_cost_factor,
            line_length_km=lines.length_km.to_numpy(float),
            line_corridor=lines.corridor.to_numpy(np.int64), line_replaces=replaces,
            line_replaces_row=replaces_row,
            line_ends=ends,
            existing_line_km=base.length_km.to_numpy(float),
            existing_trafo_om=trafo_om, tables=tables, level_prices=level_prices, energy=energy,
            line_labels=lines.index.to_numpy(np.int64), bus_labels=bus.index.to_numpy(np.int64),
            bus_xy_km=np.column_stack([bus.x_km.astype(float), bus.y_km.astype(float)]),
            trafo_labels=grid.net.trafo.index.to_numpy(np.int64),
            trafo_sn_mva=grid.net.trafo.sn_mva.to_numpy(float),
            der_buses=der_buses, ess_hours=ess_hours,
            tie_keys=np.unique(cls.pair_key(ties.from_bus.to_numpy(np.int64),
                                            ties.to_bus.to_numpy(np.int64))),
            form=form, perpetuity_from_start=perpetuity, operation_tail=tail,
            feeder_expansion=FeederExpansion.of(
                case.net, ends, lines.transformer_factor.to_numpy(float) if "transformer_factor" in lines
                else np.full(len(lines), np.nan)))

    @staticmethod
    def pair_key(a, b) -> np.ndarray:
        """Key of the unordered bus pairs ``(a, b)`` (labels below 2**31)."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        return np.minimum(a, b) * (1 << 32) + np.maximum(a, b)

    @property
    def case_name(self) -> str:
        return self.case.name

    def unit_cost(self, key: str) -> StagePrice:
        """``economics.unit_costs[key]`` per stage; needed wherever it is used."""
        return StagePrice.of(self.case.economics.unit_costs, key, self.n_stages,
                             missing=f"case {self.case_name!r} has no economics.unit_costs"
                                     f"[{key!r}] needed to price ")

    def om_cost(self, key: str) -> StagePrice:
        """An O&M unit cost per stage; 0 where the case gives none (no O&M term)."""
        return StagePrice.of(self.case.economics.unit_costs, key, self.n_stages, default=0.0)

    def has_unit_cost(self, key: str) -> bool:
        return key in self.case.economics.unit_costs

    def price(self, key: str) -> StagePrice:
        """``economics.prices[key]`` per stage (``given`` False when the case lacks it)."""
        return StagePrice.of(self.case.economics.prices, key, self.n_stages)

    def lifetime(self, key: str) -> float:
        """``economics.lifetimes_years[key]``."""
        life = self.case.economics.lifetimes_years
        if key not in life:
            raise ValueError(f"case {self.case_name!r} has no economics.lifetimes_years[{key!r}]")
        return float(life[key])

    def table(self, column: str) -> np.ndarray | None:
        """Column ``"<table>.<column>"`` of a case cost table, None without it."""
        return self.tables.get(column)


def first_match(values: np.ndarray | None, labels: np.ndarray) -> np.ndarray:
    """Position of the first entry of ``values`` equal to each label, -1 where none."""
    labels = np.asarray(labels, dtype=np.int64)
    if values is None or not len(values):
        return np.full(labels.shape, -1, np.int64)
    values = np.asarray(values, dtype=np.int64)
    eq = labels[:, None] == values[None, :]
    return np.where(eq.any(axis=1), eq.argmax(axis=1), -1)


_MODELS: dict[tuple[int, int], CostModel] = {}


def cost_model(grid: PlanningGrid, n_stages: int) -> CostModel:
    """The :class:`CostModel` of ``grid`` for ``n_stages``, built once per grid and stage count
    (and dropped with the grid)."""
    key = (id(grid), int(n_stages))
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = CostModel.of(grid, n_stages)
        weakref.finalize(grid, _MODELS.pop, key, None)
    return model
