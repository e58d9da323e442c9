"""Operation options on a net demand: OLTC, capacitor banks, PV Q(V), PV curtailment.

The seed study on copula scenarios (``shared/seeds/001``, section 3.2) operates its
network with an OLTC at the substation, switched capacitor banks (CBs), PV inverters
that control active and reactive power together (its "optimal inverter dispatch"),
and PV curtailment priced by a penalty. It solves one MISOCP per scenario; here every
device follows a rule on the LinDistFlow estimate of :class:`FeederTree` (no extra
power flow), applied in this order to every row (plan x slot x sample) on its own:

1. **OLTC** (one per substation, :class:`~fdnmoo.operation.settings.Oltc`): the tap
   that centres the substation's estimated voltage range in the band,
   ``tap = clip(round(((v_min + v_max) / 2 - (V_lo + V_hi) / 2) / (step * V_set)),
   tap_min, tap_max)``. ``V_lo``/``V_hi`` are the extremes over the *watched* buses it
   supplies: leaves and the buses of resource candidates and banks (with
   non-negative loads a LinDistFlow profile has its extremes there). Taps that would
   put the substation busbar itself outside the band are not used. The power flow
   runs with the substation at ``vm_pu * (1 + tap * step)``
   (:meth:`BatchPowerFlow.run` ``root_scale``).
2. **Capacitor banks**: the capacitive side of the Q(V) droop of rule 3 (full output
   ``steps * step_mvar`` at ``v_min``, none at 1 p.u., at its steady state), rounded to
   whole steps, at most as many as keep ``V + n * step * X_kk / (sn * V0) <= v_max``
   (:func:`qv_steady_state`). A step delivers ``step_mvar``
   whatever the voltage (constant Q, as the paper's DistFlow model writes
   ``Q = n * step``; a pandapower ``shunt`` would give ``n * step * V^2``).
3. **PV reactive power** (``pv_reactive: qv``): the SVC's Q(V) droop (:func:`svc_output`:
   absorbing above ``v_h = (1 + v_max) / 2``, full at ``v_max``; injecting below 1 p.u.,
   full at ``v_min``) with the inverter's room ``Q_r = sqrt(S^2 - P^2)``,
   ``S = pv_inverter_ratio * capacity``, at its steady state on the bus's own
   sensitivity ``s = X_kk / (sn * V0)``: absorbing
   ``min(Q_r, Q_r (V - v_h) / (v_max - v_h) / (1 + Q_r s / (v_max - v_h)))``
   (and likewise injecting), so that a large inverter does not overshoot as the
   open-loop droop on ``V`` would.
4. **PV curtailment** (last: vars first, active power only where they do not
   suffice): up to three passes, each curtailing at the PV buses estimated above
   ``v_max`` the cuts ``dP`` that bring all of them to ``v_max`` on the linear model,
   ``sum_m R_km dP_m / (sn * V0) = V_k - v_max`` over those buses (one PV:
   ``(V - v_max) * sn * V0 / R_kk``; a bus whose cut comes out negative leaves the set,
   which is solved again). This holds every such bus at the limit, which is not the
   least curtailment (the paper's OPF minimises its penalty; cutting the farthest PV
   alone may suffice); and
   below every line whose lossless reverse flow exceeds its rating
   (``sqrt(3) * vn_kv * I_max``, with the flow's reactive part) the fraction of the
   PV downstream that brings the flow to the rating. A cut never exceeds the output.

The estimates are linear, so the power flow may still show a small violation; the
metrics count what the power flow shows. SOP set-points come after all four (the SOP
dispatch runs its power flows at the rows' taps, :class:`TappedEngine`), so the devices
are set on the demand without SOP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..parameters import ParameterError
from .injections import DerLayout, FeederTree, NetDemand, _add_at_buses
from .settings import OperationSettings

__all__ = ["ControlContext", "Controls", "TappedEngine", "apply_controls", "qv_steady_state",
           "run_tapped"]

_CURTAILMENT_PASSES = 3


@dataclass
class Controls:
    """What the operation options did to a net demand (shapes: P plans, T slots, S samples).

    Attributes
    ----------
    pv_curtailed_mw : ndarray, shape (P, T, S, n_pv), or None
        PV output curtailed per candidate.
    pv_q_mvar : ndarray, shape (P, T, S, n_pv), or None
        PV inverters' reactive output (+ = injected, capacitive).
    capacitor_steps : ndarray of int, shape (P, T, S, n_cap), or None
        Steps switched on per bank (``settings.capacitors`` order).
    oltc_tap : ndarray of int, shape (P, T, S, n_root), or None
        Tap of every substation (``ext_grid_buses`` order).
    root_scale : ndarray, shape (P * T * S, n_root), or None
        ``1 + tap * step``: the factor on the substations' voltage set-points.
    """

    pv_curtailed_mw: np.ndarray | None = None
    pv_q_mvar: np.ndarray | None = None
    capacitor_steps: np.ndarray | None = None
    oltc_tap: np.ndarray | None = None
    root_scale: np.ndarray | None = None


@dataclass(frozen=True)
class ControlContext:
    """The options and the grid data they need (built once per evaluation)."""

    settings: OperationSettings
    capacitor_bus: np.ndarray  # bus positions of the banks
    capacitor_step_mvar: np.ndarray
    capacitor_steps: np.ndarray
    vn_kv: np.ndarray  # (n_bus,)
    i_limit_ka: np.ndarray  # (n_line,)
    v_min_pu: float
    v_max_pu: float

    @classmethod
    def of(cls, settings: OperationSettings, grid, bus_labels: np.ndarray,
           i_limit_ka: np.ndarray) -> "ControlContext | None":
        """The context of ``settings`` on ``grid``; None when no option is on.

        Raises
        ------
        fdnmoo.parameters.ParameterError
            A bank at a bus the grid does not have (key ``operation.capacitors[i].bus``).
        """
        if settings is None or not settings.active:
            return None
        lookup = {int(b): k for k, b in enumerate(bus_labels)}
        pos = []
        for i, bank in enumerate(settings.capacitors):
            if bank.bus not in lookup:
                raise ParameterError(f"operation.capacitors[{i}].bus",
                                     f"bus {bank.bus} is not a bus of case {grid.case.name!r}")
            pos.append(lookup[bank.bus])
        unc = grid.case.uncertainty
        vn = grid.net.bus.vn_kv.reindex(bus_labels).to_numpy(float)
        return cls(settings=settings, capacitor_bus=np.array(pos, dtype=np.int64),
                   capacitor_step_mvar=np.array([c.step_mvar for c in settings.capacitors]),
                   capacitor_steps=np.array([c.steps for c in settings.capacitors], np.int64),
                   vn_kv=vn, i_limit_ka=np.asarray(i_limit_ka, float),
                   v_min_pu=float(unc.v_min_pu), v_max_pu=float(unc.v_max_pu))


def apply_controls(ctx: ControlContext, nd: NetDemand, pv_capacity_mw: np.ndarray,
                   tree: FeederTree, root_of: np.ndarray, root_pos: np.ndarray,
                   layout: DerLayout) -> Controls:
    """Apply the options of ``ctx`` to ``nd`` in place (rules in the module docstring).

    ``nd.p_mw``/``nd.q_mvar`` get the devices' injections, ``nd.pv_mw`` becomes the PV
    fed in; ``pv_capacity_mw`` (P, n_pv) are the plans' PV capacities; ``root_of`` is
    every bus's substation bus (-1: unsupplied) and ``root_pos`` the substations in
    ``ext_grid`` order. Returns what was done (also set as ``nd.controls``).
    """
    s = ctx.settings
    n_p, n_t, n_s, n_b = nd.p_mw.shape
    n_root = root_pos.size
    root_index = np.full(n_b, -1, dtype=np.int64)
    root_index[root_pos] = np.arange(n_root)
    bus_root = np.where(root_of >= 0, root_index[np.maximum(root_of, 0)], 0)
    pv_bus = layout.bus["pv"]
    has_pv = pv_bus.size > 0 and bool(pv_capacity_mw.any())
    if s.pv_reactive != "off" and nd.pv_q_per_mw is not None:
        raise ValueError("problem.operation.pv_reactive: PV candidates with a power_factor "
                         "below 1 already fix their reactive power; use one of the two rules")
    out = Controls()
    if s.oltc is not None:
        out.oltc_tap = np.zeros((n_p, n_t, n_s, n_root), dtype=np.int64)
    if ctx.capacitor_bus.size:
        out.capacitor_steps = np.zeros((n_p, n_t, n_s, ctx.capacitor_bus.size), dtype=np.int64)
    if s.pv_reactive != "off":
        out.pv_q_mvar = np.zeros(nd.pv_mw.shape)
    if s.curtailment:
        out.pv_curtailed_mw = np.zeros(nd.pv_mw.shape)
    watched = _watched_buses(tree, layout, ctx.capacitor_bus) if s.oltc is not None else None
    scales = []
    # plan by plan: a plan's numbers must not depend on the other plans of the call
    for i in range(n_p):
        p = nd.p_mw[i].reshape(-1, n_b)
        q = nd.q_mvar[i].reshape(-1, n_b)
        scale = None
        if s.oltc is not None:
            tap = _oltc_taps(ctx, tree, p, q, watched, bus_root[watched], root_pos, s.oltc)
            out.oltc_tap[i] = tap.reshape(n_t, n_s, n_root)
            scale = 1.0 + tap * (s.oltc.step_percent / 100.0)
            scales.append(scale)
        if ctx.capacitor_bus.size:
            steps = _capacitor_steps(ctx, tree, p, q, _bus_scale(scale, bus_root, ctx.capacitor_bus))
            out.capacitor_steps[i] = steps.reshape(n_t, n_s, -1)
            q[:, ctx.capacitor_bus] -= steps * ctx.capacitor_step_mvar
        if not has_pv:
            continue
        pv = nd.pv_mw[i].reshape(-1, pv_bus.size)
        pv_scale = _bus_scale(scale, bus_root, pv_bus)
        if out.pv_q_mvar is not None:
            v = tree.voltage_estimate(p, q, pv_bus, root_scale=pv_scale)
            room = np.sqrt(np.maximum((s.pv_inverter_ratio * pv_capacity_mw[i]) ** 2 - pv ** 2, 0.0))
            x_kk = tree.impedance_to(pv_bus)[pv_bus, np.arange(pv_bus.size)].imag
            v0 = tree.root_vm_pu[pv_bus] * (1.0 if pv_scale is None else pv_scale)
            q_pv = qv_steady_state(v, room, np.nan_to_num(x_kk / (tree.sn_mva * v0)),
                                   ctx.v_min_pu, ctx.v_max_pu) * tree.supplied[pv_bus]
            out.pv_q_mvar[i] = q_pv.reshape(n_t, n_s, -1)
            _add_at_buses(q, -1.0, q_pv, layout, "pv")
        if out.pv_curtailed_mw is not None:
            cut = _curtail(ctx, tree, p, q, pv, pv_bus, pv_scale, layout)
            out.pv_curtailed_mw[i] = cut.reshape(n_t, n_s, -1)
            pv -= cut  # a view of nd.pv_mw: the PV fed in
            if nd.pv_q_per_mw is not None:  # a power factor below 1: its Q follows the cut P
                _add_at_buses(q, 1.0, cut * nd.pv_q_per_mw, layout, "pv")
    if scales:
        out.root_scale = np.concatenate(scales)
    nd.controls = out
    return out


def qv_steady_state(v_estimate: np.ndarray, room_mvar: np.ndarray, sensitivity: np.ndarray,
                    v_min_pu: float, v_max_pu: float) -> np.ndarray:
    """Reactive output (+ = injected) of the Q(V) droop of :func:`svc_output` where it
    settles when its own vars move its voltage by ``sensitivity`` p.u. per Mvar (rule 3
    of the module docstring); ``sensitivity = 0`` gives :func:`svc_output` itself."""
    v = np.nan_to_num(v_estimate, nan=1.0)
    v_high = (1.0 + v_max_pu) / 2
    gain_up, gain_down = room_mvar / (1.0 - v_min_pu), room_mvar / (v_max_pu - v_high)
    up = np.clip(gain_up * (1.0 - v) / (1.0 + gain_up * sensitivity), 0.0, room_mvar)
    down = np.clip(gain_down * (v - v_high) / (1.0 + gain_down * sensitivity), 0.0, room_mvar)
    return up - down


def _bus_scale(scale: np.ndarray | None, bus_root: np.ndarray, buses: np.ndarray):
    """Per-row factor on the substation voltage of ``buses`` (None without an OLTC)."""
    return None if scale is None else scale[:, bus_root[buses]]


def _watched_buses(tree: FeederTree, layout: DerLayout, capacitor_bus: np.ndarray) -> np.ndarray:
    """Leaves and resource/bank buses of the supplied non-root buses (module docstring)."""
    below = np.asarray(tree.path.sum(axis=0)).ravel()  # buses whose root path holds c's branch
    leaf = below == 1
    mark = leaf.copy()
    for kind in ("pv", "ess", "dg", "svc", "evcs"):
        mark[layout.bus[kind]] = True
    mark[capacitor_bus] = True
    return np.flatnonzero(mark & tree.supplied & ~tree.is_root)


def _oltc_taps(ctx, tree, p, q, watched, watched_root, root_pos, oltc) -> np.ndarray:
    """Tap per row and substation, (rows, n_root)."""
    n_root = root_pos.size
    taps = np.zeros((p.shape[0], n_root), dtype=np.int64)
    if not watched.size:
        return taps
    v = tree.voltage_estimate(p, q, watched)
    mid = (ctx.v_min_pu + ctx.v_max_pu) / 2
    step = oltc.step_percent / 100.0
    for r in range(n_root):
        mine = watched_root == r
        if not mine.any():
            continue
        lo = np.fmin.reduce(v[:, mine], axis=1)
        hi = np.fmax.reduce(v[:, mine], axis=1)
        v_set = tree.root_vm_pu[root_pos[r]]
        # the substation busbar itself stays in the band: a tap range of its own
        low = max(oltc.tap_min, int(np.ceil((ctx.v_min_pu / v_set - 1) / step - 1e-9)))
        high = min(oltc.tap_max, int(np.floor((ctx.v_max_pu / v_set - 1) / step + 1e-9)))
        if low > high:  # the set-point alone leaves the band: no tap helps, keep the nearest
            low = high = min(max(0, oltc.tap_min), oltc.tap_max)
        shift = mid - (lo + hi) / 2
        tap = np.rint(np.nan_to_num(shift) / (step * v_set))
        taps[:, r] = np.clip(tap, low, high).astype(np.int64)
    return taps


def _capacitor_steps(ctx, tree, p, q, scale) -> np.ndarray:
    """Steps on per row and bank, (rows, n_cap)."""
    bus = ctx.capacitor_bus
    v = tree.voltage_estimate(p, q, bus, root_scale=scale)
    x_kk = tree.impedance_to(bus)[bus, np.arange(bus.size)].imag
    v0 = tree.root_vm_pu[bus] * (1.0 if scale is None else scale)
    # the droop's capacitive side at its steady state, in steps (its inductive side: 0)
    full = ctx.capacitor_steps * ctx.capacitor_step_mvar
    sens = np.nan_to_num(x_kk / (tree.sn_mva * v0))
    wanted = np.rint(np.maximum(qv_steady_state(v, full, sens, ctx.v_min_pu, ctx.v_max_pu), 0.0)
                     / ctx.capacitor_step_mvar)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.floor((ctx.v_max_pu - v) * tree.sn_mva * v0 / (ctx.capacitor_step_mvar * x_kk))
    room = np.where(x_kk > 0, room, ctx.capacitor_steps)
    steps = np.clip(np.fmin(wanted, room), 0, ctx.capacitor_steps)
    return np.nan_to_num(steps, nan=0.0).astype(np.int64)


def _curtail(ctx, tree, p, q, pv, pv_bus, scale, layout) -> np.ndarray:
    """PV curtailed per row and candidate, (rows, n_pv); adds it back to ``p`` in place."""
    sn = tree.sn_mva
    r_pv = tree.impedance_to(pv_bus)[pv_bus].real  # (n_pv, n_pv): R_km
    v0 = tree.root_vm_pu[pv_bus] * (1.0 if scale is None else scale)
    fed = np.flatnonzero(tree.line_child >= 0)
    rating = np.full(p.shape[1], np.inf)
    child = tree.line_child[fed]
    rating[child] = np.sqrt(3.0) * ctx.vn_kv[child] * ctx.i_limit_ka[fed]
    above = [tree.path[b].indices for b in pv_bus]  # branches on each PV bus's root path
    cut = np.zeros(pv.shape)
    live = tree.supplied[pv_bus]
    for _ in range(_CURTAILMENT_PASSES):
        left = np.where(live, pv - cut, 0.0)
        v = tree.voltage_estimate(p, q, pv_bus, root_scale=scale)
        excess = np.clip(np.nan_to_num(v - ctx.v_max_pu, nan=0.0), 0.0, None) * live
        dp = _voltage_cuts(excess, r_pv, np.broadcast_to(sn * np.nan_to_num(v0, nan=1.0), excess.shape))
        flow_p = np.asarray(tree.path.T @ p.T).T  # lossless flow into every bus's branch
        flow_q = np.asarray(tree.path.T @ q.T).T
        allowed = np.sqrt(np.maximum(rating ** 2 - flow_q ** 2, 0.0))
        reverse = np.maximum(-flow_p - allowed, 0.0)  # inf rating -> 0
        if reverse.any():
            below = np.asarray(tree.path.T @ (left @ layout.matrix["pv"]).T).T
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(below > 0, np.minimum(reverse / below, 1.0), 0.0)
            for k, cols in enumerate(above):
                if cols.size:
                    dp[:, k] = np.maximum(dp[:, k], frac[:, cols].max(axis=1) * left[:, k])
        dp = np.minimum(dp, left)
        if not dp.any():
            break
        cut += dp
        _add_at_buses(p, 1.0, dp, layout, "pv")
    return cut


def _voltage_cuts(excess: np.ndarray, r_pv: np.ndarray, sn_v0: np.ndarray) -> np.ndarray:
    """Cuts at the PV buses above ``v_max`` (``excess > 0``) that bring every one of them to
    ``v_max`` on the LinDistFlow model: ``sum_m R_km dP_m / (sn V0_k) = excess_k`` over
    those buses (a pseudo-inverse, for candidates sharing a bus); the others get 0."""
    over = excess > 0
    dp = np.zeros(excess.shape)
    rows = np.flatnonzero(over.any(axis=1))
    if not rows.size:
        return dp
    active = over[rows]
    n = r_pv.shape[0]
    for _ in range(n):  # a bus whose cut comes out negative leaves the set: solve again
        o = active.astype(float)
        a = r_pv[None] * (o[:, :, None] * o[:, None, :]) / sn_v0[rows][:, :, None] \
            + np.eye(n)[None] * (1.0 - o)[:, :, None]
        cut = (np.linalg.pinv(a) @ (excess[rows] * o)[:, :, None])[:, :, 0]
        negative = active & (cut < 0)
        if not negative.any():
            break
        active &= ~negative
    dp[rows] = np.maximum(cut, 0.0)
    return dp


def run_tapped(engine, p_mw: np.ndarray, q_mvar: np.ndarray, root_scale: np.ndarray):
    """Power flow of rows whose substations sit at their own ``root_scale`` (rows, n_root):
    one engine run per distinct set of factors; the result has the fields
    :class:`~fdnmoo.operation.sop_dispatch.OperatingPoint` reads, in row order."""
    from .sop_dispatch import OperatingPoint

    keys, inverse = np.unique(root_scale, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = p_mw.shape[0]
    point = None
    for g, key in enumerate(keys):
        rows = np.flatnonzero(inverse == g)
        part = OperatingPoint.from_result(engine.run(p_mw[rows], q_mvar[rows], root_scale=key))
        if point is None:
            point = OperatingPoint(*(np.empty((n,) + getattr(part, f).shape[1:],
                                              dtype=getattr(part, f).dtype)
                                     for f in OperatingPoint.FIELDS))
        point.put(rows, part)
    return point


@dataclass
class TappedEngine:
    """An engine whose :meth:`run` solves rows at their OLTC ratios (for the SOP dispatch,
    which runs the same rows as it is given)."""

    engine: object
    root_scale: np.ndarray

    def run(self, p_mw, q_mvar):
        return run_tapped(self.engine, np.asarray(p_mw), np.asarray(q_mvar), self.root_scale)
