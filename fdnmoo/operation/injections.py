"""Net demand of plans: loads + EV charging + storage - PV, minus SVC vars.

For the plans of one stage and one topology, :func:`net_demand` returns the
demand arrays the power flow runs on (MW/Mvar, + = consumption), with these
operating rules (all vectorised over plans, slots, samples):

PV, EV charging
    ``pv = pf * capacity * pv_pu(slot, sample)`` and
    ``ev = capacity * evcs_pu(slot)``; EV charging at unity power factor, PV at the
    candidate's ``power_factor`` ``pf`` (column of ``candidates.pv``, default 1; the
    capacity is then the converter's MVA rating), injecting ``pv * tan(acos pf)`` Mvar.
Storage (ESS)
    A day-ahead schedule on the forecast, the same for every sample, at unity
    power factor and without conversion losses: each day the unit moves
    ``e = min(E, P * h * floor(slots_per_day / 2))`` (E = capacity times the
    candidate's ``max_mwh / max_mw`` ratio, P = capacity, h = slot length):
    it charges at full power in the slots where the plan's forecast system net
    load (loads + EV - PV, all buses) is lowest and discharges at full power in
    the slots where it is highest, the last slot of each run at part power, so
    the day is energy-balanced; a cyclic state of charge then stays within
    [0, E]. A one-slot day (profile "peak") leaves storage idle. With state-of-charge
    limits (``candidates.ess`` columns ``soc_min``, ``soc_max``, shares of E;
    seed 000's Case III: 10 % and 90 %) the unit moves at most
    ``(soc_max - soc_min) E`` a day, and the cyclic state of charge of
    :func:`ess_state_of_charge` stays within ``[soc_min E, soc_max E]``.
DG (distributed generation, ``plan.der["dg"]`` in MVA, md24)
    At unity power factor (``p = capacity * share``, ``q = 0``, so P never exceeds the
    MVA rating), the same for every sample (:func:`dg_share`). Wind: ``share`` = the
    alternative's power curve (``wind_power_curve``, kW, linear interpolation, 0 below
    the first point, the last value above it) at the wind speed of the bus's zone
    (``net.bus.zone``) in the slot's load level, divided by the curve's rated power
    (its largest ``p_kw``). Slots are load levels only with profile ``"levels"``; for
    any other profile every slot gets the mean share over the levels. Conventional
    (dispatchable): ``share`` = the slot's load factor ``load_pu`` (full output at
    the peak, following the load otherwise; at most 1 by construction).
SVC
    A Q(V) droop on an estimate ``V`` of the voltage the SVC would see without
    its own output: capacitive ``cap * clip((1 - V) / (1 - v_min), 0, 1)``
    below 1 p.u. (full at ``v_min``), inductive
    ``cap * clip((V - v_h) / (v_max - v_h), 0, 1)`` above ``v_h = (1 + v_max) / 2``
    (full at ``v_max``; against PV over-voltage, without absorbing vars in
    feeders that merely run a little above 1 p.u.). ``V`` is the linearised
    DistFlow estimate of :class:`FeederTree` with PV, EV and storage but
    without SVC and SOP (no extra power flow).

:class:`FeederTree` holds the linear (LinDistFlow) view of one radial
topology: the root path of every bus, the common-path impedance between buses
and the set of buses downstream of a line. The SOP dispatch uses it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..penetration import pv_power_factors
from ..planning.batch import PlanBatch
from ..planning.grid import PlanningGrid
from ..planning.plan import DER_KINDS, Plan, dg_type_rows
from ..powerflow import BatchPowerFlow
from ..scenarios.batch import ScenarioBatch

__all__ = ["FeederTree", "DerLayout", "NetDemand", "ess_schedule", "ess_state_of_charge", "svc_output", "net_demand",
           "dg_share"]


# --- linear view of a radial topology --------------------------------------------------

@dataclass(frozen=True)
class FeederTree:
    """Root paths and LinDistFlow sensitivities of one radial topology.

    Attributes
    ----------
    supplied : ndarray of bool, shape (n_bus,)
    path : scipy.sparse.csr_matrix, shape (n_bus, n_bus)
        ``path[j, c] = 1`` if the branch feeding bus ``c`` lies on the path from
        bus ``j`` to its root (``c = j`` included; roots have empty rows).
    z_pu : ndarray of complex, shape (n_bus,)
        Series impedance of the branch feeding every bus (0 at roots and
        unsupplied buses), per unit on ``sn_mva``.
    line_child : ndarray of int, shape (n_line,)
        Bus fed by every closed line (-1 for open lines).
    root_vm_pu : ndarray, shape (n_bus,)
        Voltage set-point of every bus's substation (NaN if unsupplied).
    is_root : ndarray of bool, shape (n_bus,)
        Substation (external grid) buses.
    sn_mva : float
    """

    supplied: np.ndarray
    path: sp.csr_matrix
    z_pu: np.ndarray
    line_child: np.ndarray
    root_vm_pu: np.ndarray
    is_root: np.ndarray
    sn_mva: float
    _impedances: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_engine(cls, engine: BatchPowerFlow) -> "FeederTree":
        """The tree of the engine's topology."""
        br = engine.branches  # first: the engine resets its structure cache when it builds these
        st = engine.structure
        n = br.n_bus
        fed = st.parent_branch >= 0
        z = np.zeros(n, dtype=complex)
        z[fed] = br.z_pu[st.parent_branch[fed]]
        rows, cols = [], []
        cur = np.flatnonzero(fed)
        anc = cur.copy()
        while cur.size:  # climb one level per pass, all buses at once
            rows.append(cur)
            cols.append(anc)
            anc = st.parent[anc]
            keep = st.parent_branch[anc] >= 0
            cur, anc = cur[keep], anc[keep]
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        path = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
        line_child = np.full(br.n_line, -1, dtype=np.int64)
        k = st.parent_branch[fed]
        is_line = k < br.n_line
        line_child[k[is_line]] = np.flatnonzero(fed)[is_line]
        root_index = np.full(n, -1, dtype=np.int64)
        root_index[br.root_pos] = np.arange(br.root_pos.size)
        vm = np.full(n, np.nan)
        sup = st.root_of >= 0
        vm[sup] = np.abs(br.root_v[root_index[st.root_of[sup]]])
        is_root = np.zeros(n, dtype=bool)
        is_root[br.root_pos] = True
        return cls(supplied=st.supplied, path=path, z_pu=z, line_child=line_child,
                   root_vm_pu=vm, is_root=is_root, sn_mva=float(br.sn_mva))

    def impedance_to(self, buses: np.ndarray) -> np.ndarray:
        """Common-path impedance ``Z[j, k]`` between every bus j and ``buses[k]``.

        ``Z[j, k]`` sums the impedances of the branches shared by the root
        paths of j and ``buses[k]`` (0 if they are in different trees).
        Shape (n_bus, len(buses)), complex per unit; kept per set of ``buses``
        (the tree is cached per topology, the candidate buses are fixed).
        """
        buses = np.asarray(buses, dtype=np.int64)
        key = buses.tobytes()
        if key not in self._impedances:
            sel = self.path[buses].toarray().T * self.z_pu[:, None]
            self._impedances[key] = np.asarray(self.path @ sel)
        return self._impedances[key]

    def voltage_estimate(self, p_mw: np.ndarray, q_mvar: np.ndarray, buses: np.ndarray,
                         root_scale: np.ndarray | None = None) -> np.ndarray:
        """LinDistFlow voltage magnitude at ``buses`` for net demands (rows, n_bus).

        ``V = V_root - (p @ R + q @ X) / (sn * V_root)`` with the common-path
        resistance/reactance ``R + jX`` of :meth:`impedance_to`. NaN at
        unsupplied buses. ``root_scale`` (rows, len(buses)) multiplies the
        substation voltage of every bus (an OLTC's ratio).
        """
        z = self.impedance_to(buses)
        v0 = self.root_vm_pu[np.asarray(buses, dtype=np.int64)]
        if root_scale is not None:
            v0 = v0 * root_scale
        drop = (p_mw @ z.real + q_mvar @ z.imag) / (self.sn_mva * v0)
        return v0 - drop

    def downstream_of_lines(self, line_mask: np.ndarray) -> np.ndarray:
        """Buses below any flagged line: (rows, n_line) bool -> (rows, n_bus) bool."""
        line_mask = np.asarray(line_mask, dtype=bool)
        out = np.zeros((line_mask.shape[0], self.path.shape[0]), dtype=bool)
        rows = np.flatnonzero(line_mask.any(axis=1))
        if rows.size:
            closed = self.line_child >= 0
            flagged = np.zeros((rows.size, self.path.shape[0]))
            flagged[:, self.line_child[closed]] = line_mask[np.ix_(rows, np.flatnonzero(closed))]
            out[rows] = np.asarray(self.path @ flagged.T).T > 0
        return out


