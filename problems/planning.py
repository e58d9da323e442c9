"""The pymoo problem over planning genomes: :class:`PlanningProblem`.

Built by :meth:`~fdnmoo.problems.config.ProblemConfig.build` (the config is
re-exported here); ``_evaluate(X, out)`` runs the evaluation pipeline
(:mod:`fdnmoo.pipeline`) on the population and applies the objectives and
constraints. Presets (:data:`~fdnmoo.problems.presets.PRESETS`) name the
classic studies.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict
from typing import Any

import numpy as np
from pymoo.core.problem import Problem

from ..cases.overrides import overrides_as_dict
from ..interval_objectives import ObjectiveInterval, n_shared_symbols
from ..metrics.economics import MissingPriceError, cost_breakdown
from ..objectives import CONSTRAINTS, OBJECTIVES, Evaluated, Objective, Population
from ..parameters import ParameterError
from ..pipeline import StageTimes, decode_population, operate
from ..topology_cache import TopologyCache
from ..uncertain_pass import INTERVAL_METHODS, UncertainPass
from .config import ProblemConfig, entry_pairs
from .genome import Genome
from .presets import PRESETS, PROFILES, Preset

__all__ = ["PRESETS", "PROFILES", "Preset", "ProblemConfig", "PlanningProblem", "UNDEFINED"]

#: Stand-in for an objective or constraint value that a diverged power flow left undefined.
UNDEFINED = 1e30


class PlanningProblem(Problem):
    """Vectorised pymoo problem over planning genomes (build it with :meth:`ProblemConfig.build`).

    ``_evaluate(X, out)`` hands the whole population to the evaluator (or
    evaluates it here): decode every genome into a plan, evaluate all plans by
    grouped batched power flows, then apply the objectives and constraints.

    Interval objectives (``uncertainty.method`` interval or affine,
    :attr:`interval_objectives`): ``out["F_lo"]`` and ``out["F_hi"]`` (shape of
    ``F``, as minimised, so ``F_lo <= F <= F_hi``) hold every objective's lower
    and upper value, and ``F`` its midpoint, the interval centre (on which
    AA-NSGA-II computes crowding; seed 004 compares intervals by possibility
    degree of these ends). Objectives that are not intervals have
    ``F_lo == F == F_hi``. pymoo keeps both on the population
    (``pop.get("F_lo")``); :mod:`fdnmoo.interval_objectives` says how each
    interval is computed. Under method affine also ``out["F_aff"]`` and
    ``out["F_rad"]``, the objectives' terms in shared noise symbols
    (:attr:`affine_objectives`).
    """

    def __init__(self, config: ProblemConfig, grid, genome: Genome, batch,
                 objectives, constraints, evaluator=None, profile: str | None = None):
        self.config = config
        self.profile = profile
        self.grid = grid
        self.genome = genome
        self.batch = batch
        self.objectives = [OBJECTIVES[o] if isinstance(o, str) else o for o in objectives]
        constraints = [CONSTRAINTS[c] if isinstance(c, str) else c for c in constraints]
        # a plan whose power flows diverge is infeasible, never a crash or NaN
        self.constraints = [CONSTRAINTS["power_flow_converged"]] + [
            c for c in constraints if c.name != "power_flow_converged"]
        self.evaluator = evaluator
        self._engine = None
        self._topologies = None
        self.constraint_penalty = config.constraint_penalty
        n_constr = 0 if self.constraint_penalty is not None else len(self.constraints)
        super().__init__(n_var=genome.n_var, n_obj=len(self.objectives),
                         n_ieq_constr=n_constr, xl=genome.xl, xu=genome.xu, vtype=int)

    @property
    def objective_names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def constraint_names(self) -> list[str]:
        return [c.name for c in self.constraints]

    @property
    def interval_objectives(self) -> bool:
        """Whether objectives may be intervals (``F_lo``/``F_hi`` beside ``F``)."""
        return self.config.uncertainty.method in INTERVAL_METHODS

    @property
    def affine_objectives(self) -> bool:
        """Whether ``_evaluate`` also writes ``F_aff`` and ``F_rad`` (``uncertainty.method``
        affine): the objectives' terms in the shared noise symbols, one per PV candidate
        (``case.candidates["pv"]`` rows), for AA-NSGA-II's ``affine_difference``
        (:mod:`fdnmoo.operators.aa_nsga2`, :mod:`fdnmoo.interval_objectives`)."""
        return self.config.uncertainty.method == "affine"

    @property
    def composition(self) -> dict[str, Any]:
        """The fully resolved problem: every block, objective and constraint with all its
        parameters, profile, stages, samples, and the case's own limits (plain data)."""
        case = self.grid.case
        u = case.uncertainty
        return {
            "case": self.config.case, "preset": self.config.preset,
            "n_stages": int(self.genome.n_stages), "profile": self.profile,
            "n_slots": int(self.batch.n_slots), "n_samples": int(self.batch.n_samples),
            "scenario_seed": int(self.batch.seed),
            "blocks": [{b.registry_name: _plain(b.get_params())} for b in self.genome.blocks],
            "objectives": [{o.name: _plain(o.resolved_params())} for o in self.objectives],
            "constraints": [{c.name: _plain(c.resolved_params())} for c in self.constraints],
            "options": _plain(dict(self.config.options)),
            "horizon": _plain(asdict(case.horizon)),
            **({"operation": self.config.operation.as_dict()}
               if self.config.operation.active else {}),
            "plugins": list(self.config.plugins), "modules": list(self.config.modules),
            "case_overrides": _plain(overrides_as_dict(self.config.case_overrides)),
            "economics": _plain({k: v for k, v in asdict(case.economics).items()
                                 if k != "sources"}),
            "uncertainty": _plain(asdict(u)),
            "case_limits": {"v_min_pu": u.v_min_pu, "v_max_pu": u.v_max_pu,
                            "investment_budget_per_stage":
                                case.economics.unit_costs.get("investment_budget_per_stage")},
        }

    @property
    def engine(self):
        """One power-flow engine for the planning grid; caches per topology."""
        if self._engine is None:
            from ..powerflow import BatchPowerFlow

            self._engine = BatchPowerFlow(self.grid.net)
        return self._engine

    @property
    def topologies(self):
        """Per-topology arrays of the planning grid, kept across generations; shares the
        engine's branch table (:class:`~fdnmoo.topology_cache.TopologyCache`)."""
        if self._topologies is None:
            self._topologies = TopologyCache(self.grid, engine=self.engine)
        return self._topologies

    def bounds_request(self) -> dict:
        """The ``bounds`` keyword of :meth:`evaluate_genomes` that gives every output this
        problem exposes: none, the intervals, or the intervals and the affine forms."""
        if not self.interval_objectives:
            return {}
        return {"bounds": "affine" if self.affine_objectives else True}

    def _evaluate(self, X, out, *args, **kwargs):
        X = np.asarray(X)
        extra = self.bounds_request()
        if self.evaluator is not None:
            arrays = self.evaluator.evaluate(self.config, X, **extra)
        else:
            arrays = self.evaluate_genomes(X, **extra)
        out.update(self.pymoo_outputs(*arrays))

    def pymoo_outputs(self, F, G, *ends) -> dict[str, np.ndarray]:
        """pymoo's ``out`` from the arrays of :meth:`evaluate_genomes`: ``F`` (plus the
        constraint penalty, if the problem has one), ``G`` if exposed, ``F_lo``/``F_hi``
        if given (shifted by the same penalty)."""
        out = {}
        if self.constraint_penalty is not None:  # a shift: the affine terms stay
            penalty = self.constraint_penalty * np.maximum(G, 0.0).sum(axis=1, keepdims=True)
            F, ends = F + penalty, [e + penalty for e in ends[:2]] + list(ends[2:])
        out["F"] = F
        if ends:
            out["F_lo"], out["F_hi"], *affine = ends
            if affine:
                out["F_aff"], out["F_rad"] = affine
        if self.n_ieq_constr:
            out["G"] = G
        return out

    def decode(self, x):
        """The plan of one genome."""
        return self.genome.decode(np.asarray(x).astype(int))

    def evaluated(self, X, timings: StageTimes | None = None) -> list[Evaluated]:
        """Decode and evaluate genomes (:mod:`fdnmoo.pipeline`); one :class:`Evaluated` per
        row, all sharing one :class:`~fdnmoo.objectives.Population`."""
        plans = decode_population(self.genome, np.asarray(X).astype(np.int64), timings)
        stage = UncertainPass.of(self.config.uncertainty, self.grid.case, len(plans), self.batch,
                                 self.engine)
        ops = operate(self.grid, plans, self.batch, engine=self.engine, timings=timings,
                      uncertain=stage, operation=self.config.operation)
        bounds = None if stage is None else stage.bounds()
        if bounds is not None and bounds.method == "robust":
            ops = bounds.worst_case_metrics(ops)
        return Population(self.grid, plans, ops, dict(self.config.options),
                          topologies=self.topologies, bounds=bounds).members()

    def evaluate_genomes(self, X, timings: StageTimes | None = None, bounds: bool | str = False
                         ) -> tuple[np.ndarray, ...]:
        """Objectives (as minimised) and constraints of genomes; deterministic for the config.

        Values that are undefined because power flows diverged (NaN) become
        :data:`UNDEFINED` in F (and G); such plans already violate the
        ``power_flow_converged`` constraint, so pymoo ranks them as infeasible.

        Returns
        -------
        F, G : ndarray, shapes (n, n_obj) and (n, n_constr)
            ``F`` of an interval objective is its midpoint.
        F_lo, F_hi : ndarray, shape (n, n_obj)
            Only with ``bounds=True`` (or ``"affine"``): the objectives' lower and upper
            values (as minimised; equal to ``F`` where an objective is not an interval).
        F_aff, F_rad : ndarray, shapes (n, n_obj, n_symbols) and (n, n_obj)
            Only with ``bounds="affine"``: every objective as ``F + F_aff @ eps +- F_rad``
            over the shared symbols (:attr:`affine_objectives`); an interval without
            shared terms has ``F_rad`` its half-width, an undefined value 0 and 0.
        """
        timings = StageTimes() if timings is None else timings
        evs = self.evaluated(X, timings)
        with timings.stage("objectives"):
            raw = [[o.to_minimise(self._value(o, ev)) for o in self.objectives] for ev in evs]
            ends = np.array([[_ends(v) for v in row] for row in raw],
                            dtype=float).reshape(len(evs), self.n_obj, 2)
            G = np.array([[self._value(c, ev) for c in self.constraints] for ev in evs],
                         dtype=float)
        F = ends.mean(axis=-1)  # a number's mean is itself, exactly
        F = np.where(np.isfinite(F), F, UNDEFINED)
        ends = np.where(np.isfinite(ends), ends, UNDEFINED)
        G = np.where(np.isfinite(G), G, UNDEFINED).reshape(len(evs), len(self.constraints))
        if bounds == "affine":
            shared, private = self._shared_terms(raw)
            defined = (F != UNDEFINED)[..., None]
            return (F, G, ends[..., 0], ends[..., 1], np.where(defined, shared, 0.0),
                    np.where(defined[..., 0], private, 0.0))
        if bounds:
            return F, G, ends[..., 0], ends[..., 1]
        return F, G

    def _shared_terms(self, values: list[list]) -> tuple[np.ndarray, np.ndarray]:
        """``(F_aff, F_rad)`` of objective values (see :meth:`evaluate_genomes`)."""
        shared = np.zeros((len(values), self.n_obj, n_shared_symbols(self.grid)))
        private = np.zeros((len(values), self.n_obj))
        for i, row in enumerate(values):
            for k, v in enumerate(row):
                if isinstance(v, ObjectiveInterval) and v.shared is not None:
                    shared[i, k], private[i, k] = v.shared, v.private
                elif isinstance(v, ObjectiveInterval):
                    private[i, k] = 0.5 * (v.hi - v.lo)
        return shared, np.where(np.isfinite(private), private, 0.0)

    def _value(self, entry: Objective, ev: Evaluated) -> float:
        """``entry(ev)``; a price the entry needs and the case lacks is named with the entry."""
        try:
            return entry(ev)
        except MissingPriceError as exc:
            kind = f"{entry.kind}s"
            names = [n for n, _ in entry_pairs(getattr(self.config, kind))]
            key = f"{kind}[{names.index(entry.name)}].{entry.name}" if entry.name in names \
                else "preset"
            name = exc.key.rsplit(".", 1)[-1]
            raise ParameterError(key, f"{entry.kind} {entry.name!r} needs {exc.key} to price "
                                      f"{exc.what}, which case {exc.case!r} lacks: give it in "
                                      f"the case file or in case_overrides (economics: "
                                      f"{{prices: {{{name}: ...}}}})") from None

    def plan_report(self, x) -> dict:
        """What one genome decides and how its plan operates.

        Returns
        -------
        dict
            ``objectives`` and ``constraints`` (name -> value, objectives in
            their own sign), ``costs`` (cost breakdown per stage in the case
            currency, :func:`~fdnmoo.metrics.cost_breakdown`), ``plan``
            (every stage's full state, :meth:`~fdnmoo.planning.Plan.describe`),
            ``violations`` (worst voltages and loading, energy out of band per
            stage, :func:`~fdnmoo.metrics.violations.violations_per_stage`),
            ``currency`` and ``n_stages``. Under uncertainty methods interval, affine
            and robust also ``uncertainty``: ``method``, ``level``, ``verified`` (per
            stage), ``objectives`` (interval methods: name -> ``[lo, hi]`` in the
            objective's own sign; ``objectives`` above holds the midpoints), ``buses``
            (stage, bus, lowest and highest voltage bound over the slots; robust: the
            worst cases) and ``lines`` (stage, closed line, highest current bound).
        """
        from ..metrics.violations import violations_per_stage

        ev = self.evaluated(np.atleast_2d(x))[0]
        case = self.grid.case
        values = {o.name: o(ev) for o in self.objectives}
        extra = {}
        if ev.bounds is not None:
            extra["uncertainty"] = _uncertainty_report(ev, values, self.batch.bus_labels)
        return {"objectives": {name: float(v) for name, v in values.items()}, **extra,
                "constraints": {c.name: float(c(ev)) for c in self.constraints},
                # terms no objective priced stay NaN rather than ask for prices
                "costs": cost_breakdown(self.grid, ev.plan, ev.ops, unpriced="nan"),
                "plan": ev.plan.describe(case),
                "violations": violations_per_stage(self.grid, ev.plan, ev.ops,
                                                   self.batch.bus_labels),
                "currency": case.economics.currency, "n_stages": ev.plan.n_stages}

    def __getstate__(self) -> dict[str, Any]:
        # pickling sends the config; the receiver rebuilds (workers cache the problem)
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        rebuilt = state["config"].build()
        self.__dict__.update(rebuilt.__dict__)


