"""A run's chosen plan completed by users: the blocks it planned kept, the others drawn at random.

A run entry of a ``cases`` study may say ``user_allocation:`` (seed 000's Case VI: a utility
plans its SOPs for the load growth alone, users site and size EVCS and PV as they like)::

    - {label: case VI, spec: s000_case6.yaml, paper_case: VI,
       user_allocation: {evaluate_on: s000_case1.yaml, draws: 20, seed: 7}}

After the run, the chosen solution's genes of every block the ``evaluate_on`` spec's problem
shares with the run's (same :attr:`~fdnmoo.problems.encodings.GeneBlock.name`, registered
block and parameters, hence the same genes) are kept; the genes of that problem's other blocks
come from its own sampling and repair (:meth:`~fdnmoo.problems.genome.Genome.sample`, then
:meth:`~fdnmoo.problems.genome.Genome.repair` of the combined genome), so they are random but
feasible as the problem's encodings define it (PV / EVCS: the penetration targets). Draw ``i``
uses the ``i``-th child of ``numpy.random.SeedSequence(seed)``: it does not depend on the
number of draws. :func:`allocation_draws` evaluates every combined genome on the
``evaluate_on`` problem by its plan report (as a run's solutions are) and tabulates it with
the study's own tables (:mod:`fdnmoo.experiment.case_tables`); :func:`allocation_table` sets
the medians and ranges over the draws beside the paper (``allocation.csv`` of
:mod:`fdnmoo.experiment.case_study`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .case_tables import VS_CASE_I, cost_figures, plan_per_stage, stage_costs, \
    stage_probabilities, vs_case_i
from .checking import Checker
from .spec import load_spec
from .study_runs import chosen_genome

__all__ = ["USER_ALLOCATION_KEYS", "UserAllocation", "allocation_draws", "allocation_table",
           "combined_genomes", "draw_summary",
           "parse_user_allocation", "representative_draw", "shared_blocks"]

#: Keys of a run entry's ``user_allocation`` mapping.
USER_ALLOCATION_KEYS = ("evaluate_on", "draws", "seed")


@dataclass(frozen=True)
class UserAllocation:
    """``evaluate_on`` (path of a run spec), ``draws`` (>= 1) and ``seed`` (>= 0)."""

    evaluate_on: str
    draws: int = 20
    seed: int = 0


def parse_user_allocation(check: Checker, value: Any, key: str, base: Path) -> UserAllocation:
    """Validate a ``user_allocation`` mapping; ``evaluate_on`` is relative to ``base``."""
    value = check.mapping(value, key, USER_ALLOCATION_KEYS)
    if "evaluate_on" not in value:
        raise check.fail(f"{key}.evaluate_on", "missing (the run spec whose problem the "
                                               "combined plans are evaluated on)")
    path = base / check.string(value["evaluate_on"], f"{key}.evaluate_on")
    if not path.is_file():
        raise check.fail(f"{key}.evaluate_on", f"no such file {str(path)!r}")
    return UserAllocation(evaluate_on=str(path),
                          draws=check.integer(value.get("draws", 20), f"{key}.draws", 1),
                          seed=check.integer(value.get("seed", 0), f"{key}.seed", 0))


def shared_blocks(planned, target, what: str = "evaluate_on's problem",
                  all_shared: bool = False) -> list[str]:
    """Names of the blocks of the bound genome ``target`` that ``planned`` has too, in
    ``target``'s layout order.

    Parameters
    ----------
    planned, target : Genome
    what : str
        How messages name ``target``'s problem.
    all_shared : bool
        Accept a ``target`` whose blocks are all shared (a warm start,
        :mod:`fdnmoo.experiment.initial_population`); users' allocations need one to draw.

    Raises
    ------
    ValueError
        A block of the same name that is another block (registered name, parameters or
        gene bounds differ), no block in common, or (unless ``all_shared``) nothing left
        to draw.
    """
    names = []
    for b in target.bound_blocks:
        if b.name not in planned.slices:
            continue
        a = planned.block(b.name)
        if a.registry_name != b.registry_name or a.get_params() != b.get_params() \
                or not (np.array_equal(a.xl, b.xl) and np.array_equal(a.xu, b.xu)):
            raise ValueError(f"block {b.name!r} is not the same in both problems: "
                             f"{a.registry_name} {a.get_params()} ({a.n_var} genes) against "
                             f"{b.registry_name} {b.get_params()} ({b.n_var} genes)")
        names.append(b.name)
    if not names:
        raise ValueError(f"no block in common: the run plans {list(planned.slices)}, "
                         f"{what} {list(target.slices)}")
    if len(names) == len(target.bound_blocks) and not all_shared:
        raise ValueError(f"{what} has no block the run lacks (both plan "
                         f"{names}): there is nothing for users to draw")
    return names


def combined_genomes(planned, target, x: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """``draws`` genomes of ``target``: the genes of ``x`` (a genome of ``planned``) in the
    shared blocks (:func:`shared_blocks`), the other blocks sampled and repaired.

    Returns
    -------
    ndarray of int, shape (draws, target.n_var)

    Raises
    ------
    ValueError
        From :func:`shared_blocks`, or where the repair of ``target`` changed kept genes
        (the kept plan is not feasible in ``target``).
    """
    x = np.asarray(x, dtype=np.int64).ravel()
    names = shared_blocks(planned, target)
    out = np.zeros((int(draws), target.n_var), dtype=np.int64)
    for i, child in enumerate(np.random.SeedSequence(int(seed)).spawn(int(draws))):
        rng = np.random.default_rng(child)
        y = target.sample(1, rng)
        for name in names:
            y[:, target.slices[name]] = x[planned.slices[name]]
        y = target.repair(y, rng)
        for name in names:
            if not np.array_equal(y[0, target.slices[name]], x[planned.slices[name]]):
                raise ValueError(f"the repair of evaluate_on's problem changed the genes of "
                                 f"block {name!r}: the run's plan is not feasible there")
        out[i] = y[0]
    return out


def draw_summary(draws: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Median, quartiles, min and max over the draws of every column (one row per column)."""
    values = draws[columns].astype(float)
    return pd.DataFrame({"quantity": columns, "median": values.median().to_numpy(),
                         "q25": values.quantile(0.25).to_numpy(),
                         "q75": values.quantile(0.75).to_numpy(),
                         "min": values.min().to_numpy(), "max": values.max().to_numpy()})