# --- distributed resources ---------------------------------------------------------------

@dataclass(frozen=True)
class DerLayout:
    """Where the candidates of every resource kind sit (computed once per grid).

    Attributes
    ----------
    matrix : dict of str to ndarray, shape (n_candidates, n_bus)
        One-hot map from the rows of ``candidates[kind]`` to bus columns.
    bus : dict of str to ndarray of int, shape (n_candidates,)
        Bus position of every candidate.
    ess_hours : ndarray, shape (n_ess,)
        Energy-to-power ratio ``max_mwh / max_mw`` of the storage candidates.
    ess_soc : ndarray, shape (n_ess, 2), optional
        Lowest and highest state of charge of every storage candidate (shares of
        its energy capacity; columns ``soc_min``/``soc_max``); None: 0 and 1.
    pv_pf : ndarray, shape (n_pv,)
        Power factor of every PV candidate (:func:`~fdnmoo.penetration.pv_power_factors`).
    """

    matrix: dict
    bus: dict
    ess_hours: np.ndarray
    ess_soc: np.ndarray | None = None
    pv_pf: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def of(cls, grid: PlanningGrid, bus_labels: np.ndarray) -> "DerLayout":
        lookup = pd.Index(bus_labels)
        matrix, bus = {}, {}
        for kind in DER_KINDS:
            table = grid.case.candidates.get(kind)
            labels = np.zeros(0, np.int64) if table is None else table.bus.to_numpy(np.int64)
            pos = lookup.get_indexer(labels)
            if (pos < 0).any():
                raise KeyError(f"candidates[{kind!r}] names bus {labels[pos < 0][0]}, "
                               "which the grid does not have")
            m = np.zeros((labels.size, bus_labels.size))
            m[np.arange(labels.size), pos] = 1.0
            matrix[kind], bus[kind] = m, pos.astype(np.int64)
        ess = grid.case.candidates.get("ess")
        hours = np.zeros(0) if ess is None else (ess.max_mwh / ess.max_mw).to_numpy(float)
        return cls(matrix=matrix, bus=bus, ess_hours=hours, ess_soc=ess_soc_limits(grid.case),
                   pv_pf=pv_power_factors(grid.case))

    def capacities(self, plans: Sequence[Plan] | PlanBatch, kind: str, stage: int,
                   index: np.ndarray | None = None) -> np.ndarray:
        """Installed capacity (n_plans, n_candidates) in ``stage`` (zeros where a plan has none).

        ``plans`` is a sequence of plans, or a :class:`~fdnmoo.planning.PlanBatch` of which
        the plans at positions ``index`` (default: all) are taken.
        """
        n_cand = self.bus[kind].size
        if isinstance(plans, PlanBatch):
            rows = np.arange(len(plans)) if index is None else np.asarray(index)
            cap = plans.der.get(kind)
            if cap is None:
                return np.zeros((rows.size, n_cand))
            if cap.shape[-1] != n_cand:
                raise ValueError(f"der[{kind!r}] has {cap.shape[-1]} candidates, the case {n_cand}")
            return cap[rows, stage - 1]
        cap = np.zeros((len(plans), n_cand))
        for i, plan in enumerate(plans):
            c = plan.der_capacity(kind, stage)
            if c.size:
                if c.size != n_cand:
                    raise ValueError(f"plan {i}: der[{kind!r}] has {c.size} candidates, the case {n_cand}")
                cap[i] = c
        return cap


