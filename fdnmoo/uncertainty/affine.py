"""Vectorised affine arithmetic with a bounded number of noise symbols.

An :class:`AffineForm` is an array of uncertain quantities

    x_k = center_k + sum_i coeffs_k,i * eps_i + error_k * eta_k,

with every noise symbol ``eps_i`` in [-1, 1] shared by all quantities (one
per uncertain source: a PV unit, a load or a load group), and one symbol
``eta_k`` in [-1, 1] private to each quantity. Shared symbols carry the
correlation between quantities, so ``x - x`` and a load's effect on two bus
voltages cancel or add as they should.

Affine operations (``+``, ``-``, scaling) are exact. A non-affine operation
``f`` on an operand of range [a, b] uses the Chebyshev (minimax) linear
approximation ``f(x) ~ alpha x + zeta`` with maximal error ``delta`` on
[a, b]. Standard affine arithmetic gives every result element a new noise
symbol of coefficient ``delta``; here that symbol is condensed at once into the
element's private term, which is what keeps the number of symbols fixed at the
number of sources (Messine's AF1 form, 2002). The cost: the approximation
errors of two different quantities are treated as independent, so a later
combination of them adds their radii where full affine arithmetic could let
them cancel; a single quantity's interval is never wider for it.
:meth:`AffineForm.condense` bounds the symbols further by folding the
smallest shared symbols into the private terms, at the same kind of cost.

Multiplication of two forms keeps the exact bilinear part and bounds the
product of the two deviations by the product of their radii. Every result
adds a rounding slack of a few ulps of its magnitude to its private term, so
the enclosure holds in floating point.

The operations are compiled functions in :mod:`fdnmoo.uncertainty.affine_ops`
(``add``, ``shift``, ``scale``, ``mul``, and ``fitted`` with the fits
``square_fit``, ``sqrt_fit``, ``reciprocal_fit``, ``abs_fit``); this class
applies them elementwise after numpy broadcasting, and the compiled sweep
(:mod:`fdnmoo.uncertainty.affine_sweep`) calls the same functions per bus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import affine_ops as ops
from .interval import Interval

__all__ = ["AffineForm"]



@dataclass(frozen=True)
class AffineForm:
    """Affine forms of an array of quantities (see module docstring).

    Parameters
    ----------
    center : array_like, shape S
    coeffs : array_like, shape S + (n_symbols,)
        Coefficients of the shared noise symbols.
    error : array_like, shape S, optional
        Coefficient (>= 0) of each quantity's private symbol (default 0).

    Attributes
    ----------
    radius : ndarray, shape S
        ``sum |coeffs| + error``: the form spans ``center +- radius``.
    """

    center: np.ndarray
    coeffs: np.ndarray
    error: np.ndarray = None

    def __post_init__(self) -> None:
        c = np.asarray(self.center, dtype=float)
        a = np.asarray(self.coeffs, dtype=float)
        if a.ndim < 1:
            raise ValueError("coeffs needs a last axis of noise symbols")
        shape = np.broadcast_shapes(c.shape, a.shape[:-1])
        e = np.zeros(shape) if self.error is None else np.asarray(self.error, dtype=float)
        if np.any(e < 0) or not (np.isfinite(c).all() and np.isfinite(a).all() and np.isfinite(e).all()):
            raise ValueError("an affine form needs finite values and a non-negative error")
        object.__setattr__(self, "center", np.broadcast_to(c, shape))
        object.__setattr__(self, "coeffs", np.broadcast_to(a, shape + a.shape[-1:]))
        object.__setattr__(self, "error", np.broadcast_to(e, shape))

    __array_ufunc__ = None  # numpy arrays on the left defer to the reflected operators

    @classmethod
    def _made(cls, center, coeffs, error) -> "AffineForm":
        """A form made by this module from valid forms (arrays of matching shapes). Only the
        centre and error are checked: every operation's error holds ``sum |coeffs|`` in its
        rounding slack, so a non-finite coefficient shows there."""
        if not (np.isfinite(center).all() and np.isfinite(error).all()):
            raise ValueError("an affine form needs finite values and a non-negative error "
                             "(an operation overflowed)")
        form = object.__new__(cls)
        object.__setattr__(form, "center", center)
        object.__setattr__(form, "coeffs", coeffs)
        object.__setattr__(form, "error", error)
        return form

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def constant(cls, x, n_symbols: int) -> "AffineForm":
        x = np.asarray(x, float)
        return cls(x, np.zeros(x.shape + (int(n_symbols),)))

    @classmethod
    def from_sources(cls, center, deviation, symbol, n_symbols: int) -> "AffineForm":
        """Quantities ``center_k + deviation_k * eps_{symbol_k}``.

        Parameters
        ----------
        center, deviation : array_like, shape S
            Forecast value and half-width of the uncertainty (``deviation >= 0``).
        symbol : array_like of int, shape S
            Index of each quantity's source symbol (several quantities may share
            one: a load group); a negative index means no uncertainty.
        n_symbols : int
        """
        c = np.asarray(center, float)
        d = np.broadcast_to(np.asarray(deviation, float), c.shape)
        s = np.broadcast_to(np.asarray(symbol, np.int64), c.shape)
        if np.any(d < 0):
            raise ValueError("deviations must be >= 0")
        if np.any(s >= n_symbols):
            raise ValueError(f"symbol index {int(s.max())} >= n_symbols {n_symbols}")
        a = np.zeros(c.shape + (int(n_symbols),))
        k = np.nonzero(s >= 0)
        a[k + (s[k],)] = d[k]
        return cls(c, a)

    # --- views ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.center.shape

    @property
    def n_symbols(self) -> int:
        return self.coeffs.shape[-1]

    @property
    def radius(self) -> np.ndarray:
        n = self.n_symbols
        return ops.radius_many(_flat(self.coeffs, n), _flat(self.error)).reshape(self.shape)

    def to_interval(self) -> Interval:
        """The interval each quantity spans."""
        return Interval.around(self.center, self.radius)

    def evaluate(self, eps: np.ndarray) -> np.ndarray:
        """Value of the shared part at noise values ``eps`` (shape (..., n_symbols)), private terms at 0."""
        return self.center + np.einsum("...i,...i->...", self.coeffs, np.asarray(eps, float))

    def __getitem__(self, index) -> "AffineForm":
        index = index if isinstance(index, tuple) else (index,)
        lead = index + (slice(None),) if any(i is Ellipsis for i in index) else index
        return AffineForm._made(self.center[index], self.coeffs[lead], self.error[index])

    def condense(self, keep) -> "AffineForm":
        """Keep only the shared symbols ``keep`` (in that order); fold the others into the
        private terms. Apply the same ``keep`` to every form that is combined later."""
        keep = np.asarray(keep, dtype=np.int64)
        dropped = np.ones(self.n_symbols, bool)
        dropped[keep] = False
        return AffineForm._made(self.center, self.coeffs[..., keep],
                                self.error + np.abs(self.coeffs[..., dropped]).sum(axis=-1))

    def largest_symbols(self, k: int) -> np.ndarray:
        """The ``k`` shared symbols of largest total coefficient magnitude, in index order."""
        weight = np.abs(self.coeffs).reshape(-1, self.n_symbols).sum(axis=0)
        return np.sort(np.argsort(-weight, kind="stable")[:k])

    def linear(self, matrix) -> "AffineForm":
        """``matrix @ x`` over the last quantity axis (exact; private terms through ``|matrix|``);
        leading axes (e.g. time slots) are kept."""
        m = np.asarray(matrix, float)
        return _slacked(self.center @ m.T, m @ self.coeffs, self.error @ np.abs(m).T)

    def sum(self, axis=None) -> "AffineForm":
        """Sum over quantity axes (private terms add: they are independent)."""
        axes = tuple(range(self.center.ndim)) if axis is None else np.atleast_1d(axis)
        axes = tuple(int(x) % max(self.center.ndim, 1) for x in axes)
        return _slacked(self.center.sum(axis=axes), self.coeffs.sum(axis=axes),
                        self.error.sum(axis=axes))

    # --- affine operations ---------------------------------------------------------------------
    def __neg__(self) -> "AffineForm":
        return AffineForm._made(-self.center, -self.coeffs, self.error)

    def __add__(self, other) -> "AffineForm":
        if isinstance(other, AffineForm):
            return _binary(0, self, other)
        return _with_number(0, self, other)

    __radd__ = __add__

    def __sub__(self, other) -> "AffineForm":
        return self + (-other)

    def __rsub__(self, other) -> "AffineForm":
        return (-self) + other

    def __mul__(self, other) -> "AffineForm":
        if not isinstance(other, AffineForm):
            return _with_number(1, self, other)
        return _binary(1, self, other)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "AffineForm":
        if not isinstance(other, AffineForm):
            return self * (1.0 / np.asarray(other, float))
        return self * other.reciprocal()

    def __rtruediv__(self, other) -> "AffineForm":
        return self.reciprocal() * other

    # --- non-affine operations (Chebyshev approximations, see affine_ops) ------------------------
    def square(self) -> "AffineForm":
        """``x ** 2``: ``c**2 + r**2/2 + 2c (x - c) +- r**2/2`` (minimax on [c - r, c + r])."""
        return _unary(0, self)

    def sqrt(self) -> "AffineForm":
        """Square root; the range must not reach below 0 (ValueError)."""
        return _unary(1, self)

    def reciprocal(self) -> "AffineForm":
        """``1 / x``; the range must not hold 0 (ValueError)."""
        return _unary(2, self)

    def abs(self) -> "AffineForm":
        """``|x|``: exact where the range keeps one sign, else minimax on it."""
        return _unary(3, self)


def _aligned(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pad the shorter symbol axis with zeros (a form built from fewer sources)."""
    n = max(a.shape[-1], b.shape[-1])
    pad = lambda x: x if x.shape[-1] == n else np.concatenate(  # noqa: E731
        [x, np.zeros(x.shape[:-1] + (n - x.shape[-1],))], axis=-1)
    return pad(a), pad(b)


