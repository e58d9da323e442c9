"""Objectives and constraints: registries where a new entry is one decorated function.

An objective is a function of an :class:`Evaluated` plan (its grid, the
decoded plan and the operation metrics from the power flows) returning one
number, registered with a name, a unit and a sense::

    from fdnmoo.objectives import objective

    @objective("peak_loss_share", unit="-", sense="min")
    def peak_loss_share(ev):
        "Peak losses as a share of the mean demand, last stage."
        return ev.ops.peak_loss_kw[-1] / 1e3 / ev.mean_demand_mw[-1]

Names are unique: registering a taken name raises ``ValueError``. Problems
minimise; objectives with ``sense="max"`` are negated on the way to pymoo and
reported with their own sign. Constraints return ``g`` with ``g <= 0``
feasible, as pymoo expects.

Options and limits are keyword parameters of the function, with defaults and
type hints::

    @constraint("voltage_band", unit="p.u.")
    def voltage_band(ev, vmin_pu: float | None = None, vmax_pu: float | None = None): ...

A problem names an entry with some of them
(``constraints: [{voltage_band: {vmin_pu: 0.95}}]`` in a spec);
:meth:`Objective.with_params` checks them against the signature. Every entry
records the module that defined it (``Objective.module``), which workers of a
parallel evaluation import (see :mod:`fdnmoo.plugins`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Callable, Mapping

import numpy as np

from .demand import bus_demand
from .metrics.adaptability import pv_uneven_degrees, structure_terms
from .interval_objectives import (ObjectiveInterval, cost_interval, interval_of, spread_interval,
                                  uneven_form)
from .metrics.operation import OperationMetrics
from .damage import load_class_shares
from .metrics.reliability import plan_islanding, reliability_arrays
from .parameters import UnknownEntryError, check_params, did_you_mean, signature_params
from .planning import Plan, PlanBatch, PlanningGrid
from .topology_cache import TopologyCache

__all__ = ["Evaluated", "Objective", "ObjectiveInterval", "Population", "Registry", "OBJECTIVES",
           "CONSTRAINTS", "objective", "constraint", "objective_signs", "population_row"]


@dataclass
class Population:
    """Plans evaluated together: the batch an objective's population-level work runs on.

    An objective stays a function of one :class:`Evaluated` plan; work that is
    cheaper for the whole batch at once (a cost table, per-topology structures)
    goes through :meth:`computed`, which runs it once per population and keeps
    the result, indexed by plan position (``ev.index``).

    Attributes
    ----------
    grid : PlanningGrid
    plans : PlanBatch
    ops : OperationMetrics
        A batch (plan axis first, :meth:`OperationMetrics.stack`).
    options : dict
    topologies : TopologyCache, optional
        The problem's per-topology cache, kept across generations (default: a new
        one for this population, :attr:`topology_cache`).
    bounds : UncertainBounds, optional
        The uncertain stage's bounds (methods interval, affine, robust;
        :mod:`fdnmoo.uncertain_pass`), plan axis first.
    """

    grid: PlanningGrid
    plans: PlanBatch
    ops: OperationMetrics
    options: dict = field(default_factory=dict)
    topologies: TopologyCache | None = None
    bounds: Any = None
    _results: dict = field(default_factory=dict, repr=False)

    @property
    def topology_cache(self) -> TopologyCache:
        """:attr:`topologies`, or a cache of this population's own."""
        if self.topologies is None:
            self.topologies = TopologyCache(self.grid)
        return self.topologies

    @classmethod
    def of_one(cls, grid: PlanningGrid, plan: Plan, ops: OperationMetrics,
               options: dict | None = None) -> "Population":
        """The population of a single plan."""
        return cls(grid, PlanBatch.of(grid, [plan]), OperationMetrics.stack([ops]),
                   dict(options or {}))

    def computed(self, key, compute: Callable[["Population"], Any]) -> Any:
        """``compute(self)``, run on the first call for ``key`` only."""
        if key not in self._results:
            self._results[key] = compute(self)
        return self._results[key]

    def members(self) -> list["Evaluated"]:
        """One :class:`Evaluated` per plan, sharing this population."""
        return [Evaluated(self.grid, plan, self.ops.take(i), self.options, _population=self,
                          index=i) for i, plan in enumerate(self.plans.plans)]


