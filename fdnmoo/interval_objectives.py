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

Shared noise symbols (``affine`` only, for AA-NSGA-II's ``affine_difference``,
:mod:`fdnmoo.operators.aa_nsga2`): ``pv_uneven_degree`` also carries its affine
form over the problem's shared symbols, one per PV candidate (row of
``case.candidates["pv"]``), the same symbol in every stage and every plan
(:func:`uneven_form`): two plans with PV at the same candidates share those
terms, and they cancel in the difference of the two objectives. Its ``sqrt``
is AA's Chebyshev fit where the variance's range stays above 0, else the
interval of the square root (no shared terms). The form, centred on the
interval's midpoint (:meth:`ObjectiveInterval.with_form`), can be wider than
``[lo, hi]`` (which intersects it with interval arithmetic and uses a fresh
symbol per stage); both enclose. The other interval objectives have no shared
terms: their whole width is private.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .metrics.adaptability import pv_area_capacities
from .planning import PlanBatch
from .uncertainty.affine import AffineForm
from .uncertainty.interval import Interval

__all__ = ["ObjectiveInterval", "cost_interval", "interval_of", "n_shared_symbols",
           "spread_interval", "uneven_form"]


@dataclass(frozen=True)
class ObjectiveInterval:
    """An objective value known to lie in ``[lo, hi]`` (NaN: undefined)."""

    lo: float
    hi: float
    #: Coefficients over the problem's shared noise symbols (None: no shared terms), and the
    #: radius of the rest, so that the value is ``mid + shared @ eps +- private``.
    shared: np.ndarray | None = field(default=None, compare=False)
    private: float = field(default=0.0, compare=False)

    @property
    def mid(self) -> float:
        return 0.5 * (self.lo + self.hi)

    def __float__(self) -> float:
        return float(self.mid)

    def __neg__(self) -> "ObjectiveInterval":
        shared = None if self.shared is None else -self.shared
        return ObjectiveInterval(-self.hi, -self.lo, shared, self.private)

    def with_form(self, form: AffineForm) -> "ObjectiveInterval":
        """This interval with the shared terms of a scalar affine ``form`` enclosing the same
        value; the form is re-centred on :attr:`mid` (``|centre - mid|`` joins the private
        radius, which keeps the enclosure)."""
        if not np.isfinite(self.mid):
            return self
        private = float(form.error) + abs(float(form.center) - self.mid)
        return ObjectiveInterval(self.lo, self.hi, np.array(form.coeffs, dtype=float), private)


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
            aa = _affine_variance(x, level, np.arange(n), n).to_interval()
            lo, hi = max(lo, float(aa.lo)), min(hi, float(aa.hi))
        return np.sqrt(np.maximum([lo, hi], 0.0))

    return spread


def _affine_variance(x: np.ndarray, level: float, symbols: np.ndarray,
                     n_symbols: int) -> AffineForm:
    """Population variance of ``x_i (1 + level eps_{symbols_i})`` in affine arithmetic."""
    n = x.size
    y = AffineForm.from_sources(x, level * np.abs(x), symbols, n_symbols)
    return y.linear(np.eye(n) - 1.0 / n).square().sum() * (1.0 / n)


def n_shared_symbols(grid) -> int:
    """Number of shared noise symbols of the interval objectives: one per PV candidate."""
    table = grid.case.candidates.get("pv")
    return 0 if table is None else len(table)


def uneven_form(grid, plan, level: float) -> AffineForm:
    """``pv_uneven_degree`` of ``plan`` as a scalar affine form over one shared symbol per PV
    candidate, each candidate's capacity at ``(1 + level eps)`` (module docstring)."""
    n_symbols = n_shared_symbols(grid)
    total = AffineForm.constant(0.0, n_symbols)
    areas = pv_area_capacities(grid, PlanBatch.of(grid, [plan]))
    if areas is None:
        return total
    for k in np.unique(areas.group):
        members = areas.group == k
        if members.sum() < 2:
            continue
        var = _affine_variance(areas.x_mw[members], level, areas.candidate[members], n_symbols)
        lo = float(var.to_interval().lo)
        if lo > 0:
            total = total + var.sqrt()
        else:  # the Chebyshev fit of sqrt needs a range above 0: the interval, all private
            ends = np.sqrt(np.maximum([lo, float(var.to_interval().hi)], 0.0))
            total = total + AffineForm(ends.mean(), np.zeros(n_symbols), 0.5 * np.ptp(ends))
    return total * (1.0 / plan.n_stages)
