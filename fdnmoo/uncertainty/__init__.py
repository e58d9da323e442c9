"""Uncertainty: interval and affine arithmetic (more to come: affine power flow, Monte Carlo).

:class:`Interval` bounds quantities by ``[lo, hi]``; :class:`AffineForm` keeps
their dependence on the uncertain sources (one noise symbol per PV unit or
load group), so that correlated quantities do not widen each other.
"""

from .affine import AffineForm
from .interval import Interval

__all__ = ["AffineForm", "Interval"]