@dataclass
class Evaluated:
    """Everything an objective may look at for one plan.

    Attributes
    ----------
    grid : PlanningGrid
    plan : Plan
    ops : OperationMetrics
    options : dict
        The problem's shared options (``ProblemConfig.options``); the built-in entries
        take theirs as keyword parameters, a user's function may also read these.
    index : int
        Position of the plan in :attr:`population`.
    """

    grid: PlanningGrid
    plan: Plan
    ops: OperationMetrics
    options: dict = field(default_factory=dict)
    _population: "Population | None" = field(default=None, repr=False)
    index: int = 0

    @property
    def population(self) -> Population:
        """The plans evaluated with this one (a population of one if it was evaluated alone)."""
        if self._population is None:
            self._population = Population.of_one(self.grid, self.plan, self.ops, self.options)
            self.index = 0
        return self._population

    @property
    def case(self):
        return self.grid.case

    @property
    def bounds(self):
        """This plan's :class:`~fdnmoo.uncertain_pass.UncertainBounds` (None without them)."""
        b = self.population.bounds
        return None if b is None else b.take(self.index)

    @property
    def interval_bounds(self):
        """:attr:`bounds` when they make objectives intervals (methods interval, affine)."""
        b = self.bounds
        return b if b is not None and b.is_interval else None

    @property
    def closed_lines(self) -> np.ndarray:
        """(n_stages, n_line) whether each ``grid.net.line`` row conducts in each stage."""
        return self.population.plans.closed_lines[self.index]

    @property
    def closed_trafos(self) -> np.ndarray:
        """(n_stages, n_trafo) whether each ``grid.net.trafo`` row conducts in each stage."""
        return self.population.plans.closed_trafos[self.index]

    @property
    def costs(self) -> dict:
        """Cost breakdown per stage (present values): column name -> array (n_stages,), the
        columns of :func:`fdnmoo.metrics.economics.cost_breakdown` (computed once for the
        population, :func:`~fdnmoo.metrics.economics.population_costs`)."""
        from .metrics.economics import population_costs

        return population_costs(self)

    @cached_property
    def mean_demand_mw(self) -> np.ndarray:
        """Mean demand per stage (MW), from the yearly demand energy."""
        return self.ops.demand_mwh / 8760.0

    @cached_property
    def reliability(self) -> list[dict]:
        """Reliability indices per stage (:func:`fdnmoo.metrics.reliability_indices`), with
        every load bus at its share of the base load (:func:`fdnmoo.demand.bus_demand`,
        loads only) times the stage's mean demand; computed for the whole population at
        once (:func:`population_row`)."""
        return _reliability(self)


def population_row(ev: Evaluated, name: str, compute: Callable[[Population], dict]) -> dict:
    """Row of ``ev`` in a population-level metric, computed once per population.

    ``compute(population)`` returns a dict of arrays with the plan axis first
    (:meth:`Population.computed` keeps it under ``name``); the row is ``ev.index``.
    """
    table = ev.population.computed(name, compute)
    return {k: v[ev.index] for k, v in table.items()}


def _reliability_arrays(population: Population, islanding_labels: tuple | None = None,
                        pv_availability: float = 1.0) -> dict:
    grid = population.grid
    base, _ = bus_demand(grid.net, tables=(("load", 1.0),))
    share = base / base.sum() if base.sum() > 0 else base
    mean = np.asarray(population.ops.demand_mwh) / 8760.0  # (plans, stages)
    islanding = None if islanding_labels is None else \
        plan_islanding(grid, population.plans, np.asarray(islanding_labels, dtype=np.int64),
                       pv_availability)
    return reliability_arrays(grid, population.plans, mean[:, :, None] * share,
                              cache=population.topology_cache,
                              class_shares=load_class_shares(grid.net, f"case {grid.case.name}"),
                              islanding=islanding)


