"""Network map of a plan: one panel per stage, every line drawn by its state.

Line states (``gid`` of each drawn line, one Line2D per line):
``closed_line`` (section in service), ``opened_section`` (section the plan
opens), ``open_tie`` / ``closed_tie`` (normally-open line of the case, left
open or closed by the plan), ``new_line`` (candidate built by the plan).

Readability rules
    * Size: the map is scaled so that nearby buses (the 10th percentile of
      the nearest-neighbour distance) are ``_BUS_GAP_IN`` inches apart, within
      a maximum panel size; bus labels (``net.bus`` index, ``gid``
      ``bus_label``) shrink with the scale when the panel hits that maximum.
      Nets of more than ``_MAX_LABELLED_BUSES`` buses get no bus labels.
    * Tie routes: where the case's coordinates are schematic (the case says so:
      ``case.reference["coordinates"]`` for imported cases, the description's
      coordinates sentence for built-in ones), positions carry no geography,
      so a tie's straight segment has no meaning and often cuts across the
      whole tree. A tie whose straight segment would cross or run along a
      section, or is longer than ``_MAX_STRAIGHT`` nearby-bus distances, is
      drawn as two short stubs labelled with the far bus (``gid``
      ``tie_end_label``), like the off-sheet connectors of a one-line
      diagram. A stub leaves its bus in a free direction (one of 8, at least
      45 degrees from the bus's sections where possible), the one closest to
      the direction of the far end. Other ties, and every tie on geographic
      coordinates, are straight. Either way the drawn line starts at the
      tie's from-bus and ends at its to-bus.
    * The legend has one entry per element type drawn on any panel.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath
from scipy.spatial import cKDTree

from .figure_base import new_figure, save_figure

__all__ = ["coordinates_are_schematic", "network_figure", "plot_network"]

_BUS_GAP_IN = 0.32  # screen distance of nearby buses: room for a two-digit label each
_MAX_PANEL_IN = (15.0, 9.0)
_MIN_PANEL_IN = (4.0, 2.2)
_MARGIN_IN = 0.8  # ticks, axis labels and title of a panel
_LABEL_PT = 6.5  # bus label size at full scale; never below _MIN_LABEL_PT
_MIN_LABEL_PT = 4.0
_MAX_LABELLED_BUSES = 250
_STUB_SHARE = 0.45  # tie stub length, as a share of the nearby-bus distance
_MAX_STRAIGHT = 5.0  # longest straight tie on schematic coordinates, in nearby-bus distances

# line state -> drawing style and legend text
_LINE_STYLES = {
    "closed_line": (dict(color="0.25", lw=1.2, zorder=1), "closed section"),
    "opened_section": (dict(color="tab:red", lw=1.6, ls=(0, (1, 1.5)), zorder=2),
                       "opened section"),
    "open_tie": (dict(color="0.55", lw=1.0, ls="--", zorder=1), "open tie"),
    "closed_tie": (dict(color="tab:blue", lw=1.6, zorder=2), "closed tie"),
    "new_line": (dict(color="tab:orange", lw=3.0, zorder=2), "new line"),
}
_MARKERS = {
    "bus": (dict(ls="", marker="o", ms=3, color="0.3"), "bus (label: number)"),
    "sop_link": (dict(color="tab:purple", lw=2.0, ls=":", marker="D"), "SOP"),
    "pv": (dict(ls="", marker="o", color="gold", markeredgecolor="darkorange"),
           "PV (area ~ MW)"),
    "svc": (dict(ls="", marker="^", color="tab:green"), "SVC (area ~ Mvar)"),
    "substation": (dict(ls="", marker="s", color="black"), "substation"),
    "new_substation": (dict(ls="", marker="s", color="tab:red"), "new substation"),
}


def plot_network(grid: Any, plan: Any, path: str | Path, title: str = "") -> Path:
    """Write :func:`network_figure` as a PNG at ``path``; returns the path."""
    return save_figure(network_figure(grid, plan, title), path)


def coordinates_are_schematic(case: Any) -> bool:
    """Whether the case says its ``x_km``/``y_km`` are schematic (not geography).

    Reads ``case.reference["coordinates"]`` (written by
    :func:`fdnmoo.cases.from_pandapower`) or else the sentences of
    ``case.description`` that speak of coordinates.
    """
    note = case.reference.get("coordinates") if isinstance(case.reference, dict) else None
    if note is None:
        note = " ".join(s for s in re.split(r"(?<=\.)\s+", case.description or "")
                        if "coordinates" in s.lower())
    return "schematic" in str(note).lower()


def network_figure(grid: Any, plan: Any, title: str = "") -> Figure:
    """Map of a plan on the planning grid, one panel per stage.

    Lines are drawn by state (see the module docstring for ``gid`` values and
    the tie routing), SOP links dotted between their terminals and a hub, PV
    and SVC markers with area proportional to capacity, substations as
    squares, every bus labelled with its number. Coordinates:
    ``net.bus.x_km`` / ``y_km`` (a spring layout where absent). Every
    artist carries a ``gid`` naming what it shows (also ``bus``,
    ``bus_label``, ``substation``, ``new_substation``, ``sop_link``,
    ``sop_terminal``, ``sop_hub``, ``pv``, ``svc``, ``tie_end_label``).

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
    schematic = coordinates_are_schematic(case)
    pts = np.array(list(xy.values()))
    gap_km = _nearby_distance(pts)
    (width, height), label_pt = _panel_size(pts, gap_km)
    n_stages = plan.n_stages
    n_rows, n_cols = (1, n_stages) if width * n_stages <= 16.0 else (n_stages, 1)
    fig = new_figure(figsize=(width * n_cols, height * n_rows + 1.0), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()

    ties = set(case.tie_lines.index.tolist())
    base = set(np.asarray(grid.base_lines).tolist())
    candidates = set(grid.candidate_lines.index.tolist())
    drawn = [(int(k), xy[int(f)], xy[int(t)]) for k, f, t in
             zip(net.line.index, net.line.from_bus, net.line.to_bus)
             if int(f) in xy and int(t) in xy and (k in base or k in candidates)]
    sections = np.array([(a, b) for k, a, b in drawn if k in base and k not in ties],
                        dtype=float).reshape(-1, 2, 2)
    routes = {k: _tie_route(a, b, sections, gap_km) for k, a, b in drawn
              if k in ties and schematic}
    der_max = {kind: float(np.max(cap)) if np.size(cap) and np.max(cap) > 0 else 1.0
               for kind, cap in plan.der.items()}
    shown: set[str] = set()
    for s, ax in enumerate(axes, start=1):
        closed = set(np.asarray(plan.closed_lines[s - 1]).tolist())
        for k, a, b in drawn:
            state = _line_state(k, k in closed, ties, candidates)
            if state is None:
                continue
            route = routes.get(k, np.array([a, b]))
            ax.plot(route[:, 0], route[:, 1], gid=state, **_LINE_STYLES[state][0])
            shown.add(state)
            if k in ties and np.isnan(route).any():
                _label_stub_ends(ax, net.line.from_bus[k], net.line.to_bus[k], route, label_pt,
                                 _LINE_STYLES[state][0]["color"])
        ax.scatter(*pts.T, s=8, color="0.3", zorder=3, gid="bus")
        shown.add("bus")
        if len(xy) <= _MAX_LABELLED_BUSES:
            for bus, p in xy.items():
                ax.annotate(str(bus), p, xytext=(1.5, 1.5), textcoords="offset points",
                            fontsize=label_pt, color="0.15", zorder=6, gid="bus_label")
        shown |= _draw_substations(ax, net, plan, s, xy)
        shown |= _draw_sop(ax, plan, s, xy)
        shown |= _draw_der(ax, case, plan, s, xy, der_max)
        ax.set_title(f"stage {s}", fontsize=10)
        if not schematic:
            ax.set_aspect("equal", adjustable="datalim")
        ax.margins(0.04)
        what = ", schematic" if schematic else ""
        ax.set_xlabel(f"x [km{what}]", fontsize=8)
        ax.set_ylabel(f"y [km{what}]", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.legend(handles=_legend(shown), loc="outside lower center", ncols=6, fontsize=8)
    fig.suptitle(f"{case.name}: {title}" if title else case.name, fontsize=11)
    return fig


def _line_state(label: int, closed: bool, ties: set, candidates: set) -> str | None:
    if label in candidates:
        return "new_line" if closed else None
    if label in ties:
        return "closed_tie" if closed else "open_tie"
    return "closed_line" if closed else "opened_section"


def _nearby_distance(pts: np.ndarray) -> float:
    """10th percentile of the buses' nearest-neighbour distances (km), > 0."""
    if len(pts) < 2:
        return 1.0
    dist = cKDTree(pts).query(pts, k=2)[0][:, 1]
    dist = dist[dist > 0]
    return float(np.percentile(dist, 10)) if len(dist) else 1.0


def _panel_size(pts: np.ndarray, gap_km: float) -> tuple[tuple[float, float], float]:
    """Panel (width, height) in inches and the bus label size in points."""
    span = np.ptp(pts, axis=0) if len(pts) else np.ones(2)
    full = _BUS_GAP_IN / gap_km  # inches per km
    room = np.array(_MAX_PANEL_IN) - _MARGIN_IN
    scale = min(full, *(room[span > 0] / span[span > 0])) if (span > 0).any() else full
    size = np.clip(span * scale + _MARGIN_IN, _MIN_PANEL_IN, _MAX_PANEL_IN)
    label_pt = max(_MIN_LABEL_PT, _LABEL_PT * scale / full)
    return (float(size[0]), float(size[1])), float(label_pt)


def _tie_route(a, b, sections: np.ndarray, gap_km: float) -> np.ndarray:
    """Points of a tie's drawing from ``a`` to ``b``: straight, or two stubs split by NaN."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    length = float(np.hypot(*(b - a)))
    if length == 0 or (length <= _MAX_STRAIGHT * gap_km and not _crosses(a, b, sections)):
        return np.array([a, b])
    stub = min(_STUB_SHARE * gap_km, 0.4 * length)
    ua, ub = _stub_direction(a, b, sections), _stub_direction(b, a, sections)
    return np.array([a, a + stub * ua, [np.nan, np.nan], b + stub * ub, b])


def _stub_direction(at: np.ndarray, far: np.ndarray, sections: np.ndarray) -> np.ndarray:
    """Unit vector of a stub at ``at``: free of the bus's sections, nearest to ``far``."""
    angles = np.deg2rad(np.arange(0, 360, 45))
    away = np.vstack([seg[1] - at for seg in sections[np.isclose(sections[:, 0], at).all(1)]]
                     + [seg[0] - at for seg in sections[np.isclose(sections[:, 1], at).all(1)]]
                     + [np.zeros((0, 2))])
    incident = np.arctan2(away[:, 1], away[:, 0])  # directions of the bus's sections
    to_far = np.arctan2(*(far - at)[::-1])

    def apart(u, v):  # angle between directions, in [0, pi]
        return np.abs((u - v + np.pi) % (2 * np.pi) - np.pi)

    gap = np.array([apart(t, incident).min() if incident.size else np.pi for t in angles])
    free = angles[gap >= min(np.pi / 4, gap.max()) - 1e-9]
    best = free[np.argmin(apart(free, to_far))]
    return np.array([np.cos(best), np.sin(best)])


def _crosses(a: np.ndarray, b: np.ndarray, sections: np.ndarray) -> bool:
    """Whether segment a-b crosses or runs along one of ``sections`` (n, 2, 2), ends excluded."""
    near = (sections.min(axis=1) <= np.maximum(a, b)).all(axis=1) \
        & (sections.max(axis=1) >= np.minimum(a, b)).all(axis=1)  # bounding boxes meet
    shrink = 1e-6 * (b - a)
    tie = MplPath([a + shrink, b - shrink])
    return any(tie.intersects_path(MplPath(seg), filled=False) for seg in sections[near])


def _label_stub_ends(ax, from_bus, to_bus, route: np.ndarray, size: float, color) -> None:
    for tip, far, direction in ((route[1], to_bus, route[1] - route[0]),
                                (route[3], from_bus, route[3] - route[4])):
        dx, dy = direction / np.hypot(*direction)
        ax.annotate(f"\u2192{int(far)}", tip, xytext=(3 * dx, 3 * dy), textcoords="offset points",
                    fontsize=size, color=color, zorder=6, gid="tie_end_label",
                    ha="left" if dx > 0.3 else "right" if dx < -0.3 else "center",
                    va="bottom" if dy > 0.3 else "top" if dy < -0.3 else "center")


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


def _draw_substations(ax, net, plan, stage: int, xy) -> set[str]:
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    existing = [int(b) for b in eg.bus if int(b) in xy and int(b) not in set(net.trafo.hv_bus)]
    closed = net.trafo.loc[net.trafo.index.isin(np.asarray(plan.closed_trafos[stage - 1]))]
    fed = [int(b) for b in closed.lv_bus if int(b) in xy]
    new = set(plan.substations["bus"].tolist())
    shown = set()
    for buses, color, gid in ((existing + [b for b in fed if b not in new], "black", "substation"),
                              ([b for b in fed if b in new], "tab:red", "new_substation")):
        if buses:
            pts = np.array([xy[b] for b in buses])
            ax.scatter(pts[:, 0], pts[:, 1], s=70, marker="s", color=color, zorder=5, gid=gid)
            shown.add(gid)
    return shown


def _draw_sop(ax, plan, stage: int, xy) -> set[str]:
    shown = set()
    terminals = plan.sop_terminals(stage)
    for device in np.unique(terminals["device"]):
        pts = np.array([xy[int(b)] for b in terminals["bus"][terminals["device"] == device]
                        if int(b) in xy])
        if len(pts) == 0:
            continue
        hub = pts.mean(axis=0)
        for p in pts:
            ax.plot([hub[0], p[0]], [hub[1], p[1]], color="tab:purple", lw=2.0, ls=":",
                    zorder=3, gid="sop_link")
        ax.scatter(pts[:, 0], pts[:, 1], s=60, marker="D", color="tab:purple", zorder=5,
                   gid="sop_terminal")
        ax.scatter(*hub, s=25, marker="h", color="tab:purple", zorder=5, gid="sop_hub")
        shown.add("sop_link")
    return shown


def _draw_der(ax, case, plan, stage: int, xy, der_max) -> set[str]:
    shown = set()
    for kind, style in (("pv", dict(color="gold", marker="o", edgecolor="darkorange")),
                        ("svc", dict(color="tab:green", marker="^", edgecolor="darkgreen"))):
        cap = plan.der_capacity(kind, stage)
        table = case.candidates.get(kind)
        on = np.flatnonzero(cap > 0) if table is not None else []
        if len(on) == 0:
            continue
        pts = np.array([xy[int(b)] for b in table.bus.iloc[on]])
        ax.scatter(pts[:, 0], pts[:, 1], s=30 + 270 * cap[on] / der_max[kind], alpha=0.8,
                   zorder=4, gid=kind, **style)
        shown.add(kind)
    return shown


def _legend(shown: set[str]) -> list[Line2D]:
    """One handle per element type drawn, in a fixed order."""
    handles = []
    for gid, (style, text) in {**_LINE_STYLES, **_MARKERS}.items():
        if gid in shown:
            style = {k: v for k, v in style.items() if k != "zorder"}
            handles.append(Line2D([], [], label=text, **style))
    return handles
