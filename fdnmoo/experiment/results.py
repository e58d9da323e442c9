"""The results folder of a run.

::

    <out>/
      pareto.csv                 one row per distinct Pareto plan (see below)
      pareto_genomes.csv         one decision vector of each of those solutions
      population.csv             final population: objectives (with units), cv, feasible
      plans/solution_<k>.csv     Plan.describe table: every stage's full state (stage, item,
                                 where, size, built_in_stage, line)
      plans/solution_<k>_costs.csv       cost breakdown per stage, in the case currency
      plans/solution_<k>_violations.csv  worst voltages and loading, energy out of band and the
                                 largest violation probabilities per stage
      plans/solution_<k>_bounds_buses.csv, _bounds_lines.csv   under uncertainty methods
                                 interval, affine, robust: per stage, the lowest and highest
                                 voltage bound of every bus and the highest current bound of
                                 every closed line over the slots (robust: the worst cases)
      history.csv                one row per generation (see HistoryRecorder)
      fronts.csv                 each generation's feasible non-dominated objectives as
                                 minimised: n_gen, n_eval, one column per objective
      run.json                   versions, seed, spec, hashes, wall time, n_evals, ...
      pareto.png convergence.png network_solution_<k>.png
      checkpoint.pkl             algorithm state (resume / re-write results)

``pareto.csv`` columns: ``solution``; the objectives (registry names, their own
sign; under uncertainty methods interval and affine, each followed by its lower and upper
value ``<objective>_lo``, ``<objective>_hi``, the objective being their midpoint; equal for
objectives that are not intervals) and
constraint values ``g_<name>`` (``g <= 0`` feasible); ``cv``,
``feasible``, ``chosen``; the violations of the plan (worst stage of
``solution_<k>_violations.csv``) and its penalties (:data:`PENALTY_TERMS`); ``group`` and
``n_genomes``; for a problem without plans (a pymoo benchmark) its decision
variables ``x0, x1, ...`` (also in ``population.csv``), else one ``plan_<item>`` column per item of
:data:`~fdnmoo.planning.plan.DESCRIBE_ITEMS` the plans hold. Every column of a
quantity carries its unit in brackets, money in the case currency:
``total_cost [CNY (NPV)]``, ``loss_kw [kW]``, ``vm_min [p.u.]``.

A ``plan_<item>`` cell states the item's full state in every stage, stages of
equal state merged: ``s1-s2: 13-14, 56-57; s3: 13-14`` means that in stages 1
and 2 exactly the lines 13-14 and 56-57 are in that state and in stage 3 only
13-14; ``none`` is a stage without any.

Genomes that decode to the same plan (:meth:`~fdnmoo.planning.Plan.decision_key`)
are one solution (``n_genomes`` counts them). Solutions with equal objectives
(to 10 significant digits) but different plans share a ``group`` number;
different objectives, different groups.

Solutions are numbered from 1 in the order of ``pareto.csv``. The *chosen*
solution (drawn on the network map) is the compromise nearest to the ideal
point of the front with every objective scaled to [0, 1] over the front.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..objectives import CONSTRAINTS, OBJECTIVES, objective_signs
from ..operators.filters import choose_compromise
from . import plots as figures
from .outcome import RunOutcome, objective_groups, rounded_objectives

__all__ = ["GENOMES_FILE", "RunOutcome", "collect_outcome", "compact_plan_text",
           "merge_equal_plans", "pareto_table", "read_pareto_genomes", "versions",
           "write_results"]

#: The file of a results folder holding one decision vector per Pareto solution.
GENOMES_FILE = "pareto_genomes.csv"

#: Cost terms that price violations, each a ``pareto.csv`` column.
PENALTY_TERMS = ("voltage_penalty", "overload_penalty")

_VERSION_PACKAGES = ("fdnmoo", "pymoo", "numpy", "scipy", "pandas", "pandapower", "numba",
                     "joblib", "distributed", "moocore", "matplotlib")


def collect_outcome(problem, algorithm, evaluator=None) -> RunOutcome:
    """Gather the Pareto set, reports and decoded plans of a finished run.

    Genomes that decode to the same plan are merged into one solution (see
    :func:`merge_equal_plans`). Plan reports (which re-run the power flows of
    each Pareto solution) are computed on the evaluator's workers when one is
    given.
    """
    names, signs = objective_signs(problem)
    grid = getattr(problem, "grid", None)
    currency = grid.case.economics.currency if grid is not None else None
    units = [_unit(name, currency) for name in names]
    opt = algorithm.opt if algorithm.opt is not None and len(algorithm.opt) else algorithm.pop
    X, F, CV = (np.asarray(a) for a in opt.get("X", "F", "CV"))
    F, CV = F.astype(float), CV.reshape(len(X), -1)[:, 0]
    F_lo, F_hi = interval_ends(opt, F)
    order = np.lexsort(rounded_objectives(F).T[::-1])  # sorted by the first objective, then the next
    X, F, CV = X[order], F[order], CV[order]
    plans = [problem.decode(x) for x in X] if hasattr(problem, "decode") and len(X) else None
    keys = [p.decision_key() for p in plans] if plans else \
        [np.ascontiguousarray(x).tobytes() for x in X]
    keep, n_genomes = merge_equal_plans(keys)
    X, F, CV = X[keep], F[keep], CV[keep]
    if F_lo is not None:
        F_lo, F_hi = F_lo[order][keep], F_hi[order][keep]
    plans = [plans[k] for k in keep] if plans else None
    pop_F, pop_CV = algorithm.pop.get("F", "CV")
    reports = None
    if hasattr(problem, "plan_report") and len(X):
        if evaluator is not None:
            reports = evaluator.reports(problem.config, X)
        else:
            reports = [problem.plan_report(x) for x in X]
    history = algorithm.callback.table() if hasattr(algorithm.callback, "table") \
        else pd.DataFrame()
    pop_X = None if plans or reports else np.asarray(algorithm.pop.get("X"), dtype=float)
    return RunOutcome(objective_names=names, units=units,
                      senses=["max" if s < 0 else "min" for s in signs],
                      constraint_names=list(getattr(problem, "constraint_names", []) or []),
                      X=X, F=F, CV=CV, pop_F=np.asarray(pop_F, dtype=float),
                      pop_CV=np.asarray(pop_CV, dtype=float).reshape(len(pop_F), -1)[:, 0],
                      history=history, reports=reports, plans=plans, currency=currency,
                      n_genomes=n_genomes, group=objective_groups(F), F_lo=F_lo, F_hi=F_hi,
                      pop_X=pop_X)


def interval_ends(pop, F: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``F_lo`` and ``F_hi`` of a pymoo population (as minimised), or ``(None, None)``
    when its problem exposes no interval objectives."""
    lo, hi = pop.get("F_lo", "F_hi")
    if len(F) == 0 or any(v is None for v in lo) or any(v is None for v in hi):
        return None, None
    return (np.asarray(list(lo), dtype=float).reshape(F.shape),
            np.asarray(list(hi), dtype=float).reshape(F.shape))


