"""Uncertainty: interval and affine arithmetic, affine power flow, Monte Carlo scenarios.

:class:`Interval` bounds quantities by ``[lo, hi]``; :class:`AffineForm` keeps
their dependence on the uncertain sources (one noise symbol per PV unit or
load group), so that correlated quantities do not widen each other.
"""

from .affine import AffineForm
from .copulas import CopulaModel, rank_copulas
from .daily import DailyScenarioModel, daily_matrix
from .interval import Interval
from .marginals import GMMMarginal, KDEMarginal
from .nataf import NatafModel, NatafSampler, nataf_correlation
from .reduction import ReducedScenarios, backward_reduction, kmeans_reduction

__all__ = ["AffineForm", "CopulaModel", "DailyScenarioModel", "GMMMarginal", "Interval", "KDEMarginal",
           "NatafModel", "NatafSampler", "ReducedScenarios", "backward_reduction", "daily_matrix",
           "kmeans_reduction", "nataf_correlation", "rank_copulas"]
