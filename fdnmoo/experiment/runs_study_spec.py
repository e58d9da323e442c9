"""The spec of a study over run specs (``fdnmoo study SPEC.yaml``), set beside a paper's figures.

Such a study runs ordinary run specs (``fdnmoo run`` files) and tabulates their chosen
solutions; its ``study`` key names what it compares:

``schemes``
    One run per planning scheme and system; the table gives every scheme's cost and its
    ratio to scheme 1 beside the paper's (:mod:`fdnmoo.experiment.scheme_study`).
``scenario_reduction``
    Every run once per reduction of its fitted daily scenarios (``uncertainty.reduction``
    set to each of ``reductions``); the tables give the reductions' time, k and
    Kantorovich distance and the resulting costs, beside the paper's
    (:mod:`fdnmoo.experiment.reduction_study`).
``cases``
    One run per case of a paper (``paper_case``: its label, e.g. ``I``); the tables give
    the chosen solution's plan and costs per stage and the case comparison beside the
    published figures (:mod:`fdnmoo.experiment.case_study`; seed 000's Tables 1 and 2).

Keys::

    study: schemes                        # or scenario_reduction
    published: published/s001_copula.yaml # the paper's figures (relative to this file)
    runs:                                 # run specs, relative to this file
      - {label: ieee33 scheme 1, spec: s001_scheme1_ieee33.yaml, system: 25-bus, scheme: 1}
    settings: [algorithm.n_gen=2]         # --set changes for every run (fast variants)
    reductions: [kmeans, backward]        # scenario_reduction only
    typical_days: [4]                     # scenario_reduction only: more fixed k to reduce to
    validation_samples: 20000             # cases only: Monte Carlo check of the chance
                                          # constraints of each chosen plan (0: none)
    output: results/my_study              # default results/<spec file stem>

A ``cases`` run may take ``user_allocation`` (:mod:`fdnmoo.experiment.user_allocation`): its
chosen plan completed by random draws of the blocks another run spec's problem has and it
lacks, evaluated on that problem (with the study's and the run's settings)::

    runs:
      - {label: case VI, spec: s000_case6.yaml, paper_case: VI,
         user_allocation: {evaluate_on: s000_case1.yaml, draws: 20, seed: 7}}

A ``cases`` run may also take ``initial_from: <label>``, the label of an earlier run of the
same study: its results folder becomes the run's ``algorithm.initial_from``
(:mod:`fdnmoo.experiment.initial_population`; seed 000's Case VII starts from Case I)::

      - {label: case VII, spec: s000_case7.yaml, paper_case: VII, initial_from: case I}

A run's own ``settings`` are applied after the study's (``cases``: the same spec at several
``uncertainty.gamma``, say).
``system`` names the paper's system whose figures a run stands beside (a key of the
published file), ``scheme`` the paper's scheme number (``schemes`` studies need both).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..parameters import did_you_mean as _did_you_mean
from ..uncertainty.settings import REDUCTIONS
from .checking import Checker, parse_with_settings, read_spec_file
from .user_allocation import UserAllocation, parse_user_allocation

__all__ = ["RUNS_STUDY_KINDS", "RunsStudySpec", "StudyRun", "load_runs_study",
           "parse_runs_study"]

#: Values of the ``study`` key this module reads.
RUNS_STUDY_KINDS = ("schemes", "scenario_reduction", "cases")
_TOP_KEYS = ("study", "published", "runs", "settings", "reductions", "typical_days",
             "validation_samples", "output")
_RUN_KEYS = ("label", "spec", "system", "scheme", "paper_case", "settings", "user_allocation",
             "initial_from")
_REDUCTION_ONLY = ("reductions", "typical_days")


@dataclass(frozen=True)
class StudyRun:
    """One run spec of a study: ``label``, ``spec`` (path), ``system``, ``scheme``,
    ``paper_case``, the run's own ``settings``, its ``user_allocation`` and ``initial_from``
    (the label of an earlier run)."""

    label: str
    spec: str
    system: str | None = None
    scheme: int | None = None
    paper_case: str | None = None
    settings: tuple = ()
    user_allocation: UserAllocation | None = None
    initial_from: str | None = None


@dataclass(frozen=True)
class RunsStudySpec:
    """A validated study over run specs (see the module docstring for the keys)."""

    kind: str
    runs: tuple
    settings: tuple = ()
    published: str | None = None
    reductions: tuple = ("kmeans", "backward")
    typical_days: tuple = ()
    validation_samples: int = 0
    output: str | None = None
    source: str = "<spec>"

    def output_dir(self) -> Path:
        """``output`` or ``results/<spec file stem>`` (relative to the working directory)."""
        if self.output:
            return Path(self.output)
        return Path("results") / (Path(self.source).stem if not self.source.startswith("<")
                                  else self.kind)

    def published_figures(self) -> dict:
        """The published file's content (``{}`` without one)."""
        import yaml

        return yaml.safe_load(Path(self.published).read_text()) if self.published else {}


def load_runs_study(path: str | Path, settings: tuple[str, ...] | list[str] = ()) -> RunsStudySpec:
    """Read and validate a study YAML file, with ``--set KEY=VALUE`` changes.

    Raises
    ------
    SpecError
        Missing file, invalid YAML, unknown key (with the closest allowed one), a run
        spec or published file that does not exist, wrong type or value.
    """
    path = Path(path)
    return parse_runs_study(read_spec_file(path), source=str(path), base_dir=path.parent, settings=settings)