def _ends(value) -> tuple[float, float]:
    """``(lo, hi)`` of an objective value (a number is both)."""
    if isinstance(value, ObjectiveInterval):
        return value.lo, value.hi
    return float(value), float(value)


def _uncertainty_report(ev: Evaluated, values: dict, bus_labels) -> dict:
    """The ``uncertainty`` entry of a plan report (see :meth:`PlanningProblem.plan_report`)."""
    import pandas as pd

    b = ev.bounds
    out: dict[str, Any] = {"method": b.method, "level": dict(b.level),
                           "verified": b.verified.tolist()}
    if b.is_interval:
        out["objectives"] = {name: list(_ends(v)) for name, v in values.items()}
    stages = np.arange(1, b.vm_lo_pu.shape[0] + 1)
    with np.errstate(all="ignore"):
        vm_lo, vm_hi = np.fmin.reduce(b.vm_lo_pu, axis=1), np.fmax.reduce(b.vm_hi_pu, axis=1)
        i_hi = np.fmax.reduce(b.i_hi_ka, axis=1)
    n_bus, n_line = vm_lo.shape[1], i_hi.shape[1]
    out["buses"] = pd.DataFrame({"stage": np.repeat(stages, n_bus),
                                 "bus": np.tile(np.asarray(bus_labels), len(stages)),
                                 "vm_min_pu": vm_lo.ravel(), "vm_max_pu": vm_hi.ravel()})
    closed = ev.closed_lines.ravel()
    lines = pd.DataFrame({"stage": np.repeat(stages, n_line),
                          "line": np.tile(ev.grid.net.line.index.to_numpy(), len(stages)),
                          "i_max_ka": i_hi.ravel()})
    out["lines"] = lines[closed].reset_index(drop=True)
    return out


def _plain(value: Any) -> Any:
    """JSON-able copy: tuples of pairs stay lists of pairs, numpy scalars become numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is inspect.Parameter.empty:
        return None
    return value
