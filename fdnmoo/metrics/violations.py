"""How far a plan's operation leaves its limits, per stage: the violations a report states.

A problem may *constrain* a limit (a plan beyond it is infeasible, e.g. the
``voltage_band`` constraint) or only *price* it (``violation_penalty`` in the
cost breakdown, the chance-constraint penalty of seed 000). Either way a report
states the plain figures, so that a feasible plan with its voltage out of band
says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..planning import Plan, PlanningGrid
from ..planning.plan import line_name
from .operation import OperationMetrics

__all__ = ["VIOLATION_COLUMNS", "violations_per_stage"]

#: Columns of :func:`violations_per_stage` (units in the names).
VIOLATION_COLUMNS = ["vm_min_pu", "vm_min_bus", "vm_max_pu", "vm_max_bus",
                     "max_loading_percent", "max_loading_line", "violation_energy_mwh",
                     "unserved_energy_mwh", "voltage_violation_probability",
                     "current_violation_probability"]


def violations_per_stage(grid: PlanningGrid, plan: Plan, ops: OperationMetrics,
                         bus_labels: np.ndarray) -> pd.DataFrame:
    """Worst voltages, worst line loading and energy out of band of every stage.

    Parameters
    ----------
    grid : PlanningGrid
    plan : Plan
    ops : OperationMetrics
        The plan's operation; its bus arrays are aligned with ``bus_labels``,
        its line arrays with ``grid.net.line``.
    bus_labels : ndarray
        ``net.bus`` label of every column of ``ops.vmin_pu`` (the scenario
        batch's ``bus_labels``).

    Returns
    -------
    DataFrame
        Index ``stage``; columns :data:`VIOLATION_COLUMNS`: lowest and highest
        voltage over time slots, samples and supplied buses of the case and
        the bus where it occurs; highest loading ``I / max_i_ka`` (percent) of a closed line
        and that line (bus labels, ``13-14``); yearly energy of load at buses
        outside the voltage band or downstream of an overloaded line
        (``violation_energy_mwh``, the base of the violation penalty) and
        unserved energy, both MWh per year; the largest probability over buses of
        leaving the voltage band and over lines of an overload (what the chance
        constraints bound). NaN (and an empty place) where no power flow converged.
    """
    line = grid.net.line
    closed = plan.closed_line_mask(line.index)
    loading = np.where(closed[:, None, :], ops.i_max_ka / ops.i_limit_ka[None, None, :] * 100.0,
                       np.nan)
    # buses the planning grid adds upstream of candidate substations are sources at their
    # set-point, not places of the case: the worst voltage is stated at a bus of the case
    own = np.isin(bus_labels, grid.case.net.bus.index)
    rows = []
    for s in range(plan.n_stages):
        # over time slots, ignoring the slots whose power flow diverged (NaN)
        vmin = np.where(own, np.fmin.reduce(ops.vmin_pu[s], axis=0), np.nan)
        vmax = np.where(own, np.fmax.reduce(ops.vmax_pu[s], axis=0), np.nan)
        load = np.fmax.reduce(loading[s], axis=0)
        row = {}
        for key, values, pick in (("vm_min", vmin, np.nanargmin), ("vm_max", vmax, np.nanargmax)):
            k = pick(values) if np.isfinite(values).any() else -1
            row[f"{key}_pu"] = float(values[k]) if k >= 0 else np.nan
            row[f"{key}_bus"] = str(int(bus_labels[k])) if k >= 0 else ""
        k = int(np.nanargmax(load)) if np.isfinite(load).any() else -1
        row["max_loading_percent"] = float(load[k]) if k >= 0 else np.nan
        row["max_loading_line"] = line_name(line.from_bus.iloc[k], line.to_bus.iloc[k]) \
            if k >= 0 else ""
        row["violation_energy_mwh"] = float(ops.violation_energy_mwh[s])
        row["unserved_energy_mwh"] = float(ops.unserved_energy_mwh[s])
        row["voltage_violation_probability"] = float(
            np.max(ops.voltage_violation_probability[s], initial=0.0))
        row["current_violation_probability"] = float(
            np.max(ops.current_violation_probability[s], initial=0.0))
        rows.append(row)
    return pd.DataFrame(rows, columns=VIOLATION_COLUMNS,
                        index=pd.RangeIndex(1, plan.n_stages + 1, name="stage"))
