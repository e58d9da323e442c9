"""The spec of an uncertainty-bounds study (``fdnmoo study SPEC.yaml``).

A bounds study is an analysis of fixed plans, not an optimisation: for every
case, the operating topology of its plan is solved under every load at
``+-level`` around its forecast, in affine arithmetic, interval arithmetic and
by Monte Carlo, and the bounds are compared (:mod:`fdnmoo.experiment.bounds_study`).
Its YAML file says so with ``study: uncertainty_bounds``::

    study: uncertainty_bounds
    cases: [md24, ieee33]           # built-in names or case file paths
    plans:                          # optional; default: every case's base topology
      ieee33: {closed_lines: [0, 1, ...]}   # net.line labels in service, the rest open
    levels: [0.05, 0.1, 0.2]        # relative half-width of every load's interval
    methods: [affine, interval, montecarlo]
    samples: 10000                  # Monte Carlo: uniform in the box, plus its 2 vertices
    slots: peak                     # peak | daily
    seed: 0
    output: results/my_study        # default results/<spec file stem>

``slots: peak`` takes the forecast of the typical day's peak slot (the first
stage's demand of the daily profile merged into one day), ``daily`` all 24
slots of that day, solved in one batch (the plots show the slot of the largest
|V| width).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checking import Checker, SpecError, parse_with_settings, read_spec_file

__all__ = ["BoundsStudySpec", "load_bounds_study", "parse_bounds_study", "METHODS", "SLOTS",
           "STUDY_KIND"]

#: The value of the ``study`` key.
STUDY_KIND = "uncertainty_bounds"
#: Methods in the order they are reported.
METHODS = ("affine", "interval", "montecarlo")
#: Choices of ``slots``.
SLOTS = ("peak", "daily")
_TOP_KEYS = ("study", "cases", "plans", "levels", "methods", "samples", "slots", "seed", "output")
_PLAN_KEYS = ("closed_lines",)


@dataclass(frozen=True)
class BoundsStudySpec:
    """A validated bounds-study spec (see the module docstring for the keys).

    Attributes
    ----------
    cases : tuple of str
        Built-in case names or case file paths.
    closed_lines : dict
        Case -> tuple of ``net.line`` labels (of the planning grid) in service;
        a case not in it runs on its base topology.
    levels : tuple of float
    methods : tuple of str
    samples : int
    slots : str
    seed : int
    output : str or None
    source : str
    """

    cases: tuple
    closed_lines: dict = field(default_factory=dict)
    levels: tuple = (0.05, 0.1, 0.2)
    methods: tuple = METHODS
    samples: int = 10_000
    slots: str = "peak"
    seed: int = 0
    output: str | None = None
    source: str = "<spec>"

    def output_dir(self) -> Path:
        """``output`` or ``results/<spec file stem>`` (relative to the working directory)."""
        if self.output:
            return Path(self.output)
        stem = Path(self.source).stem if not self.source.startswith("<") else "bounds_study"
        return Path("results") / stem


def load_bounds_study(path: str | Path, settings: tuple[str, ...] | list[str] = ()
                      ) -> BoundsStudySpec:
    """Read and validate a bounds-study YAML file, with ``--set KEY=VALUE`` changes.

    Raises
    ------
    SpecError
        Missing file, invalid YAML, unknown key (with the closest allowed one),
        wrong type or value; the message starts with ``<file>: <key>:``.
    """
    path = Path(path)
    return parse_bounds_study(read_spec_file(path), source=str(path), base_dir=path.parent, settings=settings)


def parse_bounds_study(data: Any, source: str = "<spec>", base_dir: str | Path | None = None,
                       settings: tuple[str, ...] | list[str] = ()) -> BoundsStudySpec:
    """Validate parsed YAML into a :class:`BoundsStudySpec` (see :func:`load_bounds_study`)."""
    return parse_with_settings(lambda d: _parse(d, source, base_dir), data, source, settings)


def _parse(data: Any, source: str, base_dir) -> BoundsStudySpec:
    from .spec import _resolve_case

    check = Checker(source)
    data = check.mapping(data, "", _TOP_KEYS)
    if data.get("study") != STUDY_KIND:
        raise check.fail("study", f"expected {STUDY_KIND!r} (a bounds study), got "
                                  f"{data.get('study')!r}; optimisation specs run with fdnmoo run")
    cases = data.get("cases")
    if not isinstance(cases, list) or not cases:
        raise check.fail("cases", "expected a non-empty list of case names or case file paths")
    names = tuple(check.string(c, f"cases[{i}]") for i, c in enumerate(cases))
    if len(set(names)) != len(names):
        raise check.fail("cases", "cases must not repeat")
    for i, name in enumerate(names):
        try:
            _resolve_case(name, base_dir, source)
        except SpecError as exc:
            raise check.fail(f"cases[{i}]", exc.message) from None
    resolved = {n: _resolve_case(n, base_dir, source) for n in names}
    plans = check.mapping(data.get("plans", {}) or {}, "plans", names)
    closed = {}
    for name, plan in plans.items():
        plan = check.mapping(plan, f"plans.{name}", _PLAN_KEYS)
        key = f"plans.{name}.closed_lines"
        lines = plan.get("closed_lines")
        if not isinstance(lines, list) or not lines:
            raise check.fail(key, "expected a non-empty list of net.line labels")
        closed[resolved[name]] = tuple(check.integer(x, f"{key}[{i}]", 0)
                                       for i, x in enumerate(lines))
    levels = data.get("levels", [0.05, 0.1, 0.2])
    if not isinstance(levels, list) or not levels:
        raise check.fail("levels", "expected a non-empty list of numbers in (0, 1)")
    levels = tuple(check.typed(v, f"levels[{i}]", float) for i, v in enumerate(levels))
    for i, v in enumerate(levels):
        if not 0.0 < v < 1.0:
            raise check.fail(f"levels[{i}]", f"must lie in (0, 1) (0.1 is +-10 %), got {v}")
    if list(levels) != sorted(set(levels)):
        raise check.fail("levels", "must be increasing, without repeats")
    methods = data.get("methods", list(METHODS))
    if not isinstance(methods, list) or not methods:
        raise check.fail("methods", f"expected a non-empty list of {', '.join(METHODS)}")
    methods = [check.choice(m, f"methods[{i}]", METHODS) for i, m in enumerate(methods)]
    if len(set(methods)) != len(methods):
        raise check.fail("methods", "methods must not repeat")
    output = data.get("output")
    return BoundsStudySpec(
        cases=tuple(resolved.values()), closed_lines=closed, levels=levels,
        methods=tuple(m for m in METHODS if m in methods),
        samples=check.integer(data.get("samples", 10_000), "samples", 1),
        slots=check.choice(data.get("slots", "peak"), "slots", SLOTS),
        seed=check.integer(data.get("seed", 0), "seed", 0),
        output=None if output is None else check.string(output, "output"), source=source)
