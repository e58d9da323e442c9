"""Per-topology arrays of a planning grid, computed once per distinct topology.

Plans of a population, and of successive generations, share few distinct
operating topologies (closed lines and transformers of a stage). A
:class:`TopologyCache` keeps, per topology key (:meth:`Plan.topology_key`), a
:class:`StageTopology`: the closed-branch mask, the radial structure and the
maps the metrics need (supply areas, path resistance, subtree intervals of
the pre-order, feeder heads), each computed at its first use. It is bounded
(least recently used topologies are dropped) and meant to be kept by the
problem for the whole run.

>>> cache = TopologyCache(grid, engine=problem.engine)       # doctest: +SKIP
>>> index, topologies = cache.of_batch(batch)                  # (n_plans, n_stages), list
>>> topo = topologies[index[i, s - 1]]
>>> topo.structure.order, topo.area, cache.engine(topo)

The cache takes its :class:`~fdnmoo.branches.BranchTable` from the engine it
is given, so the branch table is built once per grid, for the power flow and
the metrics alike; :meth:`TopologyCache.engine` gives the engine of a
topology and :meth:`StageTopology.derived` keeps any other per-topology object
(a feeder tree of the operation stage, ...).

**Supply areas** (used by structural adaptability and PV unevenness, see
:mod:`fdnmoo.metrics.adaptability`): the ``net.bus.feeder`` label of every
supplied bus; a bus without a label takes the label of its nearest labelled
ancestor, a substation without one ``"root <bus>"``. Areas are numbered in
the sorted order of their names over the whole grid (``-1``: unsupplied).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np
import pandas as pd

from .branches import BranchTable, merge_parallel
from .planning.batch import PlanBatch
from .planning.grid import PlanningGrid
from .powerflow.batch import BatchPowerFlow
from .topology import RadialStructure

__all__ = ["GridLabels", "StageTopology", "TopologyCache"]


@dataclass(frozen=True)
class GridLabels:
    """Area and zone codes of a grid's buses (bus positions of the branch table).

    Attributes
    ----------
    feeder : ndarray of int, shape (n_bus,)
        Code of every bus's own ``net.bus.feeder`` label (-1 where it has none).
    root_area : ndarray of int, shape (n_root,)
        Area code of every root (its feeder label, else ``"root <bus>"``).
    area_names : tuple of str
        Area names by code (sorted).
    zone : ndarray of int, shape (n_bus,)
        Code of ``net.bus.zone`` (-1 where missing); codes follow sorted names.
    n_zone : int
    """

    feeder: np.ndarray
    root_area: np.ndarray
    area_names: tuple
    zone: np.ndarray
    n_zone: int

    @property
    def n_area(self) -> int:
        return len(self.area_names)

    @classmethod
    def of(cls, bus: pd.DataFrame, br: BranchTable) -> "GridLabels":
        feeder = _text_column(bus, "feeder", br)
        roots = [feeder[r] or f"root {br.bus_labels[r]}" for r in br.root_pos]
        names = sorted(set(feeder[feeder != ""]) | set(roots))
        code = {name: i for i, name in enumerate(names)}
        zone = _text_column(bus, "zone", br)
        zones = sorted(set(zone[zone != ""]))
        zone_code = {name: i for i, name in enumerate(zones)}
        return cls(feeder=np.array([code.get(f, -1) for f in feeder], dtype=np.int64),
                   root_area=np.array([code[r] for r in roots], dtype=np.int64),
                   area_names=tuple(names),
                   zone=np.array([zone_code.get(z, -1) for z in zone], dtype=np.int64),
                   n_zone=len(zones))


def _text_column(bus: pd.DataFrame, column: str, br: BranchTable) -> np.ndarray:
    """A text column of ``net.bus`` per bus position, '' where missing or ``None``."""
    if column not in bus:
        return np.full(br.n_bus, "", dtype=object)
    values = bus[column].reindex(br.bus_labels).to_numpy(dtype=object)
    missing = pd.isna(values) | (values == "None")
    return np.where(missing, "", values.astype(str)).astype(object)


@dataclass(frozen=True, eq=False)
class StageTopology:
    """One operating topology of a grid and the maps derived from it (computed on use).

    Attributes
    ----------
    key : bytes
        The topology key (:meth:`Plan.topology_key`).
    branches : BranchTable
    labels : GridLabels
    closed : ndarray of bool, shape (n_branch,)
        Closed lines and transformers (impedances and bus-bus switches open).
    structure : RadialStructure
    closed_lines, closed_trafos : ndarray of int
        ``net.line`` / ``net.trafo`` labels that conduct.
    """

    key: bytes
    branches: BranchTable
    labels: GridLabels
    closed: np.ndarray
    structure: RadialStructure
    closed_lines: np.ndarray
    closed_trafos: np.ndarray
    _derived: dict = field(default_factory=dict, repr=False)

    def derived(self, name: str, build: Callable[["StageTopology"], Any]) -> Any:
        """``build(self)``, computed at the first call with this ``name`` and kept."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    @cached_property
    def levels(self) -> list[np.ndarray]:
        """Non-root supplied buses by depth 1, 2, ... (parents before children)."""
        st = self.structure
        order = st.order
        depth = st.depth[order]
        sort = np.argsort(depth, kind="stable")
        bounds = np.searchsorted(depth[sort], np.arange(1, int(depth.max(initial=0)) + 2))
        return [order[sort[a:b]] for a, b in zip(bounds[:-1], bounds[1:])]

    @cached_property
    def active(self) -> np.ndarray:
        """Supplied buses joined to at least one closed branch."""
        st = self.structure
        active = st.parent >= 0
        active[st.parent[st.parent >= 0]] = True
        return active & st.supplied

    @cached_property
    def area(self) -> np.ndarray:
        """Supply-area code of every bus (module docstring); -1 where unsupplied."""
        st = self.structure
        code = self.labels.feeder.copy()
        code[self.branches.root_pos] = self.labels.root_area
        for buses in self.levels:  # parents first
            code[buses] = np.where(code[buses] >= 0, code[buses], code[st.parent[buses]])
        code[~st.supplied] = -1
        return code

    @cached_property
    def r_path_pu(self) -> np.ndarray:
        """Series resistance (p.u.) of the path from every bus to its root (0 if unsupplied)."""
        st = self.structure
        r_branch = self.branches.z_pu.real
        r = np.zeros(self.branches.n_bus)
        for buses in self.levels:
            r[buses] = r[st.parent[buses]] + r_branch[st.parent_branch[buses]]
        return r

    @cached_property
    def area_lines(self) -> np.ndarray:
        """Closed lines (not transformers) with at least one end in each area, shape (n_area,)."""
        st, br, area = self.structure, self.branches, self.area
        child = np.flatnonzero((st.parent_branch >= 0)
                               & ~br.is_trafo[np.maximum(st.parent_branch, 0)])
        a, b = area[child], area[st.parent[child]]
        lines = np.bincount(a, minlength=self.labels.n_area).astype(float)
        lines += np.bincount(b[b != a], minlength=self.labels.n_area)
        return lines

    @cached_property
    def area_counted(self) -> np.ndarray:
        """Areas with an active bus, shape (n_area,)."""
        counted = np.zeros(self.labels.n_area, dtype=bool)
        counted[self.area[self.active]] = True
        return counted

    @cached_property
    def region(self) -> tuple[np.ndarray, int]:
        """Region code per bus for the cohesion degree and the number of regions.

        Zones when at least two distinct zones hold active buses, else the areas.
        """
        zone, area, active = self.labels.zone, self.area, self.active
        use_zone = np.unique(zone[active & (zone >= 0)]).size >= 2
        region = zone if use_zone else area
        return region, int(np.unique(region[active & (region >= 0)]).size)

    @cached_property
    def area_r_max_pu(self) -> np.ndarray:
        """Largest path resistance over the active buses of every area, shape (n_area,)."""
        out = np.zeros(self.labels.n_area)
        on = self.active
        np.maximum.at(out, self.area[on], self.r_path_pu[on])
        return out

    @cached_property
    def preorder(self) -> "Preorder":
        """Subtree intervals and feeder heads (see :class:`Preorder`)."""
        return Preorder.of(self)


