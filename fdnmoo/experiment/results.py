"""The results folder of a run.

::

    <out>/
      pareto.csv                 one row per Pareto solution: objectives (registry names,
                                 own sign), constraint values, cv, feasible, chosen,
                                 plan_<item> compact text per plan item type
      pareto_genomes.csv         the decision vectors of those solutions
      population.csv             final population: objectives, cv, feasible
      plans/solution_<k>.csv     Plan.describe table (stage, item, where, size, ...)
      plans/solution_<k>_costs.csv   cost breakdown
      history.csv                one row per generation (see HistoryRecorder)
      run.json                   versions, seed, spec, hashes, wall time, n_evals, ...
      pareto.png convergence.png network_solution_<k>.png
      checkpoint.pkl             algorithm state (resume / re-write results)

Solutions are numbered from 1 in the order of ``pareto.csv``. The *chosen*
solution (drawn on the network map) is the compromise nearest to the ideal
point of the front with every objective scaled to [0, 1] over the front.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RunOutcome", "choose_compromise", "collect_outcome", "compact_plan_text",
           "pareto_table", "versions", "write_results"]

_VERSION_PACKAGES = ("fdnmoo", "pymoo", "numpy", "scipy", "pandas", "pandapower", "numba",
                     "joblib", "distributed", "moocore", "matplotlib")


@dataclass
class RunOutcome:
    """What a finished run hands to :func:`write_results`.

    Attributes
    ----------
    objective_names, units : list of str
    senses : list of str
        ``"min"`` or ``"max"`` per objective.
    constraint_names : list of str
    X, F, CV : ndarray
        Pareto solutions: genomes, objectives as minimised (pymoo's F) and
        constraint violation.
    pop_F, pop_CV : ndarray
        The final population.
    reports : list of dict, optional
        ``plan_report`` of each Pareto solution (``objectives``,
        ``constraints``, ``costs``, ``plan``).
    plans : list, optional
        Decoded :class:`~fdnmoo.planning.Plan` of each Pareto solution.
    history : DataFrame
    metadata : dict
        Written to ``run.json``.
    """

    objective_names: list[str]
    units: list[str]
    senses: list[str]
    constraint_names: list[str]
    X: np.ndarray
    F: np.ndarray
    CV: np.ndarray
    pop_F: np.ndarray
    pop_CV: np.ndarray
    history: pd.DataFrame
    reports: list[dict] | None = None
    plans: list | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def signs(self) -> np.ndarray:
        """Factor from minimised F to each objective's own sign."""
        return np.array([-1.0 if s == "max" else 1.0 for s in self.senses])

    @property
    def objectives(self) -> np.ndarray:
        """Pareto objectives in their own sign."""
        return self.F * self.signs


def collect_outcome(problem, algorithm, evaluator=None) -> RunOutcome:
    """Gather the Pareto set, reports and decoded plans of a finished run.

    Plan reports (which re-run the power flows of each Pareto solution) are
    computed on the evaluator's workers when one is given.
    """
    from .runner import objective_signs

    names, signs = objective_signs(problem)
    units = [_unit(name) for name in names]
    opt = algorithm.opt if algorithm.opt is not None and len(algorithm.opt) else algorithm.pop
    X, F, CV = (np.asarray(a) for a in opt.get("X", "F", "CV"))
    order = np.lexsort(F.T[::-1])  # sorted by the first objective, then the next
    X, F, CV = X[order], F[order].astype(float), CV[order].reshape(len(X), -1)[:, 0]
    pop_F, pop_CV = algorithm.pop.get("F", "CV")
    reports = plans = None
    if hasattr(problem, "plan_report") and len(X):
        if evaluator is not None:
            reports = evaluator.reports(problem.config, X)
        else:
            reports = [problem.plan_report(x) for x in X]
    if hasattr(problem, "decode") and len(X):
        plans = [problem.decode(x) for x in X]
    history = algorithm.callback.table() if hasattr(algorithm.callback, "table") \
        else pd.DataFrame()
    return RunOutcome(objective_names=names, units=units,
                      senses=["max" if s < 0 else "min" for s in signs],
                      constraint_names=list(getattr(problem, "constraint_names", []) or []),
                      X=X, F=F, CV=CV, pop_F=np.asarray(pop_F, dtype=float),
                      pop_CV=np.asarray(pop_CV, dtype=float).reshape(len(pop_F), -1)[:, 0],
                      history=history, reports=reports, plans=plans)


def _unit(name: str) -> str:
    try:
        from ..objectives import OBJECTIVES
    except ImportError:  # pragma: no cover
        return ""
    return OBJECTIVES[name].unit if name in OBJECTIVES else ""


# -- tables --------------------------------------------------------------------------------
def choose_compromise(F: np.ndarray) -> int:
    """Row of ``F`` (minimised) nearest to the ideal point, objectives scaled over ``F``."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        raise ValueError("no solutions to choose from")
    lo, hi = F.min(axis=0), F.max(axis=0)
    Z = (F - lo) / np.where(hi > lo, hi - lo, 1.0)
    return int(np.argmin(np.linalg.norm(Z, axis=1)))


def compact_plan_text(plan_table: pd.DataFrame) -> dict[str, str]:
    """One compact text per item type of a ``Plan.describe`` table.

    Rows of one item at one place are merged over stages, keeping the stages
    where the size changes: ``"bus 7: s1-s2 0.5 MW, s3 1 MW; bus 12: s2-s3 0.3 MW"``.

    Returns
    -------
    dict
        Item type (``line``, ``sop``, ``pv``, ``closed ties``, ...) -> text.
    """
    texts: dict[str, str] = {}
    if plan_table is None or len(plan_table) == 0:
        return texts
    for item, rows in plan_table.groupby("item", sort=False):
        parts = []
        for where, at in rows.groupby("where", sort=False):
            runs: list[list] = []  # [first stage, last stage, size]
            for stage, size in zip(at.stage.astype(int), at["size"].fillna("").astype(str)):
                if runs and runs[-1][2] == size and runs[-1][1] == stage - 1:
                    runs[-1][1] = stage
                else:
                    runs.append([stage, stage, size])
            spans = ", ".join((f"s{a}" if a == b else f"s{a}-s{b}") + (f" {size}" if size else "")
                              for a, b, size in runs)
            parts.append(f"{where}: {spans}")
        texts[str(item)] = "; ".join(parts)
    return texts


def pareto_table(outcome: RunOutcome, chosen: int | None = None) -> pd.DataFrame:
    """``pareto.csv``: one row per Pareto solution (see the module docstring)."""
    table = pd.DataFrame({"solution": np.arange(1, len(outcome.F) + 1)})
    own = outcome.objectives
    for j, name in enumerate(outcome.objective_names):
        table[name] = own[:, j]
    reports = outcome.reports or []
    for name in outcome.constraint_names:
        table[f"g_{name}"] = [r.get("constraints", {}).get(name, np.nan) for r in reports] \
            if reports else np.nan
    table["cv"] = outcome.CV
    table["feasible"] = outcome.CV <= 0
    table["chosen"] = table.index == chosen
    texts = [compact_plan_text(r.get("plan")) for r in reports]
    items = list(dict.fromkeys(item for t in texts for item in t))
    for item in items:
        table["plan_" + item.replace(" ", "_")] = [t.get(item, "") for t in texts]
    return table


# -- writing -------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    """Python, platform and package versions of this environment."""
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _VERSION_PACKAGES:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return found


def write_results(out_dir: str | Path, outcome: RunOutcome, grid=None,
                  plots: bool = True) -> dict[str, Path]:
    """Write the results folder of ``outcome`` (see the module docstring).

    Parameters
    ----------
    out_dir : path
    outcome : RunOutcome
    grid : PlanningGrid, optional
        Needed for the network map of the chosen plan.
    plots : bool
        Also draw the PNG figures.

    Returns
    -------
    dict
        Written file role -> path.
    """
    from . import plots as figures

    out = Path(out_dir)
    (out / "plans").mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    chosen = choose_compromise(outcome.F) if len(outcome.F) else None

    table = pareto_table(outcome, chosen)
    written["pareto"] = _csv(table, out / "pareto.csv")
    genomes = pd.DataFrame(np.asarray(outcome.X), columns=[f"x{i}" for i in
                                                           range(np.shape(outcome.X)[1])])
    genomes.insert(0, "solution", table.solution.to_numpy())
    written["genomes"] = _csv(genomes, out / "pareto_genomes.csv")
    population = pd.DataFrame(outcome.pop_F * outcome.signs, columns=outcome.objective_names)
    population["cv"] = outcome.pop_CV
    population["feasible"] = outcome.pop_CV <= 0
    written["population"] = _csv(population, out / "population.csv")
    for k, report in enumerate(outcome.reports or [], start=1):
        written[f"plan_{k}"] = _csv(report["plan"], out / "plans" / f"solution_{k}.csv")
        written[f"costs_{k}"] = _csv(_costs_frame(report["costs"]),
                                     out / "plans" / f"solution_{k}_costs.csv", index=True)
    written["history"] = _csv(outcome.history, out / "history.csv")

    meta = dict(outcome.metadata)
    meta.update({
        "objectives": [{"name": n, "unit": u, "sense": s} for n, u, s in
                       zip(outcome.objective_names, outcome.units, outcome.senses)],
        "constraints": list(outcome.constraint_names),
        "n_pareto": int(len(outcome.F)),
        "n_pareto_feasible": int(np.sum(outcome.CV <= 0)),
        "chosen_solution": None if chosen is None else chosen + 1,
        "final_hypervolume": float(outcome.history["hypervolume"].iloc[-1])
        if "hypervolume" in outcome.history and len(outcome.history) else None,
    })
    written["run"] = out / "run.json"
    (out / "run.json").write_text(json.dumps(meta, indent=1, default=_json_default) + "\n")

    if plots:
        case = getattr(grid, "case", None)  # the currency of money axes
        if len(outcome.objective_names) > 1:  # one objective: the convergence plot only
            written["pareto_plot"] = figures.plot_pareto(outcome, out / "pareto.png",
                                                         chosen=chosen, case=case)
        if len(outcome.history):
            written["convergence_plot"] = figures.plot_convergence(
                outcome.history, outcome.objective_names, out / "convergence.png",
                units=outcome.units, case=case)
        if grid is not None and outcome.plans and chosen is not None:
            written["network_plot"] = figures.plot_network(
                grid, outcome.plans[chosen], out / f"network_solution_{chosen + 1}.png",
                title=f"solution {chosen + 1}")
    return written


def _costs_frame(costs: Any) -> pd.DataFrame:
    if isinstance(costs, pd.DataFrame):
        return costs
    if isinstance(costs, pd.Series):
        return costs.to_frame("value")
    return pd.DataFrame(costs)


def _csv(table: pd.DataFrame, path: Path, index: bool = False) -> Path:
    table.to_csv(path, index=index)
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)
