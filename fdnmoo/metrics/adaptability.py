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

**Populations.** :func:`structure_terms` (TCD and NCD per plan and stage) and
:func:`pv_uneven_degrees` take a :class:`~fdnmoo.planning.PlanBatch` and a
:class:`~fdnmoo.topology_cache.TopologyCache`: the areas, lines per area, regions
and path resistances are computed once per distinct topology (and kept across
calls), the links of all plans at once. The functions of one plan
(:func:`structural_adaptability`, :func:`pv_uneven_degree`, ...) are the
population functions on a batch of one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..planning import Plan, PlanBatch, PlanningGrid, label_positions
from ..topology_cache import StageTopology, TopologyCache

__all__ = [
    "AreaCapacities",
    "Links",
    "StructureTerms",
    "built_line_mask",
    "built_lines",
    "interconnections",
    "network_cohesion_degree",
    "plan_links",
    "pv_area_capacities",
    "pv_uneven_degree",
    "pv_uneven_degrees",
    "structural_adaptability",
    "structure_terms",
    "tie_connection_degree",
]


# --- links of a population -----------------------------------------------------------------
def built_line_mask(grid: PlanningGrid, batch: PlanBatch) -> np.ndarray:
    """Whether each ``grid.net.line`` row exists, per plan and stage, shape (P, S, n_line).

    A case line exists unless a candidate built on its corridor by then replaces it;
    a candidate line exists from its build stage on.
    """
    line = grid.net.line
    n_p, n_s = len(batch), batch.n_stages
    base = np.isin(line.index.to_numpy(np.int64), np.asarray(grid.base_lines, np.int64))
    new = batch.new_lines[batch.new_lines["stage"] <= n_s]
    if len(new) == 0:
        return np.broadcast_to(base, (n_p, n_s, len(line))).copy()
    labels = new["line"]
    replaces = grid.candidate_lines.replaces.reindex(labels, fill_value=-1).to_numpy(np.int64)
    added = np.zeros((n_p, n_s, len(line)), dtype=np.int64)
    np.add.at(added, (new["plan"], new["stage"] - 1,
                      label_positions(line.index, labels, "net.line")), 1)
    removed = np.zeros_like(added)
    old = replaces >= 0
    np.add.at(removed, (new["plan"][old], new["stage"][old] - 1,
                        label_positions(line.index, replaces[old], "net.line")), 1)
    # built in stage t: there in every stage from t on
    return (base & (removed.cumsum(axis=1) == 0)) | (added.cumsum(axis=1) > 0)


def built_lines(grid: PlanningGrid, plan: Plan, stage: int) -> np.ndarray:
    """``net.line`` labels existing in ``stage``: case lines not replaced, built candidates."""
    mask = built_line_mask(grid, PlanBatch.of(grid, [plan]))[0, stage - 1]
    return grid.net.line.index.to_numpy(np.int64)[mask]