def representative_draw(draws: pd.DataFrame, column: str = "total") -> int:
    """Index (``draw``) of the draw whose ``column`` is nearest the median (the lower of two)."""
    values = draws[column].to_numpy(float)
    gap = np.abs(values - np.median(values))
    return int(draws["draw"].to_numpy()[np.lexsort((values, gap))[0]])


def allocation_draws(folder: str | Path, run, settings: tuple[str, ...], planned):
    """Evaluate the users' allocations of a finished run (``run.user_allocation``).

    The chosen genome of the run in ``folder`` (of the problem ``planned``) is completed by
    :func:`~fdnmoo.experiment.user_allocation.combined_genomes` and every draw evaluated on
    the ``evaluate_on`` spec's problem (with ``settings``) by its plan report, as a run's
    solutions are. Writes ``allocation_draws.csv`` and ``allocation_genomes.csv`` into
    ``folder``.

    Returns
    -------
    draws : DataFrame
        One row per draw: ``draw``, :func:`cost_figures`, :func:`stage_probabilities`,
        ``objective_total_cost``, ``g_<constraint>`` and ``feasible``.
    plan, costs : DataFrame
        The draw of median total (:func:`~fdnmoo.experiment.user_allocation.representative_draw`):
        its :func:`plan_per_stage` and :func:`stage_costs` tables.
    """
    alloc = run.user_allocation
    target = load_spec(alloc.evaluate_on, settings=settings).build_problem()
    X = combined_genomes(planned.genome, target.genome, chosen_genome(folder)[0],
                         alloc.draws, alloc.seed)
    rows, tables = [], []
    for i, x in enumerate(X):
        report = target.plan_report(x)
        costs = stage_costs(target.grid, target.decode(x), report["costs"].reset_index())
        g = report["constraints"]
        rows.append({"draw": i, **cost_figures(costs),
                     **stage_probabilities(report["violations"]),
                     "objective_total_cost": report["objectives"].get("total_cost", np.nan),
                     **{f"g_{k}": v for k, v in g.items()},
                     "feasible": all(v <= 0 for v in g.values())})
        tables.append((report["plan"], costs))
    draws = pd.DataFrame(rows)
    draws.to_csv(Path(folder) / "allocation_draws.csv", index=False)
    genomes = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    genomes.insert(0, "draw", draws["draw"])
    genomes.to_csv(Path(folder) / "allocation_genomes.csv", index=False)
    plan, costs = tables[representative_draw(draws)]
    return draws, plan_per_stage(plan), costs


def allocation_table(allocations: list[tuple[str, str, pd.DataFrame]], cases: pd.DataFrame,
                     published: dict) -> pd.DataFrame:
    """``allocation.csv`` from ``(run, paper_case, draws)`` of every run with a users'
    allocation (:func:`allocation_draws`), against Case I's row of ``cases`` (module docstring)."""
    comp = published.get("case_comparison", {})
    first = cases[cases.paper_case == "I"]
    rows = []
    for run, paper_case, draws in allocations:
        paper = comp.get(f"case_{str(paper_case).lower()}", {})
        stages = paper.get("risk_stages") or sorted(
            int(c.rsplit("_s", 1)[1]) for c in draws if c.startswith("voltage_probability_s"))
        per_draw = {k: vs_case_i(draws, k, first) for k in VS_CASE_I}
        for ours in ("voltage", "current"):
            per_draw[f"max_{ours}_probability"] = draws[
                [f"{ours}_probability_s{k}" for k in stages]].max(axis=1).to_numpy()
        published_as = {**{k: paper.get(v, np.nan) for k, v in VS_CASE_I.items()},
                        "max_voltage_probability": paper.get("voltage_risk_above", np.nan),
                        "max_current_probability": paper.get("overload_risk_above", np.nan)}
        for quantity, values in per_draw.items():
            values = np.asarray(values, float)
            rows.append({"run": run, "paper_case": paper_case, "quantity": quantity,
                         "stages": "/".join(map(str, stages)) if "probability" in quantity
                         else "all", "median": float(np.median(values)),
                         "min": float(values.min()), "max": float(values.max()),
                         "paper": published_as[quantity],
                         "paper_is": "a lower bound" if "probability" in quantity else "value",
                         "draws": len(values)})
    return pd.DataFrame(rows)