def _slacked(center, coeffs, error) -> AffineForm:
    """A form made by one matrix operation, whose private term also covers its rounding."""
    n = coeffs.shape[-1]
    e = ops.slacked_many(_flat(center), _flat(coeffs, n), _flat(error))
    return AffineForm._made(np.asarray(center), np.asarray(coeffs), e.reshape(np.shape(error)))


def _flat(x, n: int | None = None) -> np.ndarray:
    """``x`` as a C-contiguous writable float array (copied only if it is not one: the
    compiled loops take one array type), flat or ``(-1, n)`` for coefficients."""
    x = np.require(x, dtype=float, requirements=["C", "W"])
    return x.reshape(-1) if n is None else x.reshape(-1, n)


def _result(shape, c, a, e) -> AffineForm:
    return AffineForm._made(c.reshape(shape), a.reshape(shape + a.shape[-1:]), e.reshape(shape))


def _binary(op: int, x: AffineForm, y: AffineForm) -> AffineForm:
    shape = np.broadcast_shapes(x.shape, y.shape)
    a, b = _aligned(x.coeffs, y.coeffs)
    n = a.shape[-1]
    args = []
    for f, coeffs in ((x, a), (y, b)):
        args += [_flat(np.broadcast_to(f.center, shape)),
                 _flat(np.broadcast_to(coeffs, shape + (n,)), n),
                 _flat(np.broadcast_to(f.error, shape))]
    return _result(shape, *ops.binary_many(op, *args))


def _with_number(op: int, x: AffineForm, k) -> AffineForm:
    k = np.asarray(k, float)
    shape = np.broadcast_shapes(x.shape, k.shape)
    n = x.n_symbols
    return _result(shape, *ops.with_number_many(
        op, _flat(np.broadcast_to(x.center, shape)), _flat(np.broadcast_to(x.coeffs, shape + (n,)), n),
        _flat(np.broadcast_to(x.error, shape)), _flat(np.broadcast_to(k, shape))))


def _unary(op: int, x: AffineForm) -> AffineForm:
    return _result(x.shape, *ops.unary_many(op, _flat(x.center), _flat(x.coeffs, x.n_symbols),
                                            _flat(x.error)))
