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

Steps 1-3 run for all plans of one call at once (they share a topology): the
terminals are padded to the largest plan
(:class:`~fdnmoo.operation.sop_terminals.SopTerminalStack`) and the array
kernels of :mod:`fdnmoo.operation.sop_kernels` compute each plan from its own
terminals and rows, without a Python loop over plans or terminals; a plan's
set-points do not depend on the other plans of the call, and are bit for bit
those of the per-plan implementation this replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from ..powerflow import BatchPowerFlow, PowerFlowResult
from . import sop_kernels
from .injections import FeederTree
from .sop_terminals import SopTerminals, SopTerminalStack

__all__ = ["SopTerminals", "SopTerminalStack", "OperatingLimits", "OperatingPoint", "SopDispatch",
           "SopModel", "loss_optimal_setpoints", "balance_converter_losses", "converter_loss_mw",
           "screen_setpoints", "operating_score", "violating_buses", "dispatch_sop"]


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
    p_mw, q_mvar : ndarray, shape (n_plans, scenarios per plan, T)
        Chosen terminal injections per plan, in the order of its terminals, zero
        where idle and in the padding beyond a plan's own terminals
        (``terminals.n_terminals``).
    terminals : SopTerminalStack
    """

    point: OperatingPoint
    converter_loss_mw: np.ndarray
    active: np.ndarray
    p_mw: np.ndarray
    q_mvar: np.ndarray
    terminals: SopTerminalStack


# --- linear model of the terminals ------------------------------------------------------

@dataclass(frozen=True)
class SopModel:
    """LinDistFlow model of the SOP terminals of plans sharing one topology.

    Attributes
    ----------
    terminals : SopTerminalStack
    active : ndarray of bool, shape (n_plans, T)
        Terminals at supplied, non-substation buses (the others stay idle).
    r_t, x_t : ndarray, shape (n_plans, n_bus, T)
        Common-path resistance/reactance between every bus and every terminal
        (zero columns for inactive terminals), per unit on ``sn_mva``.
    k_p, k_q : ndarray, shape (n_plans, n_bus, T)
        Unconstrained loss-optimal lossless set-points are ``p @ k_p`` and ``q @ k_q``.
    room_mva : ndarray, shape (n_plans, T)
        ``(1 - eta) * capacity`` of active terminals, 0 otherwise.
    reach_pu : ndarray, shape (n_plans, n_bus)
        Largest |voltage change| any set-point within capacity can cause, per bus.
    sn_mva, eta : float
    """

    terminals: SopTerminalStack
    active: np.ndarray
    r_t: np.ndarray
    x_t: np.ndarray
    k_p: np.ndarray
    k_q: np.ndarray
    room_mva: np.ndarray
    reach_pu: np.ndarray
    sn_mva: float
    eta: float

    @classmethod
    def build(cls, tree: FeederTree, terminals: "Sequence[SopTerminals] | SopTerminalStack | SopTerminals",
              eta: float) -> "SopModel":
        t = SopTerminalStack.of(terminals)
        active = t.valid & tree.supplied[t.bus] & (tree.z_pu[t.bus] != 0)
        # one sparse product for the distinct terminal buses of all plans; a zero column for the rest
        buses, col = np.unique(t.bus[active], return_inverse=True)
        z = np.zeros((tree.supplied.size, buses.size + 1), dtype=complex)
        z[:, :-1] = tree.impedance_to(buses)
        index = np.full(t.bus.shape, buses.size)
        index[active] = col
        z_t = np.ascontiguousarray(z[:, index].transpose(1, 0, 2))  # (n_plans, n_bus, T)
        r_t, x_t = np.ascontiguousarray(z_t.real), np.ascontiguousarray(z_t.imag)
        k_p, k_q = sop_kernels.loss_optimal_gains(z_t, t.bus, t.device, active)
        room = (1.0 - eta) * t.capacity_mva * active
        reach = sop_kernels.voltage_reach(r_t, x_t, room, t.n_terminals, tree.sn_mva, float(eta))
        return cls(terminals=t, active=active, r_t=r_t, x_t=x_t, k_p=k_p, k_q=k_q, room_mva=room,
                   reach_pu=reach, sn_mva=tree.sn_mva, eta=float(eta))


def loss_optimal_setpoints(tree: FeederTree, terminals: SopTerminals, p_mw: np.ndarray,
                           q_mvar: np.ndarray, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """Lossless, balanced set-points minimising LinDistFlow line losses (step 1) of one plan.

    Parameters
    ----------
    p_mw, q_mvar : ndarray, shape (rows, n_bus)
        Net demand without the SOP.

    Returns
    -------
    p0, q0 : ndarray, shape (rows, n_t)
        ``sum_{i in device} p0_i = 0`` and ``|S0_i| <= (1 - eta) cap_i``.
    """
    m = SopModel.build(tree, terminals, eta)
    t = m.terminals
    p0, q0 = sop_kernels.loss_optimal(np.ascontiguousarray(p_mw, dtype=float)[None],
                                      np.ascontiguousarray(q_mvar, dtype=float)[None],
                                      m.r_t, m.k_p, m.k_q, t.device, t.n_terminals, m.room_mva)
    return p0[0], q0[0]


def balance_converter_losses(p0: np.ndarray, q: np.ndarray,
                             terminals: "SopTerminals | SopTerminalStack", eta: float,
                             active: np.ndarray | None = None) -> np.ndarray:
    """Active injections with the converter losses drawn at the terminals (step 3).

    Parameters
    ----------
    p0, q : ndarray, shape (rows, n_t), or (n_plans, rows, T) with a stack
        Lossless set-points (``sum_{i in device} p0_i = 0``).
    terminals : SopTerminals or SopTerminalStack
    active : ndarray of bool, shape (n_t,) or (n_plans, T), optional
        Terminals that share the losses (default: those with a set-point in any row).

    Returns
    -------
    ndarray, shape of ``p0``
        ``p`` with ``sum_{i in d} p_i + eta * sum_{i in d} |(p_i, q_i)| = 0`` per device.
    """
    one_plan = isinstance(terminals, SopTerminals)
    t = SopTerminalStack.of(terminals)
    p0 = np.asarray(p0, dtype=float)
    q = np.asarray(q, dtype=float)
    if one_plan:
        p0, q = p0[None], q[None]
        active = None if active is None else np.asarray(active, dtype=bool)[None]
    if active is None:
        active = (p0 != 0).any(axis=1) | (q != 0).any(axis=1)
    p = sop_kernels.balance(np.ascontiguousarray(p0), np.ascontiguousarray(q), t.device, t.n_terminals,
                            active & t.valid, t.capacity_mva, float(eta))
    return p[0] if one_plan else p


def converter_loss_mw(p: np.ndarray, q: np.ndarray, eta: float,
                      n_terminals: np.ndarray | None = None) -> np.ndarray:
    """``eta * sum_i |S_i|`` per row.

    Parameters
    ----------
    p, q : ndarray, shape (rows, n_t), or (n_plans, rows, T) with ``n_terminals``
        Terminal injections of one plan, or of a stack (``SopTerminalStack.n_terminals``).

    Returns
    -------
    ndarray, shape (rows,) or (n_plans, rows)
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    one_plan = n_terminals is None
    if one_plan:
        p, q, n_terminals = p[None], q[None], np.array([p.shape[-1]])
    sums = sop_kernels.hypot_sums(np.ascontiguousarray(p), np.ascontiguousarray(q),
                                  np.asarray(n_terminals, dtype=np.int64))
    return eta * (sums[0] if one_plan else sums)


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