def parse_runs_study(data: Any, source: str = "<spec>", base_dir: str | Path | None = None,
                     settings: tuple[str, ...] | list[str] = ()) -> RunsStudySpec:
    """Validate parsed YAML into a :class:`RunsStudySpec` (see :func:`load_runs_study`)."""
    base = Path(base_dir) if base_dir is not None else Path(".")
    return parse_with_settings(lambda d: _parse(d, source, base), data, source, settings)


def _file(check: Checker, value: Any, key: str, base: Path) -> str:
    path = base / check.string(value, key)
    if not path.is_file():
        raise check.fail(key, f"no such file {str(path)!r}")
    return str(path)


def _earlier_label(check: Checker, value: Any, key: str, earlier: list[str]) -> str | None:
    """``value`` if it is the label of an earlier run (``earlier``), None for None."""
    if value is None:
        return None
    value = check.string(value, key)
    if value not in earlier:
        raise check.fail(key, f"{value!r} is not the label of an earlier run"
                              f"{_did_you_mean(value, earlier)}; earlier runs: "
                              f"{', '.join(map(repr, earlier)) or 'none'}")
    return value


def _settings(check: Checker, value: Any, key: str) -> tuple:
    """A list of ``KEY=VALUE`` strings."""
    value = value or []
    if not isinstance(value, list):
        raise check.fail(key, "expected a list of KEY=VALUE strings")
    value = tuple(check.string(s, f"{key}[{i}]") for i, s in enumerate(value))
    for i, s in enumerate(value):
        if "=" not in s:
            raise check.fail(f"{key}[{i}]", f"expected KEY=VALUE, got {s!r}")
    return value


def _parse(data: Any, source: str, base: Path) -> RunsStudySpec:
    check = Checker(source)
    data = check.mapping(data, "", _TOP_KEYS)
    kind = data.get("study")
    if kind not in RUNS_STUDY_KINDS:
        raise check.fail("study", f"expected one of {', '.join(RUNS_STUDY_KINDS)}, got {kind!r}")
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise check.fail("runs", "expected a non-empty list of {label, spec, system, scheme}")
    parsed = []
    for i, run in enumerate(runs):
        key = f"runs[{i}]"
        run = check.mapping(run, key, _RUN_KEYS)
        needs = {"schemes": ("system", "scheme"), "cases": ("paper_case",)}.get(kind, ())
        for need in ("label", "spec") + needs:
            if need not in run:
                raise check.fail(f"{key}.{need}", f"missing (a {kind} run needs "
                                 f"{', '.join(k for k in _RUN_KEYS if k in run or k == need)})")
        for only in ("user_allocation", "initial_from"):
            if only in run and kind != "cases":
                raise check.fail(f"{key}.{only}", "only a cases study takes this key")
        parsed.append(StudyRun(
            label=check.string(run["label"], f"{key}.label"),
            spec=_file(check, run["spec"], f"{key}.spec", base),
            system=None if run.get("system") is None else check.string(run["system"], f"{key}.system"),
            scheme=None if run.get("scheme") is None else check.integer(run["scheme"], f"{key}.scheme", 1),
            paper_case=None if run.get("paper_case") is None
            else check.string(run["paper_case"], f"{key}.paper_case"),
            settings=_settings(check, run.get("settings", []), f"{key}.settings"),
            user_allocation=None if run.get("user_allocation") is None else
            parse_user_allocation(check, run["user_allocation"], f"{key}.user_allocation", base),
            initial_from=_earlier_label(check, run.get("initial_from"), f"{key}.initial_from",
                                        [r.label for r in parsed])))
    labels = [r.label for r in parsed]
    if len(set(labels)) != len(labels):
        raise check.fail("runs", "labels must not repeat")
    extra = _settings(check, data.get("settings", []), "settings")
    if kind != "scenario_reduction":
        for name in _REDUCTION_ONLY:
            if name in data:
                raise check.fail(name, "only a scenario_reduction study takes this key")
    reductions = data.get("reductions", ["kmeans", "backward"])
    if not isinstance(reductions, list) or not reductions:
        raise check.fail("reductions", "expected a non-empty list of kmeans, backward")
    reductions = tuple(check.choice(r, f"reductions[{i}]", REDUCTIONS[1:])
                       for i, r in enumerate(reductions))
    if len(set(reductions)) != len(reductions):
        raise check.fail("reductions", "reductions must not repeat")
    typical = data.get("typical_days", []) or []
    if not isinstance(typical, list):
        raise check.fail("typical_days", "expected a list of integers >= 1")
    typical = tuple(check.integer(k, f"typical_days[{i}]", 1) for i, k in enumerate(typical))
    if kind != "cases" and "validation_samples" in data:
        raise check.fail("validation_samples", "only a cases study takes this key")
    validation = check.integer(data.get("validation_samples", 0), "validation_samples", 0)
    published = data.get("published")
    output = data.get("output")
    return RunsStudySpec(
        kind=kind, runs=tuple(parsed), settings=extra, reductions=reductions,
        typical_days=typical, validation_samples=validation,
        published=None if published is None else _file(check, published, "published", base),
        output=None if output is None else check.string(output, "output"), source=source)