def ess_soc_limits(case) -> np.ndarray:
    """``(soc_min, soc_max)`` of every ``candidates.ess`` row, shape (n_ess, 2) (default 0, 1).

    Raises
    ------
    ValueError
        A limit outside 0..1, or ``soc_min >= soc_max``, naming the case, table row and values.
    """
    ess = case.candidates.get("ess")
    if ess is None:
        return np.zeros((0, 2))
    out = np.column_stack([ess[c].to_numpy(float) if c in ess else np.full(len(ess), v)
                           for c, v in (("soc_min", 0.0), ("soc_max", 1.0))])
    out = np.where(np.isnan(out), [0.0, 1.0], out)
    bad = (out < 0).any(axis=1) | (out > 1).any(axis=1) | (out[:, 0] >= out[:, 1])
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"case {case.name!r} candidates['ess'] row {k} (bus {int(ess.bus.iloc[k])}): "
                         f"soc_min={out[k, 0]:g}, soc_max={out[k, 1]:g}; need "
                         f"0 <= soc_min < soc_max <= 1 (shares of max_mwh)")
    return out


def ess_schedule(net_load_mw: np.ndarray, power_mw: np.ndarray, energy_mwh: np.ndarray,
                 slot_duration_h: float, soc_min=0.0, soc_max=1.0) -> np.ndarray:
    """Charging power per slot (+ = charging) of storage units (rule in the module docstring).

    Parameters
    ----------
    net_load_mw : ndarray, shape (n_plans, n_days, slots_per_day)
        Forecast system net load that ranks the slots.
    power_mw, energy_mwh : ndarray, shape (n_plans, n_units)
    slot_duration_h : float
    soc_min, soc_max : float or ndarray, shape (n_units,)
        State-of-charge window, shares of ``energy_mwh``: a day moves at most
        ``(soc_max - soc_min) * energy_mwh``.

    Returns
    -------
    ndarray, shape (n_plans, n_days, slots_per_day, n_units)
    """
    n_p, n_d, spd = net_load_mw.shape
    h = slot_duration_h
    usable = energy_mwh * (np.asarray(soc_max, float) - np.asarray(soc_min, float))
    e = np.minimum(usable, power_mw * h * (spd // 2))  # MWh moved per day
    k = np.arange(spd)[:, None]  # rank of a slot
    # energy in the k-th slot of a run at full power, the last one partial
    step = np.clip(e[:, None, :] - k[None] * power_mw[:, None, :] * h, 0.0,
                   power_mw[:, None, :] * h) / h  # (n_p, spd, n_units), MW
    order = np.argsort(net_load_mw, axis=-1, kind="stable")  # lowest first
    out = np.zeros((n_p, n_d, spd, power_mw.shape[1]))
    rank_lo = np.empty_like(order)
    np.put_along_axis(rank_lo, order, np.arange(spd)[None, None, :], axis=-1)
    rank_hi = spd - 1 - rank_lo
    pidx = np.arange(n_p)[:, None, None]
    out += step[pidx, rank_lo]  # charge in the lowest slots
    out -= step[pidx, rank_hi]  # discharge in the highest
    return out


def ess_state_of_charge(schedule_mw: np.ndarray, energy_mwh: np.ndarray, slot_duration_h: float,
                        soc_min=0.0) -> np.ndarray:
    """State of charge (share of ``energy_mwh``) at the end of every slot of a daily schedule.

    Each day starts where it ends (the schedule is energy-balanced), at the level
    that puts its lowest point at ``soc_min``.

    Parameters
    ----------
    schedule_mw : ndarray, shape (n_plans, n_days, slots_per_day, n_units)
        :func:`ess_schedule`'s output (+ = charging).
    energy_mwh : ndarray, shape (n_plans, n_units)
    slot_duration_h : float
    soc_min : float or ndarray, shape (n_units,)

    Returns
    -------
    ndarray, shape of ``schedule_mw``; NaN for units without energy capacity.
    """
    stored = np.cumsum(schedule_mw * slot_duration_h, axis=2)
    start = -np.minimum(stored.min(axis=2, keepdims=True), 0.0)  # MWh above the floor
    e = np.asarray(energy_mwh, float)[:, None, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(e > 0, np.asarray(soc_min, float) + (start + stored) / e, np.nan)


def svc_output(v_estimate: np.ndarray, capacity_mvar: np.ndarray, v_min_pu: float,
               v_max_pu: float) -> np.ndarray:
    """SVC reactive output (+ = injected, capacitive) by the Q(V) droop of the module docstring."""
    v = np.nan_to_num(v_estimate, nan=1.0)
    v_high = (1.0 + v_max_pu) / 2
    up = np.clip((1.0 - v) / (1.0 - v_min_pu), 0.0, 1.0)
    down = np.clip((v - v_high) / (v_max_pu - v_high), 0.0, 1.0)
    return capacity_mvar * (up - down)


def _wind_share(case, alternative: int, speed_m_s: np.ndarray) -> np.ndarray:
    """Power-curve output per unit of rated power of wind alternative ``alternative``."""
    curves = case.candidates.get("wind_power_curve")
    curve = None if curves is None else curves[curves.alternative == alternative]
    if curve is None or not len(curve):
        raise ValueError(f"case {case.name!r} has no wind_power_curve for alternative {alternative}")
    curve = curve.sort_values("speed_m_s")
    v, p = curve.speed_m_s.to_numpy(float), curve.p_kw.to_numpy(float)
    return np.interp(speed_m_s, v, p, left=0.0) / p.max()


def dg_share(grid: PlanningGrid, batch: ScenarioBatch) -> np.ndarray:
    """Output per unit of capacity of every DG candidate and ``dg_types`` row per slot.

    Shape (n_dg, n_types, n_slots); the rule is in the module docstring. Rows
    of another technology than the candidate's are 0.
    """
    case = grid.case
    dg, types = case.candidates["dg"], case.candidates["dg_types"]
    load_pu = batch.days.load_pu.ravel()
    n_t = load_pu.size
    out = np.zeros((len(dg), len(types), n_t))
    tech = dg.technology.to_numpy(str)
    levels = case.candidates.get("load_levels")
    for j, (t, alt) in enumerate(zip(types.technology.astype(str), types.alternative.astype(int))):
        mine = tech == t
        if t == "conventional":
            out[mine, j] = load_pu
            continue
        if t != "wind":
            raise ValueError(f"unknown DG technology {t!r} (conventional or wind)")
        speeds = case.candidates.get("wind_speed")
        if speeds is None or levels is None or not len(levels):
            raise ValueError(f"case {case.name!r}: wind DG needs wind_speed and load_levels tables")
        order = np.sort(levels.level.to_numpy(np.int64))
        zones = grid.net.bus.zone.reindex(dg.bus.to_numpy(np.int64)).astype(str).to_numpy()
        table = speeds.pivot(index="zone", columns="level", values="speed_m_s")
        is_levels = batch.days.names == tuple(f"level {v}" for v in order) and n_t == len(order)
        for i in np.flatnonzero(mine):
            share = _wind_share(case, alt, table.loc[zones[i], order].to_numpy(float))
            out[i, j] = share if is_levels else share.mean()
    return out


# --- assembly ----------------------------------------------------------------------------

@dataclass
class NetDemand:
    """Net demand of a set of plans in one stage (shapes: P plans, T slots, S samples, B buses).

    Attributes
    ----------
    p_mw, q_mvar : ndarray, shape (P, T, S, B)
        Net demand for the power flow (+ = consumption), SVC included, SOP not.
    demand_mw : ndarray, shape (P, T, S, B)
        Loads plus EV charging (what unserved and violation energies count).
    pv_mw : ndarray, shape (P, T, S, n_pv)
        PV output per candidate.
    pv_bus : ndarray of int, shape (n_pv,)
        Bus position of every PV candidate.
    svc_mvar : ndarray, shape (P, T, S, n_svc)
        SVC output per candidate (+ = capacitive).
    ess_mw : ndarray, shape (P, T, n_ess)
        Storage charging power per candidate (+ = charging).
    dg_mw : ndarray, shape (P, T, n_dg)
        DG output per candidate (the same in every sample; unity power factor).
    dg_bus : ndarray of int, shape (n_dg,)
        Bus position of every DG candidate.
    controls : Controls, optional
        What the operation options did (:mod:`fdnmoo.operation.controls`); with
        curtailment, ``pv_mw`` is the PV fed in after it. None without options.
    pv_q_per_mw : ndarray, shape (n_pv,), optional
        Mvar injected per MW of PV output, ``tan(acos pf)`` (None: unity power factor).
    """

    p_mw: np.ndarray
    q_mvar: np.ndarray
    demand_mw: np.ndarray
    pv_mw: np.ndarray
    pv_bus: np.ndarray
    svc_mvar: np.ndarray
    ess_mw: np.ndarray
    dg_mw: np.ndarray | None = None
    dg_bus: np.ndarray | None = None
    controls: "Controls | None" = None
    pv_q_per_mw: np.ndarray | None = None


def net_demand(grid: PlanningGrid, plans: Sequence[Plan] | PlanBatch, batch: ScenarioBatch,
               stage: int, tree: FeederTree | None = None, layout: DerLayout | None = None,
               index: np.ndarray | None = None) -> NetDemand:
    """Net demand of ``plans`` (all on one topology, described by ``tree``) in ``stage``.

    ``tree`` is needed only when a plan has SVCs; ``layout`` (default: built
    here) can be reused across calls. ``plans`` may be a
    :class:`~fdnmoo.planning.PlanBatch`, of which the plans at ``index`` are
    taken (see :meth:`DerLayout.capacities`). See the module docstring for the rules.
    """
    layout = DerLayout.of(grid, batch.bus_labels) if layout is None else layout
    caps = {kind: layout.capacities(plans, kind, stage, index) for kind in DER_KINDS}
    n_p = len(caps["pv"])
    load_p = batch.load_p_mw[stage - 1]  # (T, S, B)
    n_t, n_s, n_b = load_p.shape
    days = batch.days
    mat = layout.matrix

    pf = layout.pv_pf if layout.pv_pf.size == caps["pv"].shape[1] else None
    rated = caps["pv"] if pf is None or (pf == 1.0).all() else caps["pv"] * pf
    pv_mw = batch.pv_pu[stage - 1][None] * rated[:, None, None, :]
    ev_bus = caps["evcs"] @ mat["evcs"]  # (P, B)
    if ev_bus.any():
        demand = load_p[None] + (batch.evcs_pu[:, None, None] * ev_bus[:, None, None, :])
    else:
        demand = np.broadcast_to(load_p[None], (n_p, n_t, n_s, n_b))
    p = demand + batch.fixed_p_mw[None, :, None, :]  # existing sgens/storage
    if pv_mw.any():
        _add_at_buses(p, -1.0, pv_mw, layout, "pv")
    cap_dg = caps["dg"]  # (P, n_dg), MVA
    dg = np.zeros((n_p, n_t, cap_dg.shape[1]))
    if cap_dg.any():
        rows = dg_type_rows(grid.case, cap_dg)
        share = dg_share(grid, batch)  # (n_dg, n_types, T)
        per = share[np.arange(cap_dg.shape[1])[None, :], np.maximum(rows, 0)]  # (P, n_dg, T)
        dg = (cap_dg[:, :, None] * per).transpose(0, 2, 1)
        _add_at_buses(p, -1.0, dg[:, :, None, :], layout, "dg")

    ess = np.zeros((n_p, n_t, layout.bus["ess"].size))
    power = caps["ess"]
    if power.any():
        forecast = p[:, :, batch.forecast_sample, :].sum(axis=-1)  # (P, T)
        ess = ess_schedule(forecast.reshape(n_p, days.n_days, days.slots_per_day), power,
                           power * layout.ess_hours, days.slot_duration_h,
                           *((0.0, 1.0) if layout.ess_soc is None else layout.ess_soc.T)
                           ).reshape(n_p, n_t, -1)
        _add_at_buses(p, 1.0, ess[:, :, None, :], layout, "ess")

    q = np.broadcast_to((batch.load_q_mvar[stage - 1] + batch.fixed_q_mvar[:, None, :])[None],
                        p.shape).copy()
    q_per_mw = None if rated is caps["pv"] else np.tan(np.arccos(pf))
    if q_per_mw is not None and pv_mw.any():  # Q at the converter's power factor
        _add_at_buses(q, -1.0, pv_mw * q_per_mw, layout, "pv")
    cap_svc = caps["svc"]
    svc = np.zeros((n_p, n_t, n_s, cap_svc.shape[1]))
    if cap_svc.any():
        if tree is None:
            raise ValueError("plans with SVCs need the FeederTree of their topology")
        svc_bus = layout.bus["svc"]
        unc = grid.case.uncertainty
        # plan by plan: a plan's numbers must not depend on the other plans of the call
        v = np.stack([tree.voltage_estimate(p[i].reshape(-1, n_b), q[i].reshape(-1, n_b), svc_bus)
                      for i in range(n_p)]).reshape(n_p, n_t, n_s, -1)
        svc = svc_output(v, cap_svc[:, None, None, :], unc.v_min_pu, unc.v_max_pu)
        svc[..., ~tree.supplied[svc_bus]] = 0.0
        _add_at_buses(q, -1.0, svc, layout, "svc")
    return NetDemand(p_mw=p, q_mvar=q, demand_mw=demand, pv_mw=pv_mw, pv_bus=layout.bus["pv"],
                     svc_mvar=svc, ess_mw=ess, dg_mw=dg, dg_bus=layout.bus["dg"],
                     pv_q_per_mw=q_per_mw)


def _add_at_buses(target: np.ndarray, sign: float, values: np.ndarray, layout: DerLayout,
                  kind: str) -> None:
    """``target += sign * values @ layout.matrix[kind]`` (values per candidate onto its bus).

    With one candidate per bus the product holds each value exactly, so the columns
    are updated in place instead (same numbers, no bus-sized temporary).
    """
    bus = layout.bus[kind]
    if np.unique(bus).size == bus.size:
        if sign > 0:
            target[..., bus] += values
        else:
            target[..., bus] -= values
    elif sign > 0:
        target += values @ layout.matrix[kind]
    else:
        target -= values @ layout.matrix[kind]