def merge_equal_plans(keys: list) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the first of every run of equal decision keys, and how many share each.

    Parameters
    ----------
    keys : list of hashable
        One per Pareto genome, e.g. :meth:`~fdnmoo.planning.Plan.decision_key`
        of its decoded plan.

    Returns
    -------
    keep : ndarray of int
        Position of the first genome of every distinct key, in order.
    n_genomes : ndarray of int
        Genomes with that key.
    """
    first: dict = {}
    counts: list[int] = []
    for i, key in enumerate(keys):
        if key in first:
            counts[first[key][1]] += 1
        else:
            first[key] = (i, len(counts))
            counts.append(1)
    keep = np.array([i for i, _ in first.values()], dtype=int)
    return keep, np.array(counts, dtype=int)


def _unit(name: str, currency: str | None = None, kind: str = "objective") -> str:
    """The registry unit of an objective (or constraint), naming the case currency where
    the registry says ``currency``."""
    registry = OBJECTIVES if kind == "objective" else CONSTRAINTS
    unit = registry[name].unit if name in registry else ""
    return unit.replace("currency", currency) if currency else unit


# -- tables --------------------------------------------------------------------------------
def compact_plan_text(plan_table: pd.DataFrame, n_stages: int | None = None) -> dict[str, str]:
    """One text per item of a ``Plan.describe`` table: the item's full state in every stage.

    Stages with the same state are merged: ``"s1-s2: bus 7 0.5 MW; s3: bus 7 1 MW,
    bus 12 0.3 MW"``; a stage without the item reads ``none``.

    Parameters
    ----------
    plan_table : DataFrame
        Columns ``stage``, ``item``, ``where``, ``size`` and optionally
        ``built_in_stage``.
    n_stages : int, optional
        The plan's stages (default: the last stage in the table).

    Returns
    -------
    dict
        Item (``open sections``, ``closed ties``, ``pv``, ...) -> text.
    """
    texts: dict[str, str] = {}
    if plan_table is None or len(plan_table) == 0:
        return texts
    n_stages = int(plan_table.stage.max()) if n_stages is None else int(n_stages)
    for item, rows in plan_table.groupby("item", sort=False):
        states = [", ".join(_entry(r) for r in rows[rows.stage == s].itertuples()) or "none"
                  for s in range(1, n_stages + 1)]
        runs: list[list] = []  # [first stage, last stage, state]
        for stage, state in enumerate(states, start=1):
            if runs and runs[-1][2] == state:
                runs[-1][1] = stage
            else:
                runs.append([stage, stage, state])
        texts[str(item)] = "; ".join((f"s{a}" if a == b else f"s{a}-s{b}") + f": {state}"
                                     for a, b, state in runs)
    return texts


def _entry(row) -> str:
    """``where`` with the size and build stage of one row of a describe table."""
    size = "" if pd.isna(row.size) else str(row.size)
    built = getattr(row, "built_in_stage", None)
    notes = [n for n in (size, "" if built is None or pd.isna(built) else f"built s{int(built)}")
             if n]
    return f"{row.where} ({', '.join(notes)})" if notes else str(row.where)


#: Columns of ``pareto.csv`` from the worst stage of a plan's violations, with their units.
_VIOLATION_COLUMNS = {"vm_min_pu": ("vm_min [p.u.]", "min"), "vm_min_bus": ("vm_min_bus", None),
                      "vm_max_pu": ("vm_max [p.u.]", "max"), "vm_max_bus": ("vm_max_bus", None),
                      "max_loading_percent": ("max_loading [%]", "max"),
                      "max_loading_line": ("max_loading_line", None),
                      "violation_energy_mwh": ("violation_energy [MWh/yr]", "max"),
                      "unserved_energy_mwh": ("unserved_energy [MWh/yr]", "max")}


def _worst_violations(violations: pd.DataFrame | None) -> dict[str, Any]:
    """The worst stage of every figure of a violations table (its place from that stage)."""
    out: dict[str, Any] = {}
    if violations is None or len(violations) == 0:
        return out
    for name, (column, pick) in _VIOLATION_COLUMNS.items():
        if pick is None:
            continue
        values = violations[name].to_numpy(float)
        if not np.isfinite(values).any():
            out[column] = np.nan
            continue
        k = int(np.nanargmin(values) if pick == "min" else np.nanargmax(values))
        out[column] = values[k]
        place = {"vm_min_pu": "vm_min_bus", "vm_max_pu": "vm_max_bus",
                 "max_loading_percent": "max_loading_line"}.get(name)
        if place:
            out[_VIOLATION_COLUMNS[place][0]] = violations[place].iloc[k]
    return out


def pareto_table(outcome: RunOutcome, chosen: int | None = None) -> pd.DataFrame:
    """``pareto.csv``: one row per Pareto solution (see the module docstring)."""
    table = pd.DataFrame({"solution": np.arange(1, len(outcome.F) + 1)})
    own = outcome.objectives
    reports = outcome.reports or []
    bounds = [r.get("uncertainty", {}).get("objectives") for r in reports]
    for j, (name, unit) in enumerate(zip(outcome.objective_names, outcome.units)):
        table[_with_unit(name, unit)] = own[:, j]
        if reports and all(b is not None for b in bounds):
            for end, col in (("lo", 0), ("hi", 1)):
                table[_with_unit(f"{name}_{end}", unit)] = [b[name][col] for b in bounds]
    for name in outcome.constraint_names:
        table[_with_unit(f"g_{name}", _unit(name, outcome.currency, "constraint"))] = \
            [r.get("constraints", {}).get(name, np.nan) for r in reports] if reports else np.nan
    table["cv"] = outcome.CV
    table["feasible"] = outcome.CV <= 0
    table["chosen"] = table.index == chosen
    worst = [_worst_violations(r.get("violations")) for r in reports]
    for column in dict.fromkeys(c for w in worst for c in w):
        table[column] = [w.get(column, np.nan) for w in worst]
    for term in PENALTY_TERMS:
        if any(isinstance(r.get("costs"), pd.DataFrame) and term in r["costs"] for r in reports):
            table[_with_unit(term, _money(outcome.currency) + " (NPV)")] = [
                float(r["costs"][term].sum()) if "costs" in r else np.nan for r in reports]
    table["group"] = outcome.group
    table["n_genomes"] = outcome.n_genomes
    if outcome.decision_columns:  # no plans: the decision vector is the solution
        table = _with_decisions(table, outcome.X)
    n_stages = [p.n_stages for p in outcome.plans] if outcome.plans else \
        [r.get("n_stages") for r in reports]
    texts = [compact_plan_text(r.get("plan"), n) for r, n in zip(reports, n_stages)]
    items = list(dict.fromkeys(item for t in texts for item in t))
    for item in items:  # a plan without the item says so for each of its stages
        table["plan_" + item.replace(" ", "_")] = [
            t.get(item, "" if n is None else ("s1" if n == 1 else f"s1-s{n}") + ": none")
            for t, n in zip(texts, n_stages)]
    return table


def _with_decisions(table: pd.DataFrame, X: np.ndarray) -> pd.DataFrame:
    """``table`` with the decision variables ``x0, x1, ...`` of its rows appended."""
    X = np.asarray(X, dtype=float).reshape(len(table), -1)
    return pd.concat([table, pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])],
                                          index=table.index)], axis=1)


def _with_unit(name: str, unit: str) -> str:
    """A column name with its unit in brackets (``-`` for a pure number)."""
    return f"{name} [{unit or '-'}]"


def _money(currency: str | None) -> str:
    return currency or "currency"


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
    out = Path(out_dir)
    (out / "plans").mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    chosen = choose_compromise(outcome.F) if len(outcome.F) else None

    table = pareto_table(outcome, chosen)
    written["pareto"] = _csv(table, out / "pareto.csv")
    genomes = pd.DataFrame(np.asarray(outcome.X), columns=[f"x{i}" for i in
                                                           range(np.shape(outcome.X)[1])])
    genomes.insert(0, "solution", table.solution.to_numpy())
    written["genomes"] = _csv(genomes, out / GENOMES_FILE)
    population = pd.DataFrame(outcome.pop_F * outcome.signs, columns=[
        _with_unit(n, u) for n, u in zip(outcome.objective_names, outcome.units)])
    population["cv"] = outcome.pop_CV
    population["feasible"] = outcome.pop_CV <= 0
    if outcome.decision_columns and outcome.pop_X is not None:
        population = _with_decisions(population, outcome.pop_X)
    written["population"] = _csv(population, out / "population.csv")
    money = _money(outcome.currency)
    for k, report in enumerate(outcome.reports or [], start=1):
        written[f"plan_{k}"] = _csv(report["plan"], out / "plans" / f"solution_{k}.csv")
        costs = _costs_frame(report["costs"])
        costs.columns = [_with_unit(str(c), money) for c in costs.columns]
        written[f"costs_{k}"] = _csv(costs, out / "plans" / f"solution_{k}_costs.csv", index=True)
        if report.get("violations") is not None:
            written[f"violations_{k}"] = _csv(report["violations"], out / "plans" /
                                              f"solution_{k}_violations.csv", index=True)
        for part in ("buses", "lines"):
            frame = report.get("uncertainty", {}).get(part)
            if frame is not None:
                written[f"bounds_{part}_{k}"] = _csv(frame, out / "plans" /
                                                     f"solution_{k}_bounds_{part}.csv")
    written["history"] = _csv(outcome.history, out / "history.csv")

    meta = dict(outcome.metadata)
    meta.update({
        "objectives": [{"name": n, "unit": u, "sense": s} for n, u, s in
                       zip(outcome.objective_names, outcome.units, outcome.senses)],
        "constraints": list(outcome.constraint_names),
        "currency": outcome.currency,
        "n_pareto": int(len(outcome.F)),
        "n_pareto_genomes": int(np.sum(outcome.n_genomes)),
        "n_pareto_groups": int(len(set(np.asarray(outcome.group).tolist()))),
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


def read_pareto_genomes(out_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The ``solution`` numbers and decision vectors of a results folder's
    :data:`GENOMES_FILE` (as :func:`write_results` wrote them), shapes (n,) and (n, n_var)."""
    genomes = pd.read_csv(Path(out_dir) / GENOMES_FILE)
    return genomes.pop("solution").to_numpy(), genomes.to_numpy()


def _costs_frame(costs: Any) -> pd.DataFrame:
    if isinstance(costs, pd.DataFrame):
        return costs.copy()
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
