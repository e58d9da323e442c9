"""pymoo problems composed from gene blocks, objectives and constraints.

A :class:`ProblemConfig` is a small picklable description (case, preset,
stages, profile, samples, objectives, constraints, seed); ``config.build()``
loads the case, builds the planning grid, binds the genome, draws the scenario
batch and returns a :class:`PlanningProblem`. Workers of a parallel
:class:`~fdnmoo.evaluation.Evaluator` receive only the config and the genomes,
and build (once) the same problem, so results are identical on every backend.

Presets (:data:`~fdnmoo.problems.presets.PRESETS`) name the classic studies.

A config may compose its own problem instead, or change a preset's: ``blocks``
lists gene blocks with any of their constructor parameters (and candidate
overrides, see :meth:`~fdnmoo.problems.encodings.GeneBlock.candidate_tables`);
objectives and constraints take their parameters (weights, limits) the same
way::

    ProblemConfig(case="ieee33", n_stages=1, profile="peak",
                  blocks=(("dg", {"buses": "all", "max_mva": 4.0, "levels": 80,
                                  "max_units": 1}),),
                  objectives=("loss_kw",),
                  constraints=(("voltage_band", {"vmin_pu": 0.9}),))
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from pymoo.core.problem import Problem

from ..cases import load_case
from ..cases.overrides import apply_overrides, check_overrides, overrides_as_dict
from ..metrics.economics import MissingPriceError, cost_breakdown
from ..objectives import CONSTRAINTS, OBJECTIVES, Evaluated, Objective, Population
from ..parameters import ParameterError, UnknownEntryError, check_params, did_you_mean, entry
from ..interval_objectives import ObjectiveInterval
from ..pipeline import StageTimes, decode_population, operate
from ..planning import planning_grid
from ..plugins import PluginError, import_origin, import_plugins, module_origin
from ..uncertain_pass import BOUNDED_METHODS, INTERVAL_METHODS, UncertainPass
from ..uncertainty.settings import UncertaintySettings
from ..topology_cache import TopologyCache
from .encodings import BLOCKS
from .encodings.base import with_candidate_tables
from .genome import Genome
from .presets import PRESETS, PROFILES, Preset

__all__ = ["PRESETS", "PROFILES", "Preset", "ProblemConfig", "PlanningProblem", "UNDEFINED"]

#: Stand-in for an objective or constraint value that a diverged power flow left undefined.
UNDEFINED = 1e30


@dataclass(frozen=True)
class ProblemConfig:
    """Picklable description of a planning problem.

    Parameters
    ----------
    case : str
        Built-in case name or path of a case file.
    preset : str, optional
        One of :data:`PRESETS`: its blocks, objectives, constraints, profile
        and stages are the defaults of everything not given. Without a preset,
        ``blocks`` and ``objectives`` are needed.
    n_stages : int, optional
        Planning stages (default: the preset's, else the case horizon's).
    profile : str, optional
        One of :data:`PROFILES`: ``"daily"`` (typical-day 24-h profiles),
        ``"peak"`` (one peak snapshot), ``"levels"`` (the case's load-level
        table, md24) or ``"year"`` (every step of a SimBench case's yearly
        profiles); default: the preset's, else ``"daily"``.
    n_days : int, optional
        Typical days of the daily profile (default: all four seasonal days,
        96 slots; 1 = one averaged 24-h day).
    n_samples : int
        Load/PV samples per time slot (1 = forecast only).
    objectives, constraints : tuple, optional
        Entries of the registries, each a name or ``(name, {parameter: value})``
        (see :func:`fdnmoo.parameters.entry`), e.g.
        ``(("voltage_band", {"vmin_pu": 0.95}), "line_current")``; default:
        the preset's.
    seed : int
        Seed of the scenario samples (common random numbers for all candidates).
    case_params : tuple of (str, value) pairs
        Parameters of a generated case (``synthetic``).
    options : tuple of (str, value) pairs
        Options shared by every objective and constraint that has a parameter
        of that name (e.g. weights ``(("w1", 0.5),)``); an entry's own
        parameters take precedence. Also readable as ``Evaluated.options``.
    constraint_penalty : float, optional
        For algorithms without constraint handling (pymoo's MOEA/D): the
        problem exposes no constraints to pymoo and every objective becomes
        ``F + constraint_penalty * CV`` with ``CV = sum(max(G, 0))``. The
        constraints are still evaluated and reported.
    blocks : tuple, optional
        Gene blocks of :data:`~fdnmoo.problems.encodings.BLOCKS`, each a name or
        ``(name, {parameter: value})``, e.g. ``(("der", {"kind": "pv",
        "levels": 40}),)``. With a preset, an entry replaces the parameters it
        names of the preset's block of the same name (``der`` of the same
        ``kind``) and adds a block the preset lacks; without one, they are the
        genome.
    horizon : tuple of (str, value) pairs
        Changes to the case's :class:`~fdnmoo.cases.model.Horizon`, e.g.
        ``(("load_growth_per_year", 0.0),)`` for a study at the base year's
        loads (stage demand is grown to the stage's end); they win over the
        preset's (``reconfiguration`` sets no growth). Checked and applied as
        the ``horizon`` section of :mod:`fdnmoo.cases.overrides`.
    case_overrides : mapping or tuple of (section, pairs)
        Changes to the case's economics, uncertainty and limits
        (:mod:`fdnmoo.cases.overrides`), e.g. ``{"economics": {"discount_rate":
        0.06}, "limits": {"v_min_pu": 0.93}}``; stored frozen (hashable,
        picklable), checked for names and types here and for values, like the
        case file, when the problem is built.
    uncertainty : UncertaintySettings or mapping, optional
        How source and load uncertainty is treated (the spec's ``uncertainty:``
        block, :class:`~fdnmoo.uncertainty.settings.UncertaintySettings`):
        ``method: deterministic`` evaluates the forecast only; ``level`` replaces
        the case's deviations; ``samples`` and ``seed`` replace ``n_samples`` and
        ``seed``; ``gamma`` is the risk level of the chance constraints that do not
        set their own; ``marginals``/``dependence``/``reduction``/``data`` draw the
        samples (and, reduced, the typical days) from a fitted model
        (:mod:`fdnmoo.scenarios.fitted`).
        set their own. ``interval`` / ``affine`` evaluate the forecast and bound it
        by the IA / AA power flow: ``total_cost``, ``operational_adaptability`` and
        ``pv_uneven_degree`` become intervals (see :class:`PlanningProblem`);
        ``robust`` evaluates the forecast with the voltages and currents at the
        worst case of the box with budget ``budget`` (:mod:`fdnmoo.uncertain_pass`).
    plugins : tuple of str
        Modules or ``.py`` files (absolute paths) registering objectives,
        constraints or gene blocks (:mod:`fdnmoo.plugins`). They are imported
        when the config is made and, before the problem is rebuilt, in every
        process that builds it (the workers of an evaluator).

    Attributes
    ----------
    modules : tuple of (str, str)
        Set on construction: how another process imports the modules that
        registered the non-built-in entries used, as ``(name, file)``
        (:func:`fdnmoo.plugins.module_origin`); :meth:`build` imports them, and
        :attr:`plugins`, before it resolves any name.

    Raises
    ------
    fdnmoo.parameters.ParameterError
        An unknown name (also a ``KeyError``), parameter or value; its ``key``
        says where (``"blocks[1].der.levels"``).
    """

    case: str
    preset: str | None = None
    n_stages: int | None = None
    profile: str | None = None
    n_days: int | None = None
    n_samples: int = 1
    objectives: tuple | None = None
    constraints: tuple | None = None
    seed: int = 0
    case_params: tuple = ()
    options: tuple = ()
    constraint_penalty: float | None = None
    blocks: tuple | None = None
    plugins: tuple = ()
    horizon: tuple = ()
    case_overrides: tuple = ()
    uncertainty: Any = None
    modules: tuple = field(init=False, default=())

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise the entries once
        set_(self, "plugins", tuple(self.plugins))
        try:
            import_plugins(self.plugins)
        except PluginError as exc:
            raise ParameterError("plugins", str(exc)) from None
        if self.preset is not None and self.preset not in PRESETS:
            raise UnknownEntryError("preset", f"unknown preset {self.preset!r}"
                                    f"{did_you_mean(self.preset, PRESETS)}; presets are "
                                    f"{', '.join(PRESETS)}")
        if self.preset is None and (self.blocks is None or self.objectives is None):
            raise ParameterError("preset", "give a preset, or blocks and objectives")
        for name in ("objectives", "constraints", "blocks"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, (str, dict)) or not isinstance(value, (tuple, list)):
                    raise ParameterError(name, f"expected a list of entries, got {value!r}")
                set_(self, name, tuple(_compact(entry(e, f"{name}[{i}]"))
                                       for i, e in enumerate(value)))
        if self.objectives is not None and not self.objectives:
            raise ParameterError("objectives", "a problem needs at least one objective")
        if self.profile not in (None,) + PROFILES:
            raise ParameterError("profile", f"unknown profile {self.profile!r}"
                                 f"{did_you_mean(self.profile, PROFILES)}; profiles are "
                                 f"{', '.join(PROFILES)}")
        if self.n_stages is not None and self.n_stages < 1:
            raise ParameterError("n_stages", f"must be >= 1, got {self.n_stages}")
        if self.n_days is not None and self.n_days < 1:
            raise ParameterError("n_days", f"must be >= 1, got {self.n_days}")
        if self.n_samples < 1:
            raise ParameterError("n_samples", f"must be >= 1, got {self.n_samples}")
        if self.constraint_penalty is not None and not self.constraint_penalty > 0:
            raise ParameterError("constraint_penalty",
                                 f"must be > 0, got {self.constraint_penalty}")
        set_(self, "options", tuple(sorted(dict(self.options).items())))
        _check_options(dict(self.options))
        horizon = dict(check_overrides({"horizon": dict(self.horizon)}, "", ("horizon",)))
        set_(self, "horizon", horizon["horizon"])
        set_(self, "case_overrides", check_overrides(self.case_overrides))
        set_(self, "uncertainty", UncertaintySettings.from_mapping(self.uncertainty))
        _check_uncertainty(self.uncertainty)
        objectives, constraints = self._registry_entries()
        entries = objectives + constraints
        for i, (name, params) in enumerate(_entries(self.blocks)):
            cls = _block_class(name, f"blocks[{i}]")
            check_params(cls.__init__, dict(params), f"blocks[{i}].{name}", f"gene block {name!r}")
            entries.append(cls)
        origins = {module_origin(e.__module__ if isinstance(e, type) else e.module)
                   for e in entries}
        set_(self, "modules", tuple(sorted(o for o in origins if any(o) and not (
            o[0] == "fdnmoo" or o[0].startswith("fdnmoo.")))))

    # ------------------------------------------------------------------ resolving
    def _registry_entries(self, missing_hint: bool = False
                          ) -> tuple[list[Objective], list[Objective]]:
        """Objectives and constraints as registry entries with their parameters."""
        preset = PRESETS.get(self.preset) if self.preset is not None else None
        out: tuple[list[Objective], list[Objective]] = ([], [])
        for kind, registry, into in (("objectives", OBJECTIVES, out[0]),
                                       ("constraints", CONSTRAINTS, out[1])):
            given = getattr(self, kind)
            items = _entries(given) if given is not None else \
                [(n, ()) for n in getattr(preset, kind, ())]
            shared_options = dict(self.options)
            if self.uncertainty.gamma is not None:  # the block's gamma, unless options give one
                shared_options.setdefault("gamma", self.uncertainty.gamma)
            for i, (name, params) in enumerate(items):
                key = f"{kind}[{i}]" if given is not None else "preset"
                try:
                    found = registry[name]
                except UnknownEntryError as exc:
                    hint = (" (a plug-in entry is registered in the process that imports its "
                            "module: name the module or file in plugins, not code typed into "
                            "an interactive session)") if missing_hint else ""
                    raise UnknownEntryError(key, exc.message + hint) from None
                shared = {k: v for k, v in shared_options.items() if k in found.parameters}
                into.append(found.with_params({**shared, **dict(params)}, key=f"{key}.{name}"))
        return out

    def resolved_entries(self) -> tuple[list[Objective], list[Objective]]:
        """The objectives and the constraints with their parameters, as :meth:`build` uses
        them (``power_flow_converged`` is added by the problem)."""
        return self._registry_entries(missing_hint=True)

    def gene_blocks(self, case) -> list:
        """The unbound gene blocks for ``case``: the preset's merged with :attr:`blocks`."""
        blocks = list(PRESETS[self.preset].blocks(case)) if self.preset is not None else []
        for i, (name, params) in enumerate(_entries(self.blocks)):
            cls = _block_class(name, f"blocks[{i}]")
            block = cls(**dict(params))
            for j, old in enumerate(blocks):
                if old.name == block.name:
                    blocks[j] = type(old)(**{**old.get_params(), **dict(params)})
                    break
            else:
                blocks.append(block)
        return blocks

    @property
    def key(self) -> str:
        """Stable hash of the config (cache key in workers, run metadata)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()
                              ).hexdigest()[:16]

    def build(self, evaluator=None) -> "PlanningProblem":
        """Load the case and build the problem (the expensive part).

        Imports :attr:`plugins` and :attr:`modules` first (once per process).
        """
        from ..scenarios import ScenarioBatch

        import_plugins(self.plugins)
        for origin in self.modules:
            import_origin(origin)
        objectives, constraints = self.resolved_entries()
        preset = PRESETS[self.preset] if self.preset is not None else None
        case = load_case(self.case, **dict(self.case_params))
        horizon = {**dict(preset.horizon if preset else ()), **dict(self.horizon)}
        case = apply_overrides(case, {"horizon": horizon}, "", ("horizon",))
        case = apply_overrides(case, self.case_overrides)
        unc = self.uncertainty
        if unc.level:
            case = apply_overrides(case, {"uncertainty": {
                f"{kind}_deviation": level for kind, level in unc.level}}, "uncertainty.level")
        blocks = self.gene_blocks(case)
        case = with_candidate_tables(case, blocks, self._block_keys(blocks))
        n_stages = self.n_stages or (preset.n_stages if preset else None) or case.horizon.n_stages
        grid = planning_grid(case)
        genome = self._bind(Genome(blocks), grid, n_stages)
        profile = self.profile or ("daily" if unc.reduction != "none"  # the reduction's days
                                   else preset.profile_for(case) if preset else "daily")
        n_samples = 1 if unc.method in ("deterministic",) + BOUNDED_METHODS \
            else (unc.samples or self.n_samples)
        seed = self.seed if unc.seed is None else unc.seed
        batch = ScenarioBatch.build(grid, n_stages, profile=profile, n_samples=n_samples,
                                    seed=seed, days=self.n_days, uncertainty=unc)
        return PlanningProblem(self, grid=grid, genome=genome, batch=batch,
                               objectives=objectives, constraints=constraints,
                               evaluator=evaluator, profile=profile)

    def _block_keys(self, blocks: list) -> list[str]:
        """Where each block comes from: ``blocks[i].<name>`` of :attr:`blocks`, else the preset."""
        given = {BLOCKS[n](**dict(p)).name: f"blocks[{i}].{n}"
                 for i, (n, p) in enumerate(_entries(self.blocks))}
        return [given.get(b.name, f"preset.{b.name}") for b in blocks]

    def _bind(self, genome: Genome, grid, n_stages: int) -> Genome:
        """``genome.bind``; a block that refuses the case is named by its key."""
        try:
            return genome.bind(grid, n_stages)
        except ValueError as exc:
            for block, key in zip(genome.blocks, self._block_keys(genome.blocks)):
                try:
                    block.bind(grid, n_stages)
                except ValueError as own:
                    raise ParameterError(key, str(own)) from None
            raise ParameterError("blocks", f"{exc} (blocks: {[b.name for b in genome.blocks]})"
                                 ) from None


def _check_uncertainty(unc: UncertaintySettings) -> None:
    """Settings the method does not use are refused, not ignored."""
    if unc.budget is not None and unc.method != "robust":
        raise ParameterError("uncertainty.budget", f"the robust budget needs method 'robust', "
                                                   f"not {unc.method!r}")
    if unc.samples is not None and unc.method in BOUNDED_METHODS:
        raise ParameterError("uncertainty.samples", f"method {unc.method!r} bounds the forecast "
                                                    f"and draws no samples (samples are for "
                                                    f"'montecarlo')")


def _compact(item: tuple[str, tuple]):
    """A bare name for an entry without parameters, else the ``(name, params)`` pair."""
    return item[0] if not item[1] else item


def _entries(items) -> list[tuple[str, tuple]]:
    return [(e, ()) if isinstance(e, str) else e for e in (items or ())]


def _block_class(name: str, key: str) -> type:
    if name not in BLOCKS:
        raise UnknownEntryError(key, f"unknown gene block {name!r}{did_you_mean(name, BLOCKS)}; "
                                     f"registered: {', '.join(sorted(BLOCKS))}")
    return BLOCKS[name]


def _check_options(options: dict) -> None:
    """Shared options must be a parameter of some registered objective or constraint."""
    known: dict[str, Objective] = {}
    for registry in (OBJECTIVES, CONSTRAINTS):
        for name in registry.names():
            for p in registry[name].parameters:
                known.setdefault(p, registry[name])
    for name, value in options.items():
        if name not in known:
            raise ParameterError(f"options.{name}", f"unknown objective option {name!r}"
                                 f"{did_you_mean(name, known)}; options are "
                                 f"{', '.join(sorted(known))}")
        known[name].with_params({name: value}, key="options")


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
    interval is computed.
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

    def _evaluate(self, X, out, *args, **kwargs):
        X = np.asarray(X)
        extra = {"bounds": True} if self.interval_objectives else {}
        if self.evaluator is not None:
            F, G, *ends = self.evaluator.evaluate(self.config, X, **extra)
        else:
            F, G, *ends = self.evaluate_genomes(X, **extra)
        if self.constraint_penalty is not None:
            penalty = self.constraint_penalty * np.maximum(G, 0.0).sum(axis=1, keepdims=True)
            F, ends = F + penalty, [e + penalty for e in ends]
        out["F"] = F
        if ends:
            out["F_lo"], out["F_hi"] = ends
        if self.n_ieq_constr:
            out["G"] = G

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
                      uncertain=stage)
        bounds = None if stage is None else stage.bounds()
        if bounds is not None and bounds.method == "robust":
            ops = bounds.worst_case_metrics(ops)
        return Population(self.grid, plans, ops, dict(self.config.options),
                          topologies=self.topologies, bounds=bounds).members()

    def evaluate_genomes(self, X, timings: StageTimes | None = None, bounds: bool = False
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
            Only with ``bounds=True``: the objectives' lower and upper values (as
            minimised; equal to ``F`` where an objective is not an interval).
        """
        timings = StageTimes() if timings is None else timings
        evs = self.evaluated(X, timings)
        with timings.stage("objectives"):
            values = [[_ends(o.to_minimise(self._value(o, ev))) for o in self.objectives]
                      for ev in evs]
            ends = np.array(values, dtype=float).reshape(len(evs), self.n_obj, 2)
            G = np.array([[self._value(c, ev) for c in self.constraints] for ev in evs],
                         dtype=float)
        F = ends.mean(axis=-1)  # a number's mean is itself, exactly
        F = np.where(np.isfinite(F), F, UNDEFINED)
        ends = np.where(np.isfinite(ends), ends, UNDEFINED)
        G = np.where(np.isfinite(G), G, UNDEFINED).reshape(len(evs), len(self.constraints))
        if bounds:
            return F, G, ends[..., 0], ends[..., 1]
        return F, G

    def _value(self, entry: Objective, ev: Evaluated) -> float:
        """``entry(ev)``; a price the entry needs and the case lacks is named with the entry."""
        try:
            return entry(ev)
        except MissingPriceError as exc:
            kind = f"{entry.kind}s"
            names = [n for n, _ in _entries(getattr(self.config, kind))]
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
