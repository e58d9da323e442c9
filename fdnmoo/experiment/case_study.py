"""A paper's cases compared per stage, beside its published tables (``study: cases``).

Every run of the spec (:mod:`fdnmoo.experiment.runs_study_spec`) is one case of the paper
(``paper_case``: ``I``, ``II``, ...), optionally with its own settings (the same spec at
several ``uncertainty.gamma``). The study runs each into ``runs/<label>/`` and writes, from
each chosen solution:

``plan.csv``
    The plan per stage as seed 000's Table 1: SOP schemes (terminal buses with their
    converter capacities), EVCS and PV sites with their capacities (cumulative).
``stage_costs.csv``
    The cost table per stage as Table 2 (money in the case currency): SOP land, converter
    and line, EVCS land and converter, PV converter, other investment (lines, ESS, ...),
    system loss, line overload, voltage violation and their sum. The investment cells are
    the plan's items (:func:`~fdnmoo.metrics.economics.investment_items`) as lump sums
    discounted to the stage start (Table 2's convention; the run's objective spreads them
    until the horizon end instead), the operation cells the run's cost breakdown.
``table2.csv``
    Case I's (the first run's) cells beside the published ``table2`` with the relative
    difference.
``cases.csv``
    Per run: investment, operation, total (Table 2 convention) beside the published
    ``case_comparison.total_cost`` (printed or implied), and Case I's reduction against
    every case, ours beside the paper's.
``gamma.csv``
    Per Case I run (``paper_case: I``, at its ``uncertainty.gamma``): total SOP capacity,
    first SOP stage, terminals of the final SOPs, beside the published ``gamma_sweep``;
    with ``validation_samples`` the chosen plan's largest voltage and overload
    probabilities on that many fresh samples (:func:`monte_carlo_check`).
``allocation.csv``
    Per run with ``user_allocation`` (:mod:`fdnmoo.experiment.user_allocation`; seed 000's
    Case VI): median, min and max over the draws of the SOP investment change, violation
    cost factor and total factor against Case I, and the largest voltage and overload
    violation probabilities over the published ``risk_stages``, beside the published
    ``case_comparison.case_<paper_case>`` figures. The run's row of ``cases.csv`` holds the
    medians over the draws, ``plan.csv`` and ``stage_costs.csv`` the draw of median total;
    every draw is in ``runs/<label>/allocation_draws.csv`` (its genome in
    ``allocation_genomes.csv``).
``report.md``
    The tables in Markdown.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .case_tables import (INVESTMENT_COLUMNS, TABLE2_COLUMNS, VS_CASE_I,
                          cost_figures, investment_cells, plan_per_stage, relative_difference,
                          stage_costs, stage_probabilities, vs_case_i)
from .runs_study_spec import RunsStudySpec
from .study_runs import chosen_genome, run_folder, run_study_spec
from .user_allocation import allocation_draws, allocation_table

__all__ = ["INVESTMENT_COLUMNS", "TABLE2_COLUMNS", "allocation_draws", "allocation_table",
           "beside_published", "case_table", "chosen_plan", "cost_figures", "gamma_table",
           "investment_cells", "monte_carlo_check", "plan_per_stage", "run_case_study",
           "run_settings",
           "stage_costs", "stage_probabilities"]

logger = logging.getLogger(__name__)

_MCNY = 1e6


def chosen_plan(folder: str | Path, spec_path: str | Path, settings: tuple[str, ...] = ()):
    """The problem of a finished run and its chosen solution's :class:`~fdnmoo.planning.Plan`."""
    from .spec import load_spec

    problem = load_spec(spec_path, settings=settings).build_problem()
    return problem, problem.decode(chosen_genome(folder)[0])


