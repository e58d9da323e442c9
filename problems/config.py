"""The picklable description of a planning problem: :class:`ProblemConfig`.

A :class:`ProblemConfig` (case, preset, stages, profile, samples, objectives,
constraints, blocks, uncertainty, seed) checks every name and parameter when it
is made; ``config.build()`` loads the case, builds the planning grid, binds the
genome, draws the scenario batch and returns a
:class:`~fdnmoo.problems.planning.PlanningProblem`. Workers of a parallel
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
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..cases import load_case
from ..cases.overrides import apply_overrides, check_overrides
from ..clusters import with_clusters
from ..objectives import CONSTRAINTS, OBJECTIVES, Objective
from ..parameters import ParameterError, UnknownEntryError, check_params, did_you_mean, entry
from ..planning import planning_grid
from ..plugins import PluginError, import_origin, import_plugins, module_origin
from ..operation.settings import OperationSettings
from ..uncertain_pass import BOUNDED_METHODS
from ..uncertainty.settings import UncertaintySettings
from .encodings import BLOCKS
from .encodings.base import with_candidate_tables
from .genome import Genome
from .presets import PRESETS, PROFILES
from .single_stage import SingleStageGenome

if TYPE_CHECKING:  # the problem module imports this one
    from .planning import PlanningProblem

__all__ = ["ProblemConfig", "entry_pairs"]


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
    operation : OperationSettings or mapping, optional
        Operation options (the spec's ``problem.operation`` block,
        :class:`~fdnmoo.operation.settings.OperationSettings`): PV curtailment, PV
        reactive power, capacitor banks, OLTC; all off by default.
    single_stage : bool
        Seed 000's Case II: one set of decisions, sized for the end of the horizon,
        built in stage 1 and held in every stage
        (:class:`~fdnmoo.problems.single_stage.SingleStageGenome`).
    plugins : tuple of str
        Modules or ``.py`` files (absolute paths) registering objectives,
        constraints or gene blocks (:mod:`fdnmoo.plugins`). They are imported
        when the config is made and, before the problem is rebuilt, in every
        process that builds it (the workers of an evaluator).
    clusters : tuple of int
        Cluster of every ``case.net.bus`` row (-1: none), e.g. a GA–SA partition (the
        spec's ``partition:`` section); stored on the case as ``net.bus.cluster``
        (:mod:`fdnmoo.clusters`) for the blocks and constraints that plan per cluster
        (preset ``zonal``). Empty: no clusters.

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
    operation: Any = None
    single_stage: bool = False
    clusters: tuple = ()
    modules: tuple = field(init=False, default=())

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise the entries once
        set_(self, "plugins", tuple(self.plugins))
        set_(self, "clusters", tuple(int(c) for c in self.clusters))
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
        set_(self, "operation", OperationSettings.from_mapping(self.operation))
        objectives, constraints = self._registry_entries()
        entries = objectives + constraints
        for i, (name, params) in enumerate(entry_pairs(self.blocks)):
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
            items = entry_pairs(given) if given is not None else \
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
        for i, (name, params) in enumerate(entry_pairs(self.blocks)):
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
        data = asdict(self)
        if not self.operation.active:  # the hash of a config without options, as before them
            del data["operation"]
        if not self.single_stage:
            del data["single_stage"]
        if not self.clusters:
            del data["clusters"]
        if self.uncertainty.typical_days is None:
            del data["uncertainty"]["typical_days"]
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()
                              ).hexdigest()[:16]

    def build(self, evaluator=None) -> "PlanningProblem":
        """Load the case and build the problem (the expensive part).

        Imports :attr:`plugins` and :attr:`modules` first (once per process).
        """
        from ..scenarios import ScenarioBatch
        from .planning import PlanningProblem

        import_plugins(self.plugins)
        for origin in self.modules:
            import_origin(origin)
        objectives, constraints = self.resolved_entries()
        preset = PRESETS[self.preset] if self.preset is not None else None
        case = load_case(self.case, **dict(self.case_params))
        horizon = {**dict(preset.horizon if preset else ()), **dict(self.horizon)}
        case = apply_overrides(case, {"horizon": horizon}, "", ("horizon",))
        case = apply_overrides(case, self.case_overrides)
        if self.clusters:
            try:
                case = with_clusters(case, self.clusters)
            except ValueError as exc:
                raise ParameterError("clusters", str(exc)) from None
        unc = self.uncertainty
        if unc.level:
            case = apply_overrides(case, {"uncertainty": {
                f"{kind}_deviation": level for kind, level in unc.level}}, "uncertainty.level")
        blocks = self.gene_blocks(case)
        case = with_candidate_tables(case, blocks, self._block_keys(blocks))
        n_stages = self.n_stages or (preset.n_stages if preset else None) or case.horizon.n_stages
        grid = planning_grid(case)
        genome = self._bind((SingleStageGenome if self.single_stage else Genome)(blocks), grid,
                            n_stages)
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
                 for i, (n, p) in enumerate(entry_pairs(self.blocks))}
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


def entry_pairs(items) -> list[tuple[str, tuple]]:
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