def _reliability(ev: Evaluated, islanding_labels: tuple | None = None,
                 pv_availability: float = 1.0) -> list[dict]:
    """Reliability indices per stage of ``ev`` (:attr:`Evaluated.reliability`), or with the
    clusters ``islanding_labels`` (one per ``net.bus`` row) islanding on their planned PV x
    ``pv_availability`` + ESS (:func:`fdnmoo.metrics.reliability.plan_islanding`)."""
    if islanding_labels is None:
        key, compute = "reliability", _reliability_arrays
    else:
        labels = tuple(int(b) for b in islanding_labels)
        key = ("reliability", labels, float(pv_availability))

        def compute(population: Population) -> dict:
            return _reliability_arrays(population, labels, pv_availability)
    row = population_row(ev, key, compute)
    return [{k: float(v[s]) for k, v in row.items()} for s in range(ev.plan.n_stages)]


def _structure_terms(population: Population) -> dict:
    terms = structure_terms(population.grid, population.plans, population.topology_cache)
    return {"tcd": terms.tcd, "ncd": terms.ncd}


def _pv_uneven_degrees(population: Population) -> dict:
    return {"pv_uneven_degree": pv_uneven_degrees(population.grid, population.plans,
                                                  population.topology_cache)}


@dataclass(frozen=True)
class Objective:
    """A registered objective or constraint.

    Attributes
    ----------
    module : str
        ``__module__`` of the function (the module that registered it).
    params : tuple of (str, value) pairs
        Parameter values passed to ``func`` on every call (see :meth:`with_params`).
    """

    name: str
    unit: str
    sense: str  # "min" or "max" ("min" for constraints)
    description: str
    func: Callable[[Evaluated], Any]
    module: str = ""
    kind: str = "objective"
    params: tuple = ()

    def __call__(self, ev: Evaluated):
        return self.func(ev, **dict(self.params))

    @property
    def parameters(self) -> dict[str, Any]:
        """Parameter name -> default (``inspect.Parameter.empty`` if required)."""
        return {n: p.default for n, p in signature_params(self.func).items()}

    def with_params(self, params: Mapping[str, Any], key: str = "") -> "Objective":
        """A copy that calls ``func`` with ``params`` (checked against its signature).

        Raises
        ------
        fdnmoo.parameters.ParameterError
            Unknown parameter (with the closest name) or a value of the wrong type;
            its ``key`` is ``key.<parameter>``.
        """
        checked = check_params(self.func, dict(params), key or self.name,
                               f"{self.kind} {self.name!r}")
        return replace(self, params=tuple(sorted(checked.items())))

    def resolved_params(self) -> dict[str, Any]:
        """Every parameter with the value it is called with (defaults filled in)."""
        values = {n: d for n, d in self.parameters.items()}
        values.update(dict(self.params))
        return values

    def to_minimise(self, value):
        """Value as pymoo minimises it (negated for ``sense="max"``)."""
        return -value if self.sense == "max" else value


