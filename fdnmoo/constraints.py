"""The built-in constraints (``g <= 0`` feasible), registered in
:data:`fdnmoo.objectives.CONSTRAINTS`; imported by :mod:`fdnmoo.objectives`, so that they are
registered wherever the registry is."""

from __future__ import annotations

from typing import Literal

import numpy as np

from .clusters import cluster_penetration as penetration_rates
from .objectives import Evaluated, Population, _voltage_violation_pu, constraint
from .penetration import ev_demand_mw, penetration_shortfall, pv_rated_mw, pv_target_mw
from .scenarios.batch import stage_load


@constraint("power_flow_converged", unit="-")
def power_flow_converged(ev: Evaluated) -> float:
    """Share of the plan's power flows that did not converge (every problem has it); under
    uncertainty methods interval, affine, robust at least the share of stages whose uncertain
    sweep gave no bounds (:mod:`fdnmoo.uncertain_pass`)."""
    share = float(1.0 - ev.ops.converged_share)
    return share if ev.bounds is None else max(share, ev.bounds.undefined_share)


@constraint("voltage_band", unit="p.u.")
def voltage_band(ev: Evaluated, vmin_pu: float | None = None,
                 vmax_pu: float | None = None) -> float:
    """Largest voltage outside [vmin_pu, vmax_pu] (default: the case's band) over stages,
    slots and samples."""
    return _voltage_violation_pu(ev, vmin_pu, vmax_pu)


@constraint("line_current", unit="-")
def line_current(ev: Evaluated, max_loading_percent: float = 100.0) -> float:
    """Largest line loading above the limit, I / (I_max * max_loading_percent / 100) - 1, over
    closed lines, stages, slots and samples (I_max: the line's ``max_i_ka``)."""
    if not max_loading_percent > 0:
        raise ValueError(f"max_loading_percent must be > 0, got {max_loading_percent}")
    closed = ev.closed_lines[:, None, :]
    loading = np.where(closed, ev.ops.i_max_ka / ev.ops.i_limit_ka[None, None, :], 0.0)
    return float(np.nanmax(loading, initial=0.0) * 100.0 / max_loading_percent - 1.0)


@constraint("substation_capacity", unit="-")
def substation_capacity(ev: Evaluated, max_loading_percent: float = 100.0) -> float:
    """Largest substation loading above the limit: peak MVA over the closed transformers'
    rating times max_loading_percent / 100, minus 1, at every external grid that feeds
    through transformers (others are not limited)."""
    if not max_loading_percent > 0:
        raise ValueError(f"max_loading_percent must be > 0, got {max_loading_percent}")
    rating = ev.population.computed("substation_rating_mva", _substation_rating_mva)[ev.index]
    peak = ev.ops.substation_peak_mva
    fed = (rating > 0) & np.isfinite(peak)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(fed, peak / rating * 100.0 / max_loading_percent - 1.0, -np.inf)
    return float(max(share.max(initial=-np.inf), -1.0))


def _substation_rating_mva(population: Population) -> np.ndarray:
    """(n_plans, n_stages, n_ext_grid) rating of the closed transformers whose HV bus is each
    in-service external grid's bus (0 where none feeds through transformers)."""
    net = population.grid.net
    eg_bus = net.ext_grid.bus[net.ext_grid.in_service.astype(bool)].to_numpy()
    at_root = net.trafo.hv_bus.to_numpy()[:, None] == eg_bus[None, :]  # (n_trafo, n_eg)
    sn = net.trafo.sn_mva.to_numpy(float)[:, None] * at_root
    return population.plans.closed_trafos.astype(float) @ sn


@constraint("budget", unit="-")
def budget(ev: Evaluated, budget_per_stage: float | None = None) -> float:
    """Largest stage investment above the budget per stage (share of the budget); default
    budget: the case's ``investment_budget_per_stage`` (one number, or one per stage; none:
    always feasible)."""
    from .metrics.economics import population_investment

    if budget_per_stage is not None and not budget_per_stage > 0:
        raise ValueError(f"budget_per_stage must be > 0, got {budget_per_stage}")
    limit = budget_per_stage if budget_per_stage is not None \
        else ev.case.economics.unit_costs.get("investment_budget_per_stage")
    if isinstance(limit, (list, tuple)):
        if min(limit) <= 0:
            raise ValueError(f"economics.unit_costs.investment_budget_per_stage must be > 0 in "
                             f"every stage, got {list(limit)}")
        investment = population_investment(ev)
        return float(np.max(investment / np.asarray(limit, float)[:len(investment)]) - 1.0)
    if not limit:
        return -1.0
    return float(np.max(population_investment(ev)) / limit - 1.0)


@constraint("dg_penetration", unit="-")
def dg_penetration(ev: Evaluated, max_share: float) -> float:
    """DG penetration cap of seed 002 (Wang & Jing 2022, eq. (12)), on capacity: in every stage
    the DG capacity in service (MVA) at most ``max_share`` times the stage's peak load (MVA,
    the sum of every bus's apparent peak load, ``stage_load``), as the largest over stages of
    ``capacity / peak - max_share``. Eq. (12) caps the DG output at each load level b by
    ``max_share`` times that level's demand, ``mu_b`` x the peak; conventional units run at
    ``mu_b`` x capacity (:mod:`fdnmoo.operation.injections`), for which the two are the same;
    a wind unit's output at a level may exceed ``mu_b`` x its capacity."""
    if not max_share >= 0:
        raise ValueError(f"max_share must be >= 0, got {max_share}")
    cap = ev.plan.der.get("dg")
    if cap is None or not np.size(cap):
        return -float(max_share)
    installed = np.sum(cap, axis=1)
    peak = ev.population.computed("stage_peak_load_mva", _stage_peak_load_mva)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(installed > 0, installed / peak, 0.0)  # DG without load: inf
    return float(np.max(share) - max_share)


