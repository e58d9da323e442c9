"""Compiled affine-arithmetic operations on one quantity: the rules :mod:`.affine` documents.

A quantity is ``(c, a[i], e)``: its centre, row ``i`` of a 2-D array ``a`` of
shared-symbol coefficients, and its private error (>= 0). Every operation
writes the result's coefficients into row ``k`` of ``out`` (which may be an
operand's row: the operands' radii are taken before it is written) and returns
the result's centre and error. The error already holds the rounding slack of
the operation (:func:`slacked`), so a chain of these calls encloses in
floating point. Rows are passed as (array, index) rather than as 1-D views,
and each operation sums ``|coeffs|`` in the loop that writes them: in the
sweep a view or a second pass costs more than the arithmetic of a short row.

:class:`~fdnmoo.uncertainty.affine.AffineForm` applies them elementwise (the
``*_many`` loops at the end); the compiled sweep
(:mod:`fdnmoo.uncertainty.affine_sweep`) calls them per bus, so both do the
same arithmetic. numba's on-disk cache does not notice an edit here in the
compiled sweep: touch ``affine_sweep.py`` (or clear ``__pycache__``) after one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ROUNDING = 8 * np.finfo(float).eps  # relative slack per operation

# reassociation lets the coefficient sums vectorise; no 'arcp' (x / y stays a division),
# no 'nnan'/'ninf' (the range checks compare)
_FAST = {"reassoc", "contract", "nsz"}
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
    error ``e``: ``ROUNDING (|c| + size + e)``. The operations below sum ``|coeffs|`` while
    they write them."""
    return e + ROUNDING * (abs(c) + size + e)


@njit(**_JIT)
def slacked(c, a, i, e) -> float:
    """:func:`slack` of a result ``(c, a[i], e)``."""
    return slack(c, abs_sum(a, i), e)


# --- affine operations (exact up to rounding) ----------------------------------------------------
@njit(**_JIT)
def add(cx, ax, i, ex, cy, ay, j, ey, out, k):
    """``x + y`` (private terms add: they are independent)."""
    size = 0.0
    for m in range(out.shape[1]):
        v = ax[i, m] + ay[j, m]
        out[k, m] = v
        size += abs(v)
    c = cx + cy
    e = ex + ey
    return c, slack(c, size, e)


@njit(**_JIT)
def shift(cx, ax, i, ex, number, out, k):
    """``x + number``."""
    size = 0.0
    for m in range(out.shape[1]):
        v = ax[i, m]
        out[k, m] = v
        size += abs(v)
    c = cx + number
    return c, slack(c, size, ex)


@njit(**_JIT)
def scale(cx, ax, i, ex, number, out, k):
    """``number * x``."""
    size = 0.0
    for m in range(out.shape[1]):
        v = ax[i, m] * number
        out[k, m] = v
        size += abs(v)
    c = cx * number
    e = ex * abs(number)
    return c, slack(c, size, e)


@njit(**_JIT)
def negate(cx, ax, i, out, k) -> float:
    """``-x`` (exact: no slack; the error stays): writes the coefficients, returns the centre."""
    for m in range(out.shape[1]):
        out[k, m] = -ax[i, m]
    return -cx


@njit(**_JIT)
def mul(cx, ax, i, ex, cy, ay, j, ey, out, k):
    """``x y``: the exact bilinear part; the product of the two deviations is bounded by the
    product of the radii and goes to the private term."""
    rx, ry = ex, ey
    for m in range(out.shape[1]):
        rx += abs(ax[i, m])
        ry += abs(ay[j, m])
    size = 0.0
    for m in range(out.shape[1]):
        v = cx * ay[j, m] + cy * ax[i, m]
        out[k, m] = v
        size += abs(v)
    c = cx * cy
    e = abs(cx) * ey + abs(cy) * ex + rx * ry
    return c, slack(c, size, e)


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
def fitted(cx, ax, i, ex, kind, out, k):
    """``f(x)`` by the fit of ``kind`` (0: square, 1: sqrt, 2: reciprocal, 3: abs) over the
    range ``c +- r`` (``r`` the radius widened by the rounding slack), then ``alpha x + zeta``
    with the approximation error ``delta`` in the private term (AF1: the new symbol is
    condensed into the private term at once)."""
    r = ex
    for m in range(ax.shape[1]):
        r += abs(ax[i, m])
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
    for m in range(out.shape[1]):
        v = alpha * ax[i, m]
        out[k, m] = v
        size += abs(v)
    c = alpha * cx + zeta
    e = abs(alpha) * ex + delta
    return c, slack(c, size, e)


@njit(**_JIT)
def square(cx, ax, i, ex, out, k):
    return fitted(cx, ax, i, ex, 0, out, k)


@njit(**_JIT)
def sqrt(cx, ax, i, ex, out, k):
    return fitted(cx, ax, i, ex, 1, out, k)


@njit(**_JIT)
def reciprocal(cx, ax, i, ex, out, k):
    return fitted(cx, ax, i, ex, 2, out, k)


@njit(**_JIT)
def absolute(cx, ax, i, ex, out, k):
    return fitted(cx, ax, i, ex, 3, out, k)


# --- elementwise loops over flat arrays: c (N,), a (N, n_symbols), e (N,) ----------------------
@njit(**_JIT)
def binary_many(op, cx, ax, ex, cy, ay, ey):
    """``op`` (0: add, 1: mul) of every pair of quantities."""
    n = cx.shape[0]
    c, a, e = np.empty(n), np.empty(ax.shape), np.empty(n)
    for k in range(n):
        if op == 0:
            c[k], e[k] = add(cx[k], ax, k, ex[k], cy[k], ay, k, ey[k], a, k)
        else:
            c[k], e[k] = mul(cx[k], ax, k, ex[k], cy[k], ay, k, ey[k], a, k)
    return c, a, e


@njit(**_JIT)
def with_number_many(op, cx, ax, ex, k):
    """``op`` (0: ``x + k``, 1: ``k x``) with one number per quantity."""
    n = cx.shape[0]
    c, a, e = np.empty(n), np.empty(ax.shape), np.empty(n)
    for j in range(n):
        if op == 0:
            c[j], e[j] = shift(cx[j], ax, j, ex[j], k[j], a, j)
        else:
            c[j], e[j] = scale(cx[j], ax, j, ex[j], k[j], a, j)
    return c, a, e


@njit(**_JIT)
def unary_many(op, cx, ax, ex):
    """``op`` (0: square, 1: sqrt, 2: reciprocal, 3: abs) of every quantity."""
    n = cx.shape[0]
    c, a, e = np.empty(n), np.empty(ax.shape), np.empty(n)
    for k in range(n):
        if op == 0:
            c[k], e[k] = square(cx[k], ax, k, ex[k], a, k)
        elif op == 1:
            c[k], e[k] = sqrt(cx[k], ax, k, ex[k], a, k)
        elif op == 2:
            c[k], e[k] = reciprocal(cx[k], ax, k, ex[k], a, k)
        else:
            c[k], e[k] = absolute(cx[k], ax, k, ex[k], a, k)
    return c, a, e


@njit(**_JIT)
def slacked_many(c, a, e):
    """The errors of results ``(c, a, e)`` made by one matrix operation, with its slack."""
    out = np.empty(c.shape[0])
    for k in range(c.shape[0]):
        out[k] = slacked(c[k], a, k, e[k])
    return out


@njit(**_JIT)
def radius_many(a, e):
    """``sum |a[k]| + e[k]`` of every quantity."""
    out = np.empty(e.shape[0])
    for k in range(e.shape[0]):
        out[k] = abs_sum(a, k) + e[k]
    return out
