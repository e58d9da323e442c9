"""The planning case: a pandapower net plus what a planner may build on it.

A :class:`PlanningCase` bundles

* ``net``: a pandapower network with the base topology; existing lines are
  in service, normally-open tie lines are out of service. ``net.bus`` carries
  the extra columns ``feeder``, ``x_km``, ``y_km`` and ``net.line`` carries
  ``failure_rate_per_year`` and ``repair_time_h`` (see :mod:`fdnmoo.cases.schema`);
* ``candidates``: named pandas DataFrames (SOP-capable nodes, PV/SVC/ESS/EVCS
  candidate buses, substations, corridors, conductors, ...);
* ``horizon``, ``economics`` and ``uncertainty``: plain parameter records;
* ``reference``: published base-case figures the case is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ECONOMIC_FORMS", "Horizon", "Economics", "Uncertainty", "PlanningCase",
           "stage_growth_factor"]

#: Forms of the present-value objective (``economics.form``; defined in
#: :mod:`fdnmoo.metrics.economics`).
ECONOMIC_FORMS: tuple[str, ...] = ("horizon", "lifetime", "perpetuity")


@dataclass
class Horizon:
    """Planning horizon.

    Parameters
    ----------
    n_stages : int
        Number of planning stages.
    years_per_stage : float
        Length of every stage in years.
    load_growth_per_year : float or list of float
        Yearly growth of demand as a fraction (0.03 = 3 %/yr): one rate for the
        whole horizon, or one rate per stage (``n_stages`` values), each applied
        over its stage's years (:func:`stage_growth_factor`).
    pv_penetration : list of float
        Target PV capacity per stage as a share of the stage's peak load
        (empty: no target).
    ev_penetration : list of float
        EV charging demand per stage as a share of the stage's peak load.
    """

    n_stages: int = 3
    years_per_stage: float = 5.0
    load_growth_per_year: float | list[float] = 0.0
    pv_penetration: list[float] = field(default_factory=list)
    ev_penetration: list[float] = field(default_factory=list)


def stage_growth_factor(horizon: Horizon, stage):
    """Load growth factor of a stage relative to the case's demand: ``(1 + g) ** (stage * Y)``.

    Convention: the case's demand is that of year 0, the start of the horizon.
    Stage ``u`` (1-based, ``Y = horizon.years_per_stage``) covers the years
    ``(u-1) Y + 1 .. u Y``, as the discounting in :mod:`fdnmoo.metrics.economics`
    counts them, and is planned and operated at its demand at the **end** of
    its last year ``u Y``, i.e. with ``g = horizon.load_growth_per_year`` > 0,
    at the largest demand of the stage. This is seed 000's rated load (R. Wang
    et al., Nature Communications 15 (2024), below eq. (16)):
    ``P_u = P_{u-1} (1 + rho_u)^Y`` with ``P_0`` today's load, stage ``u``'s
    own growth rate ``rho_u`` applied over its ``Y`` years. With one rate per
    stage (``load_growth_per_year`` a list) the factor is
    ``prod_{s <= u} (1 + g_s) ** Y``; with one number it is computed as before,
    ``(1 + g) ** (u Y)``.

    Parameters
    ----------
    horizon : Horizon
    stage : int or array_like of int
        Stage number(s), 1-based.

    Returns
    -------
    float or ndarray
        The factor, of the shape of ``stage``.

    Raises
    ------
    ValueError
        If a stage is not a whole number >= 1, or is beyond a list of rates.

    Examples
    --------
    >>> stage_growth_factor(Horizon(years_per_stage=5.0, load_growth_per_year=0.02), 2)
    1.2189944199947573
    >>> stage_growth_factor(Horizon(n_stages=2, years_per_stage=5.0,
    ...                             load_growth_per_year=[0.02, 0.015]), 2)  # 1.02**5 1.015**5
    1.1894085882831722
    """
    u = np.asarray(stage)
    if u.dtype == bool or not np.issubdtype(u.dtype, np.number) or (u != np.round(u)).any() \
            or (u < 1).any():
        raise ValueError(f"stage must be a whole number >= 1, got {stage!r}")
    rate, years = horizon.load_growth_per_year, float(horizon.years_per_stage)
    if isinstance(rate, (list, tuple, np.ndarray)):
        if (u > len(rate)).any():
            raise ValueError(f"horizon.load_growth_per_year {list(rate)} has no rate for stage "
                             f"{int(np.max(u))}")
        cumulative = np.cumprod((1.0 + np.asarray(rate, dtype=float)) ** years)
        factor = cumulative[u.astype(np.int64) - 1]
    else:
        factor = (1.0 + float(rate)) ** (u * years)
    return float(factor) if factor.ndim == 0 else factor


@dataclass
class Economics:
    """Economic parameters of a case.

    Parameters
    ----------
    currency : str
        Currency of every cost (e.g. ``"USD"``, ``"CNY"``).
    discount_rate : float
        Yearly interest (discount) rate d used for present values and capital recovery.
    inflation_rate : float
        Yearly inflation rate f of the case's prices, which are in money of year 0
        (the horizon start): an amount priced for year t costs ``(1 + f)^t`` times
        its price (:mod:`fdnmoo.metrics.cost_model`). 0: constant prices.
    lifetimes_years : dict of str to float
        Economic lifetime per asset type (``"line"``, ``"sop"``, ``"pv"``, ...).
    unit_costs : dict of str to float or list of float
        Investment and O&M unit costs; the unit is in the key
        (``"sop_per_mva"``, ``"line_per_km"``, ``"pv_om_per_mw_year"``, ...).
        Each is one number or a list with one value per stage
        (``horizon.n_stages`` values): an item is priced at its build stage's value.
    prices : dict of str to float or list of float
        Energy prices and penalties; the unit is in the key
        (``"energy_per_mwh"``, ``"pv_feed_in_per_mwh"``, ``"unserved_energy_per_mwh"``);
        one number or one value per stage, as ``unit_costs``.
    sources : dict of str to str
        Where each number comes from.
    form : str
        How the net present value counts annualised investments and the horizon end,
        one of :data:`ECONOMIC_FORMS`: ``"horizon"`` (annuities until the horizon
        end), ``"lifetime"`` (the whole lifetime, i.e. the lump sum) or
        ``"perpetuity"`` (perpetual annuities plus a perpetual tail of the last
        stage's operation, seed 002's eq. (1)); see :mod:`fdnmoo.metrics.economics`.
    """

    currency: str = "USD"
    discount_rate: float = 0.08
    inflation_rate: float = 0.0
    lifetimes_years: dict[str, float] = field(default_factory=dict)
    unit_costs: dict[str, float | list[float]] = field(default_factory=dict)
    prices: dict[str, float | list[float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    form: str = "horizon"


@dataclass
class Uncertainty:
    """Source/load uncertainty of a case.

    Parameters
    ----------
    pv_deviation : float
        Relative half-width of PV output intervals (0.2 = +/-20 %).
    load_deviation : float
        Relative half-width of load intervals.
    sop_loss_coefficient : float
        Converter loss coefficient eta of SOP terminals (loss = eta * |S|).
    v_min_pu, v_max_pu : float
        Voltage band of the planning constraints.
    """

    pv_deviation: float = 0.2
    load_deviation: float = 0.1
    sop_loss_coefficient: float = 0.02
    v_min_pu: float = 0.93
    v_max_pu: float = 1.07


@dataclass
class PlanningCase:
    """A benchmark feeder with its planning data. See the module docstring."""

    name: str
    net: Any  # pandapower.pandapowerNet
    citation: str = ""
    description: str = ""
    candidates: dict[str, pd.DataFrame] = field(default_factory=dict)
    horizon: Horizon = field(default_factory=Horizon)
    economics: Economics = field(default_factory=Economics)
    uncertainty: Uncertainty = field(default_factory=Uncertainty)
    reference: dict[str, Any] = field(default_factory=dict)
    source_file: str | None = None

    @property
    def substation_buses(self) -> list[int]:
        """Bus labels of the in-service external grids (the substations)."""
        eg = self.net.ext_grid
        return sorted(int(b) for b in eg.bus[eg.in_service.astype(bool)])

    @property
    def tie_lines(self) -> pd.DataFrame:
        """Normally-open lines (out of service in the base topology)."""
        return self.net.line[~self.net.line.in_service.astype(bool)]

    @property
    def feeders(self) -> list[str]:
        """Sorted feeder labels (unsupplied buses, labelled "", are not a feeder)."""
        return sorted(set(self.net.bus.feeder.astype(str)) - {""})

    def summary(self) -> dict[str, Any]:
        """One row for ``fdnmoo cases``: name, sizes and source."""
        return {
            "name": self.name,
            "buses": len(self.net.bus),
            "lines": int(self.net.line.in_service.astype(bool).sum()),
            "ties": len(self.tie_lines),
            "feeders": len(self.feeders),
            "substations": len(self.substation_buses),
            "kv": float(self.net.bus.vn_kv.mode().iloc[0]),  # the distribution level
            "source": self.citation.split(";")[0][:70],
        }


def record_field_names(cls) -> set[str]:
    """Field names of one of the parameter records above."""
    return {f.name for f in fields(cls)}
