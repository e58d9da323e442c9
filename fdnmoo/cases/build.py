"""Helpers for building case files from published data.

Used by the transcription scripts under ``experiments/cases/`` and by the
synthetic feeder generator: feeder labels from the base topology, schematic
coordinates where a source gives none, default reliability data, and the
SOP-capable nodes at tie-line ends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..branches import branch_table

__all__ = ["feeder_labels", "schematic_coordinates", "set_reliability", "tie_end_sop_nodes",
           "add_case_columns"]


def feeder_labels(net, names: dict[int, str] | None = None) -> pd.Series:
    """Label every bus with the feeder that supplies it in the base topology.

    A feeder is the subtree hanging from one branch that leaves a substation
    bus; substation buses get the label of their first feeder.

    Parameters
    ----------
    net : pandapowerNet
    names : dict, optional
        Feeder name by the label of the feeder's first bus (the child of the
        substation). Default: ``"F1"``, ``"F2"``, ... in bus order.
    """
    br = branch_table(net)
    st = br.radial_structure()
    head = np.full(br.n_bus, -1)
    roots = set(int(r) for r in br.root_pos)
    for c in st.order:  # parents first
        u = st.parent[c]
        head[c] = c if u in roots else head[u]
    heads = sorted(set(int(h) for h in head if h >= 0), key=lambda h: br.bus_labels[h])
    if names is None:
        names = {int(br.bus_labels[h]): f"F{i + 1}" for i, h in enumerate(heads)}
    label = {h: names[int(br.bus_labels[h])] for h in heads}
    out = [label[h] if h >= 0 else "" for h in head]
    for r in roots:  # a substation takes the name of its first feeder
        first = [h for h in heads if st.parent[h] == r]
        out[r] = label[first[0]] if first else "S"
    return pd.Series(out, index=net.bus.index, name="feeder")


def schematic_coordinates(net, spacing_km: float = 0.5) -> pd.DataFrame:
    """Tree-layout coordinates in km: x along the feeder, y between branches.

    x is the electrical path length (sum of ``length_km``) from the substation;
    leaves are spread ``spacing_km`` apart in y and every bus sits at the mean y
    of its children. Used where a source gives no geography; the numbers are
    schematic, which the case file must say.
    """
    br = branch_table(net)
    st = br.radial_structure()
    n_line = br.n_line
    length = np.zeros(br.n_bus)
    x = np.zeros(br.n_bus)
    lengths = net.line.length_km.to_numpy(float)
    for c in st.order:
        k = st.parent_branch[c]
        length[c] = lengths[k] if k < n_line else 0.0
        x[c] = x[st.parent[c]] + length[c]
    children: dict[int, list[int]] = {}
    for c in st.order:
        children.setdefault(int(st.parent[c]), []).append(int(c))
    y = np.zeros(br.n_bus)
    next_leaf = [0.0]

    def place(b: int) -> float:  # depth-first, iterative to survive deep feeders
        stack = [(b, False)]
        while stack:
            node, seen = stack.pop()
            kids = children.get(node, [])
            if not kids:
                y[node] = next_leaf[0]
                next_leaf[0] += spacing_km
            elif seen:
                y[node] = float(np.mean([y[k] for k in kids]))
            else:
                stack.append((node, True))
                stack.extend((k, False) for k in reversed(kids))
        return y[b]

    for r in br.root_pos:
        place(int(r))
        next_leaf[0] += spacing_km
    return pd.DataFrame({"x_km": x, "y_km": y}, index=net.bus.index)


def set_reliability(net, failure_rate_per_km_year: float, repair_time_h: float) -> None:
    """Fill ``failure_rate_per_year`` (rate x length) and ``repair_time_h`` of every line."""
    net.line["failure_rate_per_year"] = failure_rate_per_km_year * net.line.length_km.astype(float)
    net.line["repair_time_h"] = float(repair_time_h)


def tie_end_sop_nodes(net) -> pd.DataFrame:
    """SOP-capable nodes: both ends of every normally-open line, with their feeder."""
    ties = net.line[~net.line.in_service.astype(bool)]
    buses = sorted(set(ties.from_bus.astype(int)) | set(ties.to_bus.astype(int)))
    return pd.DataFrame({"bus": buses, "feeder": [str(net.bus.feeder[b]) for b in buses]})


def add_case_columns(net, feeder_names: dict[int, str] | None = None,
                     coordinates: pd.DataFrame | None = None) -> None:
    """Add ``feeder``, ``x_km`` and ``y_km`` to ``net.bus`` (schematic if not given)."""
    net.bus["feeder"] = feeder_labels(net, feeder_names)
    xy = coordinates if coordinates is not None else schematic_coordinates(net)
    net.bus["x_km"] = xy.x_km.reindex(net.bus.index).astype(float)
    net.bus["y_km"] = xy.y_km.reindex(net.bus.index).astype(float)
