"""Dominance between interval objective vectors by possibility degree (AA-NSGA-II).

Seed 004 compares uncertain objectives by their *confidence level*, the
possibility degree that one interval lies below the other::

    P(A <= B) = clip((b_hi - a_lo) / (w_A + w_B), 0, 1),    w = hi - lo,

and lets ``a`` dominate ``b`` when ``P(f_a <= f_b) >= beta`` on every objective
and ``> beta`` on at least one. The same degree is that of the difference
``D = A - B`` being at most 0, ``P(D <= 0) = clip(-d_lo / w_D, 0, 1)``: with
independent intervals ``D`` has centre ``a - b`` and radius ``r_A + r_B``, and
both formulas agree; with affine forms sharing noise symbols the shared parts of
``A - B`` cancel and ``D`` is narrower (:func:`difference_possibility`).

**Tie convention** (both widths 0, i.e. ``w_D = 0``): ``P = 1`` if ``a < b``,
``0`` if ``a > b`` and ``0.5`` if ``a == b``. So ``P(A <= B) + P(B <= A) = 1``
always, and with zero widths and ``beta = 0.5`` the relation is Pareto
dominance exactly (``a <= b`` everywhere, ``<`` somewhere; equal vectors do not
dominate each other). With zero widths and ``beta > 0.5`` it is strict
dominance on every objective.

What ``beta`` does: ``P(A <= B) >= beta`` is, for ``w_D > 0``,
``b_c - a_c >= (2 beta - 1) r_D`` with ``a_c``, ``b_c`` the centres and ``r_D``
the radius of ``D`` (``r_A + r_B`` for intervals). Hence

* ``beta = 0.5``: ``a`` dominates ``b`` iff its centres Pareto-dominate ``b``'s; the
  widths (and ``affine_difference``) do not matter. This is what the formula
  gives, not a choice made here.
* ``beta > 0.5``: the centre must be better by a margin proportional to the
  uncertainty. The relation is a strict partial order (asymmetric, and
  transitive: the margins add up, and ``r_{AC} <= r_{AB} + r_{BC}`` by the
  triangle inequality for affine radii too), so the fronts are the usual ones.
* ``beta < 0.5``: overlapping intervals (identical ones too) can dominate each
  other, and the relation need not be transitive. :func:`dominance_fronts` peels
  fronts so that this stays well defined.
"""

from __future__ import annotations

import numpy as np

__all__ = ["difference_possibility", "dominates", "dominance_fronts", "possibility_degree"]


def _degree(numerator: np.ndarray, width: np.ndarray) -> np.ndarray:
    """``clip(numerator / width, 0, 1)``; where ``width == 0`` the tie convention on the
    sign of ``numerator`` (then ``b - a``): 1, 0.5 or 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.clip(numerator / width, 0.0, 1.0)
    return np.where(width > 0, ratio, 0.5 + 0.5 * np.sign(numerator))


def possibility_degree(a_lo, a_hi, b_lo, b_hi) -> np.ndarray:
    """Possibility degree ``P(A <= B)`` of intervals ``A = [a_lo, a_hi]``, ``B = [b_lo, b_hi]``.

    Parameters
    ----------
    a_lo, a_hi, b_lo, b_hi : array_like
        Interval ends (``lo <= hi``), broadcast against each other.

    Returns
    -------
    ndarray
        ``clip((b_hi - a_lo) / (w_A + w_B), 0, 1)`` elementwise; where both widths
        are 0, 1 if ``a < b``, 0.5 if ``a == b`` and 0 if ``a > b`` (module docstring).
    """
    a_lo, a_hi, b_lo, b_hi = (np.asarray(v, dtype=float) for v in (a_lo, a_hi, b_lo, b_hi))
    return _degree(b_hi - a_lo, (a_hi - a_lo) + (b_hi - b_lo))


def difference_possibility(d_centre, d_radius) -> np.ndarray:
    """Possibility degree ``P(D <= 0)`` of ``D = [d_centre - d_radius, d_centre + d_radius]``.

    ``D`` is the difference ``A - B`` of two objective values; ``P(D <= 0)`` is
    ``P(A <= B)``. For affine forms ``A = a0 + sum_i a_i eps_i (+- r_A)`` and
    ``B = b0 + sum_i b_i eps_i (+- r_B)`` over shared symbols ``eps_i``,
    ``d_centre = a0 - b0`` and ``d_radius = sum_i |a_i - b_i| + r_A + r_B``.

    Parameters
    ----------
    d_centre, d_radius : array_like
        Centre and radius (``>= 0``) of ``D``, broadcast against each other.

    Returns
    -------
    ndarray
        ``clip(-d_lo / w_D, 0, 1)`` with ``d_lo = d_centre - d_radius`` and
        ``w_D = 2 d_radius``; where ``d_radius == 0`` the tie convention on ``-d_centre``.
    """
    d_centre, d_radius = np.asarray(d_centre, dtype=float), np.asarray(d_radius, dtype=float)
    return _degree(d_radius - d_centre, 2.0 * d_radius)


def dominates(degrees: np.ndarray, beta: float) -> np.ndarray:
    """Whether ``a`` dominates ``b`` given ``degrees[..., k] = P(f_a,k <= f_b,k)``.

    ``P >= beta`` on every objective (last axis) and ``P > beta`` on at least one.
    """
    return np.all(degrees >= beta, axis=-1) & np.any(degrees > beta, axis=-1)


def dominance_fronts(dominance: np.ndarray, n_stop_if_ranked: int | None = None
                     ) -> list[np.ndarray]:
    """Peel non-dominated fronts off any dominance matrix.

    Each front is the set of remaining members dominated by no remaining member
    (for a transitive relation: the usual non-dominated sorting). A relation
    such as :func:`dominates` for ``beta < 0.5`` need not be transitive, so the
    remaining members can all be dominated (a cycle); then the front is those
    with the fewest remaining dominators. Every front is non-empty, so the
    peeling ends.

    Parameters
    ----------
    dominance : ndarray of bool, shape (n, n)
        ``dominance[i, j]``: member ``i`` dominates member ``j`` (the diagonal is ignored).
    n_stop_if_ranked : int, optional
        Stop once at least this many members are in fronts (as pymoo's sorting does).

    Returns
    -------
    list of ndarray of int
        The fronts, best first, each in ascending member order.
    """
    dominance = np.array(dominance, dtype=bool)
    n = dominance.shape[0]
    np.fill_diagonal(dominance, False)
    stop = n if n_stop_if_ranked is None else min(n, n_stop_if_ranked)
    n_dominators = dominance.sum(axis=0)
    remaining = np.ones(n, dtype=bool)
    fronts, n_ranked = [], 0
    while n_ranked < stop:
        fewest = n_dominators[remaining].min()
        front = np.flatnonzero(remaining & (n_dominators == fewest))
        fronts.append(front)
        n_ranked += front.size
        remaining[front] = False
        n_dominators -= dominance[front].sum(axis=0)
    return fronts