def violating_buses(point: OperatingPoint, tree: FeederTree, limits: OperatingLimits | None,
                    out_of_band: np.ndarray | None = None, over: np.ndarray | None = None
                    ) -> np.ndarray:
    """Buses outside the voltage band or downstream of a line above its limit, (rows, n_bus).

    ``out_of_band`` (rows, n_bus) and ``over`` (rows, n_line), when given, are those
    comparisons already made (``limits`` is then not read).
    """
    with np.errstate(invalid="ignore"):
        bad = (point.vm_pu < limits.v_min_pu) | (point.vm_pu > limits.v_max_pu) \
            if out_of_band is None else out_of_band.copy()
        over = point.i_ka > limits.i_limit_ka if over is None else over
    if over.any():
        bad |= tree.downstream_of_lines(over)
    return bad


def screen_setpoints(model: SopModel, p_mw: np.ndarray, q_mvar: np.ndarray, demand_mw: np.ndarray,
                     vm_idle: np.ndarray, limits: OperatingLimits, violation_weight: float = 1.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Step 2: the most promising lossless set-point per (plan, row) by the linear model.

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
    One compiled loop over plans and rows.

    Parameters
    ----------
    p_mw, q_mvar, demand_mw, vm_idle : ndarray, shape (n_plans, rows, n_bus)

    Returns
    -------
    p, q : ndarray, shape (n_plans, rows, T)
    """
    t = model.terminals
    arrays = [np.ascontiguousarray(a, dtype=float) for a in (p_mw, q_mvar, demand_mw, vm_idle)]
    return sop_kernels.screen(*arrays, model.k_p, model.k_q, model.r_t, model.x_t, t.bus, t.device,
                              t.n_terminals, model.room_mva, model.reach_pu, float(limits.v_min_pu),
                              float(limits.v_max_pu), model.sn_mva, model.eta, float(violation_weight))


def dispatch_sop(engine: BatchPowerFlow, tree: FeederTree,
                 terminals: "Sequence[SopTerminals] | SopTerminalStack",
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
    terminals : sequence of SopTerminals, or SopTerminalStack
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
    model = SopModel.build(tree, terminals, eta)
    t = model.terminals
    p0, q = screen_setpoints(model, p_mw, q_mvar, demand_mw, idle.vm_pu.reshape(n_p, n_r, n_b), limits,
                             violation_weight)
    p = balance_converter_losses(p0, q, t, eta, model.active)
    run_p, run_q = sop_kernels.inject(np.ascontiguousarray(p_mw, dtype=float),
                                      np.ascontiguousarray(q_mvar, dtype=float), p, q, t.bus, t.n_terminals)
    point = OperatingPoint.from_result(engine.run(run_p.reshape(flat), run_q.reshape(flat)))
    conv = converter_loss_mw(p, q, eta, t.n_terminals).reshape(-1)
    demand = demand_mw.reshape(flat)
    use = (operating_score(point, demand, tree, limits, conv, violation_weight)
           < operating_score(idle, demand, tree, limits, 0.0, violation_weight))
    idle_rows = np.flatnonzero(~use)
    point.put(idle_rows, idle.take(idle_rows))
    use_p = use.reshape(n_p, n_r, 1)
    return SopDispatch(point=point, converter_loss_mw=np.where(use, conv, 0.0), active=use,
                       p_mw=np.where(use_p, p, 0.0), q_mvar=np.where(use_p, q, 0.0), terminals=t)
