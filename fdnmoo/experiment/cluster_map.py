"""Network map coloured by cluster (the output of the GA–SA partitioning).

Buses are drawn at ``net.bus.x_km``/``y_km`` (a spring layout where absent, as
:mod:`.network_map`), one colour per cluster; in-service lines join their buses,
grey between two clusters. Artists carry a ``gid``: ``cluster_<k>`` for the buses
of cluster k, ``line_inside`` and ``line_between`` for the lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .figure_base import new_figure, save_figure
from .network_map import _bus_xy

__all__ = ["cluster_figure", "plot_clusters"]


def cluster_figure(net, bus_labels, cluster, title: str = "") -> Figure:
    """Map of ``net`` with each bus coloured by its cluster.

    Parameters
    ----------
    net : pandapowerNet
    bus_labels : array_like of int, shape (n,)
    cluster : array_like of int, shape (n,)
        Cluster number of each bus in ``bus_labels``.
    title : str
    """
    labels = np.asarray(bus_labels, dtype=int)
    cluster = np.asarray(cluster, dtype=int)
    if labels.shape != cluster.shape:
        raise ValueError(f"cluster_figure: {len(cluster)} clusters given for {len(labels)} buses")
    of_bus = dict(zip(labels.tolist(), cluster.tolist()))
    xy = _bus_xy(net)
    n_clusters = int(cluster.max()) + 1 if cluster.size else 0
    cmap = colormaps["tab20" if n_clusters > 10 else "tab10"]
    fig = new_figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    lines = net.line[net.line.in_service.astype(bool)]
    for f, t in zip(lines.from_bus.astype(int), lines.to_bus.astype(int)):
        if f in xy and t in xy and f in of_bus and t in of_bus:
            inside = of_bus[f] == of_bus[t]
            ax.plot(*np.array([xy[f], xy[t]]).T, color=cmap(of_bus[f] % cmap.N) if inside else "0.6",
                    lw=1.4 if inside else 0.8, zorder=1, gid="line_inside" if inside else "line_between")
    for k in range(n_clusters):
        pts = np.array([xy[b] for b in labels[cluster == k] if b in xy]).reshape(-1, 2)
        ax.scatter(*pts.T, s=14, color=cmap(k % cmap.N), zorder=2, gid=f"cluster_{k}")
    handles = [Line2D([], [], ls="", marker="o", color=cmap(k % cmap.N), label=f"cluster {k}")
               for k in range(min(n_clusters, 20))]
    ax.legend(handles=handles, loc="best", fontsize=7, ncols=2)
    ax.set_xlabel("x [km]", fontsize=8)
    ax.set_ylabel("y [km]", fontsize=8)
    ax.set_title(title or f"{n_clusters} clusters", fontsize=10)
    return fig


def plot_clusters(net, bus_labels, cluster, path: str | Path, title: str = "") -> Path:
    """Write :func:`cluster_figure` as a PNG at ``path``; returns the path."""
    return save_figure(cluster_figure(net, bus_labels, cluster, title), path)