def _stage_peak_load_mva(population: Population) -> np.ndarray:
    """(n_stages,) peak apparent load of every stage (MVA), before any plan's resources."""
    p_mw, q_mvar = stage_load(population.grid.case, population.plans.n_stages,
                              population.grid.net)
    return np.hypot(p_mw, q_mvar).sum(axis=1)


def _check_gamma(gamma: float) -> None:
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must lie in [0, 1), got {gamma}")


@constraint("chance_voltage", unit="-")
def chance_voltage(ev: Evaluated, gamma: float = 0.05) -> float:
    """Chance constraint P(v_min <= V <= v_max) >= 1 - gamma at every bus and stage, as
    ``max P(violation) - gamma`` (the case's band; probabilities from the scenario samples,
    the same samples for every candidate)."""
    _check_gamma(gamma)
    return float(np.max(ev.ops.voltage_violation_probability, initial=0.0) - gamma)


@constraint("chance_current", unit="-")
def chance_current(ev: Evaluated, gamma: float = 0.05) -> float:
    """Chance constraint P(I <= I_max) >= 1 - gamma at every line and stage, as
    ``max P(overload) - gamma``."""
    _check_gamma(gamma)
    return float(np.max(ev.ops.current_violation_probability, initial=0.0) - gamma)


@constraint("unserved_energy", unit="MWh/yr")
def unserved_energy(ev: Evaluated, max_mwh: float = 0.0) -> float:
    """Expected yearly unserved energy above max_mwh, largest over stages (default: feasible
    only when every load is supplied)."""
    return float(np.max(ev.ops.unserved_energy_mwh) - max_mwh)


def _penetration_shares(ev: Evaluated, target) -> list[float] | None:
    if target is None:
        return None
    n = ev.plan.n_stages
    if len(target) < n:
        raise ValueError(f"target gives {len(target)} stages, the plan has {n}")
    return list(target)


@constraint("pv_penetration", unit="-")
def pv_penetration(ev: Evaluated, target: list[float] | None = None,
                   mode: Literal["equal", "at_least"] = "equal", tolerance: float = 0.01,
                   base: Literal["load", "demand"] = "load") -> float:
    """Rated PV output per stage (power factor x capacity,
    :func:`~fdnmoo.penetration.pv_rated_mw`) against the penetration target ``target``
    (shares per stage; default the case's ``pv_penetration``) times the stage's ``base``
    (peak load, or load plus EV demand): equal within ``tolerance`` (relative) or at least
    (:mod:`fdnmoo.penetration`)."""
    shares = _penetration_shares(ev, target)
    case, n = ev.case, ev.plan.n_stages
    cap = ev.plan.der.get("pv")
    got = np.zeros(n) if cap is None else pv_rated_mw(case, cap[:n])
    want = ev.population.computed(
        ("pv_penetration", None if shares is None else tuple(shares), base),
        lambda p: [pv_target_mw(case, s, p.grid.net, shares, base) for s in range(1, n + 1)])
    return penetration_shortfall(got, want, mode, tolerance)


@constraint("ev_penetration", unit="-")
def ev_penetration(ev: Evaluated, target: list[float] | None = None,
                   mode: Literal["equal", "at_least"] = "at_least",
                   tolerance: float = 0.0) -> float:
    """EVCS capacity per stage against the EV demand of the penetration ``target`` (shares of
    the demand per stage; default the case's ``ev_penetration``),
    :func:`~fdnmoo.penetration.ev_demand_mw`:
    at least (default) or equal within ``tolerance`` (:mod:`fdnmoo.penetration`)."""
    shares = _penetration_shares(ev, target)
    case, n = ev.case, ev.plan.n_stages
    cap = ev.plan.der.get("evcs")
    got = np.zeros(n) if cap is None else np.asarray(cap[:n], float).sum(axis=-1)
    want = ev.population.computed(
        ("ev_penetration", None if shares is None else tuple(shares)),
        lambda p: [ev_demand_mw(case, s, p.grid.net, shares) for s in range(1, n + 1)])
    return penetration_shortfall(got, want, mode, tolerance)


@constraint("cluster_penetration", unit="-")
def cluster_penetration(ev: Evaluated, max_rate: float = 1.0) -> float:
    """Cluster PV penetration rate (PV capacity / peak load of each cluster, over stages;
    :func:`fdnmoo.clusters.cluster_penetration`) above ``max_rate``, largest over clusters
    and stages, as ``rate - max_rate``. Needs cluster labels (``net.bus.cluster``: a spec's
    ``partition:`` section); the default 1.0 lets a cluster's PV reach its peak load (the
    zonal-planning paper caps each node's PV at its peak load)."""
    if not max_rate > 0:
        raise ValueError(f"max_rate must be > 0, got {max_rate}")
    rates = penetration_rates(ev.grid, ev.plan)
    return float(np.max(rates, initial=0.0) - max_rate)
