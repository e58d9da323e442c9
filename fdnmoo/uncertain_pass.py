"""The uncertain stage of the evaluation pipeline: bounds of every plan's forecast operation.

Under ``uncertainty.method`` ``interval``, ``affine`` or ``robust``
(:class:`~fdnmoo.uncertainty.settings.UncertaintySettings`) the operation
stage of :func:`fdnmoo.pipeline.operate` hands the forecast rows (sample
``batch.forecast_sample``) of every chunk of plans to an
:class:`UncertainPass`, which bounds what happens when the uncertain sources
move around that forecast:

* **sources**: every bus with load (its ``net.load`` rows together, P and Q
  with one symbol: constant power factor) at ``+-level_of("load")`` and every
  PV candidate with output at ``+-level_of("pv")``, in every time slot of the
  batch, on each plan's topology of each stage. Everything else the
  operation stage decided stays at its forecast value: EV charging, storage
  schedules, DG, existing generators, the SVC outputs and the SOP set-points
  (and their converter losses).
* ``interval`` / ``affine``: one IA / AA sweep
  (:func:`~fdnmoo.uncertainty.power_flow.uncertain_power_flow`) per plan over
  its slots (plan by plan: a plan's bounds never depend on the other plans of
  the chunk, whatever backend splits the population) gives bounds of ``|V|`` per bus, ``|I|`` per line
  and the losses per slot. From them, bounds of the yearly energies the cost
  reads: losses (slot-weighted like :class:`~fdnmoo.metrics.OperationReducer`,
  converter losses added), PV energy (``(1 +- level) x`` the forecast), unserved
  energy and violation energy (demand at buses that *surely* / *possibly*
  violate, at the low / high end of their load).
* ``robust``: per plan and slot the budgeted worst case
  (:func:`~fdnmoo.uncertainty.robust.budgeted_worst_case`, budget
  ``uncertainty.budget``, default every source of the row; a budget above the
  row's number of sources is that number) gives the lowest and highest
  voltage per bus and the largest current per line.

A plan whose forecast power flow did not converge in a stage gets NaN bounds
there (it already violates ``power_flow_converged``); so does a plan whose own
sweep fails (an affine range holding 0 V, typically a plan near voltage
collapse at the upper end of its loads): its interval objectives become
undefined rather than wrong, and ``power_flow_converged`` counts the stages
without bounds as not converged, so that the plan is infeasible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .metrics.operation import OperationMetrics
from .metrics.reductions import overloaded_load
from .operation.injections import FeederTree, NetDemand
from .operation.sop_dispatch import OperatingLimits, OperatingPoint, violating_buses
from .powerflow import BatchPowerFlow
from .scenarios.batch import ScenarioBatch
from .uncertainty.affine import AffineForm
from .uncertainty.power_flow import uncertain_power_flow
from .uncertainty.robust import budgeted_worst_case
from .uncertainty.settings import UncertaintySettings

__all__ = ["BOUNDED_METHODS", "INTERVAL_METHODS", "UncertainBounds",
           "UncertainPass"]

#: Methods whose objectives become intervals.
INTERVAL_METHODS = ("interval", "affine")
#: Methods that run the uncertain stage.
BOUNDED_METHODS = INTERVAL_METHODS + ("robust",)

_FIELDS = ("vm_lo_pu", "vm_hi_pu", "i_lo_ka", "i_hi_ka", "slot_loss_lo_mwh", "slot_loss_hi_mwh",
           "pv_energy_lo_mwh", "pv_energy_hi_mwh", "unserved_energy_lo_mwh",
           "unserved_energy_hi_mwh", "violation_energy_lo_mwh", "violation_energy_hi_mwh",
           "voltage_violation_energy_lo_mwh", "voltage_violation_energy_hi_mwh",
           "overload_energy_lo_mwh", "overload_energy_hi_mwh",
           "verified")


@dataclass
class UncertainBounds:
    """Bounds of the plans' operation from the uncertain stage (plan axis first).

    Attributes
    ----------
    method : str
        ``"interval"``, ``"affine"`` or ``"robust"``.
    level : dict
        The half-width per source kind (``{"load": ..., "pv": ...}``).
    vm_lo_pu, vm_hi_pu : ndarray, shape ([P,] n_stages, n_slots, n_bus)
        Bounds of ``|V|`` (robust: the budgeted worst lowest / highest voltage).
    i_lo_ka, i_hi_ka : ndarray, shape ([P,] n_stages, n_slots, n_line)
        Bounds of the line currents (robust: ``i_lo_ka`` NaN, ``i_hi_ka`` the worst current).
    slot_loss_lo_mwh, slot_loss_hi_mwh : ndarray, shape ([P,] n_stages, n_slots)
        Bounds of the slots' yearly loss energies (``OperationMetrics.slot_loss_mwh``).
    pv_energy_lo_mwh, pv_energy_hi_mwh, unserved_energy_lo_mwh, unserved_energy_hi_mwh,
    violation_energy_lo_mwh, violation_energy_hi_mwh : ndarray, shape ([P,] n_stages)
    voltage_violation_energy_lo_mwh, voltage_violation_energy_hi_mwh : ndarray
    overload_energy_lo_mwh, overload_energy_hi_mwh : ndarray, shape ([P,] n_stages)
        Bounds of those yearly energies (NaN under ``robust``): the low end counts the
        buses / lines that surely violate, the high end those that possibly do.
    verified : ndarray of bool, shape ([P,] n_stages)
        Whether the sweep proved its bounds (``F(V) ⊆ V``, see
        :mod:`fdnmoo.uncertainty.power_flow`); robust: whether every vertex converged.
    """

    method: str
    level: dict
    vm_lo_pu: np.ndarray
    vm_hi_pu: np.ndarray
    i_lo_ka: np.ndarray
    i_hi_ka: np.ndarray
    slot_loss_lo_mwh: np.ndarray
    slot_loss_hi_mwh: np.ndarray
    pv_energy_lo_mwh: np.ndarray
    pv_energy_hi_mwh: np.ndarray
    unserved_energy_lo_mwh: np.ndarray
    unserved_energy_hi_mwh: np.ndarray
    violation_energy_lo_mwh: np.ndarray
    violation_energy_hi_mwh: np.ndarray
    voltage_violation_energy_lo_mwh: np.ndarray
    voltage_violation_energy_hi_mwh: np.ndarray
    overload_energy_lo_mwh: np.ndarray
    overload_energy_hi_mwh: np.ndarray
    verified: np.ndarray

    @property
    def is_interval(self) -> bool:
        """Whether the objectives that read these bounds become intervals."""
        return self.method in INTERVAL_METHODS

    @property
    def undefined_share(self) -> float:
        """Share of this plan's stages (one plan: :meth:`take`) without bounds."""
        return float(np.mean(~np.isfinite(self.vm_hi_pu).any(axis=(-2, -1))))

    @property
    def defined(self) -> bool:
        """Whether every stage of this plan got its bounds."""
        return self.undefined_share == 0

    def take(self, index: int) -> "UncertainBounds":
        """The bounds of plan ``index`` of a batch."""
        return replace(self, **{f: getattr(self, f)[index] for f in _FIELDS})

    def cost_metrics(self, ops: OperationMetrics) -> tuple[OperationMetrics, OperationMetrics]:
        """``ops`` (one plan) with the energies the cost reads at the ends of their bounds:
        the cheapest (least loss, unserved and violation energy, most PV) and the dearest."""
        def at(end: str, pv_end: str) -> OperationMetrics:
            slot = getattr(self, f"slot_loss_{end}_mwh")
            return replace(ops, slot_loss_mwh=slot, energy_loss_mwh=slot.sum(axis=-1),
                           pv_energy_mwh=getattr(self, f"pv_energy_{pv_end}_mwh"),
                           unserved_energy_mwh=getattr(self, f"unserved_energy_{end}_mwh"),
                           violation_energy_mwh=getattr(self, f"violation_energy_{end}_mwh"),
                           voltage_violation_energy_mwh=getattr(
                               self, f"voltage_violation_energy_{end}_mwh"),
                           overload_energy_mwh=getattr(self, f"overload_energy_{end}_mwh"))

        return at("lo", "hi"), at("hi", "lo")

    def worst_case_metrics(self, ops: OperationMetrics) -> OperationMetrics:
        """``ops`` with the voltage and current extremes replaced by the worst cases (robust);
        every objective and constraint that reads ``vmin_pu``, ``vmax_pu``, ``i_max_ka``
        then reads the worst case."""
        return replace(ops, vmin_pu=np.fmin(ops.vmin_pu, self.vm_lo_pu),
                       vmax_pu=np.fmax(ops.vmax_pu, self.vm_hi_pu),
                       i_max_ka=np.fmax(ops.i_max_ka, self.i_hi_ka))


