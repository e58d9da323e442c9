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

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..topology import RadialStructure
from ..branches import BranchTable, branch_table
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
        Network with lines, two-winding transformers, loads, static generators,
        shunts and external grids (the roots). Per-unit data follow pandapower.
    closed_lines : sequence of int, optional
        ``net.line`` labels that conduct. Default: the in-service lines whose
        switches are closed.
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
            closed[~br.is_trafo] = False
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

    def reconfigure(self, closed_lines=None, closed_trafos=None) -> "BatchPowerFlow":
        """Engine for another set of closed lines (and transformers) sharing this one's caches.

        ``None`` keeps the base state (in service) of that element type.
        """
        return BatchPowerFlow(self.net, closed_lines=closed_lines, closed_trafos=closed_trafos,
                              tol=self.tol, max_iter=self.max_iter, block=self.block,
                              _shared=self._shared)

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
    def run(self, p_mw, q_mvar) -> PowerFlowResult:
        """Solve every scenario.

        Parameters
        ----------
        p_mw, q_mvar : array_like, shape (n_scenarios, n_bus) or (n_bus,)
            Net demand per bus in MW/Mvar, columns in ``bus_labels`` order;
            positive is consumption (pandapower's load sign), so PV, SVC, SOP
            terminals and discharging storage enter as negative values.

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
        p, q = self._check_demand(p_mw, q_mvar)
        prep = self._prepared
        br = self.branches
        sn = br.sn_mva
        n_s, n_bus = p.shape
        block = self.block or _default_block(n_bus)
        v, vm, j, loss, conv, iters = sweep(prep.perm, prep.order_rows, prep.parent_rows,
                                            prep.z, prep.a, prep.y, prep.y_branch_g,
                                            prep.root_rows, br.root_v, p, q, sn,
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
        return PowerFlowResult(
            v_pu=v, vm_pu=vm, loss_mw=loss * sn, ext_grid_p_mw=s_root.real,
            ext_grid_q_mvar=s_root.imag, converged=conv, iterations=iters,
            bus_labels=br.bus_labels, line_labels=br.element[:br.n_line],
            ext_grid_buses=br.bus_labels[br.root_pos],
            line_currents=lambda: prep.line_currents_ka(br, v, j))

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

    @classmethod
    def build(cls, br: BranchTable, closed: np.ndarray) -> "_Prepared":
        st = br.radial_structure(closed)
        n = br.n_bus
        z = np.zeros(n, dtype=complex)
        a = np.ones(n, dtype=complex)
        y_branch = np.zeros(n, dtype=complex)
        child = st.order
        k = st.parent_branch[child]
        if np.any(st.branch_reversed[k] & br.is_trafo[k] & (br.ratio[k] != 1)):
            bad = br.element[k[st.branch_reversed[k] & br.is_trafo[k]][0]]
            raise NotImplementedError(f"trafo {bad} is fed from its LV side; the batch engine "
                                      "supports transformers fed from the HV side only")
        z[child] = br.z_pu[k]
        a[child] = 1.0 / br.ratio[k]
        # shunts of closed branches: parent-side shunt sits behind the ratio
        rev = st.branch_reversed[k]
        y_parent_side = np.where(rev, br.y_to_pu[k], br.y_from_pu[k] * np.abs(a[child]) ** 2)
        y_child_side = np.where(rev, br.y_from_pu[k], br.y_to_pu[k])
        np.add.at(y_branch, st.parent[child], y_parent_side)
        np.add.at(y_branch, child, y_child_side)
        y_branch[~st.supplied] = 0.0
        y = y_branch + br.bus_shunt_pu

        unsupplied = np.flatnonzero(~st.supplied)
        perm = np.concatenate([br.root_pos, child, unsupplied]).astype(np.int64)
        row_of = np.empty(n, dtype=np.int64)
        row_of[perm] = np.arange(n)
        parent_rows = np.full(n, -1, dtype=np.int64)
        parent_rows[row_of[child]] = row_of[st.parent[child]]
        return cls(structure=st, perm=perm, order_rows=row_of[child], parent_rows=parent_rows,
                   root_rows=row_of[br.root_pos], z=z[perm], a=a[perm], y=y[perm],
                   y_branch_g=y_branch.real[perm], unsupplied=unsupplied)

    def line_currents_ka(self, br: BranchTable, v: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Largest current magnitude at the two ends of every line (0 if open)."""
        st = self.structure
        i_ka = np.zeros((v.shape[0], br.n_line))
        i_base = br.sn_mva / (np.sqrt(3.0) * br.vn_kv)
        child = st.order
        k = st.parent_branch[child]
        c, k = child[k < br.n_line], k[k < br.n_line]
        u = st.parent[c]
        rev = st.branch_reversed[k]
        y_u = np.where(rev, br.y_to_pu[k], br.y_from_pu[k])
        y_c = np.where(rev, br.y_from_pu[k], br.y_to_pu[k])
        line_end_currents(v, j, c, u, k, y_u, y_c, i_base[u], i_base[c], i_ka)
        i_ka[np.isnan(v).all(axis=1)] = np.nan
        return i_ka


def _default_block(n_bus: int) -> int:
    """Scenarios per block, measured on this machine class (see experiments/bench)."""
    if n_bus <= 128:
        return 128
    return 64 if n_bus <= 4000 else 32