@dataclass(frozen=True)
class Links:
    """Normally-open lines and SOP terminal pairs of every plan and stage of a batch.

    One row per link, ties first (by line) then SOP pairs (by device); the ends are
    ordered by bus label (``bus_a < bus_b``). A bus pair may appear twice (a tie reused
    by an SOP).

    Attributes
    ----------
    plan, stage : ndarray of int
        Position of the plan in the batch and 0-based stage.
    a, b : ndarray of int
        Bus positions (of the branch table) of the two ends.
    is_sop : ndarray of bool
    element : ndarray of int
        Line label (tie) or SOP device.
    """

    plan: np.ndarray
    stage: np.ndarray
    a: np.ndarray
    b: np.ndarray
    is_sop: np.ndarray
    element: np.ndarray

    def take(self, keep) -> "Links":
        return Links(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def plan_links(grid: PlanningGrid, batch: PlanBatch, cache: TopologyCache) -> Links:
    """The :class:`Links` of every plan and stage of ``batch``."""
    line = grid.net.line
    open_lines = built_line_mask(grid, batch) & ~batch.closed_lines
    p, s, k = np.nonzero(open_lines)
    f, t = line.from_bus.to_numpy(np.int64)[k], line.to_bus.to_numpy(np.int64)[k]
    tie = (p, s, np.minimum(f, t), np.maximum(f, t), np.zeros(p.size, bool),
           line.index.to_numpy(np.int64)[k])
    parts = [tie, _sop_pairs(batch.sop, batch.n_stages)]
    plan, stage, a, b, is_sop, element = (np.concatenate(x) for x in zip(*parts))
    br = cache.branches
    order = np.lexsort((~is_sop, stage, plan))  # per plan and stage: ties, then SOP pairs
    return Links(plan[order], stage[order], br.bus_position(a[order]),
                 br.bus_position(b[order]), is_sop[order], element[order])


def _sop_pairs(sop: np.ndarray, n_stages: int):
    """Every pair of distinct terminal buses of one SOP device in one plan and stage."""
    sop = sop[(sop["stage"] >= 1) & (sop["stage"] <= n_stages)]
    if len(sop) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, empty, np.zeros(0, bool), empty
    # rows sorted by plan, stage, device, bus; a device's buses are one run
    rows = np.unique(np.column_stack([sop["plan"], sop["stage"] - 1, sop["device"],
                                      sop["bus"]]).astype(np.int64), axis=0)
    group = rows[:, :3]
    start = np.r_[True, np.any(group[1:] != group[:-1], axis=1)]
    group_id = np.cumsum(start) - 1
    end = np.flatnonzero(np.r_[start[1:], True]) + 1
    partners = end[group_id] - np.arange(len(rows)) - 1  # later rows of the same device
    first = np.repeat(np.arange(len(rows)), partners)
    within = np.arange(first.size) - np.repeat(np.cumsum(partners) - partners, partners)
    second = first + 1 + within
    return (rows[first, 0], rows[first, 1], rows[first, 3], rows[second, 3],
            np.ones(first.size, bool), rows[first, 2])


def interconnections(grid: PlanningGrid, plan: Plan, stage: int) -> pd.DataFrame:
    """Normally-open lines and SOP terminal pairs of ``stage``.

    Returns
    -------
    DataFrame
        Columns ``bus_a``, ``bus_b`` (bus labels, ``bus_a < bus_b``), ``kind``
        (``"tie"`` or ``"sop"``) and ``element`` (line label or SOP device).
        A bus pair may appear twice (a tie reused by an SOP).
    """
    cache = TopologyCache(grid)
    links = plan_links(grid, PlanBatch.of(grid, [plan]), cache)
    links = links.take(links.stage == stage - 1)
    labels = cache.branches.bus_labels
    return pd.DataFrame({"bus_a": labels[links.a], "bus_b": labels[links.b],
                         "kind": np.where(links.is_sop, "sop", "tie"),
                         "element": links.element})


# --- structural adaptability ---------------------------------------------------------------
@dataclass(frozen=True)
class StructureTerms:
    """Tie connection and network cohesion degrees per plan and stage, shape (P, S)."""

    tcd: np.ndarray
    ncd: np.ndarray

    def structural_adaptability(self, w1: float = 0.5, w2: float = 0.5) -> np.ndarray:
        """Mean over stages of ``w1 * TCD + w2 * NCD`` per plan, shape (P,)."""
        return np.mean(w1 * self.tcd + w2 * self.ncd, axis=1)


def structure_terms(grid: PlanningGrid, batch: PlanBatch,
                    cache: TopologyCache | None = None) -> StructureTerms:
    """TCD and NCD of every plan and stage (module docstring).

    The per-topology work (areas, lines per area, regions) is done once per distinct
    topology of the batch (and kept in ``cache`` for later calls).
    """
    cache = TopologyCache(grid) if cache is None else cache
    index, topos = cache.of_batch(batch)
    n_p, n_s = index.shape
    n_row, n_area = n_p * n_s, cache.labels.n_area
    topo = index.ravel()  # row r = plan * n_s + stage
    links = _active_links(grid, batch, cache, index, topos)
    row = links.plan * n_s + links.stage
    area = np.stack([t.area for t in topos])
    aa, ab = area[topo[row], links.a], area[topo[row], links.b]
    between = aa != ab
    ties = np.bincount(np.concatenate([row[between] * n_area + aa[between],
                                       row[between] * n_area + ab[between]]),
                       minlength=n_row * n_area).reshape(n_row, n_area).astype(float)
    lines = np.stack([t.area_lines for t in topos])[topo]
    counted = np.stack([t.area_counted for t in topos])[topo]
    total = ties + lines
    density = np.divide(ties, total, out=np.zeros_like(ties), where=total > 0)
    n_counted = counted.sum(axis=1)
    tcd = np.divide(np.where(counted, density, 0.0).sum(axis=1), n_counted,
                    out=np.zeros(n_row), where=n_counted > 0)

    regions = [t.region for t in topos]
    region = np.stack([r for r, _ in regions])
    n_region = np.array([n for _, n in regions])[topo]
    ra, rb = region[topo[row], links.a], region[topo[row], links.b]
    keep = (ra != rb) & (ra >= 0) & (rb >= 0)
    width = max(n_area, cache.labels.n_zone)
    pairs = np.unique((row[keep] * width + np.minimum(ra, rb)[keep]) * width
                      + np.maximum(ra, rb)[keep])
    joined = np.bincount(pairs // (width * width), minlength=n_row)
    ncd = np.divide(joined, n_region * (n_region - 1) / 2, out=np.zeros(n_row),
                    where=n_region >= 2)
    return StructureTerms(tcd=tcd.reshape(n_p, n_s), ncd=ncd.reshape(n_p, n_s))


def _active_links(grid, batch, cache, index, topos) -> Links:
    """Distinct linked bus pairs between active buses, per plan and stage."""
    links = plan_links(grid, batch, cache)
    n_bus = cache.branches.n_bus
    key = ((links.plan * batch.n_stages + links.stage) * n_bus + links.a) * n_bus + links.b
    _, first = np.unique(key, return_index=True)
    links = links.take(np.sort(first))
    active = np.stack([t.active for t in topos])
    topo = index[links.plan, links.stage]
    return links.take(active[topo, links.a] & active[topo, links.b])


def _of_one(grid: PlanningGrid, plan: Plan) -> StructureTerms:
    return structure_terms(grid, PlanBatch.of(grid, [plan]))


def tie_connection_degree(grid: PlanningGrid, plan: Plan, stage: int) -> float:
    """TCD of ``stage``: mean over supply areas of T_a / (T_a + N_a), in [0, 1).

    See the module docstring for areas, links and the formula.
    """
    return float(_of_one(grid, plan).tcd[0, stage - 1])


def network_cohesion_degree(grid: PlanningGrid, plan: Plan, stage: int) -> float:
    """NCD of ``stage``: share of region pairs joined by a tie or SOP link, in [0, 1]."""
    return float(_of_one(grid, plan).ncd[0, stage - 1])


def structural_adaptability(grid: PlanningGrid, plan: Plan, w1: float = 0.5,
                            w2: float = 0.5) -> float:
    """Mean over stages of ``w1 * TCD + w2 * NCD`` (in [0, 1] when ``w1 + w2 = 1``)."""
    return float(_of_one(grid, plan).structural_adaptability(w1, w2)[0])


# --- PV unevenness -------------------------------------------------------------------------
def pv_uneven_degrees(grid: PlanningGrid, batch: PlanBatch,
                      cache: TopologyCache | None = None, spread=None) -> np.ndarray:
    """PV uneven degree of every plan of ``batch`` (MW), shape (P,); see :func:`pv_uneven_degree`.

    ``spread`` replaces the standard deviation per area: a function of the area's
    weighted capacities returning ``array([lo, hi])`` (bounds of it,
    :func:`fdnmoo.interval_objectives.spread_interval`); the result is then (P, 2).
    """
    areas = pv_area_capacities(grid, batch, cache)
    if areas is None:
        return np.zeros(len(batch)) if spread is None else np.zeros((len(batch), 2))
    g, x, n_p, n_s, n_area = areas.group, areas.x_mw, len(batch), batch.n_stages, areas.n_area
    n_groups = n_p * n_s * n_area
    if spread is not None:  # area by area (interval arithmetic, not on the hot path)
        bounds = np.zeros((n_p * n_s, 2))
        for k in np.unique(g):
            bounds[k // n_area] += spread(x[g == k])
        return bounds.reshape(n_p, n_s, 2).sum(axis=1) / n_s
    count = np.bincount(g, minlength=n_groups)
    mean = np.divide(np.bincount(g, x, minlength=n_groups), count, out=np.zeros(n_groups),
                     where=count > 0)
    var = np.divide(np.bincount(g, (x - mean[g]) ** 2, minlength=n_groups), count,
                    out=np.zeros(n_groups), where=count > 0)
    per_stage = np.sqrt(var).reshape(n_p, n_s, n_area).sum(axis=2)
    return per_stage.sum(axis=1) / n_s


@dataclass(frozen=True)
class AreaCapacities:
    """The distance-weighted PV capacities :func:`pv_uneven_degrees` spreads, one entry per PV
    candidate of each plan and stage supplied in an area (capacity 0 included).

    Attributes
    ----------
    group : ndarray of int
        ``(plan * n_stages + stage) * n_area + area``: entries of one group form one spread.
    candidate : ndarray of int
        Row of the entry's candidate in ``case.candidates["pv"]``.
    x_mw : ndarray
        ``P_i,h * delta_i,h`` (module docstring).
    n_area : int
    """

    group: np.ndarray
    candidate: np.ndarray
    x_mw: np.ndarray
    n_area: int


def pv_area_capacities(grid: PlanningGrid, batch: PlanBatch,
                       cache: TopologyCache | None = None) -> AreaCapacities | None:
    """The weighted PV capacities per plan, stage and supply area (None: no PV in ``batch``)."""
    table = grid.case.candidates.get("pv")
    cap = batch.der.get("pv")
    if table is None or cap is None or not np.any(cap > 0):
        return None
    cache = TopologyCache(grid) if cache is None else cache
    index, topos = cache.of_batch(batch)
    cand = cache.branches.bus_position(table.bus.to_numpy(np.int64))
    n_p, n_s = index.shape
    n_area = cache.labels.n_area
    topo = index.ravel()
    # per topology: area of every candidate (-1 if unsupplied) and its distance weight
    area = np.stack([np.where(t.structure.supplied[cand], t.area[cand], -1) for t in topos])
    delta = np.stack([_distance_weight(t, cand) for t in topos])
    x = cap.reshape(n_p * n_s, -1) * delta[topo]
    group = np.arange(n_p * n_s)[:, None] * n_area + area[topo]
    on = area[topo] >= 0
    candidate = np.broadcast_to(np.arange(cand.size), on.shape)[on]
    return AreaCapacities(group=group[on], candidate=candidate, x_mw=x[on], n_area=n_area)


def _distance_weight(topo: StageTopology, cand: np.ndarray) -> np.ndarray:
    """R_i / max R over the active buses of i's area (0 where that maximum is 0)."""
    r_max = topo.area_r_max_pu[np.maximum(topo.area[cand], 0)]
    return np.divide(topo.r_path_pu[cand], r_max, out=np.zeros(cand.size), where=r_max > 0)


def pv_uneven_degree(grid: PlanningGrid, plan: Plan, spread=None):
    """Distance-weighted spread of PV capacity per supply area, mean over stages (MW).

    ``U = mean_h sum_a std_i(P_i,h * R_i,h / max_{j in a} R_j,h)`` over the PV
    candidate buses of every area (module docstring). 0 without PV. ``spread``
    replaces ``std`` (e.g. bounds of it, :func:`fdnmoo.interval_objectives.spread_interval`):
    the result is then ``array([lo, hi])``.
    """
    out = pv_uneven_degrees(grid, PlanBatch.of(grid, [plan]), spread=spread)[0]
    return float(out) if spread is None else out
