"""Batched backward/forward-sweep power flow for radial networks and forests.

>>> from fdnmoo.cases import load_case
>>> from fdnmoo.powerflow import BatchPowerFlow
>>> case = load_case("ieee33")
>>> pf = BatchPowerFlow(case.net)
>>> p, q = pf.base_demand()                 # (1, n_bus) from net.load and net.sgen
>>> res = pf.run(p, q)
>>> round(float(res.loss_mw[0]) * 1e3, 2)
202.68
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..topology import RadialStructure
from ..branches import LIVE_FROM, LIVE_NONE, BranchTable, branch_table, merge_parallel
from ..demand import bus_demand
from .result import PowerFlowResult
from .sweep import line_end_currents, sweep

__all__ = ["BatchPowerFlow"]

_STRUCTURE_CACHE_SIZE = 512


@dataclass
class BatchPowerFlow:
    """Backward/forward sweep over many load scenarios of one radial topology.

    Parameters
    ----------
    net : pandapowerNet
        Any radial-operated net (see :mod:`fdnmoo.branches` for the elements
        and the pandapower semantics followed; unsupported elements raise
        :class:`fdnmoo.branches.UnsupportedNetError`). External grids are the roots.
    closed_lines : sequence of int, optional
        ``net.line`` labels that conduct at both ends (whatever their switches
        say). Default: the in-service lines with both ends closed. A line left
        out is open; if the net leaves it open at one end only, it stays
        energised from the other end as in the net.
    closed_trafos : sequence of int, optional
        ``net.trafo`` labels that conduct. Default: the in-service transformers.
    tol : float
        Convergence threshold on the largest voltage change between two sweeps
        (per unit).
    max_iter : int
        Sweeps before a scenario is declared not converged.
    block : int, optional
        Scenarios solved together (default: chosen from the network size so
        that a block stays in cache).

    Notes
    -----
    Construction does no work. The per-unit network data and the radial order
    are computed at the first :meth:`run` and cached; :meth:`reconfigure`
    returns an engine for another topology that shares the per-unit data and a
    cache of radial orders, so switching topologies in an optimisation costs a
    dictionary look-up after the first visit. A topology that is not radial
    raises :class:`fdnmoo.topology.NonRadialError` naming the loop.
    """

    net: object
    closed_lines: object = None
    closed_trafos: object = None
    tol: float = 1e-8
    max_iter: int = 200
    block: int | None = None
    _shared: dict = field(default_factory=dict, repr=False, compare=False)

    # --- topology -----------------------------------------------------------------
    @property
    def branches(self) -> BranchTable:
        """Per-unit branch data (computed once, shared by reconfigured engines)."""
        if "branches" not in self._shared:
            self._shared["branches"] = branch_table(self.net)
        return self._shared["branches"]

    @cached_property
    def closed(self) -> np.ndarray:
        """Closed mask over all branches (lines first, then transformers)."""
        br = self.branches
        closed = br.closed.copy()
        if self.closed_lines is not None:
            closed[br.is_line] = False
            closed[br.line_position(np.asarray(self.closed_lines, dtype=np.int64))] = True
        if self.closed_trafos is not None:
            closed[br.is_trafo] = False
            closed[br.trafo_position(np.asarray(self.closed_trafos, dtype=np.int64))] = True
        return closed

    @cached_property
    def _prepared(self) -> "_Prepared":
        """Sweep arrays of this topology, from the cache shared by reconfigured engines.

        Held by the engine once looked up, so evicting the shared entry later
        (more than 512 topologies visited) never invalidates it.
        """
        cache = self._shared.setdefault("structures", {})
        key = np.packbits(self.closed).tobytes()
        if key not in cache:
            if len(cache) >= _STRUCTURE_CACHE_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = _Prepared.build(self.branches, self.closed)
        return cache[key]

    @property
    def structure(self) -> RadialStructure:
        """Radial order of the closed branches (cached per topology)."""
        return self._prepared.structure

    def per_topology(self, name: str, build):
        """``build(self)``, computed once per topology and kept with the engine's own
        per-topology arrays (shared by reconfigured engines, evicted with them)."""
        derived = self._prepared.derived
        if name not in derived:
            derived[name] = build(self)
        return derived[name]

    def reconfigure(self, closed_lines=None, closed_trafos=None) -> "BatchPowerFlow":
        """Engine for another set of closed lines (and transformers) sharing this one's caches.

        ``None`` keeps the base state (in service) of that element type. The engines
        of the last 512 closed sets are kept in the shared cache: asking again for a
        closed set returns the same engine, with its closed mask and sweep arrays
        already computed.
        """
        key = (_labels_key(closed_lines), _labels_key(closed_trafos), self.tol, self.max_iter,
               self.block)
        engines = self._shared.setdefault("engines", OrderedDict())
        engine = engines.get(key)
        if engine is None:
            engine = engines[key] = BatchPowerFlow(
                self.net, closed_lines=closed_lines, closed_trafos=closed_trafos, tol=self.tol,
                max_iter=self.max_iter, block=self.block, _shared=self._shared)
            if len(engines) > _STRUCTURE_CACHE_SIZE:
                engines.popitem(last=False)
        else:
            engines.move_to_end(key)
        return engine

    @property
    def stats(self) -> dict:
        """Work done by this engine and every engine :meth:`reconfigure` made from it:
        ``runs`` (calls of :meth:`run`), ``scenarios`` solved and ``seconds`` spent
        (solving, and computing line currents when a result's ``i_ka`` is first read)."""
        return self._shared.setdefault("stats", {"runs": 0, "scenarios": 0, "seconds": 0.0})

    @property
    def bus_labels(self) -> np.ndarray:
        """``net.bus`` labels; column ``k`` of every bus array is bus ``bus_labels[k]``."""
        return self.branches.bus_labels

    @property
    def supplied(self) -> np.ndarray:
        """Buses connected to a substation in this topology."""
        return self.structure.supplied

    # --- inputs ------------------------------------------------------------------------
    def base_demand(self) -> tuple[np.ndarray, np.ndarray]:
        """Net demand per bus from the net's in-service loads and static generators.

        Returns
        -------
        p_mw, q_mvar : ndarray, shape (1, n_bus)
            ``load * scaling - sgen * scaling + storage * scaling`` of the
            in-service elements summed per bus (+ = consumption), see
            :func:`fdnmoo.demand.bus_demand`.
        """
        p, q = bus_demand(self.net, self.branches.bus_labels)
        return p[None, :], q[None, :]

    # --- solve -----------------------------------------------------------------------
    def run(self, p_mw, q_mvar, root_scale=None) -> PowerFlowResult:
        """Solve every scenario.

        Parameters
        ----------
        p_mw, q_mvar : array_like, shape (n_scenarios, n_bus) or (n_bus,)
            Net demand per bus in MW/Mvar, columns in ``bus_labels`` order;
            positive is consumption (pandapower's load sign), so PV, SVC, SOP
            terminals and discharging storage enter as negative values.
        root_scale : array_like, shape (n_root,), optional
            Factors on the external grids' voltage set-points (``vm_pu``), in
            ``ext_grid_buses`` order, for every scenario of the call (an OLTC's
            ratio, :mod:`fdnmoo.operation.controls`). Default: the net's set-points.

        Returns
        -------
        PowerFlowResult
            Scenarios that did not converge have ``converged == False`` and
            NaN results.

        Raises
        ------
        ValueError
            On a shape mismatch or a non-finite demand (naming scenario and bus).
        """
        started = time.perf_counter()
        p, q = self._check_demand(p_mw, q_mvar)
        prep = self._prepared
        br = self.branches
        sn = br.sn_mva
        n_s, n_bus = p.shape
        block = self.block or _default_block(n_bus)
        root_v = br.root_v if root_scale is None else br.root_v * _root_scale(root_scale, br)
        v, vm, j, loss, conv, iters = sweep(prep.perm, prep.order_rows, prep.parent_rows,
                                            prep.z, prep.a, prep.y, prep.y_branch_g,
                                            prep.root_rows, root_v, p, q, sn,
                                            self.tol, self.max_iter, block)
        bad_rows = ~conv
        if bad_rows.any():
            v[bad_rows] = np.nan
            vm[bad_rows] = np.nan
            loss[bad_rows] = np.nan
        if prep.unsupplied.size:
            v[:, prep.unsupplied] = np.nan
            vm[:, prep.unsupplied] = np.nan
        s_root = v[:, br.root_pos] * np.conj(j[:, br.root_pos]) * sn
        stats = self.stats
        stats["runs"] += 1
        stats["scenarios"] += n_s
        stats["seconds"] += time.perf_counter() - started

        def line_currents():
            begun = time.perf_counter()
            out = prep.line_currents_ka(br, v, j)
            stats["seconds"] += time.perf_counter() - begun
            return out

        return PowerFlowResult(
            v_pu=v, vm_pu=vm, loss_mw=loss * sn, ext_grid_p_mw=s_root.real,
            ext_grid_q_mvar=s_root.imag, converged=conv, iterations=iters,
            bus_labels=br.bus_labels, line_labels=br.element[:br.n_line],
            ext_grid_buses=br.bus_labels[br.root_pos], supplied=prep.structure.supplied,
            line_currents=line_currents)

    def _check_demand(self, p_mw, q_mvar) -> tuple[np.ndarray, np.ndarray]:
        n_bus = self.branches.n_bus
        arrays = []
        for name, a in (("p_mw", p_mw), ("q_mvar", q_mvar)):
            a = np.asarray(a, dtype=np.float64)
            if a.ndim == 1:
                a = a[None, :]
            if a.ndim != 2 or a.shape[1] != n_bus:
                raise ValueError(f"{name} must have shape (n_scenarios, {n_bus}) "
                                 f"(one column per bus of the net), got {np.shape(a)}")
            if not np.isfinite(a).all():
                s, b = np.argwhere(~np.isfinite(a))[0]
                raise ValueError(f"{name} is not finite in scenario {s} at bus "
                                 f"{self.bus_labels[b]} (value {a[s, b]})")
            arrays.append(a)
        if arrays[0].shape != arrays[1].shape:
            raise ValueError(f"p_mw and q_mvar shapes differ: {arrays[0].shape} vs {arrays[1].shape}")
        return arrays[0], arrays[1]


@dataclass(frozen=True)
class _Prepared:
    """Topology-dependent arrays for the sweep.

    The sweep works on rows: roots first, then the supplied buses in
    depth-first pre-order, then unsupplied buses; ``perm[row]`` is the bus
    position of a row. Per-row arrays describe the branch to the row's parent.
    """

    structure: RadialStructure
    perm: np.ndarray  # row -> bus position
    order_rows: np.ndarray  # rows of non-root supplied buses, parents first
    parent_rows: np.ndarray  # row -> parent row (-1 for roots/unsupplied)
    root_rows: np.ndarray  # rows of br.root_pos, in that order
    z: np.ndarray  # series impedance of the branch feeding each row
    a: np.ndarray  # 1 / ratio of that branch (seen from its parent side)
    y: np.ndarray  # lumped shunt admittance per row
    y_branch_g: np.ndarray  # branch-shunt conductance per row (for losses)
    unsupplied: np.ndarray  # bus positions no substation reaches

    half_open: np.ndarray  # lines energised from one end only: branch positions
    half_open_bus: np.ndarray  # their live bus positions
    half_open_y: np.ndarray  # their input admittance seen from the live bus
    parallel_lines: np.ndarray  # lines merged with parallel branches: currents from end voltages
    derived: dict = field(default_factory=dict)  # other modules' per-topology data, by name

    @classmethod
    def build(cls, br: BranchTable, closed: np.ndarray) -> "_Prepared":
        eff = merge_parallel(br, closed)
        st = br.radial_structure(eff.closed)
        n = br.n_bus
        z = np.zeros(n, dtype=complex)
        a = np.ones(n, dtype=complex)
        y_branch = np.zeros(n, dtype=complex)
        child = st.order
        k = st.parent_branch[child]
        rev = st.branch_reversed[k]
        t = eff.ratio[k]
        # a branch fed from its to (LV) side: the series impedance moves to the HV
        # side of the ideal transformer, V_hv = t V_lv - |t|^2 z J_hv
        a[child] = np.where(rev, t, 1.0 / t)
        z[child] = np.where(rev, eff.z_pu[k] * np.abs(t) ** 2, eff.z_pu[k])
        y_hv = eff.y_from_pu[k] / np.abs(t) ** 2  # y_from sits behind the ratio
        y_lv = eff.y_to_pu[k]
        np.add.at(y_branch, st.parent[child], np.where(rev, y_lv, y_hv))
        np.add.at(y_branch, child, np.where(rev, y_hv, y_lv))
        half, half_bus, half_y = _half_open(br, closed, st.supplied)
        np.add.at(y_branch, half_bus, half_y)
        y_branch[~st.supplied] = 0.0
        y = y_branch + br.bus_shunt_pu

        unsupplied = np.flatnonzero(~st.supplied)
        perm = np.concatenate([br.root_pos, child, unsupplied]).astype(np.int64)
        row_of = np.empty(n, dtype=np.int64)
        row_of[perm] = np.arange(n)
        parent_rows = np.full(n, -1, dtype=np.int64)
        parent_rows[row_of[child]] = row_of[st.parent[child]]
        is_line = half < br.n_line
        return cls(structure=st, perm=perm, order_rows=row_of[child], parent_rows=parent_rows,
                   root_rows=row_of[br.root_pos], z=z[perm], a=a[perm], y=y[perm],
                   y_branch_g=y_branch.real[perm], unsupplied=unsupplied,
                   half_open=half[is_line], half_open_bus=half_bus[is_line],
                   half_open_y=half_y[is_line],
                   parallel_lines=eff.parallel[eff.parallel < br.n_line])

    def tree_lines(self, br: BranchTable) -> tuple[np.ndarray, ...]:
        """The lines of the radial order not merged with parallel branches, each as
        ``(c, u, k, y_u, y_c)``: child bus, parent bus, branch, and the branch's shunt
        admittance at the parent and at the child end (computed once per topology)."""
        if "tree_lines" not in self.derived:
            st = self.structure
            child = st.order
            k = st.parent_branch[child]
            own = (k < br.n_line) & ~np.isin(k, self.parallel_lines)
            c, k = child[own], k[own]
            rev = st.branch_reversed[k]
            self.derived["tree_lines"] = (c, st.parent[c], k,
                                          np.where(rev, br.y_to_pu[k], br.y_from_pu[k]),
                                          np.where(rev, br.y_from_pu[k], br.y_to_pu[k]))
        return self.derived["tree_lines"]

    def line_currents_ka(self, br: BranchTable, v: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Largest current magnitude at the two ends of every line (0 if open)."""
        i_ka = np.zeros((v.shape[0], br.n_line))
        i_base = br.sn_mva / (np.sqrt(3.0) * br.vn_kv)
        c, u, k, y_u, y_c = self.tree_lines(br)
        line_end_currents(v, j, c, u, k, y_u, y_c, i_base[u], i_base[c], i_ka)
        if self.parallel_lines.size:
            i_ka[:, self.parallel_lines] = _terminal_currents_ka(br, v, self.parallel_lines, i_base)
        if self.half_open.size:  # charging current drawn at the live end
            i_ka[:, self.half_open] = np.abs(v[:, self.half_open_bus] * self.half_open_y) \
                * i_base[self.half_open_bus]
        i_ka[np.isnan(v).all(axis=1)] = np.nan
        return i_ka


def _terminal_currents_ka(br: BranchTable, v: np.ndarray, lines: np.ndarray,
                          i_base: np.ndarray) -> np.ndarray:
    """Larger end current of lines from their end voltages (pi model, no ratio)."""
    f, t = br.from_pos[lines], br.to_pos[lines]
    series = (v[:, f] - v[:, t]) / br.z_pu[lines]
    i_from = np.abs(series + br.y_from_pu[lines] * v[:, f]) * i_base[f]
    i_to = np.abs(-series + br.y_to_pu[lines] * v[:, t]) * i_base[t]
    return np.maximum(i_from, i_to)


def _half_open(br: BranchTable, closed: np.ndarray, supplied: np.ndarray):
    """Branches open at one end and energised from the other (see fdnmoo.branches).

    Returns their positions, live bus positions and input admittance seen from
    the live bus: the near shunt plus the far shunt through the series
    impedance, ``y_near + y_far / (1 + z y_far)``.
    """
    live = np.where(closed, LIVE_NONE, br.live_end)
    k = np.flatnonzero(live != LIVE_NONE)
    from_live = live[k] == LIVE_FROM
    bus = np.where(from_live, br.from_pos[k], br.to_pos[k])
    keep = supplied[bus]
    k, from_live, bus = k[keep], from_live[keep], bus[keep]
    inv_t2 = 1.0 / np.abs(br.ratio[k]) ** 2
    z = br.z_pu[k]
    y_f, y_t = br.y_from_pu[k], br.y_to_pu[k]
    # seen from the HV (from) bus everything behind the ideal transformer scales by 1/|t|^2
    y_from_live = (y_f + y_t / (1 + z * y_t)) * inv_t2
    y_to_live = y_t + y_f / (1 + z * y_f)
    return k, bus, np.where(from_live, y_from_live, y_to_live)


def _root_scale(scale, br: BranchTable) -> np.ndarray:
    scale = np.asarray(scale, dtype=float)
    if scale.shape != br.root_pos.shape or not (np.isfinite(scale) & (scale > 0)).all():
        raise ValueError(f"root_scale must hold {br.root_pos.size} positive factors (one per "
                         f"external grid), got {scale!r}")
    return scale


def _labels_key(labels) -> tuple | None:
    """Hashable form of a set of element labels (None stays None): dtype and sorted values."""
    if labels is None:
        return None
    values = np.sort(np.asarray(labels).ravel())
    return values.dtype.str, values.tobytes()


def _default_block(n_bus: int) -> int:
    """Scenarios per block, measured on this machine class (see experiments/bench)."""
    if n_bus <= 128:
        return 128
    return 64 if n_bus <= 4000 else 32