@dataclass
class UncertainPass:
    """The uncertain stage: fed the forecast rows of every chunk (:meth:`add`), then
    :meth:`bounds` (see the module docstring). Build it with :meth:`of`."""

    method: str
    load_level: float
    pv_level: float
    budget: float | None
    arrays: dict

    @classmethod
    def of(cls, settings: UncertaintySettings, case, n_plans: int, batch: ScenarioBatch,
           engine: BatchPowerFlow) -> "UncertainPass | None":
        """The stage for ``settings`` (None unless the method is one of :data:`BOUNDED_METHODS`)."""
        if settings.method not in BOUNDED_METHODS:
            return None
        n_h, n_t, n_b = batch.n_stages, batch.n_slots, batch.n_bus
        n_l = engine.branches.n_line
        shapes = {"vm_lo_pu": (n_t, n_b), "vm_hi_pu": (n_t, n_b), "i_lo_ka": (n_t, n_l),
                  "i_hi_ka": (n_t, n_l), "slot_loss_lo_mwh": (n_t,), "slot_loss_hi_mwh": (n_t,)}
        arrays = {f: np.full((n_plans, n_h) + shapes.get(f, ()), np.nan) for f in _FIELDS}
        arrays["verified"] = np.zeros((n_plans, n_h), bool)
        return cls(method=settings.method, load_level=settings.level_of("load", case),
                   pv_level=settings.level_of("pv", case), budget=settings.budget, arrays=arrays)

    def bounds(self) -> UncertainBounds:
        return UncertainBounds(method=self.method,
                               level={"load": self.load_level, "pv": self.pv_level},
                               **self.arrays)

    def add(self, stage: int, index: np.ndarray, nd: NetDemand, p_mw: np.ndarray,
            q_mvar: np.ndarray, converged: np.ndarray, converter_loss_mw: np.ndarray,
            engine: BatchPowerFlow, tree: FeederTree, limits: OperatingLimits,
            batch: ScenarioBatch) -> None:
        """Bound the plans ``index`` (one topology, ``engine``) in ``stage``.

        Parameters
        ----------
        nd : NetDemand
            The chunk's net demand (every sample; the forecast one is used).
        p_mw, q_mvar : ndarray, shape (P, T, B)
            The forecast rows as operated: net demand with the SOP set-points.
        converged : ndarray of bool, shape (P, T)
            Whether the forecast rows converged.
        converter_loss_mw : ndarray, shape (P, T)
            SOP converter losses of the forecast rows.
        """
        k = batch.forecast_sample
        sources = _Sources.of(nd, batch, stage, self.load_level, self.pv_level)
        ok = converged.all(axis=1)
        plans = np.flatnonzero(ok)
        if not plans.size:
            return
        if self.method == "robust":
            for j in plans:
                self._robust(stage, index[j], j, p_mw[j], q_mvar[j], sources, engine)
            return
        # plan by plan: the sweep iterates until every row's bounds settle, so a batch of
        # plans would make one plan's bounds (and its last digits) depend on the others,
        # and differ between evaluation backends that chunk the population differently
        for j in plans:
            part = np.array([j])
            try:
                res = self._sweep(p_mw[part], q_mvar[part], sources.take(part), engine)
            except ValueError:  # an affine range reached 0 V: no bounds (NaN)
                continue
            self._store(stage, index[part], part, res, nd, k, converter_loss_mw[part],
                        sources.take(part), tree, limits, batch)

    # --- interval / affine ------------------------------------------------------------------
    def _sweep(self, p, q, src: "_Sources", engine):
        n_p, n_t, n_b = p.shape
        rows = (n_p * n_t, n_b)
        cp, cq = src.coefficients()
        P = AffineForm(p.reshape(rows), cp.reshape(rows + (-1,)))
        Q = AffineForm(q.reshape(rows), cq.reshape(rows + (-1,)))
        return uncertain_power_flow(engine, P, Q, arithmetic=self.method)

    def _store(self, stage, plans, local, res, nd, k, conv_loss, src, tree, limits, batch) -> None:
        a, s = self.arrays, stage - 1
        n_p, n_t = len(plans), batch.n_slots
        h = batch.slot_hours
        vm_lo, vm_hi = res.vm_lo_pu.reshape(n_p, n_t, -1), res.vm_hi_pu.reshape(n_p, n_t, -1)
        i_lo, i_hi = res.i_lo_ka.reshape(n_p, n_t, -1), res.i_hi_ka.reshape(n_p, n_t, -1)
        a["vm_lo_pu"][plans, s], a["vm_hi_pu"][plans, s] = vm_lo, vm_hi
        a["i_lo_ka"][plans, s], a["i_hi_ka"][plans, s] = i_lo, i_hi
        for end in ("lo", "hi"):
            loss = np.asarray(getattr(res, f"loss_{end}_mw")).reshape(n_p, n_t)
            a[f"slot_loss_{end}_mwh"][plans, s] = (loss + conv_loss) * h
        pv = nd.pv_mw[local, :, k]  # (P, T, n_pv)
        pv_fed = (pv * tree.supplied[nd.pv_bus]).sum(axis=-1) @ h if nd.pv_bus.size \
            else np.zeros(n_p)
        a["pv_energy_lo_mwh"][plans, s] = (1.0 - self.pv_level) * pv_fed
        a["pv_energy_hi_mwh"][plans, s] = (1.0 + self.pv_level) * pv_fed
        demand = nd.demand_mw[local, :, k]  # (P, T, B)
        swing = self.load_level * np.abs(src.load_p)[None]
        d_lo, d_hi = demand - swing, demand + swing
        lost = ~tree.supplied
        a["unserved_energy_lo_mwh"][plans, s] = d_lo[..., lost].sum(axis=-1) @ h
        a["unserved_energy_hi_mwh"][plans, s] = d_hi[..., lost].sum(axis=-1) @ h
        sure, possible = _violation_extremes(vm_lo, vm_hi, i_lo, i_hi, tree, limits)
        a["violation_energy_lo_mwh"][plans, s] = (d_lo * sure).sum(axis=-1) @ h
        a["violation_energy_hi_mwh"][plans, s] = (d_hi * possible).sum(axis=-1) @ h
        (v_sure, v_possible), (i_sure, i_possible) = _band_extremes(vm_lo, vm_hi, i_lo, i_hi,
                                                                    limits)
        a["voltage_violation_energy_lo_mwh"][plans, s] = (d_lo * v_sure).sum(axis=-1) @ h
        a["voltage_violation_energy_hi_mwh"][plans, s] = (d_hi * v_possible).sum(axis=-1) @ h
        n_b = d_lo.shape[-1]
        for end, d, over in (("lo", d_lo, i_sure), ("hi", d_hi, i_possible)):
            below = overloaded_load(tree, d.reshape(-1, n_b), over.reshape(-1, over.shape[-1]))
            a[f"overload_energy_{end}_mwh"][plans, s] = below.reshape(n_p, n_t) @ h
        a["verified"][plans, s] = bool(res.verified and res.converged)

    # --- robust ---------------------------------------------------------------------------------
    def _robust(self, stage, plan, local, p, q, src: "_Sources", engine) -> None:
        a, s = self.arrays, stage - 1
        ok = True
        for t in range(p.shape[0]):
            dp, dq = src.deviations(local, t)
            gamma = dp.shape[0] if self.budget is None else min(self.budget, dp.shape[0])
            try:
                wc = budgeted_worst_case(engine, p[t], q[t], dp, dq, gamma)
            except ValueError:
                ok = False
                continue
            a["vm_lo_pu"][plan, s, t] = wc.vm_min_pu
            a["vm_hi_pu"][plan, s, t] = wc.vm_max_pu
            a["i_hi_ka"][plan, s, t] = wc.i_max_ka
            ok &= wc.converged
        a["verified"][plan, s] = ok


