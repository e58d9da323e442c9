"""Operation metrics from power-flow results: the reductions of rows to per-plan numbers.

:class:`OperationReducer` holds per-plan metric arrays (plan axis first) and
reduces the solved rows (plans x slots x samples) of one stage and topology
group at a time (:meth:`OperationReducer.add`); the evaluation pipeline
(:mod:`fdnmoo.pipeline`) drives it. Every number of a plan is computed from
that plan's rows only, in the same order whatever other plans share its group
or chunk, so the metrics of a plan are bit-for-bit the same however the plans
are grouped or split over workers.

Conventions of the reductions
    * Yearly energy = sum over slots of ``slot_hours`` x the mean over samples.
    * Unserved: demand (loads + EV) at buses the topology does not supply, and
      all demand of a scenario whose power flow did not converge. Such a
      scenario adds nothing to losses, PV, DG, grid energy or violation energy.
      ``scenario_unserved_mwh`` keeps it per scenario: the MWh of one day of
      every (typical day, sample).
    * Curtailed PV (with the curtailment option): the PV cut at supplied buses in
      converged scenarios, yearly like PV energy.
    * Violation energy: demand at supplied buses outside ``[v_min, v_max]``
      plus demand at buses downstream of a line above ``max_i_ka * df *
      parallel``; a bus counts once. The two penalty bases of the cost
      breakdown (as in the SOP/EVCS planning paper) keep them apart: voltage
      violation energy = demand at the buses outside the band; overload energy =
      for every overloaded line, the demand downstream of it, summed over the
      lines (a bus below two overloaded lines counts twice).
    * Probabilities weight slots by ``slot_hours`` and samples equally; a
      scenario that did not converge counts as a violation at every supplied
      bus and every closed line.
    * Voltage deviation: mean ``|V - 1|`` over supplied buses other than the
      substations (whose voltage is a set-point), weighted like probabilities
      over converged scenarios.
    * Losses include the SOP converter losses (also at the peak snapshot).
    * The peak snapshot is the forecast sample at ``batch.peak_slot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..operation.injections import FeederTree, NetDemand
from ..operation.sop_dispatch import OperatingLimits, OperatingPoint, violating_buses
from ..powerflow import BatchPowerFlow
from ..scenarios.batch import ScenarioBatch
from .operation import OperationMetrics
from .violation_counts import violation_counts

__all__ = ["OperationReducer", "line_limits_ka", "overloaded_load"]


def line_limits_ka(net) -> np.ndarray:
    """Thermal limit of every ``net.line`` row: ``max_i_ka * df * parallel``."""
    line = net.line
    df = line.df.to_numpy(float) if "df" in line else 1.0
    return line.max_i_ka.to_numpy(float) * df * line.parallel.to_numpy(float)


@dataclass
class OperationReducer:
    """Per-plan metric arrays (plan axis first), filled chunk by chunk (see module docstring)."""

    arrays: dict
    i_limit_ka: np.ndarray
    day_probability: np.ndarray
    n_rows: np.ndarray  # per plan
    n_converged: np.ndarray

    @classmethod
    def empty(cls, n_plans: int, batch: ScenarioBatch, engine: BatchPowerFlow,
              i_limit_ka: np.ndarray, n_dg: int = 0, curtailment: bool = False
              ) -> "OperationReducer":
        n_s, n_t, n_b = batch.n_stages, batch.n_slots, batch.n_bus
        n_l = engine.branches.n_line
        n_r = engine.branches.root_pos.size
        shapes = {
            "energy_loss_mwh": (), "sop_loss_mwh": (), "demand_mwh": (), "pv_energy_mwh": (),
            "unserved_energy_mwh": (), "violation_energy_mwh": (), "peak_loss_kw": (),
            "voltage_violation_energy_mwh": (), "overload_energy_mwh": (),
            "peak_vmin_pu": (), "peak_vmax_pu": (), "vmin_pu": (n_t, n_b), "vmax_pu": (n_t, n_b),
            "i_max_ka": (n_t, n_l), "voltage_deviation_pu": (),
            "voltage_violation_probability": (n_b,), "current_violation_probability": (n_l,),
            "substation_peak_mva": (n_r,), "grid_energy_mwh": (), "slot_loss_mwh": (n_t,),
            "dg_energy_mwh": (n_dg,), "scenario_unserved_mwh": (batch.days.n_days, batch.n_samples),
        }
        if curtailment:
            shapes["curtailed_energy_mwh"] = ()
        return cls({k: np.full((n_plans, n_s) + s, np.nan) for k, s in shapes.items()},
                   i_limit_ka=i_limit_ka, day_probability=np.asarray(batch.days.probability),
                   n_rows=np.zeros(n_plans, np.int64),
                   n_converged=np.zeros(n_plans, np.int64))

    def add(self, stage: int, index: np.ndarray, nd: NetDemand, point: OperatingPoint,
            conv_loss: np.ndarray, tree: FeederTree, limits: OperatingLimits, batch: ScenarioBatch) -> None:
        """Reduce the rows of the plans ``index`` in ``stage`` (see the module docstring)."""
        n_p, n_t, n_s, n_b = nd.p_mw.shape
        conv = point.converged.reshape(n_p, n_t, n_s)
        with np.errstate(invalid="ignore"):  # NaN (unsupplied, failed) compares False
            out_of_band = (point.vm_pu < limits.v_min_pu) | (point.vm_pu > limits.v_max_pu)
            over = point.i_ka > limits.i_limit_ka
        loss = self._energies(stage - 1, index, nd, point, conv, conv_loss.reshape(n_p, n_t, n_s), tree,
                              out_of_band, over, batch)
        t, k = batch.peak_slot, batch.forecast_sample
        self.arrays["peak_loss_kw"][index, stage - 1] = np.where(conv[:, t, k], loss[:, t, k] * 1e3, np.nan)
        self._snapshots(stage - 1, index, point, conv, (n_p, n_t, n_s, n_b), batch)
        self._probabilities(stage - 1, index, point, conv, (n_p, n_t, n_s, n_b), tree, limits,
                            batch.slot_hours)
        self.n_rows[index] += n_t * n_s
        self.n_converged[index] += conv.sum(axis=(1, 2))

    def _energies(self, s, index, nd, point, conv, conv_loss, tree, out_of_band, over, batch
                  ) -> np.ndarray:
        """Yearly energies; returns the losses (line + converter, 0 if failed) per row."""
        a = self.arrays
        shape = conv.shape
        h = batch.slot_hours

        def yearly(x: np.ndarray) -> np.ndarray:  # (P, T, S) -> (P,), row by row (no BLAS)
            return (x.mean(axis=2) * h).sum(axis=1)

        loss = np.where(conv, point.loss_mw.reshape(shape), 0.0) + conv_loss
        slot_loss = loss.mean(axis=2) * h
        a["slot_loss_mwh"][index, s] = slot_loss
        a["energy_loss_mwh"][index, s] = slot_loss.sum(axis=1)
        a["sop_loss_mwh"][index, s] = yearly(conv_loss)
        demand = nd.demand_mw.reshape(-1, nd.demand_mw.shape[-1])
        total = demand.sum(axis=1).reshape(shape)
        a["demand_mwh"][index, s] = yearly(total)
        lost = demand[:, ~tree.supplied].sum(axis=1).reshape(shape)
        unserved = np.where(conv, lost, total)
        a["unserved_energy_mwh"][index, s] = yearly(unserved)
        days = batch.days  # MWh in one day of every (typical day, sample) scenario
        a["scenario_unserved_mwh"][index, s] = unserved.reshape(
            shape[0], days.n_days, days.slots_per_day, shape[2]).sum(axis=2) * days.slot_duration_h
        pv = (nd.pv_mw * tree.supplied[nd.pv_bus]).sum(axis=-1) if nd.pv_bus.size else np.zeros(shape)
        a["pv_energy_mwh"][index, s] = yearly(pv * conv)
        if "curtailed_energy_mwh" in a:
            cut = nd.controls.pv_curtailed_mw if nd.controls is not None else None
            cut = np.zeros(shape) if cut is None or not nd.pv_bus.size else \
                (cut * tree.supplied[nd.pv_bus]).sum(axis=-1)
            a["curtailed_energy_mwh"][index, s] = yearly(cut * conv)
        if nd.dg_mw is not None and nd.dg_mw.shape[-1]:
            dg = nd.dg_mw * tree.supplied[nd.dg_bus]  # (P, T, n_dg), the same in every sample
            share_ok = conv.mean(axis=2)  # converged share of the samples per slot
            a["dg_energy_mwh"][index, s] = ((dg * share_ok[..., None]) * h[None, :, None]).sum(axis=1)
        else:
            a["dg_energy_mwh"][index, s] = 0.0
        bad = violating_buses(point, tree, None, out_of_band, over)
        a["violation_energy_mwh"][index, s] = yearly((demand * bad).sum(axis=1).reshape(shape) * conv)
        a["voltage_violation_energy_mwh"][index, s] = yearly(
            (demand * out_of_band).sum(axis=1).reshape(shape) * conv)
        a["overload_energy_mwh"][index, s] = yearly(
            overloaded_load(tree, demand, over).reshape(shape) * conv)
        ext_p = np.nan_to_num(point.ext_grid_p_mw).sum(axis=-1).reshape(shape)
        a["grid_energy_mwh"][index, s] = yearly(np.where(conv, ext_p, 0.0))
        return loss

    def _snapshots(self, s, index, point, conv, shape, batch) -> None:
        """Peak-snapshot voltages, per-slot extremes over samples, substation peaks."""
        a = self.arrays
        n_p, n_t, n_s, _ = shape
        t, k = batch.peak_slot, batch.forecast_sample
        vm = point.vm_pu.reshape(shape)
        a["peak_vmin_pu"][index, s] = np.fmin.reduce(vm[:, t, k], axis=-1)
        a["peak_vmax_pu"][index, s] = np.fmax.reduce(vm[:, t, k], axis=-1)
        a["vmin_pu"][index, s] = np.fmin.reduce(vm, axis=2)
        a["vmax_pu"][index, s] = np.fmax.reduce(vm, axis=2)
        a["i_max_ka"][index, s] = np.fmax.reduce(point.i_ka.reshape(n_p, n_t, n_s, -1), axis=2)
        ext_s = np.hypot(point.ext_grid_p_mw, point.ext_grid_q_mvar).reshape(n_p, n_t * n_s, -1)
        a["substation_peak_mva"][index, s] = np.fmax.reduce(ext_s, axis=1)

    def _probabilities(self, s, index, point, conv, shape, tree, limits, h) -> None:
        """Voltage deviation and violation probabilities (slot-weighted, samples equal)."""
        a = self.arrays
        n_p, n_t, n_s, _ = shape
        share = h / h.sum() / n_s  # weight of one (slot, sample)
        inner = tree.supplied & ~tree.is_root
        v_count, i_count, dev = violation_counts(
            point.vm_pu.reshape(shape), point.i_ka.reshape(n_p, n_t, n_s, -1), conv, inner,
            tree.supplied, tree.line_child >= 0, float(limits.v_min_pu), float(limits.v_max_pu),
            np.broadcast_to(np.asarray(limits.i_limit_ka, float), tree.line_child.shape).copy())
        dev = dev / max(int(inner.sum()), 1)
        w = conv * share[None, :, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            a["voltage_deviation_pu"][index, s] = (dev * w).sum(axis=(1, 2)) / w.sum(axis=(1, 2))
        a["voltage_violation_probability"][index, s] = (v_count * share[:, None]).sum(axis=1)
        a["current_violation_probability"][index, s] = (i_count * share[:, None]).sum(axis=1)

    def metrics(self) -> OperationMetrics:
        """The batch of every plan's metrics (:meth:`OperationMetrics.take` gives one)."""
        return OperationMetrics(converged_share=self.n_converged / np.maximum(self.n_rows, 1),
                                i_limit_ka=self.i_limit_ka, day_probability=self.day_probability,
                                **self.arrays)


def overloaded_load(tree: FeederTree, demand: np.ndarray, over: np.ndarray) -> np.ndarray:
    """Per row, the demand downstream of every overloaded line, summed over the lines.

    ``demand`` (rows, n_bus), ``over`` (rows, n_line) bool; the load below the line
    feeding bus ``c`` is ``sum_j demand[j] * path[j, c]``.
    """
    out = np.zeros(demand.shape[0])
    rows = np.flatnonzero(over.any(axis=1))
    if rows.size:
        below = np.asarray((tree.path.T @ demand[rows].T).T)  # (rows, n_bus): load below c
        closed = tree.line_child >= 0
        child = tree.line_child[closed]
        out[rows] = (below[:, child] * over[np.ix_(rows, np.flatnonzero(closed))]).sum(axis=1)
    return out
