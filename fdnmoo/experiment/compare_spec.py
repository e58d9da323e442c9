"""Compare specs: a grid of problems x algorithms x seeds, each cell a normal run spec.

::

    description: two algorithms on the 33-bus feeder
    problems:                        # a name and a run-spec fragment, or a run spec's path
      - {name: ieee33-reconf, case: ieee33, problem: {preset: reconfiguration}}
      - {name: md24, spec: md24_expansion.yaml}   # relative to this file
    algorithms:                      # a label and an algorithm: section (no termination)
      - {label: nsga2, algorithm: {name: nsga2, pop_size: 20}}
      - {label: smsemoa, algorithm: {name: smsemoa, pop_size: 20}}
    references:                      # optional, pymoo benchmark problems only: pymoo's
      - {label: pymoo-nsga2, pymoo: NSGA2, pop_size: 20}   # class run by minimize directly
    seeds: 11                        # a count (seeds 1..11) or a list
    budget: {n_eval: 2000}           # the same for every algorithm; n_gen, max_time optional
    evaluation: {backend: serial}    # inside each run (of a one-worker grid)
    grid: {workers: 2}               # runs in parallel (joblib), or scheduler: ADDRESS (Dask)
    output: results/compare

Every cell is parsed by :func:`fdnmoo.experiment.spec.parse_spec` with its
results folder ``<output>/runs/<problem>/<label>/seed_<s>``; its errors name
the compare spec, the cell and the run-spec key. The budget replaces the
termination of every algorithm, so that a steady-state variant and a
generational one get the same number of evaluations. A grid of several
workers, or on a Dask scheduler, is parallel across cells: each cell then
evaluates serially, whatever ``evaluation:`` says (one-worker grids use it).
A problem may be a pymoo benchmark (``{name: zdt1, problem: {pymoo: zdt1}}``,
:mod:`fdnmoo.experiment.benchmark`); ``references:`` then adds pymoo's own
algorithms run directly (:mod:`fdnmoo.experiment.pymoo_reference`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checking import Checker, read_spec_file
from .pymoo_reference import PYMOO_CLASSES, ReferenceCell
from .spec import ExperimentSpec, parse_spec

__all__ = ["Cell", "CompareSpec", "load_compare_spec", "parse_compare_spec"]

_TOP_KEYS = ("description", "problems", "algorithms", "references", "seeds", "budget",
             "evaluation", "grid", "output")
_REFERENCE_KEYS = ("label", "pymoo", "pop_size")
_BUDGET_KEYS = ("n_eval", "n_gen", "max_time")
_GRID_KEYS = ("workers", "scheduler")
_ALGORITHM_ENTRY_KEYS = ("label", "algorithm")
# run-spec keys a problem fragment may not set: the grid decides them
_GRID_DECIDES = ("algorithm", "seed", "output", "evaluation")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Cell:
    """One run of the grid: problem name, algorithm label, seed and its run spec."""

    problem: str
    algorithm: str
    seed: int
    spec: ExperimentSpec

    @property
    def folder(self) -> Path:
        return Path(self.spec.output)

    @property
    def run_hash(self) -> str:
        return self.spec.run_hash


@dataclass(frozen=True)
class CompareSpec:
    """A parsed compare spec (see the module docstring).

    Attributes
    ----------
    cells : tuple of Cell
        Problems x algorithms x seeds, in that order.
    references : tuple of ReferenceCell
        Problems x references x seeds: pymoo's algorithms run directly.
    workers : int
        Runs in parallel on this machine (joblib).
    scheduler : str or None
        Address of a Dask scheduler to run the cells on instead.
    """

    source: str
    output: Path
    cells: tuple[Cell, ...]
    problems: tuple[str, ...]
    algorithms: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: tuple[tuple[str, Any], ...]
    workers: int = 1
    scheduler: str | None = None
    description: str = ""
    references: tuple[ReferenceCell, ...] = ()


def load_compare_spec(path: str | Path, output: str | Path | None = None) -> CompareSpec:
    """Read and check a compare spec file (``output`` overrides its ``output:``).

    Raises
    ------
    SpecError
        Missing file, invalid YAML, an unknown key or a bad value, named by
        file and key (a cell's run-spec errors also name the cell).
    """
    path = Path(path)
    data = read_spec_file(path)
    return parse_compare_spec(data, source=str(path), base_dir=path.parent, output=output)


def parse_compare_spec(data: Any, source: str = "<compare spec>",
                       base_dir: str | Path | None = None,
                       output: str | Path | None = None) -> CompareSpec:
    """Check plain data (parsed YAML) into a :class:`CompareSpec`; see :func:`load_compare_spec`."""
    check = Checker(source)
    data = check.mapping(data, "", _TOP_KEYS)
    for key in ("problems", "algorithms", "seeds", "budget"):
        if key not in data:
            raise check.fail(key, "missing")
    base = Path(base_dir) if base_dir is not None else Path(".")
    problems = _problems(check, data["problems"], base)
    algorithms = _algorithms(check, data["algorithms"])
    seeds = _seeds(check, data["seeds"])
    budget = check.mapping(data["budget"], "budget", _BUDGET_KEYS)
    if "n_eval" not in budget:
        raise check.fail("budget.n_eval", "missing: every algorithm gets the same number of "
                                          "evaluations per problem")
    check.integer(budget["n_eval"], "budget.n_eval", minimum=1)
    evaluation = check.mapping(data.get("evaluation", {}) or {}, "evaluation", None)
    grid = check.mapping(data.get("grid", {}) or {}, "grid", _GRID_KEYS)
    workers = check.integer(grid.get("workers", 1), "grid.workers", minimum=1)
    scheduler = grid.get("scheduler")
    scheduler = None if scheduler is None else check.string(scheduler, "grid.scheduler")
    out = output if output is not None else data.get("output")
    if out is None:
        stem = Path(source).stem if not source.startswith("<") else "compare"
        out = Path("results") / stem
    out = Path(out) if isinstance(out, Path) else Path(check.string(out, "output"))

    cells = []
    for pname, (fragment, psource, pbase) in problems.items():
        for label, section in algorithms.items():
            for seed in seeds:
                folder = out / "runs" / pname / label / f"seed_{seed}"
                run = {**fragment, "algorithm": {**section, **budget}, "seed": seed,
                       "evaluation": evaluation, "output": str(folder)}
                where = f"{psource} (problem {pname}, algorithm {label})"
                cells.append(Cell(pname, label, seed,
                                  parse_spec(run, source=where, base_dir=pbase)))
    references = _references(check, data.get("references"), cells, algorithms, seeds, out)
    return CompareSpec(source=source, output=out, cells=tuple(cells), references=references,
                       problems=tuple(problems), algorithms=tuple(algorithms),
                       seeds=seeds, budget=tuple(sorted(budget.items())), workers=workers,
                       scheduler=scheduler,
                       description=check.string(data.get("description", "") or "",
                                                "description"))


def _name(check: Checker, value: Any, key: str) -> str:
    value = check.string(value, key)
    if not _NAME.fullmatch(value):
        raise check.fail(key, f"{value!r} is not a folder name (letters, digits, _ . -)")
    return value


def _list(check: Checker, value: Any, key: str) -> list:
    if not isinstance(value, list) or not value:
        raise check.fail(key, "expected a non-empty list")
    return value


def _problems(check: Checker, value: Any, base: Path) -> dict:
    """name -> (run-spec fragment, source of its errors, folder its paths are relative to)."""
    out = {}
    for i, item in enumerate(_list(check, value, "problems")):
        where = f"problems[{i}]"
        item = check.mapping(item, where, None)
        if "name" not in item:
            raise check.fail(f"{where}.name", "missing")
        name = _name(check, item["name"], f"{where}.name")
        if name in out:
            raise check.fail(f"{where}.name", f"problem {name!r} listed twice")
        fragment = {k: v for k, v in item.items() if k != "name"}
        source, pbase = check.source, base
        if "spec" in fragment:
            if len(fragment) > 1:
                raise check.fail(where, "give either spec: PATH or the run-spec keys, not both")
            path = Path(check.string(fragment["spec"], f"{where}.spec"))
            path = path if path.is_absolute() else base / path
            if not path.is_file():
                raise check.fail(f"{where}.spec", f"no such run spec {str(path)!r}")
            fragment = check.mapping(read_spec_file(path), "", None)
            source, pbase = str(path), path.parent
            fragment = {k: v for k, v in fragment.items() if k not in _GRID_DECIDES}
        else:
            for key in _GRID_DECIDES:
                if key in fragment:
                    raise check.fail(f"{where}.{key}", "set by the grid (algorithms:, seeds:, "
                                                       "evaluation:, output:), not per problem")
        out[name] = (fragment, source, pbase)
    return out


def _algorithms(check: Checker, value: Any) -> dict:
    out = {}
    for i, item in enumerate(_list(check, value, "algorithms")):
        where = f"algorithms[{i}]"
        item = check.mapping(item, where, _ALGORITHM_ENTRY_KEYS)
        section = check.mapping(item.get("algorithm", {}) or {}, f"{where}.algorithm", None)
        for key in _BUDGET_KEYS:
            if key in section:
                raise check.fail(f"{where}.algorithm.{key}",
                                 "termination is the grid's budget: (the same for every "
                                 "algorithm)")
        label = _name(check, item.get("label", section.get("name", "nsga2")), f"{where}.label")
        if label in out:
            raise check.fail(f"{where}.label", f"label {label!r} used twice")
        out[label] = section
    return out


def _references(check: Checker, value: Any, cells: list[Cell], algorithms: dict,
                seeds: tuple[int, ...], out: Path) -> tuple[ReferenceCell, ...]:
    """Direct pymoo runs of every benchmark problem x reference x seed."""
    if value is None:
        return ()
    first = {}  # problem -> its first cell: the benchmark and the budget as parsed
    for cell in cells:
        first.setdefault(cell.problem, cell)
    planning = [p for p, c in first.items() if c.spec.benchmark is None]
    if planning:
        raise check.fail("references", f"direct pymoo runs need pymoo benchmark problems "
                                       f"(problem: {{pymoo: NAME}}); {planning} are not")
    entries = []
    for i, item in enumerate(_list(check, value, "references")):
        where = f"references[{i}]"
        item = check.mapping(item, where, _REFERENCE_KEYS)
        for key in _REFERENCE_KEYS:
            if key not in item:
                raise check.fail(f"{where}.{key}", "missing")
        label = _name(check, item["label"], f"{where}.label")
        if label in algorithms or label in [e[0] for e in entries]:
            raise check.fail(f"{where}.label", f"label {label!r} used twice")
        cls = check.choice(item["pymoo"], f"{where}.pymoo", tuple(PYMOO_CLASSES))
        entries.append((label, cls, check.integer(item["pop_size"], f"{where}.pop_size",
                                                  minimum=2)))
    out_cells = []
    for problem, cell in first.items():
        a = cell.spec.algorithm
        budget = (("max_time_s", a.max_time_s), ("n_eval", a.n_eval), ("n_gen", a.n_gen))
        for label, cls, pop_size in entries:
            for seed in seeds:
                folder = out / "references" / problem / label / f"seed_{seed}"
                out_cells.append(ReferenceCell(problem, label, seed, cell.spec.benchmark, cls,
                                               pop_size, budget, str(folder)))
    return tuple(out_cells)


def _seeds(check: Checker, value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return tuple(range(1, check.integer(value, "seeds", minimum=1) + 1))
    seeds = tuple(check.integer(s, f"seeds[{k}]", minimum=0)
                  for k, s in enumerate(_list(check, value, "seeds")))
    if len(set(seeds)) != len(seeds):
        raise check.fail("seeds", "seeds must not repeat")
    return seeds
