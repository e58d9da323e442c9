"""Scenario reduction compared: k-means against simultaneous backward reduction, time and cost.

A ``study: scenario_reduction`` spec (:mod:`fdnmoo.experiment.runs_study_spec`) names run
specs whose ``uncertainty`` block fits a daily model and reduces its generated days. The
study writes into its folder:

``reduction.csv``
    Per distinct set of generated days (the runs' fitted model and seed,
    :func:`fdnmoo.scenarios.fitted.generated_days`): one row per reduction, with
    ``method`` (``kmeans`` with k chosen by the SSE elbow and the silhouette over
    k = 2..10 -- what a run without ``uncertainty.typical_days`` does --, ``kmeans`` at a
    fixed k, ``backward`` at a fixed k),
    ``k``, ``seconds`` (wall time of that reduction alone, on a machine that may be
    shared), ``kantorovich`` (distance to the generated days, Euclidean between days)
    and ``probability``. The fixed k are the rule's k and every ``typical_days`` value.
``costs.csv``
    Per run and reduction (``uncertainty.reduction`` set by ``--set``; each run in
    ``runs/<label>_<reduction>/``): the chosen solution's ``total_cost`` and cost terms
    (:func:`~fdnmoo.experiment.study_runs.chosen_solution`), the run's ``k``,
    ``kantorovich`` and reduction seconds (``run.json``: what the batch did; for
    ``backward`` these include the k-means selection that fixes its k, unless
    ``uncertainty.typical_days`` fixes it), the run's wall time,
    ``cost_vs_backward_percent``, and ``cost_on_<reduction>_days``: the chosen plan's
    ``total_cost`` evaluated on the typical days of each reduction (the plan optimised on
    one reduced set, costed on the other).
``report.md``
    Both tables beside the paper's (the published file's ``reduction`` entry).
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..uncertainty.reduction import backward_reduction, kmeans_reduction
from .runs_study_spec import RunsStudySpec
from .spec import load_spec
from .study_runs import COST_TERMS, chosen_genome, chosen_solution, run_folder, run_study_spec

__all__ = ["reduction_costs", "reduction_table", "run_reduction_study"]

logger = logging.getLogger(__name__)


def reduction_table(days: np.ndarray, kmeans_seed: int, typical_days=()) -> pd.DataFrame:
    """Time, k and Kantorovich distance of k-means and backward reduction of ``days``.

    Parameters
    ----------
    days : ndarray, shape (n_days, n_features)
        Equiprobable generated days.
    kmeans_seed : int
        ``random_state`` of every k-means fit (the batch's own, to reproduce its k).
    typical_days : sequence of int
        Fixed k to reduce to besides the k the elbow/silhouette rule picks.

    Returns
    -------
    DataFrame
        Columns ``method``, ``k_rule`` (``elbow/silhouette`` or ``fixed``), ``k``,
        ``seconds``, ``kantorovich``, ``probability`` (rounded, as text).
    """
    rows = []

    def timed(method, k_rule, reduce):
        start = time.perf_counter()
        red = reduce()
        rows.append({"method": method, "k_rule": k_rule, "k": int(red.k),
                     "seconds": time.perf_counter() - start, "kantorovich": float(red.distance),
                     "probability": " ".join(f"{p:.3f}" for p in np.sort(red.probability)[::-1])})
        return red

    chosen = timed("kmeans", "elbow/silhouette", lambda: kmeans_reduction(days, random_state=kmeans_seed))
    for k in dict.fromkeys([chosen.k, *typical_days]):
        timed("kmeans", "fixed", lambda: kmeans_reduction(days, k_values=[k], random_state=kmeans_seed))
        timed("backward", "fixed", lambda: backward_reduction(days, k))
    return pd.DataFrame(rows)


def _days_of(spec_path: str, settings: tuple) -> tuple[np.ndarray, int, dict]:
    """The generated days of a run spec's batch (same data, model and seeds)."""
    from ..cases import load_case
    from ..planning import planning_grid
    from ..scenarios.fitted import generated_days

    config = load_spec(spec_path, settings=settings).problem_config()
    grid = planning_grid(load_case(config.case, **dict(config.case_params)))
    unc = config.uncertainty
    return generated_days(grid, unc, config.seed if unc.seed is None else unc.seed)


def reduction_costs(spec: RunsStudySpec, out: Path, progress: bool = False) -> pd.DataFrame:
    """Run every run once per reduction and tabulate the chosen solutions (``costs.csv``)."""
    rows = []
    for run in spec.runs:
        for reduction in spec.reductions:
            folder = run_folder(out, f"{run.label}_{reduction}")
            logger.info("%s with %s reduction", run.label, reduction)
            run_study_spec(run.spec, spec.settings + (f"uncertainty.reduction={reduction}",),
                           folder, progress=progress)
            sol = chosen_solution(folder)
            scen = sol.pop("scenarios") or {}
            rows.append({"run": run.label, "system": run.system, "reduction": reduction,
                         "k": scen.get("k"), "kantorovich": scen.get("distance"),
                         "reduction_seconds": sum((scen.get("seconds") or {}).values()),
                         "total_cost": sol["total_cost"],
                         **{t: sol.get(t, np.nan) for t in COST_TERMS},
                         "pv_mw": sol["pv_mw"], "ess_mwh": sol["ess_mwh"],
                         "lines_built": sol["lines_built"], "run_wall_time_s": sol["wall_time_s"],
                         "folder": str(folder)})
    table = pd.DataFrame(rows)
    for reduction in spec.reductions:
        table[f"cost_on_{reduction}_days"] = np.nan
    for run in spec.runs:  # every run's plan costed on the days of every reduction
        for on in spec.reductions:
            problem = load_spec(run.spec, settings=spec.settings + (
                f"uncertainty.reduction={on}",)).build_problem()
            for i in np.flatnonzero(table.run.to_numpy() == run.label):
                table.loc[i, f"cost_on_{on}_days"] = _chosen_cost(problem, Path(table.folder[i]))
    ref = table[table.reduction == "backward"].set_index("run")["total_cost"]
    table["cost_vs_backward_percent"] = [
        100.0 * (c / ref[r] - 1.0) if r in ref.index else np.nan
        for r, c in zip(table.run, table.total_cost)]
    return table


def _chosen_cost(problem, folder: Path) -> float:
    """``total_cost`` of the chosen solution of the run in ``folder``, evaluated by ``problem``."""
    import json

    meta = json.loads((folder / "run.json").read_text())
    names = [o["name"] for o in meta["objectives"]]
    x = chosen_genome(folder)
    F = problem.evaluate(x, return_values_of=["F"], return_as_dictionary=True)["F"]
    return float(F[0, names.index("total_cost")])


def run_reduction_study(spec: RunsStudySpec, out_dir: str | Path | None = None,
                        progress: bool = False) -> Path:
    """Run a ``scenario_reduction`` study and write its folder (module docstring)."""
    from .study_report import reduction_report

    out = Path(out_dir) if out_dir is not None else spec.output_dir()
    out.mkdir(parents=True, exist_ok=True)
    tables, seen = [], set()
    for run in spec.runs:
        days, seed, info = _days_of(run.spec, spec.settings)
        key = hashlib.sha1(np.ascontiguousarray(days).tobytes()).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        logger.info("reducing %d generated days of %s", days.shape[0], run.label)
        t = reduction_table(days, seed, spec.typical_days)
        t.insert(0, "days_of", run.label)
        t.insert(1, "generated_days", days.shape[0])
        t.insert(2, "model", f"{info['model']} ({info['family']})")
        tables.append(t)
    reduction = pd.concat(tables, ignore_index=True)
    reduction.to_csv(out / "reduction.csv", index=False)
    costs = reduction_costs(spec, out, progress=progress)
    costs.to_csv(out / "costs.csv", index=False)
    (out / "report.md").write_text(reduction_report(spec, reduction, costs))
    return out