@dataclass(frozen=True)
class Preorder:
    """Subtrees of a radial topology as intervals of its depth-first pre-order.

    Attributes
    ----------
    position : ndarray of int, shape (n_bus,)
        Index of every bus in ``structure.order`` (-1 for roots and unsupplied buses).
    size : ndarray of int, shape (n_bus,)
        Buses in the subtree of every bus (itself included; 0 if unsupplied or a root).
    head : ndarray of int, shape (n_bus,)
        Feeder head of every supplied non-root bus: the first non-station bus on its
        root path, a *station* bus being a root or reached from one through
        transformers only (-1 elsewhere).
    """

    position: np.ndarray
    size: np.ndarray
    head: np.ndarray

    @classmethod
    def of(cls, topo: StageTopology) -> "Preorder":
        br, st = topo.branches, topo.structure
        n, order = br.n_bus, st.order
        position = np.full(n, -1, dtype=np.int64)
        position[order] = np.arange(order.size)
        size = np.zeros(n, dtype=np.int64)
        size[order] = 1
        for buses in reversed(topo.levels):  # children first
            size += np.bincount(st.parent[buses], size[buses], minlength=n).astype(np.int64)
        station = np.zeros(n, dtype=bool)
        station[br.root_pos] = True
        for buses in topo.levels:  # station buses sit at the top: stop below the last one
            station[buses] = br.is_trafo[st.parent_branch[buses]] & station[st.parent[buses]]
            if not station[buses].any():
                break
        # every feeder is the pre-order run of its head's subtree
        heads = order[station[st.parent[order]] & ~station[order]]
        start = position[heads]
        run = np.searchsorted(start, np.arange(order.size), side="right") - 1
        inside = (run >= 0) & (np.arange(order.size) < start[np.maximum(run, 0)]
                               + size[heads[np.maximum(run, 0)]])
        head = np.full(n, -1, dtype=np.int64)
        head[order[inside]] = heads[run[inside]]
        return cls(position=position, size=size, head=head)


