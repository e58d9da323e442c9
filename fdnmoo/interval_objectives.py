"""Interval values of objectives under ``uncertainty.method`` interval or affine.

An objective that reads the uncertain stage's bounds
(:class:`~fdnmoo.uncertain_pass.UncertainBounds`, ``ev.bounds``) returns an
:class:`ObjectiveInterval` ``[lo, hi]``; everywhere a number is expected it
stands for its midpoint (``float(value)``), which the problem reports as ``F``
(the interval centre, on which AA-NSGA-II crowds), with ``F_lo`` / ``F_hi``
beside it (:class:`~fdnmoo.problems.planning.PlanningProblem`).

Seed 004 (AA-NSGA-II) defines its objectives as affine forms in equations lost
in extraction; what is computed here, from the bounds of the uncertain stage:

``total_cost``
    The cost breakdown (:func:`~fdnmoo.metrics.economics.cost_breakdown`, linear in
    the energies with non-negative prices) at the cheapest end of every energy
    (least loss, unserved and violation energy, most PV) and at the dearest. The
    investment and O&M are certain. The ends are taken per energy and per slot
    independently, so the interval holds every combination of the sources
    (slots may move independently); it is wider than an affine cost that kept
    the same symbol in every slot would be.
``operational_adaptability``
    The margins of :func:`~fdnmoo.objectives.operational_adaptability` per bus,
    slot and line, at their worst (the voltage bound nearest a limit, the highest
    current) and at their best (the voltage in the bounds nearest the band's
    centre, the lowest current), then averaged: the mean of the elements'
    intervals, which drops the correlation between buses the affine forms carry.
``pv_uneven_degree``
    Every PV candidate's capacity as an affine form ``P (1 + level_pv eps)`` with its
    own symbol (``interval``: the interval ``P [1 - level, 1 + level]``); the
    distance-weighted standard deviation per area in that arithmetic (affine:
    centring exact, squares by Chebyshev, intersected with the interval evaluation, which
    also encloses and can be tighter at the low end; interval: centring loses the
    correlation), the variance's range cut at 0 and square-rooted, the areas' intervals
    summed.

A bound is never on the wrong side of the forecast value (the forecast is one
point of the box): each interval is widened to hold it, which only matters to
rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .uncertainty.affine import AffineForm
from .uncertainty.interval import Interval

__all__ = ["ObjectiveInterval", "cost_interval", "interval_of", "spread_interval"]


@dataclass(frozen=True)
class ObjectiveInterval:
    """An objective value known to lie in ``[lo, hi]`` (NaN: undefined)."""

    lo: float
    hi: float

    @property
    def mid(self) -> float:
        return 0.5 * (self.lo + self.hi)

    def __float__(self) -> float:
        return float(self.mid)

    def __neg__(self) -> "ObjectiveInterval":
        return ObjectiveInterval(-self.hi, -self.lo)


def interval_of(lo: float, hi: float, forecast: float) -> ObjectiveInterval:
    """``[lo, hi]`` widened to hold ``forecast`` (NaN if a bound is: undefined)."""
    return ObjectiveInterval(float(np.minimum(lo, forecast)), float(np.maximum(hi, forecast)))


def cost_interval(ev, forecast: float) -> ObjectiveInterval:
    """``total_cost`` over the bounds of ``ev.bounds`` (module docstring)."""
    from .metrics.economics import cost_breakdown

    cheap, dear = ev.bounds.cost_metrics(ev.ops)
    lo = float(cost_breakdown(ev.grid, ev.plan, cheap)["total"].to_numpy().sum())  # NaN stays
    hi = float(cost_breakdown(ev.grid, ev.plan, dear)["total"].to_numpy().sum())
    return interval_of(lo, hi, forecast)


def spread_interval(level: float, arithmetic: str = "affine"):
    """A ``spread`` for :func:`~fdnmoo.metrics.adaptability.pv_uneven_degree`: the bounds
    ``array([lo, hi])`` of the population standard deviation of ``x (1 + level eps)``,
    one symbol per element, in ``arithmetic`` (``"affine"`` or ``"interval"``)."""
    def spread(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        n = x.size
        if n < 2:
            return np.zeros(2)
        centring = np.eye(n) - 1.0 / n
        y = Interval(x - level * np.abs(x), x + level * np.abs(x)).linear(centring)
        var = y.square().sum() * (1.0 / n)
        lo, hi = float(var.lo), float(var.hi)
        if arithmetic == "affine":
            y = AffineForm(x, np.diag(level * np.abs(x))).linear(centring)
            aa = (y.square().sum() * (1.0 / n)).to_interval()
            lo, hi = max(lo, float(aa.lo)), min(hi, float(aa.hi))
        return np.sqrt(np.maximum([lo, hi], 0.0))

    return spread
