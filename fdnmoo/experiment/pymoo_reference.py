"""Reference runs of a compare grid: pymoo's own algorithm, run by ``pymoo.optimize.minimize``.

The sanity check of the comparison machinery: on pymoo benchmark problems
(:mod:`fdnmoo.experiment.benchmark`), the registry's algorithms, driven by our
runner (checkpoints, budgets, genome-free operators), should do as well as
pymoo's class built with its defaults and run the way a pymoo user runs it.
A compare spec lists them under ``references:``::

    references:
      - {label: pymoo-nsga2, pymoo: NSGA2, pop_size: 100}

Each reference is run for every benchmark problem and seed of the grid, on
the grid's budget, into ``<output>/references/<problem>/<label>/seed_<s>``:
a results folder like a cell's (``history.csv``, ``fronts.csv``,
``pareto.csv``, ``population.csv``, ``run.json``), measured with the cells on
one normalisation per problem. Only the per-generation record
(:class:`~fdnmoo.experiment.runner.HistoryRecorder`, a pymoo callback) is ours.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..objectives import objective_signs
from .benchmark import BenchmarkProblem
from .results import collect_outcome, versions, write_results
from .runner import FRONTS, HistoryRecorder, termination

__all__ = ["PYMOO_CLASSES", "ReferenceCell", "run_reference"]

#: Classes a reference may name: pymoo's multi-objective algorithms that need only a
#: population size (module, class).
PYMOO_CLASSES = {"NSGA2": "pymoo.algorithms.moo.nsga2", "SMSEMOA": "pymoo.algorithms.moo.sms",
                 "SPEA2": "pymoo.algorithms.moo.spea2", "AGEMOEA": "pymoo.algorithms.moo.age",
                 "AGEMOEA2": "pymoo.algorithms.moo.age2"}


@dataclass(frozen=True)
class ReferenceCell:
    """One direct pymoo run: problem name, reference label, seed and what it runs.

    Attributes
    ----------
    budget : tuple of (str, value)
        The grid's budget as the cells run it: ``n_gen``, ``n_eval``, ``max_time_s``
        (None when not given).
    """

    problem: str
    algorithm: str
    seed: int
    benchmark: BenchmarkProblem
    pymoo_class: str
    pop_size: int
    budget: tuple[tuple[str, object], ...]
    output: str

    @property
    def folder(self) -> Path:
        return Path(self.output)

    def as_dict(self) -> dict:
        return {"problem": self.benchmark.as_dict(), "pymoo_class": self.pymoo_class,
                "pop_size": self.pop_size, "budget": dict(self.budget), "seed": self.seed}

    @property
    def run_hash(self) -> str:
        """Identity of the run (what determines its results)."""
        text = json.dumps(self.as_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_reference(cell: ReferenceCell) -> str:
    """Run ``cell`` with ``pymoo.optimize.minimize`` and write its results folder.

    Returns
    -------
    str
        The folder.
    """
    import importlib

    from pymoo.optimize import minimize

    problem = cell.benchmark.build()
    cls = getattr(importlib.import_module(PYMOO_CLASSES[cell.pymoo_class]), cell.pymoo_class)
    budget = dict(cell.budget)
    recorder = HistoryRecorder(*objective_signs(problem))
    t0 = time.perf_counter()
    recorder.mark()
    result = minimize(problem, cls(pop_size=cell.pop_size),
                      termination(budget["n_gen"], budget["n_eval"], budget["max_time_s"]),
                      seed=cell.seed, callback=recorder, verbose=False, copy_algorithm=False)
    wall = time.perf_counter() - t0
    algorithm = result.algorithm
    outcome = collect_outcome(problem, algorithm)
    outcome.metadata.update({
        "status": "complete", "run_hash": cell.run_hash, "reference": cell.as_dict(),
        "seed": cell.seed, "versions": versions(),
        "algorithm": {"name": cell.algorithm, "class": type(algorithm).__name__,
                      "pop_size": int(algorithm.pop_size), "driver": "pymoo.optimize.minimize"},
        "n_gen": int(recorder.rows[-1]["n_gen"]) if recorder.rows else 0,
        "n_evals": int(algorithm.evaluator.n_eval), "wall_time_s": round(wall, 3)})
    folder = cell.folder
    folder.mkdir(parents=True, exist_ok=True)
    recorder.front_table().to_csv(folder / FRONTS, index=False)
    write_results(folder, outcome, plots=False)
    return str(folder)
