"""Supply areas, path lengths and coordinates of an imported net.

Used by :func:`fdnmoo.cases.from_pandapower`. Rules:

Feeders
    The substation of a tree is its ext_grid bus plus every bus reached from it
    through transformers only (the HV bus and the MV busbars). A feeder is the
    subtree hanging from a *line* that leaves the substation; feeders are named
    ``F1``, ``F2``, ... in the order of their first bus label; a substation bus
    takes the name of its first feeder. Where this gives a single feeder (one
    line leaves the substation, as in the Baran & Wu feeders), every lateral
    holding at least ``min_area_share`` of the buses becomes an area of its own
    (a lateral: a child of a branch point other than the one with the largest
    subtree), so that ties and SOPs can join different areas.

Coordinates
    From the net's geodata (pandapower 3: ``net.bus.geo`` GeoJSON points;
    older nets: ``net.bus_geodata`` x/y) when every bus has a point. Points that
    look like WGS84 longitude/latitude (within +/-180/90 and spanning less than
    2 degrees) are projected to km (equirectangular: 111.32 km per degree of
    longitude times cos(mean latitude), 110.574 km per degree of latitude, the
    WGS84 degree lengths at the equator); other points are in
    unknown units and are scaled so that the median ratio of line length to
    straight distance is 1. Otherwise schematic coordinates (the tree layout of
    :func:`fdnmoo.cases.build.schematic_coordinates`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..branches import branch_table
from .build import schematic_coordinates

__all__ = ["supply_areas", "path_length_km", "case_coordinates"]

KM_PER_DEG_LON_EQUATOR = 111.32
KM_PER_DEG_LAT = 110.574
_MAX_SPAN_DEG = 2.0


def supply_areas(net, min_area_share: float = 0.1) -> pd.Series:
    """Feeder (supply area) label of every bus (rules in the module docstring)."""
    br = branch_table(net)
    st = br.radial_structure()
    n_line, n_bus = br.n_line, br.n_bus
    in_sub = np.zeros(n_bus, bool)
    in_sub[np.asarray(br.root_pos, dtype=np.int64)] = True
    head = np.full(n_bus, -1)
    for c in st.order:  # parents first
        u, k = st.parent[c], st.parent_branch[c]
        if in_sub[u] and k >= n_line:
            in_sub[c] = True
        else:
            head[c] = c if in_sub[u] else head[u]
    if len(set(head[head >= 0])) == 1:
        head = _split_single_feeder(st, head, n_bus, min_area_share)
    heads = sorted(set(int(h) for h in head if h >= 0), key=lambda h: br.bus_labels[h])
    name = {h: f"F{i + 1}" for i, h in enumerate(heads)}
    out = np.array([name[h] if h >= 0 else "" for h in head], dtype=object)
    for s in np.flatnonzero(in_sub):
        own = [h for h in heads if st.parent[h] == s]
        tree = [h for h in heads if st.root_of[h] == st.root_of[s]]
        out[s] = name[(own or tree)[0]] if (own or tree) else "S"
    return pd.Series(out, index=net.bus.index, name="feeder").astype(str)


def _split_single_feeder(st, head: np.ndarray, n_bus: int, min_share: float) -> np.ndarray:
    children: dict[int, list[int]] = {}
    for c in st.order:
        children.setdefault(int(st.parent[c]), []).append(int(c))
    size = np.ones(n_bus, dtype=np.int64)
    for c in st.order[::-1]:  # children before parents
        size[st.parent[c]] += size[c]
    new_head = head.copy()
    n_supplied = int((st.root_of >= 0).sum())
    for c in st.order:
        kids = children.get(int(c), [])
        if len(kids) > 1:
            main = max(kids, key=lambda k: (size[k], -k))
            for k in kids:
                if k != main and size[k] >= min_share * n_supplied:
                    new_head[k] = k
        for k in kids:
            if new_head[k] != k and head[k] >= 0:  # substation buses keep -1
                new_head[k] = new_head[c]
    return new_head


def path_length_km(net) -> pd.Series:
    """Length of line along the supply path from the substation to every bus, in km."""
    br = branch_table(net)
    st = br.radial_structure()
    lengths = net.line.length_km.to_numpy(float)
    out = np.zeros(br.n_bus)
    for c in st.order:
        k = st.parent_branch[c]
        out[c] = out[st.parent[c]] + (lengths[k] if k < br.n_line else 0.0)
    return pd.Series(out, index=net.bus.index, name="path_km")


def case_coordinates(net, allow_geodata: bool = True) -> tuple[pd.DataFrame, str]:
    """``x_km``/``y_km`` per bus and a sentence saying where they come from."""
    points = _geodata_points(net) if allow_geodata else None
    if points is not None:
        x, y = points[:, 0], points[:, 1]
        span = max(np.ptp(x), np.ptp(y))
        if np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90) and span < _MAX_SPAN_DEG:
            kx = KM_PER_DEG_LON_EQUATOR * np.cos(np.deg2rad(y.mean()))
            xy = np.column_stack([(x - x.min()) * kx, (y - y.min()) * KM_PER_DEG_LAT])
            how = ("Coordinates x_km/y_km are the net's geodata (WGS84 longitude/latitude) projected "
                   "to km (equirectangular, origin at the south-west corner).")
            return pd.DataFrame(xy, index=net.bus.index, columns=["x_km", "y_km"]), how
        scale = _length_scale(net, points)
        if scale is not None:
            xy = np.column_stack([(x - x.min()) * scale, (y - y.min()) * scale])
            how = (f"Coordinates x_km/y_km are the net's geodata in unknown units, scaled by {scale:.6g} "
                   "so that the median ratio of line length to straight distance is 1.")
            return pd.DataFrame(xy, index=net.bus.index, columns=["x_km", "y_km"]), how
    xy = schematic_coordinates(net)
    how = ("Coordinates x_km/y_km are schematic coordinates (tree layout: x = path length from the "
           "substation, y spreads the branches), not geography: the net has no complete geodata.")
    return xy, how


def _geodata_points(net) -> np.ndarray | None:
    """(n_bus, 2) array of the buses' points, or None if any bus lacks one."""
    if "geo" in net.bus and net.bus.geo.notna().all():
        pts = []
        for value in net.bus.geo:
            geo = json.loads(value) if isinstance(value, str) else value
            if not isinstance(geo, dict) or geo.get("type") != "Point":
                return None
            pts.append([float(c) for c in geo["coordinates"][:2]])
        return np.array(pts)
    gd = net.get("bus_geodata")
    if isinstance(gd, pd.DataFrame) and len(gd) and {"x", "y"} <= set(gd.columns):
        gd = gd.reindex(net.bus.index)
        if gd[["x", "y"]].notna().all().all():
            return gd[["x", "y"]].to_numpy(float)
    return None


def _length_scale(net, points: np.ndarray) -> float | None:
    pos = pd.Index(net.bus.index)
    line = net.line[net.line.in_service.astype(bool)]
    a = points[pos.get_indexer(line.from_bus)]
    b = points[pos.get_indexer(line.to_bus)]
    dist = np.hypot(*(a - b).T)
    ok = dist > 0
    if not ok.any():
        return None
    return float(np.median(line.length_km.to_numpy(float)[ok] / dist[ok]))