class Registry:
    """Name -> :class:`Objective`; refuses duplicate names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Objective] = {}

    def register(self, name: str, unit: str, sense: str = "min", description: str | None = None):
        """Decorator registering ``func`` under ``name``."""
        if sense not in ("min", "max"):
            raise ValueError(f"sense of {self.kind} {name!r} must be 'min' or 'max', got {sense!r}")

        def decorate(func: Callable[[Evaluated], Any]) -> Callable[[Evaluated], Any]:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered "
                                 f"(by {self._items[name].func.__module__})")
            doc = description if description is not None else (func.__doc__ or "").strip()
            self._items[name] = Objective(name, unit, sense, doc.split("\n")[0], func,
                                          module=getattr(func, "__module__", "") or "",
                                          kind=self.kind)
            return func

        return decorate

    def __getitem__(self, name: str) -> Objective:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownEntryError("", f"unknown {self.kind} {name!r}"
                                        f"{did_you_mean(name, self._items)}; registered: "
                                        f"{', '.join(sorted(self._items))}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        return sorted(self._items)

    def table(self) -> list[dict]:
        return [{"name": o.name, "unit": o.unit, "sense": o.sense, "description": o.description}
                for o in sorted(self._items.values(), key=lambda o: o.name)]


OBJECTIVES = Registry("objective")
CONSTRAINTS = Registry("constraint")
objective = OBJECTIVES.register
constraint = CONSTRAINTS.register


def objective_signs(problem) -> tuple[list[str], np.ndarray]:
    """A problem's objective names and the factor from its minimised F to each
    objective's own sign (-1 for registered ``sense="max"`` objectives).

    Names default to ``f1, f2, ...`` for problems without ``objective_names``;
    names not in :data:`OBJECTIVES` are taken as minimised.
    """
    names = list(getattr(problem, "objective_names", None)
                 or [f"f{j + 1}" for j in range(problem.n_obj)])
    signs = np.array([-1.0 if name in OBJECTIVES and OBJECTIVES[name].sense == "max" else 1.0
                      for name in names])
    return names, signs


# --- economics ---------------------------------------------------------------------------
@objective("total_cost", unit="currency (NPV)", sense="min")
def total_cost(ev: Evaluated) -> float:
    """Net present value of investment, O&M, losses and penalties minus PV profit (an interval
    under methods interval/affine, :mod:`fdnmoo.interval_objectives`)."""
    value = float(ev.costs["total"].sum())
    return value if ev.interval_bounds is None else cost_interval(ev, value)


@objective("investment", unit="currency (NPV)", sense="min")
def investment(ev: Evaluated) -> float:
    """Present value of the annualised investment only (needs no energy price)."""
    from .metrics.economics import population_costs

    return float(population_costs(ev, operating=False)["investment"].sum())  # no energy prices


# --- operation -----------------------------------------------------------------------------
@objective("loss_kw", unit="kW", sense="min")
def loss_kw(ev: Evaluated) -> float:
    """Losses at the peak-load snapshot, mean over stages (the classic reconfiguration target)."""
    return float(np.mean(ev.ops.peak_loss_kw))


@objective("energy_loss_mwh", unit="MWh/yr", sense="min")
def energy_loss_mwh(ev: Evaluated) -> float:
    """Expected yearly energy losses, mean over stages."""
    return float(np.mean(ev.ops.energy_loss_mwh))


@objective("voltage_deviation", unit="p.u.", sense="min")
def voltage_deviation(ev: Evaluated) -> float:
    """Expected mean |V - 1| over buses, slots and samples, mean over stages."""
    return float(np.mean(ev.ops.voltage_deviation_pu))


def voltage_limits_pu(ev: Evaluated, vmin_pu: float | None = None,
                      vmax_pu: float | None = None) -> tuple[float, float]:
    """The voltage band: the given limits, else the case's (``case.uncertainty``)."""
    u = ev.case.uncertainty
    low = u.v_min_pu if vmin_pu is None else float(vmin_pu)
    high = u.v_max_pu if vmax_pu is None else float(vmax_pu)
    if not low < high:
        raise ValueError(f"voltage band needs vmin_pu < vmax_pu, got [{low}, {high}]")
    return low, high


def _voltage_violation_pu(ev: Evaluated, vmin_pu: float | None, vmax_pu: float | None) -> float:
    v_min, v_max = voltage_limits_pu(ev, vmin_pu, vmax_pu)
    low = np.nan_to_num(v_min - ev.ops.vmin_pu, nan=0.0)
    high = np.nan_to_num(ev.ops.vmax_pu - v_max, nan=0.0)
    return float(max(low.max(initial=0.0), high.max(initial=0.0), 0.0))


