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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .interval import Interval

__all__ = ["AffineForm"]

_ROUNDING = 8 * np.finfo(float).eps  # relative slack per operation


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
        return np.abs(self.coeffs).sum(axis=-1) + self.error

    def to_interval(self) -> Interval:
        """The interval each quantity spans."""
        return Interval.around(self.center, self.radius)

    def evaluate(self, eps: np.ndarray) -> np.ndarray:
        """Value of the shared part at noise values ``eps`` (shape (..., n_symbols)), private terms at 0."""
        return self.center + np.einsum("...i,...i->...", self.coeffs, np.asarray(eps, float))

    def __getitem__(self, index) -> "AffineForm":
        index = index if isinstance(index, tuple) else (index,)
        lead = index + (slice(None),) if any(i is Ellipsis for i in index) else index
        return AffineForm(self.center[index], self.coeffs[lead], self.error[index])

    def condense(self, keep) -> "AffineForm":
        """Keep only the shared symbols ``keep`` (in that order); fold the others into the
        private terms. Apply the same ``keep`` to every form that is combined later."""
        keep = np.asarray(keep, dtype=np.int64)
        dropped = np.ones(self.n_symbols, bool)
        dropped[keep] = False
        return AffineForm(self.center, self.coeffs[..., keep],
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
        return AffineForm(-self.center, -self.coeffs, self.error)

    def __add__(self, other) -> "AffineForm":
        if isinstance(other, AffineForm):
            a, b = _aligned(self.coeffs, other.coeffs)
            return _slacked(self.center + other.center, a + b, self.error + other.error)
        k = np.asarray(other, float)
        return _slacked(self.center + k, self.coeffs, self.error)

    __radd__ = __add__

    def __sub__(self, other) -> "AffineForm":
        return self + (-other)

    def __rsub__(self, other) -> "AffineForm":
        return (-self) + other

    def __mul__(self, other) -> "AffineForm":
        if not isinstance(other, AffineForm):
            k = np.asarray(other, float)
            return _slacked(self.center * k, self.coeffs * k[..., None], self.error * np.abs(k))
        a, b = _aligned(self.coeffs, other.coeffs)
        cx, cy = self.center, other.center
        coeffs = cx[..., None] * b + cy[..., None] * a
        error = np.abs(cx) * other.error + np.abs(cy) * self.error + self.radius * other.radius
        return _slacked(cx * cy, coeffs, error)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "AffineForm":
        if not isinstance(other, AffineForm):
            return self * (1.0 / np.asarray(other, float))
        return self * other.reciprocal()

    def __rtruediv__(self, other) -> "AffineForm":
        return self.reciprocal() * other

    # --- non-affine operations (Chebyshev approximations) ---------------------------------------
    def _approximated(self, alpha, zeta, delta) -> "AffineForm":
        """``alpha x + zeta`` with the approximation error ``delta`` in the private term."""
        return _slacked(alpha * self.center + zeta, alpha[..., None] * self.coeffs,
                        np.abs(alpha) * self.error + delta)

    def _range(self) -> tuple[np.ndarray, np.ndarray]:
        r = self.radius * (1 + _ROUNDING)
        return self.center - r, self.center + r

    def square(self) -> "AffineForm":
        """``x ** 2``: ``c**2 + r**2/2 + 2c (x - c) +- r**2/2`` (minimax on [c - r, c + r])."""
        c, r = self.center, self.radius * (1 + _ROUNDING)
        return self._approximated(2 * c, r ** 2 / 2 - c ** 2, r ** 2 / 2)

    def sqrt(self) -> "AffineForm":
        """Square root; the range must not reach below 0."""
        a, b = self._range()
        if np.any(a < 0):
            raise ValueError("square root of an affine form reaching below 0")
        sa, sb = np.sqrt(a), np.sqrt(b)
        wide = b - a > 1e-300
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(wide, (sb - sa) / np.where(wide, b - a, 1.0),
                             np.where(sa > 0, 0.5 / np.where(sa > 0, sa, 1.0), 0.0))
            e_end = sa - alpha * a  # error at both ends (concave function)
            e_mid = np.where(alpha > 0, 0.25 / np.where(alpha > 0, alpha, 1.0), sb)  # at u = 1/(4 alpha^2)
        return self._approximated(alpha, 0.5 * (e_end + e_mid), 0.5 * np.abs(e_mid - e_end))

    def reciprocal(self) -> "AffineForm":
        """``1 / x``; the range must not hold 0 (ValueError)."""
        a, b = self._range()
        if np.any((a <= 0) & (b >= 0)):
            raise ValueError("reciprocal of an affine form whose range holds 0")
        sign = np.sign(self.center)
        lo, hi = np.where(sign > 0, a, -b), np.where(sign > 0, b, -a)  # |x| in [lo, hi], lo > 0
        alpha = -1.0 / (lo * hi)  # for 1/|x|: chord slope; the tangent touches at sqrt(lo hi)
        e_end = 1.0 / lo + 1.0 / hi  # 1/x - alpha x at both ends (convex function)
        e_mid = 2.0 / np.sqrt(lo * hi)
        # 1/x = sign / |x| and |x| = sign x: alpha keeps its sign, zeta flips with the sign
        return self._approximated(alpha, sign * 0.5 * (e_end + e_mid), 0.5 * (e_end - e_mid))

    def abs(self) -> "AffineForm":
        """``|x|``: exact where the range keeps one sign, else minimax on [a, b]."""
        a, b = self._range()
        pos, neg = a >= 0, b <= 0
        straddle = ~(pos | neg)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(pos, 1.0, np.where(neg, -1.0, (a + b) / np.where(straddle, b - a, 1.0)))
        e_end = np.where(straddle, -a * (1 + alpha), 0.0)  # |x| - alpha x at both ends; 0 at x = 0
        return self._approximated(alpha, 0.5 * e_end, 0.5 * e_end)


def _aligned(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pad the shorter symbol axis with zeros (a form built from fewer sources)."""
    n = max(a.shape[-1], b.shape[-1])
    pad = lambda x: x if x.shape[-1] == n else np.concatenate(  # noqa: E731
        [x, np.zeros(x.shape[:-1] + (n - x.shape[-1],))], axis=-1)
    return pad(a), pad(b)


def _slacked(center, coeffs, error) -> AffineForm:
    """A form whose private term also covers the rounding of the operation that made it."""
    magnitude = np.abs(center) + np.abs(coeffs).sum(axis=-1) + error
    return AffineForm(center, coeffs, error + _ROUNDING * magnitude)
