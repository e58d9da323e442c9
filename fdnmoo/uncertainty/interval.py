"""Vectorised interval arithmetic with outward rounding.

An :class:`Interval` holds two arrays of one shape, ``lo <= hi``; every
operation works elementwise (numpy broadcasting) and returns an interval that
contains every value the operation can take for operands inside their
intervals. Each result's bounds are moved one floating-point step outwards
(``numpy.nextafter``), so the enclosure also holds after rounding.

Division by an interval that contains 0 gives ``[-inf, inf]`` at that element
(the only enclosure there is); the square root of an interval reaching below 0
raises ``ValueError``. The operations on one interval are compiled functions
in :mod:`fdnmoo.uncertainty.interval_ops`, applied here elementwise with numpy
broadcasting; the compiled interval sweep calls the same functions per bus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import interval_ops as ops

__all__ = ["Interval"]


def _outward(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)


@dataclass(frozen=True)
class Interval:
    """Elementwise intervals ``[lo, hi]``.

    Parameters
    ----------
    lo, hi : array_like
        Lower and upper bounds, broadcast to one shape; ``lo <= hi`` everywhere.

    Raises
    ------
    ValueError
        If a bound is NaN or ``lo > hi`` somewhere (naming the first position).
    """

    lo: np.ndarray
    hi: np.ndarray

    def __post_init__(self) -> None:
        lo, hi = np.broadcast_arrays(np.asarray(self.lo, dtype=float), np.asarray(self.hi, dtype=float))
        bad = np.isnan(lo) | np.isnan(hi) | (lo > hi)
        if bad.any():
            k = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape))
            raise ValueError(f"not an interval at {k}: [{lo[k]}, {hi[k]}]")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    __array_ufunc__ = None  # numpy arrays on the left defer to the reflected operators

    # --- construction and views -----------------------------------------------------------
    @classmethod
    def around(cls, center, radius) -> "Interval":
        """``[center - radius, center + radius]`` (``radius >= 0``)."""
        c, r = np.asarray(center, float), np.asarray(radius, float)
        if np.any(r < 0):
            raise ValueError("radius must be >= 0")
        return cls(*_outward(c - r, c + r))

    @classmethod
    def point(cls, x) -> "Interval":
        x = np.asarray(x, float)
        return cls(x, x)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.lo.shape

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.lo + self.hi)

    @property
    def rad(self) -> np.ndarray:
        return 0.5 * (self.hi - self.lo)

    @property
    def width(self) -> np.ndarray:
        return self.hi - self.lo

    def contains(self, x, tol: float = 0.0) -> np.ndarray:
        """Whether ``x`` lies in the interval (widened by ``tol``), elementwise."""
        x = np.asarray(x, float)
        return (x >= self.lo - tol) & (x <= self.hi + tol)

    def __getitem__(self, index) -> "Interval":
        return Interval(self.lo[index], self.hi[index])

    def hull(self, other: "Interval") -> "Interval":
        """Smallest interval holding both."""
        other = _as_interval(other)
        return Interval(np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi))

    # --- arithmetic ---------------------------------------------------------------------------
    def __neg__(self) -> "Interval":
        return Interval(-self.hi, -self.lo)

    def __add__(self, other) -> "Interval":
        return _binary(0, self, other)

    __radd__ = __add__

    def __sub__(self, other) -> "Interval":
        return _binary(1, self, other)

    def __rsub__(self, other) -> "Interval":
        return _as_interval(other) - self

    def __mul__(self, other) -> "Interval":
        return _binary(2, self, other)

    __rmul__ = __mul__

    def reciprocal(self) -> "Interval":
        """``1 / x``; ``[-inf, inf]`` where the interval holds 0."""
        return _unary(0, self)

    def __truediv__(self, other) -> "Interval":
        return self * _as_interval(other).reciprocal()

    def __rtruediv__(self, other) -> "Interval":
        return _as_interval(other) * self.reciprocal()

    def square(self) -> "Interval":
        """``x ** 2`` (tighter than ``x * x``: the two factors are the same number)."""
        return _unary(1, self)

    def sqrt(self) -> "Interval":
        return _unary(2, self)

    def abs(self) -> "Interval":
        return _unary(3, self)

    def linear(self, matrix) -> "Interval":
        """``matrix @ x`` over the last axis (midpoint-radius form: ``M mid +- |M| rad``);
        leading axes are kept."""
        m = np.asarray(matrix, float)
        a = np.abs(m).T
        mid, rad = self.mid @ m.T, self.rad @ a
        slack = 4 * np.finfo(float).eps * (np.abs(self.mid) @ a + rad)
        return Interval(*_outward(mid - rad - slack, mid + rad + slack))

    def sum(self, axis=None) -> "Interval":
        return Interval(*_outward(self.lo.sum(axis=axis), self.hi.sum(axis=axis)))


def _as_interval(x) -> Interval:
    return x if isinstance(x, Interval) else Interval.point(x)


def _flat(x, shape) -> np.ndarray:
    return np.require(np.broadcast_to(x, shape), dtype=float, requirements=["C", "W"]).reshape(-1)


def _binary(op: int, x: Interval, y) -> Interval:
    y = _as_interval(y)
    shape = np.broadcast_shapes(x.shape, y.shape)
    lo, hi = ops.binary_many(op, _flat(x.lo, shape), _flat(x.hi, shape), _flat(y.lo, shape),
                             _flat(y.hi, shape))
    return Interval(lo.reshape(shape), hi.reshape(shape))


def _unary(op: int, x: Interval) -> Interval:
    lo, hi = ops.unary_many(op, _flat(x.lo, x.shape), _flat(x.hi, x.shape))
    return Interval(lo.reshape(x.shape), hi.reshape(x.shape))
