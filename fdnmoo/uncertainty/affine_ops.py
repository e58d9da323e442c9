"""Compiled affine-arithmetic operations: the rules :mod:`.affine` documents.

A form is three arrays: centres ``c`` (N,), shared-symbol coefficients ``a``
(N, n_symbols) and private errors ``e`` (N,) (>= 0). Every operation works
on a block of ``rows`` consecutive quantities: rows ``i, i+1, ...`` of its
operands into rows ``k, k+1, ...`` of its result (which may be an operand's
rows: each row's operands are read before it is written). A number operand is
``w[wi + r * ws]`` for row ``r`` (``ws = 0``: one number for the block). The
result's error holds the rounding slack of the operation (:func:`slack`), so a
chain of these calls encloses in floating point. Each operation sums
``|coeffs|`` in the loop that writes them, and works on a block rather than
one quantity: in the sweep a call, a view or a second pass costs more than the
arithmetic of a short row.

:class:`~fdnmoo.uncertainty.affine.AffineForm` calls them on whole (flat)
arrays (the ``*_many`` functions at the end); the compiled sweep
(:mod:`fdnmoo.uncertainty.affine_sweep`) on each bus's block of time slots,
so both do the same arithmetic. numba's on-disk cache does not notice an edit
here in the compiled sweep: touch ``affine_sweep.py`` (or clear
``__pycache__``) after one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ROUNDING = 8 * np.finfo(float).eps  # relative slack per operation

# no 'reassoc' or 'contract': they let LLVM reorder sums and fuse multiply-adds differently
# where an operation is inlined into the sweep than where it is called alone, and between a
# fresh compile and one loaded from numba's cache, so the same bounds could differ in their
# last bit between two processes (seen: a joblib worker and the main process on a cold cache)
_FAST = {"nsz"}
_JIT = dict(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")


@njit(**_JIT)
def abs_sum(a, i) -> float:
    """``sum |a[i]|``."""
    s = 0.0
    for m in range(a.shape[1]):
        s += abs(a[i, m])
    return s


@njit(**_JIT)
def slack(c, size, e) -> float:
    """``e`` plus the rounding slack of a result of centre ``c``, ``sum |coeffs| = size`` and
    error ``e``: ``ROUNDING (|c| + size + e)``."""
    return e + ROUNDING * (abs(c) + size + e)


# --- affine operations (exact up to rounding) ----------------------------------------------------
@njit(**_JIT)
def add(xc, xa, xe, i, yc, ya, ye, j, oc, oa, oe, k, rows):
    """``x + y`` (private terms add: they are independent)."""
    for r in range(rows):
        size = 0.0
        for m in range(oa.shape[1]):
            v = xa[i + r, m] + ya[j + r, m]
            oa[k + r, m] = v
            size += abs(v)
        c = xc[i + r] + yc[j + r]
        e = xe[i + r] + ye[j + r]
        oc[k + r] = c
        oe[k + r] = slack(c, size, e)


@njit(**_JIT)
def shift(xc, xa, xe, i, w, wi, ws, oc, oa, oe, k, rows):
    """``x + w``."""
    for r in range(rows):
        size = 0.0
        for m in range(oa.shape[1]):
            v = xa[i + r, m]
            oa[k + r, m] = v
            size += abs(v)
        c = xc[i + r] + w[wi + r * ws]
        e = xe[i + r]
        oc[k + r] = c
        oe[k + r] = slack(c, size, e)


@njit(**_JIT)
def scale(xc, xa, xe, i, w, wi, ws, oc, oa, oe, k, rows):
    """``w x``."""
    for r in range(rows):
        f = w[wi + r * ws]
        size = 0.0
        for m in range(oa.shape[1]):
            v = xa[i + r, m] * f
            oa[k + r, m] = v
            size += abs(v)
        c = xc[i + r] * f
        e = xe[i + r] * abs(f)
        oc[k + r] = c
        oe[k + r] = slack(c, size, e)


@njit(**_JIT)
def negate(oc, oa, k, rows) -> None:
    """``-x`` in place (exact: no slack; the error stays)."""
    for r in range(rows):
        for m in range(oa.shape[1]):
            oa[k + r, m] = -oa[k + r, m]
        oc[k + r] = -oc[k + r]


@njit(**_JIT)
def mul(xc, xa, xe, i, yc, ya, ye, j, oc, oa, oe, k, rows):
    """``x y``: the exact bilinear part; the product of the two deviations is bounded by the
    product of the radii and goes to the private term."""
    for r in range(rows):
        cx, cy, ex, ey = xc[i + r], yc[j + r], xe[i + r], ye[j + r]
        rx, ry = ex, ey
        for m in range(oa.shape[1]):
            rx += abs(xa[i + r, m])
            ry += abs(ya[j + r, m])
        size = 0.0
        for m in range(oa.shape[1]):
            v = cx * ya[j + r, m] + cy * xa[i + r, m]
            oa[k + r, m] = v
            size += abs(v)
        c = cx * cy
        oc[k + r] = c
        oe[k + r] = slack(c, size, abs(cx) * ey + abs(cy) * ex + rx * ry)


# --- non-affine operations: Chebyshev (minimax) fits alpha x + zeta +- delta --------------------
@njit(**_JIT)
def square_fit(c, r):
    """``x ** 2`` on ``[c - r, c + r]``: ``c**2 + r**2/2 + 2c (x - c) +- r**2/2``."""
    return 2 * c, r * r / 2 - c * c, r * r / 2


@njit(**_JIT)
def sqrt_fit(lo, hi):
    """``sqrt x`` on ``[lo, hi]`` (``lo >= 0``): chord slope, error halved between the ends and
    the tangent point ``1 / (4 alpha**2)`` (concave function)."""
    if lo < 0:
        raise ValueError("square root of an affine form reaching below 0")
    sa, sb = np.sqrt(lo), np.sqrt(hi)
    if hi - lo > 1e-300:
        alpha = (sb - sa) / (hi - lo)
    elif sa > 0:
        alpha = 0.5 / sa
    else:
        alpha = 0.0
    e_end = sa - alpha * lo
    e_mid = 0.25 / alpha if alpha > 0 else sb
    return alpha, 0.5 * (e_end + e_mid), 0.5 * abs(e_mid - e_end)


@njit(**_JIT)
def reciprocal_fit(c, lo, hi):
    """``1 / x`` on ``[lo, hi]`` not holding 0: for ``1/|x|`` the chord slope, the tangent touching
    at ``sqrt(lo hi)`` (convex); ``1/x = sign / |x|`` flips ``zeta`` with the sign of ``c``."""
    if lo <= 0 and hi >= 0:
        raise ValueError("reciprocal of an affine form whose range holds 0")
    sign = 1.0 if c > 0 else -1.0
    a, b = (lo, hi) if sign > 0 else (-hi, -lo)  # |x| in [a, b], a > 0
    alpha = -1.0 / (a * b)
    e_end = 1.0 / a + 1.0 / b  # 1/x - alpha x at both ends
    e_mid = 2.0 / np.sqrt(a * b)
    return alpha, sign * 0.5 * (e_end + e_mid), 0.5 * (e_end - e_mid)


@njit(**_JIT)
def abs_fit(lo, hi):
    """``|x|``: exact where ``[lo, hi]`` keeps one sign, else the minimax line on it."""
    if lo >= 0:
        return 1.0, 0.0, 0.0
    if hi <= 0:
        return -1.0, 0.0, 0.0
    alpha = (lo + hi) / (hi - lo)
    e_end = -lo * (1 + alpha)  # |x| - alpha x at both ends; 0 at x = 0
    return alpha, 0.5 * e_end, 0.5 * e_end


@njit(**_JIT)
def fitted(kind, xc, xa, xe, i, oc, oa, oe, k, rows):
    """``f(x)`` by the fit of ``kind`` (0: square, 1: sqrt, 2: reciprocal, 3: abs) over the
    range ``c +- r`` (``r`` the radius widened by the rounding slack), then ``alpha x + zeta``
    with the approximation error ``delta`` in the private term (AF1: the new symbol is
    condensed into the private term at once)."""
    for q in range(rows):
        cx, ex = xc[i + q], xe[i + q]
        r = ex
        for m in range(xa.shape[1]):
            r += abs(xa[i + q, m])
        r *= 1 + ROUNDING
        if kind == 0:
            alpha, zeta, delta = square_fit(cx, r)
        elif kind == 1:
            alpha, zeta, delta = sqrt_fit(cx - r, cx + r)
        elif kind == 2:
            alpha, zeta, delta = reciprocal_fit(cx, cx - r, cx + r)
        else:
            alpha, zeta, delta = abs_fit(cx - r, cx + r)
        size = 0.0
        for m in range(oa.shape[1]):
            v = alpha * xa[i + q, m]
            oa[k + q, m] = v
            size += abs(v)
        c = alpha * cx + zeta
        oc[k + q] = c
        oe[k + q] = slack(c, size, abs(alpha) * ex + delta)


SQUARE, SQRT, RECIPROCAL, ABS = 0, 1, 2, 3


# --- whole flat arrays (for AffineForm) ------------------------------------------------------------
@njit(**_JIT)
def _empty_like(xc, xa):
    return np.empty(xc.shape[0]), np.empty(xa.shape), np.empty(xc.shape[0])


@njit(**_JIT)
def binary_many(op, xc, xa, xe, yc, ya, ye):
    """``op`` (0: add, 1: mul) of every pair of quantities."""
    oc, oa, oe = _empty_like(xc, xa)
    if op == 0:
        add(xc, xa, xe, 0, yc, ya, ye, 0, oc, oa, oe, 0, xc.shape[0])
    else:
        mul(xc, xa, xe, 0, yc, ya, ye, 0, oc, oa, oe, 0, xc.shape[0])
    return oc, oa, oe


@njit(**_JIT)
def with_number_many(op, xc, xa, xe, w):
    """``op`` (0: ``x + w``, 1: ``w x``) with one number per quantity."""
    oc, oa, oe = _empty_like(xc, xa)
    if op == 0:
        shift(xc, xa, xe, 0, w, 0, 1, oc, oa, oe, 0, xc.shape[0])
    else:
        scale(xc, xa, xe, 0, w, 0, 1, oc, oa, oe, 0, xc.shape[0])
    return oc, oa, oe


@njit(**_JIT)
def unary_many(op, xc, xa, xe):
    """``op`` (0: square, 1: sqrt, 2: reciprocal, 3: abs) of every quantity."""
    oc, oa, oe = _empty_like(xc, xa)
    fitted(op, xc, xa, xe, 0, oc, oa, oe, 0, xc.shape[0])
    return oc, oa, oe


@njit(**_JIT)
def slacked_many(c, a, e):
    """The errors of results ``(c, a, e)`` made by one matrix operation, with its slack."""
    out = np.empty(c.shape[0])
    for k in range(c.shape[0]):
        out[k] = slack(c[k], abs_sum(a, k), e[k])
    return out


@njit(**_JIT)
def radius_many(a, e):
    """``sum |a[k]| + e[k]`` of every quantity."""
    out = np.empty(e.shape[0])
    for k in range(e.shape[0]):
        out[k] = abs_sum(a, k) + e[k]
    return out
