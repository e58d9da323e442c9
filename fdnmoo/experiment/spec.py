"""Experiment specs: a YAML file parsed into frozen dataclasses.

A spec names a case, a planning problem, an algorithm, a seed, how to
evaluate and where to write results::

    case: ieee33                 # built-in name or path of a case file
    case_params: {}              # parameters of a generated case (synthetic)
    case_overrides:              # changes to the case file's records, checked like it
      economics: {discount_rate: 0.06, prices: {energy_per_mwh: 80.0}}
      limits: {v_min_pu: 0.93}   # the voltage band (uncertainty) and investment budget
    plugins: [my_objectives, extra/terms.py]  # modules / .py files (relative to this file)
    problem:
      preset: joint              # see fdnmoo.problems.planning.PRESETS
      blocks:                    # gene blocks with parameters; with a preset: changes to it
        - {der: {kind: pv, levels: 10, buses: [6, 18, 33], max_mw: 3.0}}
      stages: 3
      profile: daily             # see fdnmoo.problems.planning.PROFILES
      days: 1                    # typical days of the daily profile (default all 4)
      samples: 10                # load/PV samples per time slot
      objectives: [total_cost, {operational_adaptability: {w3: 0.7, w4: 0.3}}]
      constraints: [{voltage_band: {vmin_pu: 0.95, vmax_pu: 1.05}}, line_current]
      options: {w1: 0.5}         # shared by every objective/constraint taking w1
      horizon: {load_growth_per_year: 0.0}  # changes to the case's horizon
      scenario_seed: 0           # seed of the scenario samples
    algorithm:
      name: nsga2                # see ALGORITHMS
      pop_size: 40
      n_gen: 20
      eliminate_duplicates: true # any other option of the pymoo class
    seed: 1                      # seed of the algorithm
    evaluation: {backend: joblib, workers: 2}
    output: results/quickstart

Instead of a case and a planning problem, ``problem: {pymoo: zdt1, n_var: 30}``
names a pymoo benchmark problem (:mod:`fdnmoo.experiment.benchmark`).

Without ``preset`` and ``blocks`` the preset is ``joint``; with ``blocks`` and
no ``preset`` the blocks, objectives (needed) and constraints are the whole
problem. Objectives, constraints and blocks are names or one-key mappings of a
name to parameters (see :class:`fdnmoo.problems.planning.ProblemConfig`).

The keys are listed, with their defaults, in :data:`fdnmoo.experiment.schema.SPEC_KEYS`
(:func:`spec_key_table` renders the README's table). Unknown keys, names,
parameters and values of the wrong type are rejected with a :class:`SpecError`
naming the file and the key (``problem.blocks[0].der.levels``) and suggesting
the closest name. Changes given on the command line (``--set
problem.stages=2``, see :func:`load_spec`) meet the same checks, and their
errors name the ``--set`` too. The scenario seed is separate
from the algorithm seed so that runs with different seeds solve the same
problem (common random numbers).
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..operators import ALGORITHMS, algorithm_entry
from ..parameters import ParameterError
from ..parameters import did_you_mean as _did_you_mean
from ..parameters import freeze
from ..parameters import kind_of as _kind
from ..uncertain_pass import INTERVAL_METHODS
from ..operation.settings import OperationSettings
from ..uncertainty.settings import UncertaintySettings
from .benchmark import BenchmarkProblem, parse_benchmark
from .checking import (BlockNames, Checker, SpecError, blame_setting, parse_with_settings,
                       read_spec_file)
from .clusters import PartitionSettings
from .filtering import FilterError, FilterSettings
from .objective_widths import WidthSettings
from .schema import section_keys, spec_key_table

__all__ = ["ALGORITHMS", "AlgorithmSpec", "EvaluationSpec", "ExperimentSpec", "ProblemSpec",
           "SpecError", "load_spec", "parse_spec", "spec_key_table"]

# Why a required algorithm option is needed, for messages.
_REQUIRED_HINTS = {"ref_points": " (reference points: a list of objective vectors in minimised form: "
                                 "maximised objectives negated)"}

_TOP_KEYS = section_keys()
#: Top keys of the other spec kinds, and the command that runs them.
_OTHER_SPEC_KINDS = {"study": ("a study", "fdnmoo study"),
                     "problems": ("a compare", "fdnmoo compare")}
_PROBLEM_KEYS = section_keys("problem")
# ProblemConfig field -> spec key, for messages
_CONFIG_KEYS = {"n_stages": "problem.stages", "n_days": "problem.days",
                "n_samples": "problem.samples", "seed": "problem.scenario_seed",
                "plugins": "plugins", "case_params": "case_params",
                "case_overrides": "case_overrides", "uncertainty": "uncertainty",
                "clusters": "partition"}
_EVALUATION_KEYS = section_keys("evaluation")


@dataclass(frozen=True)
class ProblemSpec:
    """The ``problem:`` section (``None``: the preset's default).

    ``objectives``, ``constraints`` and ``blocks`` hold entries as written: a
    name, or a one-key mapping of a name to its parameters.
    """

    preset: str | None = "joint"
    stages: int | None = None
    profile: str | None = None
    days: int | None = None
    samples: int = 1
    objectives: tuple | None = None
    constraints: tuple | None = None
    options: tuple[tuple[str, Any], ...] = ()
    scenario_seed: int = 0
    blocks: tuple | None = None
    horizon: tuple[tuple[str, Any], ...] = ()
    operation: OperationSettings = field(default_factory=OperationSettings)
    single_stage: bool = False


@dataclass(frozen=True)
class AlgorithmSpec:
    """The ``algorithm:`` section; ``options`` are further constructor arguments."""

    name: str = "nsga2"
    pop_size: int = 100
    n_gen: int | None = 100
    options: tuple[tuple[str, Any], ...] = ()
    n_eval: int | None = None  # termination: whichever of n_gen, n_eval, max_time comes first
    max_time_s: float | None = None
    # a finished results folder opening the initial population, and the digest of its genomes
    # (:mod:`fdnmoo.experiment.initial_population`)
    initial_from: str | None = None
    initial_digest: str | None = None


@dataclass(frozen=True)
class EvaluationSpec:
    """The ``evaluation:`` section (see :class:`fdnmoo.evaluation.Evaluator`)."""

    backend: str = "serial"
    workers: int = 1
    chunk_size: int | None = None


@dataclass(frozen=True)
class ExperimentSpec:
    """A parsed experiment spec (see the module docstring).

    Attributes
    ----------
    case : str or None
        The case; None for a pymoo benchmark problem (``benchmark``).
    source : str
        File the spec came from (for messages and run metadata).
    case_overrides : tuple
        The ``case_overrides:`` section, frozen (:mod:`fdnmoo.cases.overrides`).
    settings : tuple of str
        The ``KEY=VALUE`` changes applied to the file (``--set``), in order.
    """

    case: str | None
    problem: ProblemSpec = field(default_factory=ProblemSpec)
    algorithm: AlgorithmSpec = field(default_factory=AlgorithmSpec)
    seed: int = 1
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)
    output: str | None = None
    case_params: tuple[tuple[str, Any], ...] = ()
    description: str = ""
    source: str = "<spec>"
    plugins: tuple[str, ...] = ()
    case_overrides: tuple = ()
    settings: tuple[str, ...] = ()
    uncertainty: UncertaintySettings = field(default_factory=UncertaintySettings)
    filter: FilterSettings | None = None
    widths: WidthSettings | None = None
    benchmark: BenchmarkProblem | None = None  # problem: {pymoo: NAME, ...} instead of a case

    partition: PartitionSettings | None = None

    def problem_config(self, clusters: tuple | None = None):
        """The :class:`~fdnmoo.problems.planning.ProblemConfig` of this spec (the
        :class:`~fdnmoo.experiment.benchmark.BenchmarkProblem` of a pymoo problem).

        Parameters
        ----------
        clusters : tuple of int, optional
            Cluster of every ``case.net.bus`` row (the ``partition:`` section's labels,
            :func:`fdnmoo.experiment.clusters.cluster_labels`); with ``partition.islanding``
            they are also the problem option ``islanding_labels``.

        Raises
        ------
        SpecError
            An unknown name, parameter or value, named by its spec key.
        """
        from ..problems.planning import ProblemConfig

        if self.benchmark is not None:
            return self.benchmark
        p = self.problem
        options = p.options
        if clusters is not None and self.partition is not None and self.partition.islanding \
                and "islanding_labels" not in dict(options):
            options = options + (("islanding_labels", tuple(clusters)),)
        with self.spec_errors():
            entry = algorithm_entry(self.algorithm.name)
            penalty = None if entry.constraints else entry.penalty
            return ProblemConfig(case=self.case, preset=p.preset, n_stages=p.stages,
                                 profile=p.profile, n_days=p.days, n_samples=p.samples,
                                 objectives=p.objectives, constraints=p.constraints,
                                 seed=p.scenario_seed, case_params=self.case_params,
                                 options=options, constraint_penalty=penalty,
                                 clusters=tuple(clusters or ()),
                                 blocks=p.blocks, plugins=self.plugins, horizon=p.horizon,
                                 case_overrides=self.case_overrides,
                                 uncertainty=self.uncertainty, operation=p.operation,
                                 single_stage=p.single_stage)

    def build_problem(self, config=None):
        """Build the problem of ``config`` (default: :meth:`problem_config`).

        Raises
        ------
        SpecError
            A block or candidate override the case refuses (unknown bus, ...),
            named by its spec key.
        """
        config = self.problem_config() if config is None else config
        with self.spec_errors():
            return config.build()

    @contextmanager
    def spec_errors(self):
        """Re-raise a :class:`~fdnmoo.parameters.ParameterError` of the problem config
        (also one raised while plans are evaluated, e.g. a price an objective needs)
        as a :class:`SpecError` naming this spec's file and key."""
        try:
            yield
        except ParameterError as exc:
            head, _, rest = exc.key.partition(".")
            head, bracket, index = head.partition("[")
            key = _CONFIG_KEYS.get(head, f"problem.{head}") + bracket + index
            raise blame_setting(SpecError(self.source, key + (f".{rest}" if rest else ""),
                                          exc.message), self.settings) from None

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (YAML/JSON-able), as it would be written."""
        from ..cases.overrides import overrides_as_dict

        p, a, e = self.problem, self.algorithm, self.evaluation
        problem = {k: v for k, v in (
            ("preset", p.preset), ("blocks", _plain_entries(p.blocks)),
            ("stages", p.stages), ("profile", p.profile),
            ("days", p.days), ("samples", p.samples),
            ("objectives", _plain_entries(p.objectives)),
            ("constraints", _plain_entries(p.constraints)),
            ("options", dict(p.options)), ("horizon", dict(p.horizon) or None),
            ("scenario_seed", p.scenario_seed),
            ("operation", p.operation.as_dict() if p.operation.active else None),
            ("single_stage", p.single_stage or None)) if v is not None}
        if self.benchmark is not None:
            problem = self.benchmark.as_dict()
        return {"case": self.case, "case_params": dict(self.case_params),
                "case_overrides": overrides_as_dict(self.case_overrides),
                "plugins": list(self.plugins), "problem": problem,
                "algorithm": {"name": a.name, "pop_size": a.pop_size, "n_gen": a.n_gen,
                              **_termination_keys(a), **dict(a.options)},
                "seed": self.seed,
                "evaluation": {"backend": e.backend, "workers": e.workers,
                               "chunk_size": e.chunk_size},
                "output": self.output, "description": self.description,
                "uncertainty": self.uncertainty.as_dict(),
                **({"filter": self.filter.as_dict()} if self.filter is not None else {}),
                **({"partition": self.partition.as_dict()} if self.partition is not None
                   else {}),
                **({"widths": self.widths.as_dict()} if self.widths is not None else {})}

    @property
    def run_hash(self) -> str:
        """Hash of what determines the results: problem, algorithm and seed.

        Evaluation backend, workers and output folder do not change results and
        are left out, so a run may be resumed with other workers.
        """
        d = self.to_dict()
        payload = {k: d[k] for k in ("case", "case_params", "problem", "algorithm", "seed")}
        if self.plugins:  # what the plug-ins' entries compute is part of the problem
            payload["plugins"] = d["plugins"]
        if self.case_overrides:  # absent when empty: hashes of older runs stay valid
            payload["case_overrides"] = d["case_overrides"]
        if self.uncertainty != UncertaintySettings():  # likewise, and typical_days too
            payload["uncertainty"] = {k: v for k, v in d["uncertainty"].items()
                                      if v is not None or k != "typical_days"}
        if self.partition is not None:  # likewise
            payload["partition"] = d["partition"]
        if self.algorithm.initial_from is not None:  # likewise; its genomes, not its path
            payload["algorithm"] = {**d["algorithm"],
                                    "initial_from": self.algorithm.initial_digest}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def output_dir(self) -> Path:
        """``output`` or ``results/<spec file stem>`` (relative to the working directory)."""
        if self.output:
            return Path(self.output)
        stem = Path(self.source).stem if self.source and not self.source.startswith("<") \
            else "experiment"
        return Path("results") / stem


# -- loading ----------------------------------------------------------------------------
def load_spec(path: str | Path, settings: tuple[str, ...] | list[str] = ()) -> ExperimentSpec:
    """Read and validate a YAML spec file, with the command line's changes.

    Parameters
    ----------
    path : str or Path
    settings : sequence of str
        ``KEY=VALUE`` changes written into the file's data before it is
        checked (``fdnmoo run --set``): a dotted key (``problem.stages``,
        ``algorithm.pop_size``, ``case_overrides.economics.discount_rate``) and
        a YAML value; later ones win.

    Raises
    ------
    SpecError
        Missing or unreadable file, invalid YAML, unknown key, wrong type or
        unknown name; the message starts with ``<file>: <key>:`` and ends with
        ``(--set KEY=VALUE)`` when a setting wrote the key.
    """
    path = Path(path)
    return parse_spec(read_spec_file(path), source=str(path), base_dir=path.parent,
                      settings=settings)


def parse_spec(data: Any, source: str = "<spec>", base_dir: str | Path | None = None,
               settings: tuple[str, ...] | list[str] = ()) -> ExperimentSpec:
    """Validate plain data (a parsed YAML mapping) into an :class:`ExperimentSpec`.

    Parameters
    ----------
    data : dict
    source : str
        Name used in error messages.
    base_dir : path, optional
        Directory relative case paths are resolved against (the spec's folder)
        when the case is not a built-in name.
    settings : sequence of str
        ``KEY=VALUE`` changes (see :func:`load_spec`).
    """
    settings = tuple(settings)
    return parse_with_settings(lambda d: _parse(d, source, base_dir, settings), data, source,
                               settings)


def _parse(data: Any, source: str, base_dir: str | Path | None, settings: tuple[str, ...]
           ) -> ExperimentSpec:
    check = Checker(source)
    for key, (kind, command) in _OTHER_SPEC_KINDS.items():
        if isinstance(data, dict) and key in data:
            raise SpecError(source, key, f"this is {kind} spec, not a run spec: "
                            f"run it with `{command} {source}`")
    data = check.mapping(data, "", _TOP_KEYS)
    benchmark = _benchmark(check, data)
    if benchmark is not None:
        case = None
    elif "case" not in data:
        raise SpecError(source, "case", "missing (a built-in case name or a case file path, "
                                        "or problem: {pymoo: NAME} for a pymoo problem)")
    else:
        case = _resolve_case(check.string(data["case"], "case"), base_dir, source)
    case_params = check.mapping(data.get("case_params", {}) or {}, "case_params", None)
    case_overrides = check.mapping(data.get("case_overrides", {}) or {}, "case_overrides", None)
    plugins = _plugins(check, data.get("plugins", []) or [], base_dir)  # before the names
    problem = ProblemSpec() if benchmark is not None else \
        _problem(check, data.get("problem", {}) or {})
    algorithm = _algorithm(check, data.get("algorithm", {}) or {}, base_dir)
    evaluation = _evaluation(check, data.get("evaluation", {}) or {})
    seed = check.integer(data.get("seed", 1), "seed", minimum=0)
    output = data.get("output")
    output = None if output is None else check.string(output, "output")
    description = check.string(data.get("description", "") or "", "description")
    try:
        uncertainty = UncertaintySettings.from_mapping(
            check.mapping(data.get("uncertainty", {}) or {}, "uncertainty", None)
        ).with_data_base(base_dir)  # uncertainty.data relative to the spec, like case
    except ParameterError as exc:
        raise SpecError(source, exc.key, exc.message) from None
    spec = ExperimentSpec(uncertainty=uncertainty, case=case, problem=problem, algorithm=algorithm, seed=seed,
                          evaluation=evaluation, output=output,
                          case_params=tuple(sorted(case_params.items())),
                          description=description, source=source, plugins=plugins,
                          case_overrides=freeze(case_overrides), settings=settings,
                          filter=FilterSettings.parse(check, data.get("filter")),
                          widths=WidthSettings.parse(check, data.get("widths")),
                          benchmark=benchmark,
                          partition=PartitionSettings.parse(data.get("partition"), source,
                                                            base_dir))
    config = spec.problem_config()  # parameters and values of the composition, named by key
    if spec.filter is not None:
        try:
            spec.filter.check(len(config.resolved_entries()[0]),
                              uncertainty.method in INTERVAL_METHODS)
        except FilterError as exc:
            raise SpecError(source, f"filter.{exc.key}" if exc.key else "filter",
                            exc.message) from None
    return spec


# what only a planning problem has (a pymoo benchmark problem refuses it)
_PLANNING_ONLY = ("case", "case_params", "case_overrides", "uncertainty", "filter", "widths")


def _benchmark(check: "Checker", data: dict) -> BenchmarkProblem | None:
    """The pymoo problem of ``problem: {pymoo: NAME, ...}``, or None for a planning one."""
    problem = data.get("problem")
    if not isinstance(problem, dict) or "pymoo" not in problem:
        return None
    for key in _PLANNING_ONLY:
        if key in data:
            raise check.fail(key, "a pymoo problem (problem.pymoo) has no case and no planning "
                                  "sections; remove it")
    return parse_benchmark(check, problem)


def _resolve_case(case: str, base_dir: str | Path | None, source: str) -> str:
    from ..cases import available_cases

    if case in available_cases():
        return case
    path = Path(case)
    if not path.is_absolute() and base_dir is not None and (Path(base_dir) / path).is_file():
        return str(Path(base_dir) / path)
    if path.is_file():
        return case
    raise SpecError(source, "case", f"unknown case {case!r}; available cases are "
                    f"{', '.join(available_cases())} (or give the path of a case file)")


def _problem(check: "Checker", data: Any) -> ProblemSpec:
    from ..objectives import CONSTRAINTS, OBJECTIVES
    from ..problems.encodings import BLOCKS
    from ..problems.planning import PRESETS, PROFILES

    data = check.mapping(data, "problem", _PROBLEM_KEYS)
    blocks = data.get("blocks")
    preset = data.get("preset", None if blocks is not None else "joint")
    if preset is not None:
        preset = check.string(preset, "problem.preset")
        if preset not in PRESETS:
            raise SpecError(check.source, "problem.preset",
                            f"unknown preset {preset!r}{_did_you_mean(preset, PRESETS)}; "
                            f"presets are {', '.join(PRESETS)}")
    stages = data.get("stages")
    profile = data.get("profile")
    days = data.get("days")
    objectives = data.get("objectives")
    constraints = data.get("constraints")
    if objectives is not None:
        objectives = check.entries(objectives, "problem.objectives", OBJECTIVES, min_len=1)
    elif preset is None:
        raise SpecError(check.source, "problem.objectives",
                        "missing: a problem composed of blocks without a preset needs objectives")
    if constraints is not None:
        constraints = check.entries(constraints, "problem.constraints", CONSTRAINTS, min_len=0)
    if blocks is not None:
        blocks = check.entries(blocks, "problem.blocks", BlockNames(BLOCKS), min_len=1,
                               unique=False)
    return ProblemSpec(
        preset=preset, blocks=blocks,
        stages=None if stages is None else check.integer(stages, "problem.stages", minimum=1),
        profile=None if profile is None else check.choice(profile, "problem.profile", PROFILES),
        days=None if days is None else check.integer(days, "problem.days", minimum=1),
        samples=check.integer(data.get("samples", 1), "problem.samples", minimum=1),
        objectives=objectives, constraints=constraints,
        options=tuple(sorted(check.mapping(data.get("options", {}) or {}, "problem.options",
                                           None).items())),
        horizon=tuple(sorted(check.mapping(data.get("horizon", {}) or {}, "problem.horizon",
                                           None).items())),
        scenario_seed=check.integer(data.get("scenario_seed", 0), "problem.scenario_seed",
                                    minimum=0),
        operation=_operation(check, data.get("operation")),
        single_stage=check.typed(data.get("single_stage", False), "problem.single_stage", bool))


def _operation(check: "Checker", data: Any) -> OperationSettings:
    try:
        return OperationSettings.from_mapping(data, "problem.operation")
    except ParameterError as exc:
        raise SpecError(check.source, exc.key, exc.message) from None


def _plugins(check: "Checker", data: Any, base_dir: str | Path | None) -> tuple[str, ...]:
    """Plug-in names and absolute file paths, each imported here (errors name the value)."""
    from ..plugins import PluginError, import_plugin, resolve_plugin

    if not isinstance(data, list):
        raise check.fail("plugins", f"expected a list of module names or .py files, got "
                                    f"{_kind(data)}")
    out = []
    for i, item in enumerate(data):
        check.string(item, f"plugins[{i}]")
        resolved = resolve_plugin(item, base_dir)
        try:
            import_plugin(resolved)
        except PluginError as exc:
            raise check.fail("plugins", f"cannot import {item!r}"
                                        f"{f' ({resolved})' if resolved != item else ''}: "
                                        f"{str(exc).split(': ', 1)[-1]}") from None
        out.append(resolved)
    return tuple(out)


def _algorithm(check: "Checker", data: Any, base_dir: str | Path | None = None
               ) -> AlgorithmSpec:
    data = check.mapping(data, "algorithm", None)
    name = check.choice(data.get("name", "nsga2"), "algorithm.name", tuple(sorted(ALGORITHMS)))
    entry = algorithm_entry(name)
    pop_size = check.integer(data.get("pop_size", 100), "algorithm.pop_size", minimum=2)
    n_eval = data.get("n_eval")
    if n_eval is not None:
        n_eval = check.integer(n_eval, "algorithm.n_eval", minimum=1)
    max_time_s = _max_time(check, data.get("max_time"))
    # n_gen defaults to 100 only when no other termination is given
    n_gen = data.get("n_gen", 100 if n_eval is None and max_time_s is None else None)
    if n_gen is not None:
        n_gen = check.integer(n_gen, "algorithm.n_gen", minimum=1)
    elif n_eval is None and max_time_s is None:
        raise check.fail("algorithm.n_gen", "no termination: give n_gen, n_eval or max_time")
    allowed = entry.options()
    options = {}
    for key, value in data.items():
        if key in _TERMINATION_KEYS or key == "initial_from":
            continue
        where = f"algorithm.{key}"
        if key not in allowed:
            known = [*_TERMINATION_KEYS, "initial_from", *sorted(allowed)]
            raise SpecError(check.source, where,
                            f"unknown option of {name}{_did_you_mean(key, known)}; options are "
                            f"{', '.join(known)}")
        options[key] = check.typed(value, where, allowed[key])
    for key in entry.required:
        if key not in options:
            raise SpecError(check.source, f"algorithm.{key}", f"{name} needs {key}"
                            + _REQUIRED_HINTS.get(key, ""))
    initial_from = initial_digest = None
    if data.get("initial_from") is not None:
        from .initial_population import parse_initial_from

        initial_from, initial_digest = parse_initial_from(check, data["initial_from"], base_dir)
    return AlgorithmSpec(name=name, pop_size=pop_size, n_gen=n_gen, n_eval=n_eval,
                         max_time_s=max_time_s, options=tuple(sorted(options.items())),
                         initial_from=initial_from, initial_digest=initial_digest)


_TERMINATION_KEYS = ("name", "pop_size", "n_gen", "n_eval", "max_time")


def _max_time(check: "Checker", value: Any) -> float | None:
    """``algorithm.max_time`` in seconds: a positive number or ``"HH:MM:SS"`` (``"MM:SS"``)."""
    from pymoo.util.misc import time_to_int

    key = "algorithm.max_time"
    if value is None:
        return None
    if isinstance(value, str):
        if not re.fullmatch(r"\d+(:[0-5]?\d){0,2}", value.strip()):
            raise check.fail(key, f"expected seconds or 'HH:MM:SS', got {value!r}")
        value = time_to_int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise check.fail(key, f"expected a positive number of seconds or 'HH:MM:SS', "
                              f"got {value!r}")
    return float(value)


def _termination_keys(a: AlgorithmSpec) -> dict:
    # absent when unset: run hashes of specs without them stay valid
    return {k: v for k, v in (("n_eval", a.n_eval), ("max_time", a.max_time_s),
                              ("initial_from", a.initial_from)) if v is not None}


def _evaluation(check: "Checker", data: Any) -> EvaluationSpec:
    from ..evaluation import BACKENDS

    data = check.mapping(data, "evaluation", _EVALUATION_KEYS)
    chunk = data.get("chunk_size")
    return EvaluationSpec(
        backend=check.choice(data.get("backend", "serial"), "evaluation.backend", BACKENDS),
        workers=check.integer(data.get("workers", 1), "evaluation.workers", minimum=1),
        chunk_size=None if chunk is None else check.integer(chunk, "evaluation.chunk_size",
                                                            minimum=1))


def _plain_entries(entries) -> list | None:
    """Entries as written (names and ``{name: {parameter: value}}``), or None."""
    return None if entries is None else [e if isinstance(e, str) else dict(e) for e in entries]
