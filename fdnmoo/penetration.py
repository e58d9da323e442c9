"""PV and EV penetration targets per stage, and the constraints that hold a plan to them.

Definitions (seed 000: R. Wang et al., Nature Communications 15 (2024), eqs. (11c)-(12d)
and the Fig. 3 caption; the shares are ``case.horizon.ev_penetration`` and
``pv_penetration``, one per stage):

* the stage's peak load ``P_LD(u)`` (:func:`stage_peak_load_mw`: the in-service loads
  grown to the end of the stage, or the case's ``stage_demand`` table);
* EV penetration ``e_u`` is the EV charging demand's share of the stage's whole demand,
  ``P_EV / (P_LD + P_EV) = e_u``, so ``P_EV(u) = e_u / (1 - e_u) * P_LD(u)``
  (:func:`ev_demand_mw`). The EVCS converters must carry it: ``sum_i S_EVCS,i >= P_EV``
  (eqs. (11c), (11d); EV charging is drawn at unity power factor);
* PV penetration ``p_u`` is the rated PV output's share of a base, ``P_PV = p_u * base``
  (:func:`pv_target_mw`), with ``base="load"`` the peak load ``P_LD(u)`` (what
  :class:`~fdnmoo.problems.encodings.DerBlock`'s ``penetration`` repair uses) or
  ``base="demand"`` the load plus the EV demand, ``P_LD + P_EV`` (seed 000: its Table 1
  sizes follow this base, see ``tests/test_penetration.py``);
* the rated PV output of a plan is ``sum_i pf_i * S_i`` (:func:`pv_rated_mw`), ``S_i`` the
  installed capacity of candidate ``i`` (a converter rating) and ``pf_i`` the candidate's
  ``power_factor`` (column of ``candidates.pv``, 1 where absent): eq. (12c),
  ``P_PV,rated <= mu_min S_PV``.

The constraints ``pv_penetration`` and ``ev_penetration`` (:mod:`fdnmoo.constraints`) compare the plan with the targets
stage by stage, ``mode="equal"`` within a relative ``tolerance`` (``|P - T| <= tol T``) or
``mode="at_least"`` (``P >= (1 - tol) T``), as ``max_u (|P_u - T_u| - tol T_u) / T_u``
resp. ``max_u ((1 - tol) T_u - P_u) / T_u`` (feasible ``<= 0``); a stage without a target
(share 0) needs no capacity with ``at_least`` and none with ``equal``, where its capacity
counts per MW above 0.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .scenarios.batch import stage_load

__all__ = ["ev_demand_mw", "penetration_shortfall", "pv_power_factors", "pv_rated_mw",
           "pv_target_mw", "stage_peak_load_mw"]

_BASES = ("load", "demand")
_MODES = ("equal", "at_least")


def stage_peak_load_mw(case, stage: int, net=None) -> float:
    """Peak active load of a stage, MW: the sum over buses of
    :func:`fdnmoo.scenarios.batch.stage_load` (the case's ``stage_demand`` where it
    has that table, else the in-service loads times
    :func:`~fdnmoo.cases.model.stage_growth_factor`, i.e. grown to the end of the stage).

    Parameters
    ----------
    case : PlanningCase
    stage : int
        1-based.
    net : pandapowerNet, optional
        The net whose loads are read (default ``case.net``; :class:`DerBlock`
        passes its planning grid's net, the one the scenario batch reads).
    """
    p_mw, _ = stage_load(case, int(stage), net)
    return float(p_mw[int(stage) - 1].sum())


def _shares(case, key: str, shares: Sequence[float] | None, stage: int) -> float:
    values = getattr(case.horizon, key) if shares is None else list(shares)
    if not len(values):
        return 0.0
    if stage > len(values):
        raise ValueError(f"case {case.name!r}: {key} gives {len(values)} stages, stage {stage} "
                         f"needs one")
    return float(values[stage - 1])


def ev_demand_mw(case, stage: int, net=None, shares: Sequence[float] | None = None) -> float:
    """EV charging demand of a stage, MW: ``e / (1 - e) * P_LD`` (module docstring).

    ``shares`` replaces ``case.horizon.ev_penetration`` (empty: no EV demand).
    """
    e = _shares(case, "ev_penetration", shares, stage)
    if not 0.0 <= e < 1.0:
        raise ValueError(f"EV penetration is a share of the demand in [0, 1), got {e} in stage "
                         f"{stage}")
    return e / (1.0 - e) * stage_peak_load_mw(case, stage, net) if e else 0.0


def pv_target_mw(case, stage: int, net=None, shares: Sequence[float] | None = None,
                 base: str = "load") -> float:
    """Rated PV output a stage's penetration asks for, MW: ``p * base`` (module docstring).

    Parameters
    ----------
    case : PlanningCase
    stage : int
        1-based.
    net : pandapowerNet, optional
    shares : sequence of float, optional
        One share per stage instead of ``case.horizon.pv_penetration``.
    base : {"load", "demand"}
        The peak load, or the peak load plus the EV demand of :func:`ev_demand_mw`.
    """
    if base not in _BASES:
        raise ValueError(f"base must be one of {_BASES}, got {base!r}")
    p = _shares(case, "pv_penetration", shares, stage)
    if not p:
        return 0.0
    total = stage_peak_load_mw(case, stage, net)
    if base == "demand":
        total += ev_demand_mw(case, stage, net)
    return p * total


def pv_power_factors(case) -> np.ndarray:
    """``power_factor`` of every PV candidate (1 where the table has no such column)."""
    table = case.candidates.get("pv")
    if table is None:
        return np.zeros(0)
    if "power_factor" not in table:
        return np.ones(len(table))
    return table.power_factor.fillna(1.0).to_numpy(float)


def pv_rated_mw(case, capacity) -> np.ndarray:
    """Rated PV output ``sum_i pf_i * S_i`` per stage of a capacity array (..., n_pv)."""
    cap = np.asarray(capacity, dtype=float)
    return cap @ pv_power_factors(case) if cap.size else np.zeros(cap.shape[:-1])


def penetration_shortfall(got_mw, target_mw, mode: str = "equal",
                          tolerance: float = 0.01) -> float:
    """The constraint value of the module docstring, from per-stage totals and targets."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if not 0.0 <= tolerance < 1.0:
        raise ValueError(f"tolerance is a share of the target in [0, 1), got {tolerance}")
    got, target = np.asarray(got_mw, float), np.asarray(target_mw, float)
    scale = np.where(target > 0, target, 1.0)
    if mode == "equal":
        g = (np.abs(got - target) - tolerance * target) / scale
    else:
        g = ((1.0 - tolerance) * target - got) / scale
    return float(np.max(g, initial=-1.0))
