"""The year of SimBench profiles as a scenario source (``profile: year``).

A case built from a SimBench grid (:func:`fdnmoo.cases.simbench_case`) names its
SimBench code in ``reference.profiles``. :func:`year_profile` reads that grid's
profiles from the ``simbench`` package (nothing is downloaded) with
``simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)``:
every 15-minute step of the profile year, 35,136 steps for SimBench's 2016.

Per time step ``t`` and bus ``b`` of the planning grid:

* demand per unit of the bus's base demand: ``sum_l scaling_l P_l(t) / sum_l scaling_l p_mw_l``
  over the bus's in-service loads ``l`` (``P_l(t)`` SimBench's absolute value),
  separately for P and Q (SimBench gives both); 0 at buses without load;
* existing static generators follow their own profiles: the batch's constant
  sgen part (``p_mw * scaling``) is corrected by ``sgen_offset_p_mw(t, b)``
  = base sgen output - ``sum scaling P_sgen(t)``;
* PV candidates: the mean of the grid's SimBench ``PV*`` renewable profiles
  (per unit of installed power);
* EV charging: the shipped daily EV profile (:func:`fdnmoo.scenarios.typical_days`),
  each hourly value held for its four quarter-hours, the same every day;
* every slot stands for 0.25 h, so yearly energies are sums over the profile
  year (8,784 h in 2016).

``days`` is the year as 366 days of 96 slots with the system load per unit of
its yearly maximum (what DG output and the peak slot read).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..cases.simbench_cases import simbench_net
from ..demand import bus_demand, profile_demand
from .profiles import TypicalDays, typical_days

__all__ = ["YearProfile", "year_profile", "SLOT_HOURS"]

SLOT_HOURS = 0.25
_SLOTS_PER_DAY = 96


@dataclass(frozen=True)
class YearProfile:
    """Per-bus year profiles of a planning grid (see the module docstring).

    Attributes
    ----------
    days : TypicalDays
        366 days x 96 slots; ``load_pu`` is the system load per unit of its maximum.
    load_p_pu, load_q_pu : ndarray, shape (n_slots, n_bus)
        Demand per unit of each bus's base demand (grid bus order).
    sgen_offset_p_mw : ndarray, shape (n_slots, n_bus)
        Correction of the constant sgen part of the net demand (+ = more demand).
    slot_hours : ndarray, shape (n_slots,)
        0.25 h each.
    code : str
        The SimBench code.
    """

    days: TypicalDays
    load_p_pu: np.ndarray
    load_q_pu: np.ndarray
    sgen_offset_p_mw: np.ndarray
    slot_hours: np.ndarray
    code: str


def year_profile(grid) -> YearProfile:
    """The year profile of ``grid``'s case (ValueError if the case has no SimBench profiles)."""
    case = grid.case
    source = case.reference.get("profiles") if isinstance(case.reference, dict) else None
    if not isinstance(source, dict) or source.get("source") != "simbench" or "code" not in source:
        raise ValueError(f"case {case.name!r} has no year of profiles: profile 'year' needs a case "
                         "built from a SimBench grid (reference.profiles names its SimBench code)")
    code = str(source["code"])
    absolute, pv_pu = _simbench_profiles(code)
    net = grid.net
    labels = net.bus.index.to_numpy(np.int64)
    for table, column in (("load", "p_mw"), ("load", "q_mvar"), ("sgen", "p_mw")):
        _check_profiles(net, table, absolute[(table, column)])
    p_bus, q_bus = profile_demand(net, absolute, labels, tables=(("load", 1.0),))
    p0, q0 = bus_demand(net, labels, tables=(("load", 1.0),))
    sg_year, _ = profile_demand(net, absolute, labels, tables=(("sgen", 1.0),))
    sg0, _ = bus_demand(net, labels, tables=(("sgen", 1.0),))
    load_p_pu = np.divide(p_bus, p0, out=np.zeros_like(p_bus), where=p0 != 0)
    load_q_pu = np.divide(q_bus, q0, out=np.zeros_like(q_bus), where=q0 != 0)

    n_slots = p_bus.shape[0]
    if n_slots % _SLOTS_PER_DAY:
        raise ValueError(f"SimBench {code}: {n_slots} profile steps are not whole days of 15 minutes")
    n_days = n_slots // _SLOTS_PER_DAY
    system = p_bus.sum(axis=1)
    ev_hourly = typical_days("daily").ev_pu[0]
    ev = np.tile(np.repeat(ev_hourly, _SLOTS_PER_DAY // 24), n_days)
    shape = (n_days, _SLOTS_PER_DAY)
    days = TypicalDays(names=tuple(f"day {d + 1}" for d in range(n_days)),
                       probability=np.full(n_days, 1.0 / n_days),
                       load_pu=(system / system.max()).reshape(shape), pv_pu=pv_pu.reshape(shape),
                       ev_pu=ev.reshape(shape), slot_duration_h=SLOT_HOURS)
    return YearProfile(days=days, load_p_pu=load_p_pu, load_q_pu=load_q_pu,
                       sgen_offset_p_mw=sg0[None, :] - sg_year,
                       slot_hours=np.full(n_slots, SLOT_HOURS), code=code)


def _check_profiles(net, table: str, series: pd.DataFrame) -> None:
    """Every in-service element of ``table`` has a SimBench series (the case matches its grid)."""
    df = net[table]
    missing = df.index[df.in_service.astype(bool)].difference(series.columns)
    if len(missing):
        raise ValueError(f"net.{table}[{missing[0]}] has no SimBench profile: the case's {table} "
                         "table does not match the SimBench grid it names")


@lru_cache(maxsize=1)
def _simbench_profiles(code: str) -> tuple[dict, np.ndarray]:
    """Absolute load/sgen values and the mean PV per-unit profile of a SimBench grid."""
    import simbench

    net = simbench_net(code)
    absolute = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    renewables = net.profiles["renewables"]
    pv_cols = [c for c in renewables.columns if str(c).startswith("PV")]
    if not pv_cols:
        raise ValueError(f"SimBench {code} has no PV profile")
    pv = renewables[pv_cols].to_numpy(float).mean(axis=1)
    keep = {k: v for k, v in absolute.items() if k in (("load", "p_mw"), ("load", "q_mvar"), ("sgen", "p_mw"))}
    return keep, np.clip(pv, 0.0, None)
