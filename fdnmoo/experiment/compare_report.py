"""What ``fdnmoo compare`` writes after the runs: tidy tables, figures and ``report.md``.

In ``<output>/``: ``runs``, ``final``, ``ranked_hv``, ``ranked_igd_plus`` and
``reference_front_<problem>`` tables, each as Parquet and CSV (the columns of
:class:`fdnmoo.experiment.comparison.Comparison`); ``convergence_<problem>.png``
(median HV against evaluations, IQR band), ``wall_time_<problem>.png`` (median
wall time of a run against evaluations, IQR band) and ``final_hv_<problem>.png`` (box
plots of the final HV per algorithm); ``report.md`` with the tables and figures.

Wall times are those of each run as it ran: a grid of several workers (or on
Dask) runs cells side by side, each evaluating serially whatever its
``evaluation:`` says, on a machine that may be shared; compare them between
algorithms of one grid, not across machines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import matplotlib
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from .bounds_report import markdown_table
from .comparison import Comparison
from .figure_base import axis_label, new_figure, save_figure
from .indicators import Normalisation, attainment, attainment_difference
from .runner import FRONTS

__all__ = ["median_bands", "write_comparison", "write_table"]


def write_table(table: pd.DataFrame, folder: Path, name: str) -> list[Path]:
    """``table`` as ``<name>.parquet`` (pyarrow) and ``<name>.csv`` in ``folder``."""
    paths = [folder / f"{name}.parquet", folder / f"{name}.csv"]
    table.to_parquet(paths[0], engine="pyarrow", index=False)
    table.to_csv(paths[1], index=False)
    return paths


def write_comparison(result: Comparison, folder: str | Path, title: str = "",
                     runs: pd.DataFrame | None = None, references: tuple[str, ...] = ()
                     ) -> Path:
    """Write the tables, figures and report of ``result`` to ``folder``; returns report.md.

    ``runs`` (the input of :func:`~fdnmoo.experiment.comparison.compare_runs`)
    adds the final populations (``final_population_<problem>``: each run's
    ``pareto.csv``, objectives and decoded plan columns, or decision variables
    ``x0, ...`` for pymoo problems) and, for 2-objective problems, the EAF
    figures. Each label of ``references`` (direct pymoo runs) adds the table
    ``against_<label>``: every algorithm's median final HV relative to its.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    history = result.history.copy()
    history["seed"] = history["seed"].astype(int)
    tables = {"runs": history, "final": result.final,
              "ranked_hv": result.ranked("hv"), "ranked_igd_plus": result.ranked("igd_plus")}
    tables.update({f"reference_front_{p}": front for p, front in result.fronts.items()})
    tables.update({f"against_{label}": result.against(label) for label in references})
    if runs is not None:
        tables.update({f"final_population_{p}": rows
                       for p, rows in final_populations(runs).items()})
    for name, table in tables.items():
        write_table(table, folder, name)
    figures = {}
    for problem, rows in history.groupby("problem", sort=True):
        final = result.final[result.final.problem == problem]
        figures[problem] = [convergence_plot(rows, folder / f"convergence_{problem}.png"),
                            wall_time_plot(rows, folder / f"wall_time_{problem}.png"),
                            final_box_plot(final, folder / f"final_hv_{problem}.png")]
        if runs is not None and result.fronts[problem].shape[1] == 2:
            fronts = final_fronts(runs, final, list(result.fronts[problem].columns))
            figures[problem] += eaf_plots(fronts, result.normalisations[problem], folder,
                                          problem)
    path = folder / "report.md"
    path.write_text(_report(result, tables, figures, title))
    return path