class TopologyCache:
    """Per-topology arrays of one planning grid, least recently used dropped first.

    Parameters
    ----------
    grid : PlanningGrid
    engine : BatchPowerFlow, optional
        The power-flow engine on ``grid.net``: the cache shares its branch table, and a
        topology's radial order is computed once for the engine of the topology
        (:meth:`engine`) and the metrics. Default: a private engine, built at the first
        need (the metrics then compute their radial orders without sweep arrays).
    max_topologies : int
        Topologies kept; the least recently used are dropped beyond it.

    Notes
    -----
    Construction does no work. ``hits`` and ``misses`` count the look-ups.
    """

    def __init__(self, grid: PlanningGrid, engine=None, max_topologies: int = 1024):
        self.grid = grid
        self.base_engine = engine
        self.max_topologies = max_topologies
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, StageTopology] = OrderedDict()
        self._own_engine = None

    @property
    def branches(self) -> BranchTable:
        """The grid's branch table: the base engine's (built once per grid)."""
        return self._base().branches

    @cached_property
    def labels(self) -> GridLabels:
        return GridLabels.of(self.grid.net.bus, self.branches)

    def __len__(self) -> int:
        return len(self._entries)

    def topology(self, key: bytes, closed_lines: np.ndarray,
                 closed_trafos: np.ndarray) -> StageTopology:
        """The topology of ``key``, built from the masks at its first look-up.

        Parameters
        ----------
        key : bytes
            :meth:`Plan.topology_key` of the stage (equal keys = equal masks).
        closed_lines, closed_trafos : ndarray of bool, shape (n_line,) / (n_trafo,)
            Whether each ``grid.net.line`` / ``grid.net.trafo`` row conducts.

        Raises
        ------
        fdnmoo.topology.NonRadialError
            The closed branches are not a forest (naming the loop).
        """
        entry = self._entries.get(key)
        if entry is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return entry
        self.misses += 1
        br = self.branches
        n_line, n_trafo = len(closed_lines), len(closed_trafos)
        closed = np.zeros(br.from_pos.size, dtype=bool)
        closed[:n_line] = closed_lines
        closed[n_line:n_line + n_trafo] = closed_trafos
        net = self.grid.net
        lines = net.line.index.to_numpy(np.int64)[closed_lines]
        trafos = net.trafo.index.to_numpy(np.int64)[closed_trafos]
        engine = None if self.base_engine is None else \
            self.base_engine.reconfigure(closed_lines=lines, closed_trafos=trafos)
        if engine is not None and np.array_equal(engine.closed, closed) \
                and merge_parallel(br, closed).parallel.size == 0:
            # the power flow's radial order is this one: compute it once for both
            structure = engine.structure
        else:
            structure = br.radial_structure(closed)
        entry = StageTopology(key=key, branches=br, labels=self.labels, closed=closed,
                              structure=structure, closed_lines=lines, closed_trafos=trafos)
        self._entries[key] = entry
        while len(self._entries) > self.max_topologies:
            self._entries.popitem(last=False)
        return entry

    def of_batch(self, batch: PlanBatch) -> tuple[np.ndarray, list[StageTopology]]:
        """The distinct topologies of a batch and which one every plan and stage has.

        Returns
        -------
        index : ndarray of int, shape (n_plans, n_stages)
            ``topologies[index[i, s - 1]]`` is plan ``i``'s topology in stage ``s``.
        topologies : list of StageTopology
            In order of first appearance (plan by plan, stage by stage).
        """
        index = np.zeros((len(batch), batch.n_stages), dtype=np.int64)
        seen: dict[bytes, int] = {}
        topologies: list[StageTopology] = []
        for i, keys in enumerate(batch.topology_keys):
            for s, key in enumerate(keys):
                j = seen.get(key)
                if j is None:
                    j = seen[key] = len(topologies)
                    topologies.append(self.topology(key, batch.closed_lines[i, s],
                                                    batch.closed_trafos[i, s]))
                index[i, s] = j
        return index, topologies

    def engine(self, topo: StageTopology) -> BatchPowerFlow:
        """Power-flow engine of ``topo``: the base engine reconfigured to its closed lines and
        transformers (the one ``base.reconfigure`` returns for them), whose radial order is
        ``topo.structure`` when the grid has no parallel or switch branches."""
        return topo.derived("engine", lambda t: self._base().reconfigure(
            closed_lines=t.closed_lines, closed_trafos=t.closed_trafos))

    def _base(self) -> BatchPowerFlow:
        if self.base_engine is not None:
            return self.base_engine
        if self._own_engine is None:
            self._own_engine = BatchPowerFlow(self.grid.net)  # builds nothing until used
        return self._own_engine
