"""Figure of a bounds study: |V| bounds per bus, one panel per level.

Drawn like the run figures (:mod:`.figure_base`: a Figure on its own Agg canvas,
never pyplot). Each method's bounds are a band between its lower and upper
|V| (``fill_between``, ``gid`` = the method, ``label`` from :data:`METHOD_LABELS`),
over the supplied buses in the engine's order (x ticks: bus labels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .figure_base import axis_label, new_figure, save_figure

__all__ = ["METHOD_LABELS", "bounds_figure", "plot_bounds"]

#: Legend label and colour per method, drawn widest first.
METHOD_LABELS = {"interval": ("interval (IA)", "tab:orange"),
                 "affine": ("affine (AA)", "tab:blue"),
                 "montecarlo": ("Monte Carlo range", "0.25")}


def plot_bounds(widths: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`bounds_figure` as a PNG at ``path``; returns the path."""
    return save_figure(bounds_figure(widths), path)


def bounds_figure(widths: pd.DataFrame) -> Figure:
    """|V| bounds per bus of one case, one panel per level (``widths.csv`` rows of that case).

    With several slots, the slot of the largest Monte Carlo (else affine, else
    interval) |V| width is drawn; the title names it.
    """
    vm = widths[widths.quantity == "vm_pu"]
    if vm.empty or vm["case"].nunique() != 1:
        raise ValueError("bounds_figure draws the vm_pu rows of exactly one case")
    slot = _slot_to_draw(vm)
    vm = vm[vm.slot == slot]
    levels = sorted(vm["level"].unique())
    buses = list(dict.fromkeys(vm["element"]))
    x = np.arange(len(buses))
    fig = new_figure(figsize=(max(5.0, 3.2 * len(levels)), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(levels), sharey=True))
    for ax, level in zip(axes, levels):
        at = vm[vm.level == level]
        for method, (label, colour) in METHOD_LABELS.items():
            rows = at[at.method == method].set_index("element").reindex(buses)
            if rows["lo"].isna().all():
                continue
            if method == "montecarlo":
                ax.fill_between(x, rows["lo"], rows["hi"], color=colour, alpha=0.9, step="mid",
                                label=label, gid=method, lw=0)
            else:
                ax.fill_between(x, rows["lo"], rows["hi"], color=colour, alpha=0.35, step="mid",
                                label=label, gid=method, lw=0.8, edgecolor=colour)
        ax.set_title(f"±{100 * level:g} %", fontsize=9)
        axis_label(ax.xaxis, "bus")  # before the ticks: it sets a numeric formatter
        step = max(1, len(buses) // 12)
        ax.set_xticks(x[::step], [buses[i] for i in range(0, len(buses), step)], fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, lw=0.5)
    axis_label(axes[0].yaxis, "|V|", "p.u.")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=len(labels))
    case = vm["case"].iloc[0]
    fig.suptitle(f"{case}: |V| bounds per bus (slot {slot})", fontsize=10)
    return fig


def _slot_to_draw(vm: pd.DataFrame) -> int:
    slots = vm["slot"].unique()
    if len(slots) == 1:
        return int(slots[0])
    for method in ("montecarlo", "affine", "interval"):
        rows = vm[vm.method == method]
        if not rows.empty:
            return int(rows.groupby("slot")["width"].max().idxmax())
    return int(slots[0])