def final_populations(runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per problem, every run's ``pareto.csv`` with ``problem, algorithm, seed`` first."""
    out = {}
    for problem, rows in runs.groupby("problem", sort=True):
        parts = []
        for row in rows.itertuples(index=False):
            table = pd.read_csv(Path(row.folder) / "pareto.csv")
            for k, key in enumerate(("problem", "algorithm", "seed")):
                table.insert(k, key, getattr(row, key))
            parts.append(table)
        out[str(problem)] = pd.concat(parts, ignore_index=True)
    return out


def final_fronts(runs: pd.DataFrame, final: pd.DataFrame, objectives: list[str]
                 ) -> dict[str, list[np.ndarray]]:
    """Per algorithm, the final feasible front of each run (from ``fronts.csv``)."""
    last = {(r.algorithm, r.seed): r.generation for r in final.itertuples(index=False)}
    out: dict[str, list[np.ndarray]] = {}
    for row in runs[runs.problem == final.problem.iloc[0]].itertuples(index=False):
        fronts = pd.read_csv(Path(row.folder) / FRONTS)
        gen = last[row.algorithm, row.seed]
        out.setdefault(row.algorithm, []).append(
            fronts.loc[fronts.n_gen == gen, objectives].to_numpy(dtype=float))
    return dict(sorted(out.items()))


def eaf_plots(fronts: dict[str, list[np.ndarray]], norm: Normalisation, folder: Path,
              problem: str) -> list[Path]:
    """Median attainment surface of each algorithm and, for the first two, where their EAFs
    differ (normalised objectives, 2 objectives)."""
    fig = new_figure(figsize=(5.0, 3.6))
    ax = fig.add_subplot()
    for name, runs in fronts.items():
        surface = attainment(runs, norm, percentiles=[50]).sort_values("f1")
        if len(surface):
            ax.step(surface.f1, surface.f2, where="post", label=name, lw=1.2)
    _eaf_axes(ax, problem, "median attainment surfaces")
    ax.legend(fontsize=7)
    paths = [save_figure(fig, folder / f"eaf_{problem}.png")]
    names = list(fronts)
    if len(names) >= 2 and len(fronts[names[0]]) == len(fronts[names[1]]):
        rect = attainment_difference(fronts[names[0]], fronts[names[1]], norm)
        fig = new_figure(figsize=(5.0, 3.6))
        ax = fig.add_subplot()
        cmap = matplotlib.colormaps["RdBu_r"]  # red: the first attains more
        high = np.minimum(rect[["f1_high", "f2_high"]].to_numpy(), 1.1)  # moocore: inf
        for r, (f1_high, f2_high) in zip(rect.itertuples(index=False), high):
            ax.add_patch(Rectangle((r.f1_low, r.f2_low), f1_high - r.f1_low,
                                   f2_high - r.f2_low, color=cmap(0.5 + r.difference / 2),
                                   lw=0))
        ax.set_xlim(0, 1.1)
        ax.set_ylim(0, 1.1)
        fig.colorbar(ScalarMappable(Normalize(-1, 1), cmap), ax=ax,
                     label=f"EAF {names[0]} − EAF {names[1]}")
        _eaf_axes(ax, problem, f"{names[0]} (red) vs {names[1]} (blue)")
        paths.append(save_figure(fig, folder / f"eafdiff_{problem}.png"))
    return paths


def _eaf_axes(ax, problem: str, what: str) -> None:
    axis_label(ax.xaxis, "objective 1", "normalised")
    axis_label(ax.yaxis, "objective 2", "normalised")
    ax.set_title(f"{problem}: {what}", fontsize=9)
    ax.figure.tight_layout()


def convergence_plot(history: pd.DataFrame, path: Path) -> Path:
    """Median HV of each algorithm against evaluations, with its IQR band (one problem)."""
    return _median_band_plot(history, "hv", ("hypervolume", "normalised"), path)


def wall_time_plot(history: pd.DataFrame, path: Path) -> Path:
    """Median wall time of a run of each algorithm against evaluations, with its IQR
    band (one problem; cumulative seconds of the run's generations)."""
    return _median_band_plot(history, "wall_time_s", ("wall time", "s"), path)


def _median_band_plot(history: pd.DataFrame, column: str, label: tuple[str, str],
                      path: Path) -> Path:
    """Median of ``column`` over the seeds of each algorithm against evaluations, IQR band.

    Runs are put on the union of their evaluation counts, each holding its
    last value (a run's value at ``n`` evaluations is that of its last
    generation finished by then).
    """
    fig = new_figure(figsize=(5.0, 3.4))
    ax = fig.add_subplot()
    for name, band in median_bands(history, column).items():
        line, = ax.step(band["evaluations"], band["median"], where="post", label=name, lw=1.2)
        ax.fill_between(band["evaluations"], band["q25"], band["q75"], step="post",
                        color=line.get_color(), alpha=0.25, lw=0)
    axis_label(ax.xaxis, "evaluations")
    axis_label(ax.yaxis, *label)
    ax.set_title(str(history["problem"].iloc[0]), fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def median_bands(history: pd.DataFrame, column: str) -> dict[str, pd.DataFrame]:
    """Per algorithm, quartiles of ``column`` over its seeds at every evaluation count.

    Runs are put on the union of the algorithm's evaluation counts, each
    holding the value of its last generation finished by then (NaN before its
    first), as the convergence and wall-time figures draw them.

    Returns
    -------
    dict of str -> DataFrame
        Columns ``evaluations``, ``q25``, ``median``, ``q75``.
    """
    out = {}
    for name, rows in history.groupby("algorithm", sort=True):
        grid = np.unique(rows["evaluations"].to_numpy())
        held = np.array([_hold(grid, run["evaluations"].to_numpy(), run[column].to_numpy())
                         for _, run in rows.groupby("seed")])
        q1, med, q3 = np.nanpercentile(held, [25, 50, 75], axis=0)
        out[str(name)] = pd.DataFrame({"evaluations": grid, "q25": q1, "median": med,
                                       "q75": q3})
    return out


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
             "Holm-corrected, alpha 0.05. Wall times (`wall_time_s`, `wall_time_<problem>.png`) "
             "are each run's own: with several grid workers the cells run side by side and "
             "each evaluates serially (its `evaluation:` is overridden).", ""]
    for name in ("ranked_hv", "ranked_igd_plus"):
        lines += [f"## {name}", "", markdown_table(tables[name]), ""]
    for name in (n for n in tables if n.startswith("against_")):
        lines += [f"## {name}", "", f"Median final HV of each algorithm against that of "
                  f"{name[len('against_'):]} (pymoo's class run by `pymoo.optimize.minimize`, "
                  f"same budget and seeds).", "", markdown_table(tables[name]), ""]
    lines += ["## final", "", markdown_table(result.final), ""]
    for problem, paths in figures.items():
        lines += [f"## {problem}", ""] + [f"![{p.stem}]({p.name})" for p in paths] + [""]
    return "\n".join(lines)
