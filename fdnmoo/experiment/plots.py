"""PNG figures of a run: Pareto scatter matrix, convergence, network map per stage.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (Agg canvas),
never through pyplot, so no global backend or state is touched. Each
``*_figure`` function returns the figure (to inspect or restyle); the matching
``plot_*`` function draws it and writes the PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

if TYPE_CHECKING:
    from .results import RunOutcome

__all__ = ["convergence_figure", "network_figure", "pareto_figure", "plot_convergence",
           "plot_network", "plot_pareto"]

_DPI = 120


def _label(name: str, unit: str = "", sense: str = "min") -> str:
    unit = f" [{unit}]" if unit and unit != "-" else ""
    return f"{name}{unit}" + (" (max)" if sense == "max" else "")


def plot_pareto(outcome: "RunOutcome", path: str | Path, chosen: int | None = None) -> Path:
    """Write :func:`pareto_figure` as a PNG at ``path``; returns the path."""
    return _save(pareto_figure(outcome, chosen), path)


def pareto_figure(outcome: "RunOutcome", chosen: int | None = None) -> Figure:
    """Scatter matrix of the Pareto solutions over the final population.

    Off the diagonal: every pair of objectives (own sign), final population in
    grey, Pareto solutions in blue, the chosen one (row of
    ``outcome.objectives``) as a red star (scatter ``gid`` ``population``,
    ``pareto``, ``chosen``). Diagonal: histogram of the Pareto solutions.
    """
    names, n = outcome.objective_names, len(outcome.objective_names)
    front, pop = outcome.objectives, outcome.pop_F * outcome.signs
    labels = [_label(nm, u, s) for nm, u, s in zip(names, outcome.units, outcome.senses)]
    size = max(2.4 * n, 4.0)
    fig = Figure(figsize=(size, size), dpi=_DPI, layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    for i in range(n):
        for j in range(n):
            ax = axes[i, j]
            if i == j:
                ax.hist(front[:, j], bins=min(20, max(5, len(front) // 2)), color="tab:blue",
                        alpha=0.7)
            else:
                ax.scatter(pop[:, j], pop[:, i], s=6, color="0.75", label="final population",
                           gid="population")
                ax.scatter(front[:, j], front[:, i], s=12, color="tab:blue", label="Pareto set",
                           gid="pareto")
                if chosen is not None:
                    ax.scatter(front[chosen, j], front[chosen, i], s=90, marker="*",
                               color="tab:red", label="chosen", zorder=3, gid="chosen")
            if i == n - 1:
                ax.set_xlabel(labels[j], fontsize=8)
            if j == 0 and i != j:
                ax.set_ylabel(labels[i], fontsize=8)
            ax.tick_params(labelsize=7)
    if n > 1:
        handles, texts = axes[0, 1].get_legend_handles_labels()
        fig.legend(handles, texts, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(f"{len(front)} Pareto solutions", fontsize=10)
    return fig


def plot_convergence(history: pd.DataFrame, names: list[str], path: str | Path) -> Path:
    """Write :func:`convergence_figure` as a PNG at ``path``; returns the path."""
    return _save(convergence_figure(history, names), path)


def convergence_figure(history: pd.DataFrame, names: list[str]) -> Figure:
    """Hypervolume, feasible share and per-objective median with IQR band per generation.

    Panels (two columns): hypervolume, feasible share [%], then one per name
    in ``names`` with the ``{name}_q25``..``{name}_q75`` band, the median and
    the best value; unused panels are hidden.
    """
    n_panels = 2 + len(names)
    n_cols = 2
    n_rows = -(-n_panels // n_cols)
    fig = Figure(figsize=(9, 2.6 * n_rows), dpi=_DPI, layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    gen = history["n_gen"].to_numpy()
    axes[0].plot(gen, history["hypervolume"], color="tab:blue")
    axes[0].set_ylabel("hypervolume\n(scaled by generation 1)", fontsize=8)
    axes[1].plot(gen, 100 * history["feasible_share"], color="tab:green")
    axes[1].set_ylabel("feasible share [%]", fontsize=8)
    axes[1].set_ylim(-2, 102)
    for ax, name in zip(axes[2:], names):
        ax.fill_between(gen, history[f"{name}_q25"], history[f"{name}_q75"], alpha=0.3,
                        color="tab:blue", label="IQR")
        ax.plot(gen, history[f"{name}_median"], color="tab:blue", label="median")
        ax.plot(gen, history[f"{name}_best"], color="tab:red", lw=1, label="best")
        ax.set_ylabel(name, fontsize=8)
    if len(names):
        axes[2].legend(fontsize=7)
    for ax in axes[:n_panels]:
        ax.set_xlabel("generation", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig


def plot_network(grid: Any, plan: Any, path: str | Path, title: str = "") -> Path:
    """Write :func:`network_figure` as a PNG at ``path``; returns the path."""
    return _save(network_figure(grid, plan, title), path)


def network_figure(grid: Any, plan: Any, title: str = "") -> Figure:
    """Map of a plan on the planning grid, one panel per stage.

    Closed lines solid, open lines of the case (ties, opened sections) dashed,
    lines built by the plan highlighted, SOP links dotted between their
    terminals, PV and SVC markers with area proportional to capacity,
    substations as squares. Coordinates: ``net.bus.x_km`` / ``y_km``.
    Every artist carries a ``gid`` naming what it shows (``closed_line``,
    ``open_line``, ``new_line``, ``sop_link``, ``bus``, ``substation``,
    ``new_substation``, ``sop_terminal``, ``sop_hub``, ``pv``, ``svc``).

    Parameters
    ----------
    grid : PlanningGrid
    plan : Plan
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    net, case = grid.net, grid.case
    xy = _bus_xy(net)
    n_stages = plan.n_stages
    pts = np.array(list(xy.values()))
    span = np.ptp(pts, axis=0) if len(pts) else np.ones(2)
    ratio = float(span[1] / span[0]) if span[0] > 0 else 1.0
    if ratio < 0.5:  # a long feeder: stages stacked, y stretched to stay readable
        height = float(np.clip(12.0 * ratio, 2.2, 3.5))
        fig = Figure(figsize=(12.0, height * n_stages + 0.9), dpi=_DPI, layout="constrained")
        axes = fig.subplots(n_stages, 1, squeeze=False)[:, 0]
    else:
        fig = Figure(figsize=(5.0 * n_stages, 5.0 * min(ratio, 1.6) + 0.9), dpi=_DPI,
                     layout="constrained")
        axes = fig.subplots(1, n_stages, squeeze=False)[0]
    base = set(np.asarray(grid.base_lines).tolist())
    candidates = set(grid.candidate_lines.index.tolist())
    der_max = {kind: float(np.max(cap)) if np.size(cap) and np.max(cap) > 0 else 1.0
               for kind, cap in plan.der.items()}
    for s, ax in enumerate(axes, start=1):
        closed = set(np.asarray(plan.closed_lines[s - 1]).tolist())
        for label, line in net.line.iterrows():
            a, b = xy.get(int(line.from_bus)), xy.get(int(line.to_bus))
            if a is None or b is None:
                continue
            if label in candidates:
                if label in closed:
                    ax.plot(*zip(a, b), color="tab:orange", lw=3.0, zorder=2, gid="new_line")
            elif label in base:
                if label in closed:
                    ax.plot(*zip(a, b), color="0.25", lw=1.2, zorder=1, gid="closed_line")
                else:
                    ax.plot(*zip(a, b), color="0.55", lw=1.0, ls="--", zorder=1, gid="open_line")
        ax.scatter(*np.array(list(xy.values())).T, s=8, color="0.3", zorder=3, gid="bus")
        _draw_substations(ax, net, plan, s, xy)
        _draw_sop(ax, plan, s, xy)
        for kind, style in (("pv", dict(color="gold", marker="o", edgecolor="darkorange")),
                            ("svc", dict(color="tab:green", marker="^", edgecolor="darkgreen"))):
            cap = plan.der_capacity(kind, s)
            table = case.candidates.get(kind)
            if table is None or np.size(cap) == 0:
                continue
            on = np.flatnonzero(cap > 0)
            pts = np.array([xy[int(b)] for b in table.bus.iloc[on]]) if len(on) else None
            if pts is not None:
                ax.scatter(pts[:, 0], pts[:, 1], s=30 + 270 * cap[on] / der_max[kind],
                           alpha=0.8, zorder=4, gid=kind, **style)
        ax.set_title(f"stage {s}", fontsize=10)
        if ratio >= 0.5:
            ax.set_aspect("equal", adjustable="datalim")
        ax.margins(0.06)
        ax.set_xlabel("x [km]", fontsize=8)
        ax.set_ylabel("y [km]", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.legend(handles=_legend(), loc="outside lower center", ncols=4, fontsize=8)
    fig.suptitle(f"{case.name}: {title}" if title else case.name, fontsize=11)
    return fig


def _bus_xy(net) -> dict[int, tuple[float, float]]:
    x = net.bus.get("x_km")
    y = net.bus.get("y_km")
    if x is None or y is None or x.isna().all() or y.isna().all():
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(int(b) for b in net.bus.index)
        graph.add_edges_from(zip(net.line.from_bus.astype(int), net.line.to_bus.astype(int)))
        return {b: tuple(p) for b, p in nx.spring_layout(graph, seed=0).items()}
    return {int(b): (float(xb), float(yb)) for b, xb, yb in zip(net.bus.index, x, y)
            if np.isfinite(xb) and np.isfinite(yb)}


def _draw_substations(ax, net, plan, stage: int, xy) -> None:
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    existing = [int(b) for b in eg.bus if int(b) in xy and int(b) not in set(net.trafo.hv_bus)]
    closed = net.trafo.loc[net.trafo.index.isin(np.asarray(plan.closed_trafos[stage - 1]))]
    fed = [int(b) for b in closed.lv_bus if int(b) in xy]
    new = set(plan.substations.bus.astype(int)) if len(plan.substations) else set()
    for buses, color, gid in ((existing + [b for b in fed if b not in new], "black", "substation"),
                              ([b for b in fed if b in new], "tab:red", "new_substation")):
        if buses:
            pts = np.array([xy[b] for b in buses])
            ax.scatter(pts[:, 0], pts[:, 1], s=70, marker="s", color=color, zorder=5, gid=gid)


def _draw_sop(ax, plan, stage: int, xy) -> None:
    terms = plan.sop_terminals(stage)
    for _, device in terms.groupby("device"):
        pts = np.array([xy[int(b)] for b in device.bus if int(b) in xy])
        if len(pts) == 0:
            continue
        hub = pts.mean(axis=0)
        for p in pts:
            ax.plot([hub[0], p[0]], [hub[1], p[1]], color="tab:purple", lw=2.0, ls=":",
                    zorder=3, gid="sop_link")
        ax.scatter(pts[:, 0], pts[:, 1], s=60, marker="D", color="tab:purple", zorder=5,
                   gid="sop_terminal")
        ax.scatter(*hub, s=25, marker="h", color="tab:purple", zorder=5, gid="sop_hub")


def _legend() -> list[Line2D]:
    return [
        Line2D([], [], color="0.25", lw=1.2, label="closed line"),
        Line2D([], [], color="0.55", lw=1.0, ls="--", label="open (tie)"),
        Line2D([], [], color="tab:orange", lw=3.0, label="new line"),
        Line2D([], [], color="tab:purple", lw=2.0, ls=":", marker="D", label="SOP"),
        Line2D([], [], ls="", marker="o", color="gold", markeredgecolor="darkorange",
               label="PV (area ~ MW)"),
        Line2D([], [], ls="", marker="^", color="tab:green", label="SVC (area ~ Mvar)"),
        Line2D([], [], ls="", marker="s", color="black", label="substation"),
        Line2D([], [], ls="", marker="s", color="tab:red", label="new substation"),
    ]


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    fig.savefig(path)
    return path