@objective("max_voltage_violation", unit="p.u.", sense="min")
def max_voltage_violation(ev: Evaluated, vmin_pu: float | None = None,
                          vmax_pu: float | None = None) -> float:
    """Largest distance of any voltage (any stage, slot, sample) outside the band
    [vmin_pu, vmax_pu] (default: the case's); 0 inside."""
    return _voltage_violation_pu(ev, vmin_pu, vmax_pu)


@objective("operational_adaptability", unit="-", sense="max")
def operational_adaptability(ev: Evaluated, w3: float = 0.5, w4: float = 0.5,
                             vmin_pu: float | None = None, vmax_pu: float | None = None
                             ) -> float:
    """w3 * voltage violation margin + w4 * current violation margin (SPEC; 1 = all at nominal,
    0 = at the limits, negative = violated); band [vmin_pu, vmax_pu] (default: the case's);
    an interval under methods interval/affine (:mod:`fdnmoo.interval_objectives`)."""
    v_min, v_max = voltage_limits_pu(ev, vmin_pu, vmax_pu)
    half_band = (v_max - v_min) / 2
    closed = ev.closed_lines[:, None, :]
    limit = ev.ops.i_limit_ka[None, None, :]

    def value(v_low, v_high, i_ka) -> float:
        # distance of the upper bound from v_max (over-voltage side) or of the lower bound
        # from v_min (under-voltage side), whichever is nearer, normalised by the half band
        vvm = float(np.nanmean(np.minimum(v_max - v_high, v_low - v_min) / half_band))
        cvm = float(np.nanmean(np.where(closed, (limit - i_ka) / limit, np.nan)))
        return w3 * vvm + w4 * cvm

    forecast = value(ev.ops.vmin_pu, ev.ops.vmax_pu, ev.ops.i_max_ka)
    b = ev.interval_bounds
    if b is None:
        return forecast
    if not b.defined:
        return ObjectiveInterval(np.nan, np.nan)
    nearest = np.clip((v_min + v_max) / 2, b.vm_lo_pu, b.vm_hi_pu)  # best voltage in the bounds
    return interval_of(value(b.vm_lo_pu, b.vm_hi_pu, b.i_hi_ka), value(nearest, nearest, b.i_lo_ka),
                       forecast)


# --- structure -----------------------------------------------------------------------------
@objective("structural_adaptability", unit="-", sense="max")
def structural_adaptability(ev: Evaluated, w1: float = 0.5, w2: float = 0.5) -> float:
    """w1 * tie connection degree + w2 * network cohesion degree, mean over stages (SPEC)."""
    terms = population_row(ev, "structure terms", _structure_terms)
    return float(np.mean(w1 * terms["tcd"] + w2 * terms["ncd"]))


@objective("pv_uneven_degree", unit="MW", sense="min")
def pv_uneven_degree(ev: Evaluated) -> float:
    """Spread of PV capacity over substation areas weighted by electrical distance (SPEC); an
    interval (its AA / IA spread) under methods affine / interval
    (:mod:`fdnmoo.interval_objectives`)."""
    from .metrics.adaptability import pv_uneven_degree as uneven

    forecast = float(population_row(ev, "pv uneven degree", _pv_uneven_degrees)["pv_uneven_degree"])
    b = ev.interval_bounds
    if b is None:
        return forecast
    spread = spread_interval(b.level["pv"], b.method)
    lo, hi = np.broadcast_to(uneven(ev.grid, ev.plan, spread=spread), 2)
    value = interval_of(lo, hi, forecast)
    if b.method == "affine":  # shared symbols for AA-NSGA-II's affine_difference
        value = value.with_form(uneven_form(ev.grid, ev.plan, b.level["pv"]))
    return value


