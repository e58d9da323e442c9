"""What the power flows of one plan say: the operation metrics.

:class:`OperationMetrics` is the boundary between the evaluation path
(scenario batch -> power flow, :mod:`fdnmoo.pipeline`) and the
objectives (:mod:`fdnmoo.objectives`), which are functions of a plan, its
grid and these metrics. Yearly energies weight every time slot by its
duration (hours per year) and every typical day by its probability; samples
(Monte Carlo draws of load and PV) are averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OperationMetrics"]

_SHARED = ("i_limit_ka", "day_probability")  # the same for every plan of a batch


@dataclass
class OperationMetrics:
    """Operation of one plan over stages x time slots x samples.

    Attributes
    ----------
    energy_loss_mwh : ndarray, shape (n_stages,)
        Expected yearly line and transformer losses (plus SOP converter losses).
    sop_loss_mwh : ndarray, shape (n_stages,)
        The SOP converter part of ``energy_loss_mwh``.
    demand_mwh : ndarray, shape (n_stages,)
        Expected yearly demand (loads and EV charging).
    pv_energy_mwh : ndarray, shape (n_stages,)
        Expected yearly PV generation fed in.
    unserved_energy_mwh : ndarray, shape (n_stages,)
        Yearly demand at buses without supply or in scenarios whose power flow
        did not converge.
    violation_energy_mwh : ndarray, shape (n_stages,)
        Yearly energy of load at buses outside the voltage band plus load
        downstream of overloaded lines (the chance-constraint penalty base).
    peak_loss_kw : ndarray, shape (n_stages,)
        Losses at the stage's peak-load snapshot (forecast, no sampling).
    peak_vmin_pu, peak_vmax_pu : ndarray, shape (n_stages,)
        Extreme voltages of that snapshot.
    vmin_pu, vmax_pu : ndarray, shape (n_stages, n_slots, n_bus)
        Lowest/highest voltage over samples (NaN where unsupplied).
    i_max_ka : ndarray, shape (n_stages, n_slots, n_line)
        Largest line current over samples.
    i_limit_ka : ndarray, shape (n_line,)
        Thermal limit of every line of the planning grid.
    voltage_deviation_pu : ndarray, shape (n_stages,)
        Expected mean |V - 1| over supplied buses.
    voltage_violation_probability : ndarray, shape (n_stages, n_bus)
        Share of (slot-weighted) samples with V outside the band.
    current_violation_probability : ndarray, shape (n_stages, n_line)
        Share of samples with I > limit.
    substation_peak_mva : ndarray, shape (n_stages, n_root)
        Largest apparent power drawn at every external grid.
    converged_share : float
        Share of power flows that converged.
    grid_energy_mwh : ndarray, shape (n_stages,)
        Expected yearly energy drawn from the external grids (substations).
    slot_loss_mwh : ndarray, shape (n_stages, n_slots)
        The slots' parts of ``energy_loss_mwh`` (to price losses per time slot
        or load level).
    dg_energy_mwh : ndarray, shape (n_stages, n_dg)
        Expected yearly energy of every DG candidate (rows of ``candidates.dg``)
        at supplied buses; per candidate because alternatives have their own
        energy cost. None when the metrics were not computed with DG.
    voltage_violation_energy_mwh : ndarray, shape (n_stages,)
        Yearly energy of load at supplied buses outside the voltage band (the
        voltage penalty's base).
    overload_energy_mwh : ndarray, shape (n_stages,)
        Yearly energy of the load downstream of every line above its limit, summed
        over the overloaded lines (the overload penalty's base).
    scenario_unserved_mwh : ndarray, shape (n_stages, n_days, n_samples)
        Unserved energy (as in ``unserved_energy_mwh``) in one day of every scenario:
        typical day ``d`` (probability ``batch.days.probability[d]``) and sample ``s``
        (each of a day's samples equally likely).
    day_probability : ndarray, shape (n_days,)
        Probability of every typical day of the batch (shared by a batch of plans, like
        ``i_limit_ka``).
    curtailed_energy_mwh : ndarray, shape (n_stages,)
        Expected yearly PV energy curtailed (the curtailment penalty's base); None
        without the curtailment option (:mod:`fdnmoo.operation.controls`).
    """

    energy_loss_mwh: np.ndarray
    sop_loss_mwh: np.ndarray
    demand_mwh: np.ndarray
    pv_energy_mwh: np.ndarray
    unserved_energy_mwh: np.ndarray
    violation_energy_mwh: np.ndarray
    peak_loss_kw: np.ndarray
    peak_vmin_pu: np.ndarray
    peak_vmax_pu: np.ndarray
    vmin_pu: np.ndarray
    vmax_pu: np.ndarray
    i_max_ka: np.ndarray
    i_limit_ka: np.ndarray
    voltage_deviation_pu: np.ndarray
    voltage_violation_probability: np.ndarray
    current_violation_probability: np.ndarray
    substation_peak_mva: np.ndarray
    converged_share: float
    grid_energy_mwh: np.ndarray | None = None
    slot_loss_mwh: np.ndarray | None = None
    dg_energy_mwh: np.ndarray | None = None
    voltage_violation_energy_mwh: np.ndarray | None = None
    overload_energy_mwh: np.ndarray | None = None
    scenario_unserved_mwh: np.ndarray | None = None
    day_probability: np.ndarray | None = None
    curtailed_energy_mwh: np.ndarray | None = None

    @property
    def n_stages(self) -> int:
        return len(self.energy_loss_mwh)

    @classmethod
    def stack(cls, metrics) -> "OperationMetrics":
        """The metrics of several plans as one batch: every per-plan field gets a leading
        plan axis (``converged_share`` becomes an array); ``i_limit_ka`` is shared."""
        metrics = list(metrics)
        fields = {}
        for name in cls.__dataclass_fields__:
            values = [getattr(m, name) for m in metrics]
            if name in _SHARED:
                fields[name] = values[0]
            elif any(v is None for v in values):
                fields[name] = None
            else:
                fields[name] = np.stack([np.asarray(v) for v in values])
        return cls(**fields)

    def take(self, index: int) -> "OperationMetrics":
        """Plan ``index`` of a batch (:meth:`stack`), as views."""
        fields = {name: (value if name in _SHARED or value is None else value[index])
                  for name, value in vars(self).items()}
        fields["converged_share"] = float(fields["converged_share"])
        return OperationMetrics(**fields)