def monte_carlo_check(folder: str | Path, spec_path: str | Path, settings: tuple[str, ...],
                      samples: int, chunk: int = 500, seed: int = 10_000) -> dict:
    """Violation probabilities of a run's chosen plan on ``samples`` fresh scenario samples.

    The plan is evaluated ``samples / chunk`` times, each on ``chunk`` samples per time slot
    drawn with ``problem.scenario_seed = seed + i`` (fresh: the run's own seed is another),
    so memory stays that of ``chunk`` samples; the per-bus (per-line) probabilities are the
    mean over the chunks, and the figures their largest over buses (lines) and stages.

    Returns
    -------
    dict
        ``mc_samples``, ``mc_voltage_probability``, ``mc_current_probability``.
    """
    from .spec import load_spec

    if samples < 1 or chunk < 1:
        raise ValueError(f"samples and chunk must be >= 1, got {samples}, {chunk}")
    n = -(-samples // chunk)
    x = chosen_genome(folder)
    v = i = 0.0
    for k in range(n):
        problem = load_spec(spec_path, settings=tuple(settings) + (
            f"problem.samples={min(chunk, samples)}", f"problem.scenario_seed={seed + k}",
            "evaluation.backend=serial", "evaluation.workers=1")).build_problem()
        ops = problem.evaluated(x)[0].ops
        v = v + ops.voltage_violation_probability / n
        i = i + ops.current_violation_probability / n
    return {"mc_samples": n * min(chunk, samples),
            "mc_voltage_probability": float(np.max(v, initial=0.0)),
            "mc_current_probability": float(np.max(i, initial=0.0))}


def beside_published(ours: pd.DataFrame, published: dict) -> pd.DataFrame:
    """Our Table 2 cells (currency) in long form beside the published ``table2`` (10^6)."""
    paper = pd.DataFrame.from_dict(published["rows"], orient="index",
                                   columns=published["columns"])
    paper.index = paper.index.astype(int)
    rows = []
    for stage in ours.index:
        for col in published["columns"]:
            o = float(ours.loc[stage, col]) / _MCNY
            p = float(paper.loc[stage, col]) if stage in paper.index else np.nan
            rows.append({"stage": int(stage), "cost": col, "ours [M]": o, "paper [M]": p,
                         "relative difference": float(relative_difference(o, p))})
    totals = ours[published["columns"]].sum() / _MCNY
    for col in published["columns"]:
        p = float(paper[col].sum())
        rows.append({"stage": "total", "cost": col, "ours [M]": float(totals[col]),
                     "paper [M]": p, "relative difference": float(relative_difference(totals[col], p))})
    return pd.DataFrame(rows)


def case_table(rows: list[dict], published: dict) -> pd.DataFrame:
    """``cases.csv`` from one dict per run (``run``, ``paper_case``, ``investment``,
    ``operation``, ``total`` in the currency) and the published ``case_comparison``."""
    table = pd.DataFrame(rows)
    comp = published.get("case_comparison", {})
    paper = {**comp.get("implied_total_cost", {}), **comp.get("total_cost", {})}
    table["paper_total [M]"] = [paper.get(c, np.nan) for c in table.paper_case]
    table["total [M]"] = table.total / _MCNY
    table["relative difference"] = relative_difference(table["total [M]"], table["paper_total [M]"])
    first = table[table.paper_case == "I"]
    base = float(first.total.iloc[0]) if len(first) else np.nan
    table["case_i_reduction"] = 1.0 - base / table.total
    red = comp.get("case_i_reduction_vs", {})
    table["paper_case_i_reduction"] = [red.get(c, np.nan) for c in table.paper_case]
    for ours, paper_key in VS_CASE_I.items():
        table[ours] = vs_case_i(table, ours, first)
        table[f"paper_{ours}"] = [comp.get(f"case_{str(c).lower()}", {}).get(paper_key, np.nan)
                                  for c in table.paper_case]
    return table


def gamma_table(rows: list[dict], published: dict) -> pd.DataFrame:
    """``gamma.csv``: per Case I run, SOP figures beside the published sweep at its gamma."""
    paper = {round(r["gamma"], 6): r for r in published.get("gamma_sweep", {}).get("rows", [])}
    out = []
    for r in rows:
        if r.get("paper_case") != "I":
            continue
        p = paper.get(round(r["gamma"], 6), {})
        out.append({"run": r["run"], "gamma": r["gamma"], "sop_total_mva": r["sop_total_mva"],
                    "paper_sop_total_mva": p.get("sop_total_mva", np.nan),
                    "relative difference": float(relative_difference(r["sop_total_mva"],
                                                      p.get("sop_total_mva", np.nan))),
                    "first_sop_stage": r["first_sop_stage"],
                    "paper_first_sop_stage": p.get("first_sop_stage", np.nan),
                    "final_terminals": r["final_terminals"],
                    "paper_final_terminals": "/".join(map(str, p.get("final_terminals", []))),
                    "total [M]": r["total"] / _MCNY,
                    "max_violation_probability": r["max_violation_probability"],
                    **{k: v for k, v in r.items() if k.startswith("mc_")}})
    return pd.DataFrame(out)


def run_settings(spec: RunsStudySpec, run, out: str | Path) -> tuple[str, ...]:
    """The ``--set`` changes of ``run`` in a study writing to ``out``: the study's, the
    run's own, and ``algorithm.initial_from`` = the folder of the run it starts from."""
    settings = tuple(spec.settings) + tuple(run.settings)
    if run.initial_from is not None:  # absolute: spec paths are relative to the spec file
        source = run_folder(Path(out).resolve(), run.initial_from)
        settings += (f"algorithm.initial_from={json.dumps(str(source))}",)
    return settings


def _run_figures(run, spec: RunsStudySpec, folder: Path, settings: tuple[str, ...]
                 ) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    meta = json.loads((folder / "run.json").read_text())
    k = int(meta["chosen_solution"])
    problem, plan = chosen_plan(folder, run.spec, settings)
    costs = stage_costs(problem.grid, plan, pd.read_csv(folder / "plans" / f"solution_{k}_costs.csv"))
    plan_t = plan_per_stage(pd.read_csv(folder / "plans" / f"solution_{k}.csv"))
    plan_t.insert(0, "run", run.label)
    pareto = pd.read_csv(folder / "pareto.csv")
    chosen = pareto[pareto.solution == k].iloc[0]
    draws = None
    if run.user_allocation is not None:
        logger.info("evaluating %d users' allocations of %s", run.user_allocation.draws,
                    run.label)
        draws, plan_t, costs = allocation_draws(folder, run, settings, problem)
        plan_t.insert(0, "run", run.label)
    with_sop = plan_t[plan_t.sop_mva > 0]
    gamma = (meta.get("spec", {}).get("uncertainty") or {}).get("gamma", 0.05)
    row = {"run": run.label, "paper_case": run.paper_case, **cost_figures(costs),
           **stage_probabilities(pd.read_csv(folder / "plans" / f"solution_{k}_violations.csv")),
           "objective_total_cost": float(chosen.filter(like="total_cost").iloc[0]),
           "feasible": bool(chosen["feasible"]), "cv": float(chosen["cv"]),
           "gamma": gamma, "sop_total_mva": float(plan_t.sop_mva.iloc[-1]),
           "first_sop_stage": int(with_sop.stage.iloc[0]) if len(with_sop) else None,
           "final_terminals": plan_t.sop_terminals.iloc[-1],
           "max_violation_probability": float(max(
               chosen.get("g_chance_voltage [-]", np.nan), chosen.get("g_chance_current [-]",
                                                                      np.nan))
               + gamma),
           "wall_time_s": float(meta["wall_time_s"]), "n_evals": int(meta["n_evals"]),
           "folder": str(folder)}
    if spec.validation_samples and draws is None:  # (a users' allocation has no one plan)
        logger.info("Monte Carlo check of %s on %d samples", run.label, spec.validation_samples)
        row.update(monte_carlo_check(folder, run.spec, settings, spec.validation_samples))
        row["mc_meets_gamma"] = max(row["mc_voltage_probability"],
                                    row["mc_current_probability"]) <= gamma
    if draws is not None:  # the row of the users' plans: medians over the draws
        figures = [c for c in draws if c not in ("draw", "feasible")]
        row.update({c: float(np.median(draws[c].to_numpy(float))) for c in figures if c in row})
        probs = draws[[c for c in draws if "_probability_s" in c]].to_numpy(float)
        row.update(feasible=bool(draws.feasible.all()), cv=np.nan, draws=len(draws),
                   feasible_draws=int(draws.feasible.sum()),
                   max_violation_probability=float(np.median(probs.max(axis=1))))
    costs = costs.reset_index()
    costs.insert(0, "run", run.label)
    return row, plan_t, costs, draws


def run_case_study(spec: RunsStudySpec, out_dir: str | Path | None = None,
                   progress: bool = False) -> Path:
    """Run a ``cases`` study and write its folder (module docstring)."""
    from .study_report import case_report

    out = Path(out_dir) if out_dir is not None else spec.output_dir()
    out.mkdir(parents=True, exist_ok=True)
    rows, plans, costs, allocations = [], [], [], []
    for run in spec.runs:
        folder = run_folder(out, run.label)
        logger.info("running %s", run.label)
        settings = run_settings(spec, run, out)
        run_study_spec(run.spec, settings, folder, progress=progress)
        row, plan_t, cost_t, draws = _run_figures(run, spec, folder, settings)
        rows.append(row)
        if draws is not None:
            allocations.append((run.label, run.paper_case, draws))
        plans.append(plan_t)
        costs.append(cost_t)
    published = spec.published_figures()
    plan_all = pd.concat(plans, ignore_index=True)
    cost_all = pd.concat(costs, ignore_index=True)
    plan_all.to_csv(out / "plan.csv", index=False)
    cost_all.to_csv(out / "stage_costs.csv", index=False)
    first = cost_all[cost_all.run == spec.runs[0].label].set_index("stage")
    table2 = beside_published(first, published["table2"]) if "table2" in published else None
    if table2 is not None:
        table2.to_csv(out / "table2.csv", index=False)
    cases = case_table(rows, published)
    cases.to_csv(out / "cases.csv", index=False)
    gamma = gamma_table(rows, published)
    if len(gamma):
        gamma.to_csv(out / "gamma.csv", index=False)
    allocation = allocation_table(allocations, cases, published)
    if len(allocation):
        allocation.to_csv(out / "allocation.csv", index=False)
    (out / "report.md").write_text(case_report(spec, plan_all, table2, cases, gamma, published,
                                               allocation))
    return out
