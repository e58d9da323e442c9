"""The scenario batch: demand and PV per stage x time slot x sample x bus.

:meth:`ScenarioBatch.build` turns a planning grid, a profile and a seed into
arrays every plan is evaluated on (common random numbers: the same seed gives
the same samples for every plan, every worker and every stage).

Demand
    ``load(stage, slot, sample, bus) = base(stage, bus) * load_pu(slot) * f(slot, sample, bus)``.
    ``base`` is :func:`stage_load`: the net's in-service loads (``p_mw * scaling``,
    summed per bus, :func:`fdnmoo.demand.bus_demand`) times the growth to the
    end of the stage, :func:`fdnmoo.cases.model.stage_growth_factor`
    ``= (1 + g) ** (stage * years_per_stage)``; where ``candidates.stage_demand``
    gives a bus's peak demand for a stage (md24), that value replaces it.
    Reactive demand scales with the same factors (constant power factor).
    Static generators and storage already in the net are kept apart
    (``fixed_p_mw``/``fixed_q_mvar``): they enter the power flow as a
    negative/positive demand but are not load, so unserved and violation
    energies never count them.

Samples
    Sample 0 is the forecast (every factor 1). The others draw independent
    factors per slot, sample and load bus (PV: per slot, sample and PV
    candidate) ``f = 1 + sigma z`` with ``z`` standard normal truncated to
    [-3, 3] and ``sigma = deviation / 3``: the case's ``load_deviation`` /
    ``pv_deviation`` is the half-width of the uncertainty interval and is read
    as 3 sigma, so every sample lies inside the interval the affine-arithmetic
    engine uses. The draws do not depend on the stage. PV per unit is clipped at 0.

Fitted samples (``uncertainty`` with ``marginals: gmm | kde``)
    The factors come from a model fitted to observed days instead
    (:mod:`fdnmoo.scenarios.fitted`): one load factor per slot and sample for every
    bus, one PV output per slot and sample for every PV candidate (clipped to [0, 1]);
    sample 0 is still the forecast. With ``reduction: kmeans | backward`` the days
    are the reduced typical days with their probabilities (``fitted`` says which).

EV charging
    ``evcs_pu(slot)``: the profile's charging share, the same for every sample.

Profile "year"
    A SimBench case's year of 15-minute profiles
    (:mod:`fdnmoo.scenarios.simbench_profiles`): ``load_pu`` is per slot *and
    bus* (P and Q each have their own), existing sgens follow their profiles,
    and every slot stands for 0.25 h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import truncnorm

from ..cases.model import PlanningCase, stage_growth_factor
from ..demand import bus_demand
from ..planning.grid import PlanningGrid
from ..uncertainty.settings import UncertaintySettings
from .fitted import fitted_samples
from .profiles import TypicalDays, load_level_days, typical_days
from .simbench_profiles import year_profile

__all__ = ["ScenarioBatch", "SIGMAS_PER_DEVIATION", "stage_load", "PROFILE_NAMES"]

#: Profile names :meth:`ScenarioBatch.build` accepts.
PROFILE_NAMES = ("daily", "peak", "levels", "year")

#: The case's deviations are read as this many standard deviations.
SIGMAS_PER_DEVIATION = 3.0


@dataclass(frozen=True)
class ScenarioBatch:
    """Demand and PV scenarios of a planning grid (see module docstring).

    Build one with :meth:`build`; the constructor only stores arrays.

    Attributes
    ----------
    days : TypicalDays
        The profile the slots come from.
    bus_labels : ndarray of int, shape (n_bus,)
        ``grid.net.bus.index``; the column order of every bus array.
    load_p_mw, load_q_mvar : ndarray, shape (n_stages, n_slots, n_samples, n_bus)
        Load per bus (the net's loads, grown and sampled), before any plan's
        resources; what unserved and violation energies count.
    fixed_p_mw, fixed_q_mvar : ndarray, shape (n_slots, n_bus)
        Net demand of the net's existing static generators and storage
        (+ = consumption, so generation is negative), the same in every stage
        and sample; added to the load for the power flow.
    pv_pu : ndarray, shape (n_stages, n_slots, n_samples, n_pv)
        PV output per unit of installed capacity per candidate of
        ``candidates.pv`` (empty last axis if the case has none).
    evcs_pu : ndarray, shape (n_slots,)
        EV charging per unit of charging-station capacity.
    slot_hours : ndarray, shape (n_slots,)
        Hours per year each slot stands for (sums to 8760).
    peak_slot : int
        Slot of the largest forecast load.
    seed : int
    fitted : dict, optional
        What a fitted model did (:attr:`fdnmoo.scenarios.fitted.FittedSamples.info`);
        None for truncated-normal factors.
    """

    days: TypicalDays
    bus_labels: np.ndarray
    load_p_mw: np.ndarray
    load_q_mvar: np.ndarray
    fixed_p_mw: np.ndarray
    fixed_q_mvar: np.ndarray
    pv_pu: np.ndarray
    evcs_pu: np.ndarray
    slot_hours: np.ndarray
    peak_slot: int
    seed: int
    fitted: dict | None = None

    forecast_sample = 0  #: the sample with every factor 1

    @property
    def n_stages(self) -> int:
        return self.load_p_mw.shape[0]

    @property
    def n_slots(self) -> int:
        return self.load_p_mw.shape[1]

    @property
    def n_samples(self) -> int:
        return self.load_p_mw.shape[2]

    @property
    def n_bus(self) -> int:
        return self.load_p_mw.shape[3]

    @classmethod
    def build(cls, grid: PlanningGrid, n_stages: int | None = None, profile: str = "daily",
              n_samples: int = 1, seed: int = 0, days: TypicalDays | int | None = None,
              uncertainty: UncertaintySettings | None = None) -> "ScenarioBatch":
        """Build the batch.

        Parameters
        ----------
        grid : PlanningGrid
        n_stages : int, optional
            Default: ``grid.case.horizon.n_stages``.
        profile : {"daily", "peak", "levels", "year"}
            ``"daily"``/``"peak"``: :func:`~fdnmoo.scenarios.profiles.typical_days`;
            ``"levels"``: the case's ``load_levels`` table
            (:func:`~fdnmoo.scenarios.profiles.load_level_days`); ``"year"``: every
            time step of a SimBench case's profiles
            (:func:`~fdnmoo.scenarios.simbench_profiles.year_profile`).
        n_samples : int
            Samples per slot; sample 0 is the forecast.
        seed : int
            Seed of the sample factors.
        days : TypicalDays or int, optional
            Typical days to use instead of the profile's (a TypicalDays), or
            the number of days to merge the daily profile into (an int; ``1``
            gives one average day of 24 slots).
        uncertainty : UncertaintySettings, optional
            With fitted marginals, the samples come from the fitted model (module
            docstring); its ``samples`` and ``seed`` are not read here (the caller
            passes ``n_samples`` and ``seed``), nor its ``level`` (the caller applies
            it to the case's deviations).

        Returns
        -------
        ScenarioBatch
        """
        case = grid.case
        n_stages = case.horizon.n_stages if n_stages is None else int(n_stages)
        if n_stages < 1 or n_samples < 1:
            raise ValueError(f"n_stages and n_samples must be >= 1, got {n_stages}, {n_samples}")
        fitted = uncertainty is not None and uncertainty.fitted
        if fitted and uncertainty.reduction != "none" and (profile != "daily" or days is not None):
            raise ValueError(f"uncertainty.reduction {uncertainty.reduction!r} gives the batch its "
                             f"typical days: profile must be 'daily' (got {profile!r}) and days unset "
                             f"(got {days!r})")
        year = _year(grid, profile, days)
        days = year.days if year is not None else _resolve_days(grid, profile, days)
        if fitted:
            samples = fitted_samples(grid, uncertainty, days, n_samples, seed)
            days = samples.days
        net = grid.net
        labels = net.bus.index.to_numpy(np.int64)
        base_p, base_q, const_p, const_q = _stage_demand(grid, n_stages)

        # per-unit demand per slot, and per bus for profile "year": shape (n_slots, 1 or n_bus)
        p_pu = days.load_pu.ravel()[:, None] if year is None else year.load_p_pu
        q_pu = p_pu if year is None else year.load_q_pu
        if year is not None:
            const_p = const_p + year.sgen_offset_p_mw
        n_slots, n_bus = p_pu.shape[0], labels.size
        pv_table = case.candidates.get("pv")
        n_pv = 0 if pv_table is None else len(pv_table)
        if fitted:
            f_load = samples.load_factor[:, :, None]
            pv = np.broadcast_to(np.clip(samples.pv_pu, 0.0, 1.0)[:, :, None], (n_slots, n_samples, n_pv))
        else:
            load_seq, pv_seq = np.random.SeedSequence(seed).spawn(2)
            f_load = _factors(load_seq, (n_slots, n_samples, n_bus), case.uncertainty.load_deviation)
            f_pv = _factors(pv_seq, (n_slots, n_samples, n_pv), case.uncertainty.pv_deviation)
            pv = np.clip(days.pv_pu.ravel()[:, None, None] * f_pv, 0.0, None)

        shape = (n_stages, n_slots, n_samples, n_bus)
        scaled_p = p_pu[:, None, :] * f_load  # (n_slots, n_samples, n_bus)
        scaled_q = scaled_p if q_pu is p_pu else q_pu[:, None, :] * f_load
        load_p = np.empty(shape)
        load_q = np.empty(shape)
        for s in range(n_stages):
            np.multiply(scaled_p, base_p[s], out=load_p[s])
            np.multiply(scaled_q, base_q[s], out=load_q[s])
        fixed_p = np.broadcast_to(const_p, (n_slots, n_bus)).copy()
        fixed_q = np.broadcast_to(const_q, (n_slots, n_bus)).copy()
        pv = np.broadcast_to(pv, (n_stages,) + pv.shape)
        for a in (load_p, load_q, fixed_p, fixed_q):
            a.setflags(write=False)
        return cls(days=days, bus_labels=labels, load_p_mw=load_p, load_q_mvar=load_q,
                   fixed_p_mw=fixed_p, fixed_q_mvar=fixed_q, pv_pu=pv,
                   evcs_pu=days.ev_pu.ravel().copy(),
                   slot_hours=days.slot_hours if year is None else year.slot_hours,
                   peak_slot=days.peak_slot, seed=int(seed),
                   fitted=samples.info if fitted else None)


def _year(grid: PlanningGrid, profile: str, days):
    if profile != "year":
        return None
    if days is not None:
        raise ValueError("profile 'year' uses every time step of the case's profiles; days must be None")
    return year_profile(grid)


def _resolve_days(grid: PlanningGrid, profile: str, days) -> TypicalDays:
    if isinstance(days, TypicalDays):
        return days
    if profile == "levels":
        if days is not None:
            raise ValueError("profile 'levels' takes its days from the case; days must be None")
        levels = grid.case.candidates.get("load_levels")
        if levels is None or not len(levels):
            raise ValueError(f"case {grid.case.name!r} has no load_levels table for profile 'levels'")
        return load_level_days(levels)
    return typical_days(profile, n_days=days)


def _factors(seq: np.random.SeedSequence, shape: tuple[int, int, int], deviation: float) -> np.ndarray:
    """``1 + sigma z`` with z ~ N(0, 1) truncated to [-3, 3]; sample 0 (axis 1) is 1."""
    f = np.ones(shape)
    if shape[1] > 1 and shape[2] > 0 and deviation > 0:
        rng = np.random.default_rng(seq)
        z = truncnorm.rvs(-SIGMAS_PER_DEVIATION, SIGMAS_PER_DEVIATION,
                          size=(shape[0], shape[1] - 1, shape[2]), random_state=rng)
        f[:, 1:, :] += deviation / SIGMAS_PER_DEVIATION * z
    return f


def stage_load(case: PlanningCase, n_stages: int, net=None) -> tuple[np.ndarray, np.ndarray]:
    """Peak load per stage and bus before any plan's resources (see module docstring).

    Parameters
    ----------
    case : PlanningCase
        Gives the horizon (growth) and the optional ``stage_demand`` table.
    n_stages : int
    net : pandapowerNet, optional
        The net whose loads are read (default ``case.net``; the scenario batch
        passes its planning grid's net).

    Returns
    -------
    p_mw, q_mvar : ndarray, shape (n_stages, n_bus)
        Columns in the order of ``net.bus.index``.

    Raises
    ------
    KeyError
        If a load or a ``stage_demand`` row names a bus that is not in the net.
    """
    net = case.net if net is None else net
    p0, q0 = bus_demand(net, tables=(("load", 1.0),))
    growth = stage_growth_factor(case.horizon, np.arange(1, n_stages + 1))
    base_p = growth[:, None] * p0
    base_q = growth[:, None] * q0
    table = case.candidates.get("stage_demand")
    if table is not None and len(table):
        pos = pd.Index(net.bus.index).get_indexer(table.bus)
        if (pos < 0).any():
            k = int(np.flatnonzero(pos < 0)[0])
            raise KeyError(f"case {case.name!r}: candidates.stage_demand row {table.index[k]} "
                           f"names bus {table.bus.iloc[k]}, which is not a bus of the net")
        stage = table.stage.to_numpy(np.int64)
        on = stage <= n_stages
        base_p[stage[on] - 1, pos[on]] = table.p_mw.to_numpy(float)[on]
        base_q[stage[on] - 1, pos[on]] = table.q_mvar.to_numpy(float)[on]
    return base_p, base_q


def _stage_demand(grid: PlanningGrid, n_stages: int):
    """Peak load per stage and bus, and the constant (sgen/storage) part per bus."""
    base_p, base_q = stage_load(grid.case, n_stages, grid.net)
    const_p, const_q = bus_demand(grid.net, tables=(("sgen", -1.0), ("storage", 1.0)))
    return base_p, base_q, const_p, const_q
