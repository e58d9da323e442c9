"""PNG figures of a run: Pareto front, convergence, network map per stage.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with their own
Agg canvas, never through pyplot, so no global backend or state is touched and
``fig.canvas.draw()`` lays them out (to measure text, for instance). Each
``*_figure`` function returns the figure (to inspect or restyle); the matching
``plot_*`` function draws it and writes the PNG. The network map lives in
:mod:`fdnmoo.experiment.network_map`, the shared axis labelling (units, the
case's currency, powers of ten) in :mod:`fdnmoo.experiment.figure_base`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .figure_base import axis_label, case_currency, new_figure, save_figure
from .network_map import network_figure, plot_network
from .outcome import RunOutcome

__all__ = ["convergence_figure", "network_figure", "pareto_figure", "plot_convergence",
           "plot_network", "plot_pareto"]


def plot_pareto(outcome: RunOutcome, path: str | Path, chosen: int | None = None,
                case: Any = None) -> Path:
    """Write :func:`pareto_figure` as a PNG at ``path``; returns the path."""
    return save_figure(pareto_figure(outcome, chosen, case), path)


def pareto_figure(outcome: RunOutcome, chosen: int | None = None, case: Any = None) -> Figure:
    """The Pareto front over the final population, in every objective's own sign.

    Two objectives: one scatter plot. More: a scatter matrix of every pair,
    with a histogram of the Pareto solutions on the diagonal; x labels on the
    bottom row, a row's objective labels its first scatter panel. The final
    population is grey, Pareto solutions blue, the chosen one (row of
    ``outcome.objectives``) a red star (scatter ``gid`` ``population``,
    ``pareto``, ``chosen``). Under interval objectives every Pareto solution
    also gets its box ``[lo, hi]`` of the two objectives (a patch collection,
    ``gid`` ``intervals``). Money axes carry ``case``'s currency.

    Raises
    ------
    ValueError
        For a single objective: there is no front to draw; the run's
        :func:`convergence_figure` shows its progress instead.
    """
    names, n = outcome.objective_names, len(outcome.objective_names)
    if n < 2:
        raise ValueError(f"a Pareto front needs two or more objectives, got {names}; draw "
                         "convergence_figure for a single-objective run")
    front, pop = outcome.objectives, outcome.pop_F * outcome.signs
    ranges = outcome.objective_ranges()
    currency = case_currency(case)

    def label(axis, j: int) -> None:
        axis_label(axis, names[j], outcome.units[j], outcome.senses[j],
                   np.concatenate([front[:, j], pop[:, j]]), currency, wrap_at=0 if n == 2 else 24)

    def scatter(ax, j: int, i: int) -> None:
        ax.scatter(pop[:, j], pop[:, i], s=8, color="0.75", label="final population",
                   gid="population")
        ax.scatter(front[:, j], front[:, i], s=14, color="tab:blue", label="Pareto set",
                   gid="pareto")
        if ranges is not None:
            lo, hi = ranges
            boxes = [Rectangle((lo[k, j], lo[k, i]), hi[k, j] - lo[k, j], hi[k, i] - lo[k, i])
                     for k in range(len(front))]
            ax.add_collection(PatchCollection(boxes, facecolor="tab:blue", alpha=0.12,
                                              edgecolor="tab:blue", linewidth=0.6,
                                              gid="intervals", label="interval box"))
            ax.update_datalim(np.column_stack([np.r_[lo[:, j], hi[:, j]],
                                               np.r_[lo[:, i], hi[:, i]]]))
            ax.autoscale_view()
        if chosen is not None:
            ax.scatter(front[chosen, j], front[chosen, i], s=90, marker="*", color="tab:red",
                       label="chosen", zorder=3, gid="chosen")
        ax.tick_params(labelsize=7)

    if n == 2:
        fig = new_figure(figsize=(5.5, 4.6), layout="constrained")
        ax = fig.subplots()
        scatter(ax, 0, 1)
        label(ax.xaxis, 0)
        label(ax.yaxis, 1)
        axes = np.array([[ax]])
    else:
        size = 2.4 * n
        fig = new_figure(figsize=(size, size), layout="constrained")
        axes = fig.subplots(n, n, squeeze=False)
        for i in range(n):
            for j in range(n):
                ax = axes[i, j]
                label(ax.xaxis, j)
                if i == j:
                    ax.hist(front[:, j], bins=min(20, max(5, len(front) // 2)),
                            color="tab:blue", alpha=0.7)
                    ax.yaxis.label.set_visible(False)
                    ax.tick_params(labelsize=7)
                else:
                    scatter(ax, j, i)
                    label(ax.yaxis, i)
                    # the row's objective labelled once, on its first scatter panel
                    ax.yaxis.label.set_visible(j == (1 if i == 0 else 0))
                ax.xaxis.label.set_visible(i == n - 1)
    handles, texts = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, texts, loc="outside lower center", ncols=3, fontsize=8)
    boxes = " with their interval boxes" if ranges is not None else ""
    fig.suptitle(f"{len(front)} Pareto solutions{boxes}", fontsize=10)
    return fig


def plot_convergence(history: pd.DataFrame, names: list[str], path: str | Path,
                     units: list[str] | None = None, case: Any = None) -> Path:
    """Write :func:`convergence_figure` as a PNG at ``path``; returns the path."""
    return save_figure(convergence_figure(history, names, units, case), path)


def convergence_figure(history: pd.DataFrame, names: list[str], units: list[str] | None = None,
                       case: Any = None) -> Figure:
    """Hypervolume, feasible share and per-objective median with IQR band per generation.

    Panels (two columns): hypervolume, feasible share [%], then one per name
    in ``names`` with the ``{name}_q25``..``{name}_q75`` band, the median and
    the best value, labelled with ``units`` (money in ``case``'s currency);
    unused panels are hidden.
    """
    units = list(units) if units is not None else [""] * len(names)
    currency = case_currency(case)
    n_panels = 2 + len(names)
    n_cols = 2
    n_rows = -(-n_panels // n_cols)
    fig = new_figure(figsize=(9, 2.6 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    gen = history["n_gen"].to_numpy()
    axes[0].plot(gen, history["hypervolume"], color="tab:blue")
    axes[0].set_ylabel("hypervolume\n(scaled by the first feasible front)", fontsize=8)
    axes[1].plot(gen, 100 * history["feasible_share"], color="tab:green")
    axes[1].set_ylabel("feasible share [%]", fontsize=8)
    axes[1].set_ylim(-2, 102)
    for ax, name, unit in zip(axes[2:], names, units):
        columns = [f"{name}_{stat}" for stat in ("q25", "median", "q75", "best")]
        ax.fill_between(gen, history[columns[0]], history[columns[2]], alpha=0.3,
                        color="tab:blue", label="IQR")
        ax.plot(gen, history[columns[1]], color="tab:blue", label="median")
        ax.plot(gen, history[columns[3]], color="tab:red", lw=1, label="best")
        axis_label(ax.yaxis, name, unit, values=history[columns].to_numpy(), currency=currency)
    if len(names):
        axes[2].legend(fontsize=7)
    for ax in axes[:n_panels]:
        ax.set_xlabel("generation", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig
