"""Structural adaptability and PV unevenness of a plan (the AA paper's upper/lower objectives).

Seed 004 (affine-arithmetic bi-level planning, AA-NSGA-II) defines, in
equations lost in extraction, with this text:

* "the tie-line connection degree (TCD) in (7), which is quantified by the
  distribution density of tie-lines between different power supply areas.
  [TCD = 0] means there is no tie-line in operation and the corresponding
  power supply reliability is poor"; its nomenclature lists the "sets of all
  buses, lines, and tie-lines at substation d in stage h" and their sizes;
* "the network cohesion degree (NCD) in (8) and (9), which is quantified by the
  strength of network cohesion between different geographical regions.
  [NCD = 0] means all substations supply power in their own geographical
  regions without interconnection";
* "the AA-based PV configuration uneven degree (13)-(15) ... during all
  planning stages"; nomenclature: "affine standard deviation of PV
  installation capacity for substation d" and "electrical distance between
  buses i and j"; "a centralized PV with a large capacity installed at the
  most distant terminal bus ... is called the extreme PV configuration".

The formulas used here (both degrees lie in [0, 1]):

**Supply areas** of a stage: the ``net.bus.feeder`` label of every supplied
bus; a bus without a label (md24's future load nodes) takes the label of its
nearest labelled ancestor in the stage's radial topology, or
``"root <bus>"`` after its substation. Only *active* buses count (supplied and
joined to at least one closed branch: an unbuilt candidate substation is not
an area).

**Links** of a stage: every normally-open line that exists in the stage (a
case line or a candidate line built by then, not replaced, open in the
stage) and every pair of terminals of one SOP device; a bus pair with both a
tie and an SOP is one link. Only links between two active buses count.

**TCD** (per-area tie density, following seed 004's "density of tie-lines"
and its per-substation sets of lines and tie-lines)::

    TCD_h = (1 / A_h) * sum_a  T_a / (T_a + N_a)

with ``A_h`` areas, ``T_a`` the links with one end in area ``a`` and the other
in a different area, ``N_a`` the closed lines with at least one end in ``a``.
``TCD = 0`` without inter-area links; it grows with every added tie or SOP
pair and stays below 1.

**NCD**: regions are ``net.bus.zone`` when it holds at least two distinct
labels among active buses, else the supply areas::

    NCD_h = (number of region pairs joined by at least one link) / (R (R - 1) / 2)

(0 for ``R < 2``). Closed lines crossing regions do not count: cohesion is
what ties and SOPs add.

**Structural adaptability** ``= mean_h (w1 TCD_h + w2 NCD_h)``, in [0, 1]
for ``w1 + w2 = 1``.

**PV uneven degree** (MW)::

    U = (1 / H) * sum_h sum_a std_{i in C_a,h} ( P_i,h * delta_i,h )
    delta_i,h = R_i,h / max_{j in area a} R_j,h

``C_a,h``: PV candidate buses supplied in area ``a`` in stage ``h``;
``P_i,h``: installed PV (MW); ``R_i,h``: per-unit path resistance from the
substation (the electrical distance); ``std``: population standard deviation.
``U = 0`` when every candidate of an area carries the same distance-weighted
capacity (more PV near the substation, less at the end) or no PV; the extreme
configuration (all PV at the most distant bus) maximises it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..planning import Plan, PlanningGrid
from ..branches import BranchTable, branch_table
from ..topology import RadialStructure

__all__ = [
    "built_lines",
    "interconnections",
    "network_cohesion_degree",
    "pv_uneven_degree",
    "stage_structure",
    "structural_adaptability",
    "supply_areas",
    "tie_connection_degree",
]


# --- shared stage topology -----------------------------------------------------------------
def stage_structure(grid: PlanningGrid, plan: Plan, stage: int,
                    branches: BranchTable | None = None) -> tuple[BranchTable, RadialStructure]:
    """Branch table of the grid and the radial structure of ``stage``'s closed branches."""
    br = branch_table(grid.net) if branches is None else branches
    closed = np.zeros(len(br.from_pos), dtype=bool)
    lines = np.asarray(plan.closed_lines[stage - 1], dtype=np.int64)
    trafos = np.asarray(plan.closed_trafos[stage - 1], dtype=np.int64)
    if len(lines):
        closed[br.line_position(lines)] = True
    if len(trafos):
        closed[br.trafo_position(trafos)] = True
    return br, br.radial_structure(closed)


def built_lines(grid: PlanningGrid, plan: Plan, stage: int) -> np.ndarray:
    """``net.line`` labels existing in ``stage``: case lines not replaced, built candidates."""
    if len(plan.new_lines) == 0:
        return np.asarray(grid.base_lines, dtype=np.int64)
    new_lines = plan.new_lines
    new = new_lines["line"][new_lines["stage"] <= stage]
    replaced = grid.candidate_lines.replaces.reindex(new).dropna().astype(int).to_numpy()
    base = np.setdiff1d(grid.base_lines, replaced[replaced >= 0])
    return np.union1d(base, new)


def interconnections(grid: PlanningGrid, plan: Plan, stage: int) -> pd.DataFrame:
    """Normally-open lines and SOP terminal pairs of ``stage``.

    Returns
    -------
    DataFrame
        Columns ``bus_a``, ``bus_b`` (bus labels, ``bus_a < bus_b``), ``kind``
        (``"tie"`` or ``"sop"``) and ``element`` (line label or SOP device).
        A bus pair may appear twice (a tie reused by an SOP).
    """
    a, b, is_sop, element = _link_arrays(grid, plan, stage)
    return pd.DataFrame({"bus_a": a, "bus_b": b, "kind": np.where(is_sop, "sop", "tie"),
                         "element": element})


def _link_arrays(grid: PlanningGrid, plan: Plan, stage: int):
    """Bus labels of both ends (sorted), SOP flag and element of every link (numpy)."""
    line = grid.net.line
    open_lines = np.setdiff1d(built_lines(grid, plan, stage),
                              np.asarray(plan.closed_lines[stage - 1], dtype=np.int64))
    pos = line.index.get_indexer(open_lines)
    a = line.from_bus.to_numpy(np.int64)[pos]
    b = line.to_bus.to_numpy(np.int64)[pos]
    parts = [(np.minimum(a, b), np.maximum(a, b), np.zeros(len(a), bool),
              open_lines.astype(object))]
    sop = plan.sop
    if len(sop):
        now = sop["stage"] == stage
        devices, buses = sop["device"][now], sop["bus"][now]
        for device in np.unique(devices):
            mine = np.unique(buses[devices == device])
            i, j = np.triu_indices(len(mine), k=1)
            parts.append((mine[i], mine[j], np.ones(len(i), bool), np.full(len(i), device, object)))
    return tuple(np.concatenate(x) for x in zip(*parts))


def _active(br: BranchTable, st: RadialStructure) -> np.ndarray:
    """Supplied buses joined to at least one closed branch."""
    active = st.parent >= 0
    active[st.parent[st.parent >= 0]] = True
    return active & st.supplied


def supply_areas(grid: PlanningGrid, br: BranchTable, st: RadialStructure) -> np.ndarray:
    """Supply-area label of every bus position ('' where unsupplied), see module docstring."""
    label = _labels(grid.net.bus, "feeder", br)
    for r in br.root_pos:
        if label[r] == "":
            label[r] = f"root {br.bus_labels[r]}"
    for c in st.order:  # parents first
        if label[c] == "":
            label[c] = label[st.parent[c]]
    label[~st.supplied] = ""
    return label


def _labels(bus: pd.DataFrame, column: str, br: BranchTable) -> np.ndarray:
    """A text column of ``net.bus`` per bus position, '' where missing."""
    if column not in bus:
        return np.full(br.n_bus, "", dtype=object)
    values = bus[column].reindex(br.bus_labels).to_numpy(dtype=object)
    missing = pd.isna(values) | (values == "None")
    return np.where(missing, "", values.astype(str)).astype(object)


def _links(grid, plan, stage, br, st) -> np.ndarray:
    """Distinct linked bus-position pairs between active buses, shape (n_link, 2)."""
    a, b, _, _ = _link_arrays(grid, plan, stage)
    if len(a) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.unique(np.column_stack([a, b]), axis=0)
    pos = np.column_stack([br.bus_position(pairs[:, 0]), br.bus_position(pairs[:, 1])])
    active = _active(br, st)
    return pos[active[pos[:, 0]] & active[pos[:, 1]]]


@dataclass(frozen=True)
class _StageView:
    """What both degrees need of one stage."""

    br: BranchTable
    st: RadialStructure
    area: np.ndarray  # supply-area label per bus position
    active: np.ndarray
    links: np.ndarray  # (n_link, 2) bus positions


def _stage_view(grid, plan, stage, br=None) -> _StageView:
    br, st = stage_structure(grid, plan, stage, br)
    return _StageView(br, st, supply_areas(grid, br, st), _active(br, st),
                      _links(grid, plan, stage, br, st))


# --- structural adaptability ---------------------------------------------------------------
def tie_connection_degree(grid: PlanningGrid, plan: Plan, stage: int) -> float:
    """TCD of ``stage``: mean over supply areas of T_a / (T_a + N_a), in [0, 1).

    See the module docstring for areas, links and the formula.
    """
    return _tcd(_stage_view(grid, plan, stage))


def network_cohesion_degree(grid: PlanningGrid, plan: Plan, stage: int) -> float:
    """NCD of ``stage``: share of region pairs joined by a tie or SOP link, in [0, 1]."""
    return _ncd(grid, _stage_view(grid, plan, stage))


def structural_adaptability(grid: PlanningGrid, plan: Plan, w1: float = 0.5,
                            w2: float = 0.5) -> float:
    """Mean over stages of ``w1 * TCD + w2 * NCD`` (in [0, 1] when ``w1 + w2 = 1``)."""
    br = branch_table(grid.net)
    views = [_stage_view(grid, plan, s, br) for s in range(1, plan.n_stages + 1)]
    return float(np.mean([w1 * _tcd(v) + w2 * _ncd(grid, v) for v in views]))


def _tcd(v: _StageView) -> float:
    br, st, area = v.br, v.st, v.area
    names, area_id = np.unique(area, return_inverse=True)
    counted = np.zeros(len(names), dtype=bool)  # areas with an active bus
    counted[area_id[v.active]] = True
    counted &= names != ""
    if not counted.any():
        return 0.0
    ties = np.zeros(len(names))
    between = area_id[v.links[:, 0]] != area_id[v.links[:, 1]]
    for side in (0, 1):
        np.add.at(ties, area_id[v.links[between, side]], 1.0)
    # closed lines (not transformers) with at least one end in the area
    child = np.flatnonzero((st.parent_branch >= 0)
                           & ~br.is_trafo[np.maximum(st.parent_branch, 0)])
    ends = np.column_stack([area_id[child], area_id[st.parent[child]]])
    lines = np.zeros(len(names))
    np.add.at(lines, ends[:, 0], 1.0)
    other = ends[:, 1] != ends[:, 0]
    np.add.at(lines, ends[other, 1], 1.0)
    total = ties + lines
    density = np.divide(ties, total, out=np.zeros_like(ties), where=total > 0)
    return float(density[counted].mean())


def _ncd(grid: PlanningGrid, v: _StageView) -> float:
    zone = _labels(grid.net.bus, "zone", v.br)
    use_zone = len(np.unique(zone[v.active & (zone != "")])) >= 2
    region = zone if use_zone else v.area
    n = len(np.unique(region[v.active & (region != "")]))
    if n < 2:
        return 0.0
    ra, rb = region[v.links[:, 0]], region[v.links[:, 1]]
    keep = (ra != rb) & (ra != "") & (rb != "")
    pairs = {frozenset((x, y)) for x, y in zip(ra[keep], rb[keep])}
    return len(pairs) / (n * (n - 1) / 2)


# --- PV unevenness -------------------------------------------------------------------------
def pv_uneven_degree(grid: PlanningGrid, plan: Plan, spread=np.std):
    """Distance-weighted spread of PV capacity per supply area, mean over stages (MW).

    ``U = mean_h sum_a std_i(P_i,h * R_i,h / max_{j in a} R_j,h)`` over the PV
    candidate buses of every area (module docstring). 0 without PV. ``spread``
    replaces ``std`` (e.g. bounds of it, :func:`fdnmoo.interval_objectives.spread_interval`).
    """
    cap = plan.der.get("pv")
    table = grid.case.candidates.get("pv")
    if cap is None or table is None or not np.any(cap > 0):
        return 0.0
    br = branch_table(grid.net)
    cand = br.bus_position(table.bus.to_numpy(np.int64))
    r_branch = br.z_pu.real
    total = 0.0
    for stage in range(1, plan.n_stages + 1):
        _, st = stage_structure(grid, plan, stage, br)
        r_path = np.zeros(br.n_bus)
        for c in st.order:  # parents first
            r_path[c] = r_path[st.parent[c]] + r_branch[st.parent_branch[c]]
        area = supply_areas(grid, br, st)
        active = _active(br, st)
        supplied = st.supplied[cand]
        for name in np.unique(area[cand[supplied]]):
            members = supplied & (area[cand] == name)
            r_max = r_path[active & (area == name)].max(initial=0.0)
            delta = r_path[cand[members]] / r_max if r_max > 0 else np.zeros(members.sum())
            total = total + spread(cap[stage - 1][members] * delta)
    return total / plan.n_stages