@dataclass
class _Sources:
    """The uncertain sources of a chunk: loads per bus (one symbol each) and PV candidates."""

    load_p: np.ndarray  # (T, B) forecast load
    load_q: np.ndarray
    load_bus: np.ndarray  # bus positions with load (one symbol each, in this order)
    pv_mw: np.ndarray  # (P, T, n_pv) forecast PV output of the candidates with any
    pv_bus: np.ndarray  # (n_pv,)
    load_level: float
    pv_level: float
    pv_q_per_mw: np.ndarray | None = None  # (n_pv,) tan(acos pf) of the candidates kept

    @classmethod
    def of(cls, nd: NetDemand, batch: ScenarioBatch, stage: int, load_level: float,
           pv_level: float) -> "_Sources":
        k = batch.forecast_sample
        load_p = batch.load_p_mw[stage - 1][:, k, :]
        load_q = batch.load_q_mvar[stage - 1][:, k, :]
        load_bus = np.flatnonzero((load_p != 0).any(axis=0) | (load_q != 0).any(axis=0))
        pv = nd.pv_mw[:, :, k, :]
        used = (pv > 0).any(axis=(0, 1)) if pv.size else np.zeros(0, bool)
        q_per_mw = getattr(nd, "pv_q_per_mw", None)
        return cls(load_p, load_q, load_bus, pv[..., used], nd.pv_bus[used], load_level, pv_level,
                   None if q_per_mw is None else q_per_mw[used])

    @property
    def n_symbols(self) -> int:
        return self.load_bus.size + self.pv_bus.size

    def take(self, plans) -> "_Sources":
        return replace(self, pv_mw=self.pv_mw[plans])

    def coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        """Noise-symbol coefficients of the net demand, (P, T, B, n_symbols) for P and Q."""
        n_p, n_t = self.pv_mw.shape[:2]
        n_l = self.load_bus.size
        cp = np.zeros((n_p, n_t, self.load_p.shape[1], self.n_symbols))
        cq = np.zeros_like(cp)
        cp[:, :, self.load_bus, np.arange(n_l)] = self.load_level * np.abs(self.load_p[:, self.load_bus])
        cq[:, :, self.load_bus, np.arange(n_l)] = self.load_level * np.abs(self.load_q[:, self.load_bus])
        # a PV candidate's output lowers the net demand: its symbol moves it the other way
        cp[:, :, self.pv_bus, n_l + np.arange(self.pv_bus.size)] = -self.pv_level * self.pv_mw
        if self.pv_q_per_mw is not None:  # at a power factor, the PV's vars move with its MW
            cq[:, :, self.pv_bus, n_l + np.arange(self.pv_bus.size)] = \
                -self.pv_level * self.pv_mw * self.pv_q_per_mw
        return cp, cq

    def deviations(self, plan: int, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Change of the net demand per source at ``u = 1`` (:func:`budgeted_worst_case`) of
        one plan's slot ``t``; sources without effect are left out."""
        cp, cq = self.take([plan]).coefficients()
        dp, dq = cp[0, t].T, cq[0, t].T  # (n_symbols, B)
        moves = (dp != 0).any(axis=1) | (dq != 0).any(axis=1)
        return dp[moves], dq[moves]


def _band_extremes(vm_lo, vm_hi, i_lo, i_hi, limits):
    """(surely, possibly) out of the voltage band per bus, and (surely, possibly) above the
    limit per line, from the bounds."""
    with np.errstate(invalid="ignore"):
        v_sure = (vm_hi < limits.v_min_pu) | (vm_lo > limits.v_max_pu)
        v_possible = (vm_lo < limits.v_min_pu) | (vm_hi > limits.v_max_pu)
        i_sure = i_lo > limits.i_limit_ka
        i_possible = i_hi > limits.i_limit_ka
    return (v_sure, v_possible), (i_sure, i_possible)


def _violation_extremes(vm_lo, vm_hi, i_lo, i_hi, tree, limits) -> tuple[np.ndarray, np.ndarray]:
    """Buses that surely / possibly violate (``violating_buses`` of the two extreme points:
    the voltage nearest to / farthest from the band's centre, the lowest / highest current)."""
    centre = 0.5 * (limits.v_min_pu + limits.v_max_pu)
    nearest = np.clip(centre, vm_lo, vm_hi)
    farthest = np.where(centre - vm_lo > vm_hi - centre, vm_lo, vm_hi)
    shape = vm_lo.shape
    out = []
    for vm, i in ((nearest, i_lo), (farthest, i_hi)):
        rows = vm.reshape(-1, shape[-1])
        zero = np.zeros(rows.shape[0])
        point = OperatingPoint(vm_pu=rows, i_ka=i.reshape(rows.shape[0], -1), loss_mw=zero,
                               ext_grid_p_mw=zero[:, None], ext_grid_q_mvar=zero[:, None],
                               converged=np.ones(rows.shape[0], bool))
        out.append(violating_buses(point, tree, limits).reshape(shape))
    return out[0], out[1]
