"""Compiled interval operations on one interval ``[lo, hi]``: the rules :mod:`.interval` documents.

Every operation returns the result's ``(lo, hi)``, moved one floating-point
step outwards (:func:`down`, :func:`up`) so the enclosure holds after
rounding. :class:`~fdnmoo.uncertainty.interval.Interval` applies them
elementwise (the ``*_many`` loops); the compiled interval sweep
(:mod:`fdnmoo.uncertainty.interval_sweep`) calls them per bus. numba's
on-disk cache does not notice an edit here in the compiled sweep: touch
``interval_sweep.py`` (or clear ``__pycache__``) after one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def down(x: float) -> float:
    return np.nextafter(x, -np.inf)


@njit(**_JIT)
def up(x: float) -> float:
    return np.nextafter(x, np.inf)


@njit(**_JIT)
def add(alo, ahi, blo, bhi):
    return down(alo + blo), up(ahi + bhi)


@njit(**_JIT)
def sub(alo, ahi, blo, bhi):
    return down(alo - bhi), up(ahi - blo)


@njit(**_JIT)
def mul(alo, ahi, blo, bhi):
    """The smallest and largest of the four end products (NaN if one is: inf * 0)."""
    p1, p2, p3, p4 = alo * blo, alo * bhi, ahi * blo, ahi * bhi
    if p1 != p1 or p2 != p2 or p3 != p3 or p4 != p4:
        return np.nan, np.nan
    return down(min(min(p1, p2), min(p3, p4))), up(max(max(p1, p2), max(p3, p4)))


@njit(**_JIT)
def reciprocal(lo, hi):
    """``1 / x``; ``[-inf, inf]`` where the interval holds 0."""
    if lo <= 0 and hi >= 0:
        return -np.inf, np.inf
    return down(1.0 / hi), up(1.0 / lo)


@njit(**_JIT)
def square(lo, hi):
    """``x ** 2`` (tighter than ``x * x``: the two factors are the same number)."""
    a, b = lo * lo, hi * hi
    low = 0.0 if (lo <= 0 and hi >= 0) else min(a, b)
    return max(down(low), 0.0), up(max(a, b))  # a square is never negative


@njit(**_JIT)
def sqrt(lo, hi):
    if lo < 0:
        raise ValueError("square root of an interval reaching below 0")
    return max(down(np.sqrt(lo)), 0.0), up(np.sqrt(hi))


@njit(**_JIT)
def absolute(lo, hi):
    a, b = abs(lo), abs(hi)
    return (0.0 if (lo <= 0 and hi >= 0) else min(a, b)), max(a, b)


# --- elementwise loops over flat arrays ------------------------------------------------------
@njit(**_JIT)
def binary_many(op, alo, ahi, blo, bhi):
    """``op`` (0: add, 1: sub, 2: mul) of every pair."""
    n = alo.shape[0]
    lo, hi = np.empty(n), np.empty(n)
    for k in range(n):
        if op == 0:
            lo[k], hi[k] = add(alo[k], ahi[k], blo[k], bhi[k])
        elif op == 1:
            lo[k], hi[k] = sub(alo[k], ahi[k], blo[k], bhi[k])
        else:
            lo[k], hi[k] = mul(alo[k], ahi[k], blo[k], bhi[k])
    return lo, hi


@njit(**_JIT)
def unary_many(op, xlo, xhi):
    """``op`` (0: reciprocal, 1: square, 2: sqrt, 3: abs) of every interval."""
    n = xlo.shape[0]
    lo, hi = np.empty(n), np.empty(n)
    for k in range(n):
        if op == 0:
            lo[k], hi[k] = reciprocal(xlo[k], xhi[k])
        elif op == 1:
            lo[k], hi[k] = square(xlo[k], xhi[k])
        elif op == 2:
            lo[k], hi[k] = sqrt(xlo[k], xhi[k])
        else:
            lo[k], hi[k] = absolute(xlo[k], xhi[k])
    return lo, hi