@objective("pv_hosting_mw", unit="MW", sense="max")
def pv_hosting_mw(ev: Evaluated) -> float:
    """PV capacity installed by the last stage."""
    cap = ev.plan.der.get("pv")
    return 0.0 if cap is None else float(cap[-1].sum())


@objective("sop_capacity_mva", unit="MVA", sense="min")
def sop_capacity_mva(ev: Evaluated) -> float:
    """Total SOP converter capacity installed by the last stage."""
    last = ev.plan.sop_terminals(ev.plan.n_stages)
    return float(last["capacity_mva"].sum())


# --- reliability ---------------------------------------------------------------------------
@objective("eens_mwh", unit="MWh/yr", sense="min")
def eens_mwh(ev: Evaluated, islanding_labels: tuple | None = None,
             pv_availability: float = 1.0) -> float:
    """Expected energy not supplied from section failures, mean over stages. With
    ``islanding_labels`` (a cluster per ``net.bus`` row), clusters island on their planned
    PV x ``pv_availability`` + ESS (:mod:`fdnmoo.metrics.reliability`)."""
    rel = _reliability(ev, islanding_labels, pv_availability)
    return float(np.mean([r["eens_mwh"] for r in rel]))


@objective("scenario_eens_mwh", unit="MWh/yr", sense="min")
def scenario_eens_mwh(ev: Evaluated) -> float:
    """Expected energy not supplied over the operating scenarios, mean over stages: 365 x
    sum over typical days d of probability_d x the mean over d's samples of the day's
    unserved MWh (``ops.scenario_unserved_mwh``: load at unsupplied buses, all load of a
    scenario whose power flow failed); the copula-scenario paper's EENS (seed 001, sec. 4.1)
    beside the failure-based ``eens_mwh``."""
    per_day = np.asarray(ev.ops.scenario_unserved_mwh).mean(axis=-1)  # (stages, days)
    return float(np.mean(365.0 * per_day @ ev.ops.day_probability))


@objective("saifi", unit="interruptions/(customer yr)", sense="min")
def saifi(ev: Evaluated) -> float:
    """System average interruption frequency, mean over stages (islanding leaves it as is)."""
    return float(np.mean([r["saifi"] for r in ev.reliability]))


@objective("saidi", unit="h/(customer yr)", sense="min")
def saidi(ev: Evaluated, islanding_labels: tuple | None = None,
          pv_availability: float = 1.0) -> float:
    """System average interruption duration, mean over stages; islanding as in
    ``eens_mwh``."""
    rel = _reliability(ev, islanding_labels, pv_availability)
    return float(np.mean([r["saidi"] for r in rel]))


@objective("ecost", unit="currency/yr", sense="min")
def ecost(ev: Evaluated, islanding_labels: tuple | None = None,
          pv_availability: float = 1.0) -> float:
    """Expected customer interruption cost, mean over stages: section failures x load
    interrupted x sector damage function of its load class (``net.load.load_class``) for the
    interruption duration (:mod:`fdnmoo.damage`; Allan et al. 1991 RBTS table, $/kW);
    islanding as in ``eens_mwh``."""
    rel = _reliability(ev, islanding_labels, pv_availability)
    return float(np.mean([r["ecost"] for r in rel]))


@objective("violation_probability", unit="-", sense="min")
def violation_probability(ev: Evaluated) -> float:
    """Largest probability, over stages, buses and lines, that a bus leaves the case's voltage
    band or a line exceeds its current limit (slot-weighted share of the sampled scenarios;
    a scenario whose power flow failed counts as a violation everywhere)."""
    return float(max(np.max(ev.ops.voltage_violation_probability, initial=0.0),
                     np.max(ev.ops.current_violation_probability, initial=0.0)))


# the built-in constraints register themselves (they use the names defined above)
from . import constraints as _constraints  # noqa: E402,F401
