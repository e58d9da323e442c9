"""What ``fdnmoo compare`` writes after the runs: tidy tables, figures and ``report.md``.

In ``<output>/``: ``runs``, ``final``, ``ranked_hv``, ``ranked_igd_plus`` and
``reference_front_<problem>`` tables, each as Parquet and CSV (the columns of
:class:`fdnmoo.experiment.comparison.Comparison`); ``convergence_<problem>.png``
(median HV against evaluations, IQR band) and ``final_hv_<problem>.png`` (box
plots of the final HV per algorithm); ``report.md`` with the tables and figures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .bounds_report import markdown_table
from .comparison import Comparison
from .figure_base import axis_label, new_figure, save_figure

__all__ = ["write_comparison", "write_table"]


def write_table(table: pd.DataFrame, folder: Path, name: str) -> list[Path]:
    """``table`` as ``<name>.parquet`` (pyarrow) and ``<name>.csv`` in ``folder``."""
    paths = [folder / f"{name}.parquet", folder / f"{name}.csv"]
    table.to_parquet(paths[0], engine="pyarrow", index=False)
    table.to_csv(paths[1], index=False)
    return paths


def write_comparison(result: Comparison, folder: str | Path, title: str = "") -> Path:
    """Write the tables, figures and report of ``result`` to ``folder``; returns report.md."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    history = result.history.copy()
    history["seed"] = history["seed"].astype(int)
    tables = {"runs": history, "final": result.final,
              "ranked_hv": result.ranked("hv"), "ranked_igd_plus": result.ranked("igd_plus")}
    tables.update({f"reference_front_{p}": front for p, front in result.fronts.items()})
    for name, table in tables.items():
        write_table(table, folder, name)
    figures = {}
    for problem, rows in history.groupby("problem", sort=True):
        figures[problem] = [convergence_plot(rows, folder / f"convergence_{problem}.png"),
                            final_box_plot(result.final[result.final.problem == problem],
                                           folder / f"final_hv_{problem}.png")]
    path = folder / "report.md"
    path.write_text(_report(result, tables, figures, title))
    return path


def convergence_plot(history: pd.DataFrame, path: Path) -> Path:
    """Median HV of each algorithm against evaluations, with its IQR band (one problem).

    Runs are put on the union of their evaluation counts, each holding its
    last value (a run's HV at ``n`` evaluations is that of its last generation
    finished by then).
    """
    fig = new_figure(figsize=(5.0, 3.4))
    ax = fig.add_subplot()
    for name, rows in history.groupby("algorithm", sort=True):
        grid = np.unique(rows["evaluations"].to_numpy())
        held = np.array([_hold(grid, run["evaluations"].to_numpy(), run["hv"].to_numpy())
                         for _, run in rows.groupby("seed")])
        q1, med, q3 = np.nanpercentile(held, [25, 50, 75], axis=0)
        line, = ax.plot(grid, med, label=str(name), lw=1.2)
        ax.fill_between(grid, q1, q3, color=line.get_color(), alpha=0.25, lw=0)
    axis_label(ax.xaxis, "evaluations")
    axis_label(ax.yaxis, "hypervolume", "normalised")
    ax.set_title(str(history["problem"].iloc[0]), fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def _hold(grid: np.ndarray, evaluations: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Step function: the value of the last generation with ``evaluations <= grid``."""
    k = np.searchsorted(evaluations, grid, side="right") - 1
    return np.where(k >= 0, values[np.clip(k, 0, None)], np.nan)


def final_box_plot(final: pd.DataFrame, path: Path) -> Path:
    """Box plots of the final HV per algorithm (one problem)."""
    fig = new_figure(figsize=(5.0, 3.4))
    ax = fig.add_subplot()
    names = sorted(final["algorithm"].unique())
    ax.boxplot([final.loc[final.algorithm == n, "hv"].to_numpy() for n in names])
    ax.set_xticks(range(1, len(names) + 1), names, fontsize=7)
    axis_label(ax.yaxis, "final hypervolume", "normalised")
    ax.set_title(str(final["problem"].iloc[0]), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def _report(result: Comparison, tables: dict, figures: dict, title: str) -> str:
    lines = [f"# {title or 'Comparison'}", "",
             "HV and IGD+ on one normalisation per problem: ideal and nadir of the reference "
             "front, the non-dominated union of every run's final feasible front "
             "(`reference_front_<problem>.csv`). Ranks: Wilcoxon rank-sum tests, "
             "Holm-corrected, alpha 0.05.", ""]
    for name in ("ranked_hv", "ranked_igd_plus"):
        lines += [f"## {name}", "", markdown_table(tables[name]), ""]
    lines += ["## final", "", markdown_table(result.final), ""]
    for problem, paths in figures.items():
        lines += [f"## {problem}", ""] + [f"![{p.stem}]({p.name})" for p in paths] + [""]
    return "\n".join(lines)
