"""Soft-open-point dispatch: terminal set-points per scenario.

Conventions
    ``P_i, Q_i`` is the power terminal ``i`` injects into the AC grid (MW,
    Mvar; negative ``P_i`` = the terminal absorbs). Every converter loses
    ``eta * |S_i|`` (``eta = case.uncertainty.sop_loss_coefficient``), so the
    terminals of one device balance as ``sum_i P_i + eta * sum_i |S_i| = 0``:
    the grid supplies the converter losses. ``|S_i| <= capacity_mva`` of the
    terminal. Terminals at unsupplied buses or at a substation bus stay idle.

Inner search (vectorised; no loop over scenarios)
    1. Loss-optimal set-point of the linearised feeder (LinDistFlow, V = 1):
       line losses are the quadratic ``sum_k r_k (P_k^2 + Q_k^2)`` of the
       branch flows, and a terminal injection changes the flows on its root
       path, so minimising them under ``sum_{i in device} P_i = 0`` is an
       equality-constrained QP whose solution is linear in the demand:
       ``P = (p @ R_t) M``, ``Q = (q @ R_t) R_tt^-1`` with ``R_t`` the
       common-path resistances to the terminals (:class:`FeederTree`),
       ``M = R_tt^-1 - R_tt^-1 E' (E R_tt^-1 E')^-1 E R_tt^-1`` and ``E`` the
       device incidence. The transfer is scaled down uniformly per device (so
       it stays balanced) until ``|P_i| <= (1 - eta) cap_i``, then ``Q_i`` is
       clipped to the remaining ``(1 - eta) cap_i``.
    2. Screening by the linear model (:func:`screen_setpoints`): ten
       lossless candidate set-points per scenario (the loss-optimal one at the
       step size that minimises line plus converter losses; P transfers of 0,
       1/2 and 1 x the loss-optimal one, each with 1/4, 1/2 or all of the
       remaining capacity as reactive support shared by a Q(V) droop) are
       scored by the predicted ``line-loss change + converter losses +
       violation_weight * violating load`` (predicted voltages = idle power
       flow + linear sensitivities); the best one per scenario is kept.
    3. The converter losses are drawn at the terminals of the device in
       proportion to their ratings, ``P_i <- P_i - (cap_i / sum cap) L`` with
       ``L = eta sum |S_i|`` solved by fixed-point iteration (a contraction by
       ``eta``); the ``eta cap_i`` head-room left in step 1 keeps
       ``|S_i| <= cap_i``.
    4. One batched power flow of the kept set-points of all scenarios; a
       scenario keeps its set-point only if the exact score ``losses +
       converter losses + violation_weight * violating load`` (MW; violating
       load = demand at buses outside the voltage band or downstream of a line
       above its limit; a power flow that does not converge scores +inf) is
       below the idle SOP's. So the dispatch never does worse than an idle SOP
       and costs two power flows per scenario (idle + kept set-point).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np
import pandas as pd
from numba import njit

from ..planning.plan import Plan
from ..powerflow import BatchPowerFlow, PowerFlowResult
from .injections import FeederTree

__all__ = ["SopTerminals", "OperatingLimits", "OperatingPoint", "SopDispatch", "SopModel",
           "loss_optimal_setpoints", "balance_converter_losses", "converter_loss_mw", "screen_setpoints",
           "operating_score", "violating_buses", "dispatch_sop"]


@dataclass(frozen=True)
class SopTerminals:
    """The SOP terminals of one plan in one stage.

    Attributes
    ----------
    bus : ndarray of int, shape (n_t,)
        Bus positions (columns of the demand arrays).
    device : ndarray of int, shape (n_t,)
        Device number 0..n_devices-1 (terminals of one device share a DC link).
    capacity_mva : ndarray, shape (n_t,)
    """

    bus: np.ndarray
    device: np.ndarray
    capacity_mva: np.ndarray

    @classmethod
    def of_plan(cls, plan: Plan, stage: int, bus_labels: np.ndarray) -> "SopTerminals":
        """Terminals of ``plan.sop_terminals(stage)`` on the columns ``bus_labels``."""
        t = plan.sop_terminals(stage)
        bus = np.asarray(t["bus"], dtype=np.int64)
        pos = pd.Index(bus_labels).get_indexer(bus)
        if (pos < 0).any():
            raise KeyError(f"SOP terminal at unknown bus {bus[pos < 0][0]}")
        device = pd.factorize(np.asarray(t["device"]))[0].astype(np.int64)
        return cls(bus=pos.astype(np.int64), device=device,
                   capacity_mva=np.asarray(t["capacity_mva"], dtype=float))

    @property
    def n_devices(self) -> int:
        return int(self.device.max()) + 1 if self.device.size else 0

    def incidence(self) -> np.ndarray:
        """(n_t, n_devices) one-hot device membership."""
        d = np.zeros((self.bus.size, self.n_devices))
        d[np.arange(self.bus.size), self.device] = 1.0
        return d


@dataclass(frozen=True)
class OperatingLimits:
    """Voltage band and line current limits (``i_limit_ka`` per ``net.line`` row)."""

    v_min_pu: float
    v_max_pu: float
    i_limit_ka: np.ndarray


@dataclass
class OperatingPoint:
    """Power-flow outcome per scenario (row), the part the metrics need.

    Attributes
    ----------
    vm_pu : ndarray, shape (rows, n_bus)
    i_ka : ndarray, shape (rows, n_line)
    loss_mw : ndarray, shape (rows,)
        Line and transformer losses.
    ext_grid_p_mw, ext_grid_q_mvar : ndarray, shape (rows, n_root)
    converged : ndarray of bool, shape (rows,)
    """

    vm_pu: np.ndarray
    i_ka: np.ndarray
    loss_mw: np.ndarray
    ext_grid_p_mw: np.ndarray
    ext_grid_q_mvar: np.ndarray
    converged: np.ndarray

    FIELDS: ClassVar[tuple[str, ...]] = ("vm_pu", "i_ka", "loss_mw", "ext_grid_p_mw",
                                         "ext_grid_q_mvar", "converged")

    @classmethod
    def from_result(cls, res: PowerFlowResult) -> "OperatingPoint":
        return cls(vm_pu=res.vm_pu, i_ka=res.i_ka, loss_mw=res.loss_mw,
                   ext_grid_p_mw=res.ext_grid_p_mw, ext_grid_q_mvar=res.ext_grid_q_mvar,
                   converged=res.converged)

    def take(self, rows) -> "OperatingPoint":
        """A copy of some rows."""
        return OperatingPoint(*(getattr(self, f)[rows] for f in self.FIELDS))

    def put(self, rows, other: "OperatingPoint") -> None:
        """Overwrite ``rows`` with ``other`` (which has one row per entry of ``rows``)."""
        for f in self.FIELDS:
            getattr(self, f)[rows] = getattr(other, f)


@dataclass
class SopDispatch:
    """Chosen SOP operation of a set of plans (rows = plans x scenarios per plan).

    Attributes
    ----------
    point : OperatingPoint
        Power flow of the chosen candidate of every row.
    converter_loss_mw : ndarray, shape (rows,)
    active : ndarray of bool, shape (rows,)
        False where the SOP stays idle (the dispatched set-point did not beat idle).
    p_mw, q_mvar : list of ndarray, shape (scenarios per plan, n_t) each
        Chosen terminal injections per plan (zeros where idle).
    """

    point: OperatingPoint
    converter_loss_mw: np.ndarray
    active: np.ndarray
    p_mw: list
    q_mvar: list


# --- linear model of the terminals ------------------------------------------------------

@dataclass(frozen=True)
class SopModel:
    """LinDistFlow model of one plan's SOP terminals on one topology.

    Attributes
    ----------
    terminals : SopTerminals
    active : ndarray of bool, shape (n_t,)
        Terminals at supplied, non-substation buses (the others stay idle).
    r_t, x_t : ndarray, shape (n_bus, n_t)
        Common-path resistance/reactance between every bus and every terminal
        (zero columns for inactive terminals), per unit on ``sn_mva``.
    k_p, k_q : ndarray, shape (n_bus, n_t)
        Loss-optimal lossless set-points are ``p @ k_p`` and ``q @ k_q``.
    room_mva : ndarray, shape (n_t,)
        ``(1 - eta) * capacity`` of active terminals, 0 otherwise.
    sn_mva, eta : float
    """

    terminals: SopTerminals
    active: np.ndarray
    r_t: np.ndarray
    x_t: np.ndarray
    k_p: np.ndarray
    k_q: np.ndarray
    room_mva: np.ndarray
    sn_mva: float
    eta: float

    @classmethod
    def build(cls, tree: FeederTree, terminals: SopTerminals, eta: float) -> "SopModel":
        n_b, n_t = tree.supplied.size, terminals.bus.size
        active = tree.supplied[terminals.bus] & (tree.z_pu[terminals.bus] != 0)
        act = np.flatnonzero(active)
        z_t = np.zeros((n_b, n_t), dtype=complex)
        k_p = np.zeros((n_b, n_t))
        k_q = np.zeros((n_b, n_t))
        if act.size:
            z_t[:, act] = tree.impedance_to(terminals.bus[act])
            r_a = z_t[:, act].real
            r_tt = r_a[terminals.bus[act]]
            r_inv = np.linalg.inv(r_tt + np.eye(act.size) * 1e-12 * np.trace(r_tt))
            e = terminals.incidence()[act].T
            e = e[e.any(axis=1)]
            m = r_inv - r_inv @ e.T @ np.linalg.solve(e @ r_inv @ e.T, e @ r_inv)
            k_p[:, act] = r_a @ m
            k_q[:, act] = r_a @ r_inv
        return cls(terminals=terminals, active=active, r_t=np.ascontiguousarray(z_t.real),
                   x_t=np.ascontiguousarray(z_t.imag), k_p=k_p, k_q=k_q,
                   room_mva=(1.0 - eta) * terminals.capacity_mva * active,
                   sn_mva=tree.sn_mva, eta=float(eta))

    def loss_optimal(self, p_mw: np.ndarray, q_mvar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Step 1: lossless loss-optimal set-points within ``room_mva`` (rows, n_t) each."""
        p0 = p_mw @ self.k_p
        q0 = q_mvar @ self.k_q
        t = self.terminals
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(np.abs(p0) > 0, self.room_mva / np.abs(p0), np.inf)
        alpha = np.ones((p0.shape[0], t.n_devices))
        np.minimum.at(alpha.T, t.device, ratio.T)  # per device: min over its terminals
        p0 *= alpha[:, t.device]
        return p0, np.clip(q0, -self.q_room(p0), self.q_room(p0))

    def q_room(self, p: np.ndarray) -> np.ndarray:
        """Reactive power left within ``room_mva`` next to active set-points ``p``."""
        return np.sqrt(np.maximum(self.room_mva ** 2 - p ** 2, 0.0))

    def loss_change_mw(self, g_p: np.ndarray, g_q: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """LinDistFlow change of line losses by injections (p, q), with ``g = demand @ r_t``."""
        r_tt = self.r_t[self.terminals.bus]
        quad = ((p @ r_tt) * p).sum(axis=-1) + ((q @ r_tt) * q).sum(axis=-1)
        return (quad - 2.0 * ((g_p * p).sum(axis=-1) + (g_q * q).sum(axis=-1))) / self.sn_mva

    def voltage_change_pu(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """LinDistFlow voltage rise (rows, n_bus) by injections (p, q)."""
        return (p @ self.r_t.T + q @ self.x_t.T) / self.sn_mva

    def max_voltage_change_pu(self) -> np.ndarray:
        """Largest |voltage change| any set-point within capacity can cause, per bus."""
        return np.hypot(self.r_t, self.x_t) @ self.room_mva / self.sn_mva * (1.0 + self.eta)


def loss_optimal_setpoints(tree: FeederTree, terminals: SopTerminals, p_mw: np.ndarray,
                           q_mvar: np.ndarray, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """Lossless, balanced set-points minimising LinDistFlow line losses (step 1).

    Parameters
    ----------
    p_mw, q_mvar : ndarray, shape (rows, n_bus)
        Net demand without the SOP.

    Returns
    -------
    p0, q0 : ndarray, shape (rows, n_t)
        ``sum_{i in device} p0_i = 0`` and ``|S0_i| <= (1 - eta) cap_i``.
    """
    return SopModel.build(tree, terminals, eta).loss_optimal(p_mw, q_mvar)


def balance_converter_losses(p0: np.ndarray, q: np.ndarray, terminals: SopTerminals, eta: float,
                             active: np.ndarray | None = None) -> np.ndarray:
    """Active injections with the converter losses drawn at the terminals (step 3).

    Parameters
    ----------
    p0, q : ndarray, shape (rows, n_t)
        Lossless set-points (``sum_{i in device} p0_i = 0``).
    active : ndarray of bool, shape (n_t,), optional
        Terminals that share the losses (default: those with a set-point in any row).

    Returns
    -------
    ndarray, shape (rows, n_t)
        ``p`` with ``sum_{i in d} p_i + eta * sum_{i in d} |(p_i, q_i)| = 0`` per device.
    """
    if eta == 0 or p0.size == 0:
        return p0.copy()
    if active is None:
        active = (p0 != 0).any(axis=0) | (q != 0).any(axis=0)
    inc = terminals.incidence() * active[:, None]  # (n_t, n_dev)
    cap = terminals.capacity_mva * active
    total = cap @ inc
    w = np.divide(cap, total[terminals.device], out=np.zeros_like(cap),
                  where=total[terminals.device] > 0)  # share of its device's loss
    loss = eta * (np.hypot(p0, q) @ inc)  # (rows, n_dev)
    for _ in range(200):
        p = p0 - w * loss[:, terminals.device]
        new = eta * (np.hypot(p, q) @ inc)
        done = np.max(np.abs(new - loss), initial=0.0) <= 1e-15 * max(1.0, float(np.max(new, initial=0.0)))
        loss = new
        if done:
            break
    return p0 - w * loss[:, terminals.device]


def converter_loss_mw(p: np.ndarray, q: np.ndarray, eta: float) -> np.ndarray:
    """``eta * sum_i |S_i|`` per row."""
    return eta * np.hypot(p, q).sum(axis=1)


# --- scoring and the search --------------------------------------------------------------

def operating_score(point: OperatingPoint, demand_mw: np.ndarray, tree: FeederTree,
                    limits: OperatingLimits, converter_loss: np.ndarray | float = 0.0,
                    violation_weight: float = 1.0) -> np.ndarray:
    """``losses + converter losses + violation_weight * violating load`` per row, MW.

    Rows whose power flow did not converge score +inf.
    """
    bad = violating_buses(point, tree, limits)
    score = point.loss_mw + converter_loss + violation_weight * np.sum(demand_mw * bad, axis=1)
    return np.where(point.converged, score, np.inf)


def violating_buses(point: OperatingPoint, tree: FeederTree, limits: OperatingLimits) -> np.ndarray:
    """Buses outside the voltage band or downstream of a line above its limit, (rows, n_bus)."""
    vm = point.vm_pu
    with np.errstate(invalid="ignore"):
        bad = (vm < limits.v_min_pu) | (vm > limits.v_max_pu)
        over = point.i_ka > limits.i_limit_ka
    if over.any():
        bad |= tree.downstream_of_lines(over)
    return bad


def screen_setpoints(model: SopModel, p_mw: np.ndarray, q_mvar: np.ndarray, demand_mw: np.ndarray,
                     vm_idle: np.ndarray, limits: OperatingLimits, violation_weight: float = 1.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Step 2: the most promising lossless set-point per row by the linear model.

    Candidates: the loss-optimal set-point scaled by ``f* = clip((A - eta S sn / 2) / B, 0, 1)``
    (the minimiser of the quadratic loss change ``(-2 f A + f^2 B) / sn`` plus the
    converter loss ``eta f S``); and the P transfers ``{0, 0.5, 1} x`` the
    loss-optimal one, each with ``{1/4, 1/2, 1} x`` the remaining reactive
    room shared by a Q(V) droop on the idle terminal voltage (full share
    half-way from 1 p.u. to the band limit, capacitive below 1 p.u.,
    inductive above).
    Predicted score = loss change + converter loss + ``violation_weight`` x
    demand at buses whose predicted voltage (idle power flow + linear voltage
    change) leaves the band; buses farther from the band limits than the
    largest change the SOP can cause are skipped (their status cannot change).
    The scoring runs in one compiled loop over rows.

    Returns
    -------
    p, q : ndarray, shape (rows, n_t)
    """
    sn, eta = model.sn_mva, model.eta
    g_p, g_q = p_mw @ model.r_t, q_mvar @ model.r_t
    p_opt, q_opt = model.loss_optimal(p_mw, q_mvar)
    r_tt = model.r_t[model.terminals.bus]
    gain = (g_p * p_opt).sum(axis=1) + (g_q * q_opt).sum(axis=1)
    curv = ((p_opt @ r_tt) * p_opt).sum(axis=1) + ((q_opt @ r_tt) * q_opt).sum(axis=1)
    size = np.hypot(p_opt, q_opt).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(curv > 0, np.clip((gain - eta * size * sn / 2) / curv, 0.0, 1.0), 0.0)[:, None]
    v_t = np.nan_to_num(vm_idle[:, model.terminals.bus], nan=1.0)
    droop = (np.clip((1.0 - v_t) / ((1.0 - limits.v_min_pu) / 2), 0.0, 1.0)
             - np.clip((v_t - 1.0) / ((limits.v_max_pu - 1.0) / 2), 0.0, 1.0))
    cand_p, cand_q = [f * p_opt], [f * q_opt]
    for share in (0.0, 0.5, 1.0):
        p = share * p_opt
        support = model.q_room(p) * droop
        for level in (0.25, 0.5, 1.0):
            cand_p.append(p)
            cand_q.append(level * support)
    cand_p, cand_q = np.stack(cand_p), np.stack(cand_q)
    reach = model.max_voltage_change_pu()
    best = _best_candidate(cand_p, cand_q, g_p, g_q, model.r_t[model.terminals.bus], model.r_t, model.x_t,
                           vm_idle, demand_mw, reach, limits.v_min_pu, limits.v_max_pu, 1.0 / sn, eta,
                           float(violation_weight))
    rows = np.arange(best.size)
    return cand_p[best, rows], cand_q[best, rows]


@njit(cache=True, nogil=True)
def _best_candidate(cand_p, cand_q, g_p, g_q, r_tt, r_t, x_t, vm, demand, reach, v_min, v_max,
                    inv_sn, eta, weight):
    """Index of the candidate with the smallest predicted score, per row.

    cand_p, cand_q: (n_cand, rows, n_t); g_p, g_q: (rows, n_t); vm, demand: (rows, n_bus).
    Score = (c' R_tt c - 2 g' c) / sn (P and Q parts) + eta sum |S| + weight * demand at buses
    whose predicted voltage leaves the band. Buses farther from both band limits than
    ``reach`` (or NaN) keep their status under every candidate and are skipped.
    """
    n_c, n_r, n_t = cand_p.shape
    n_b = vm.shape[1]
    score = np.empty(n_c)
    best = np.zeros(n_r, dtype=np.int64)
    for r in range(n_r):
        for c in range(n_c):
            quad = 0.0
            lin = 0.0
            size = 0.0
            for i in range(n_t):
                pi = cand_p[c, r, i]
                qi = cand_q[c, r, i]
                lin += g_p[r, i] * pi + g_q[r, i] * qi
                size += np.sqrt(pi * pi + qi * qi)
                for j in range(n_t):
                    quad += r_tt[i, j] * (pi * cand_p[c, r, j] + qi * cand_q[c, r, j])
            score[c] = (quad - 2.0 * lin) * inv_sn + eta * size
        if weight > 0.0:
            for b in range(n_b):
                v0 = vm[r, b]
                if not (v0 < v_min + reach[b] or v0 > v_max - reach[b]):
                    continue  # NaN, or too far inside the band to leave it
                if v0 < v_min - reach[b] or v0 > v_max + reach[b]:
                    continue  # violates whatever the SOP does
                for c in range(n_c):
                    v = v0
                    for i in range(n_t):
                        v += (cand_p[c, r, i] * r_t[b, i] + cand_q[c, r, i] * x_t[b, i]) * inv_sn
                    if v < v_min or v > v_max:
                        score[c] += weight * demand[r, b]
        k = 0
        for c in range(1, n_c):
            if score[c] < score[k]:
                k = c
        best[r] = k
    return best


def dispatch_sop(engine: BatchPowerFlow, tree: FeederTree, terminals: Sequence[SopTerminals],
                 p_mw: np.ndarray, q_mvar: np.ndarray, demand_mw: np.ndarray, limits: OperatingLimits,
                 eta: float = 0.02, idle: OperatingPoint | None = None,
                 violation_weight: float = 1.0) -> SopDispatch:
    """Choose SOP set-points for several plans sharing one topology (module docstring).

    Parameters
    ----------
    engine : BatchPowerFlow
        Engine of the topology.
    tree : FeederTree
        ``FeederTree.from_engine(engine)``.
    terminals : sequence of SopTerminals
        One per plan.
    p_mw, q_mvar, demand_mw : ndarray, shape (n_plans, n_rows, n_bus)
        Net demand without SOP, and the loads that count for violations.
    limits : OperatingLimits
    eta : float
        Converter loss coefficient.
    idle : OperatingPoint, optional
        Power flow of the same rows with idle SOPs (run here if not given).
    violation_weight : float
        MW of losses one MW of violating load is worth in the choice.

    Returns
    -------
    SopDispatch
    """
    n_p, n_r, n_b = p_mw.shape
    flat = (n_p * n_r, n_b)
    if idle is None:
        idle = OperatingPoint.from_result(engine.run(p_mw.reshape(flat), q_mvar.reshape(flat)))
    vm_idle = idle.vm_pu.reshape(n_p, n_r, n_b)
    run_p = p_mw.copy()
    run_q = q_mvar.copy()
    setpoints = []
    for i, term in enumerate(terminals):
        model = SopModel.build(tree, term, eta)
        p0, q = screen_setpoints(model, p_mw[i], q_mvar[i], demand_mw[i], vm_idle[i], limits,
                                 violation_weight)
        p = balance_converter_losses(p0, q, term, eta, model.active)
        np.subtract.at(run_p[i], (slice(None), term.bus), p)
        np.subtract.at(run_q[i], (slice(None), term.bus), q)
        setpoints.append((p, q))
    point = OperatingPoint.from_result(engine.run(run_p.reshape(flat), run_q.reshape(flat)))
    conv = np.concatenate([converter_loss_mw(p, q, eta) for p, q in setpoints])
    demand = demand_mw.reshape(flat)
    use = (operating_score(point, demand, tree, limits, conv, violation_weight)
           < operating_score(idle, demand, tree, limits, 0.0, violation_weight))
    idle_rows = np.flatnonzero(~use)
    point.put(idle_rows, idle.take(idle_rows))
    use_p = use.reshape(n_p, n_r, 1)
    return SopDispatch(point=point, converter_loss_mw=np.where(use, conv, 0.0), active=use,
                       p_mw=[np.where(use_p[i], p, 0.0) for i, (p, _) in enumerate(setpoints)],
                       q_mvar=[np.where(use_p[i], q, 0.0) for i, (_, q) in enumerate(setpoints)])
