"""Nataf transform: correlated samples with given marginals and a target Pearson correlation.

For marginals ``F_i`` and a target correlation ``rho_x[i, j]``, the equivalent normal
correlation ``rho_z`` solves

    rho_x * sd_i * sd_j = E[x_i(Z_i) x_j(Z_j)] - mean_i * mean_j,   x_i(z) = F_i^-1(Phi(z)),

with ``(Z_i, Z_j)`` standard bivariate normal of correlation ``rho_z``. The expectation is
a 2-D Gauss-Hermite quadrature (``n_nodes`` per axis, 48 by default); ``x_i(z)`` is
tabulated once per marginal on 1,601 points of z in [-8, 8] and interpolated, and
mean and sd come from the same quadrature, so that the equation is consistent.
``brentq`` finds ``rho_z`` on (-1, 1) (a target outside the marginals' attainable range
is an error naming the pair). The matrix is made positive definite by clipping its
eigenvalues at 1e-8 if needed, then Cholesky-factored.

Sampling: ``z = L u`` with ``u`` standard normal from numpy (``sampling='random'``) or
from a scrambled, seeded Sobol sequence (``scipy.stats.qmc.Sobol``, ``'sobol'``; powers
of 2 keep its balance), then ``x_i = x_i(z_i)``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, special
from scipy.stats import qmc

from .marginals import MARGINALS

__all__ = ["nataf_correlation", "NatafSampler", "NatafModel", "standard_normal"]

_Z_TABLE = np.linspace(-8.0, 8.0, 1601)
_SAMPLINGS = ("random", "sobol")


def _table(marginal) -> np.ndarray:
    """``x(z) = F^-1(Phi(z))`` on the z table (the costly part: one ppf call per marginal)."""
    return np.asarray(marginal.ppf(special.ndtr(_Z_TABLE)), dtype=float)


def nataf_correlation(marginals, rho_x, n_nodes: int = 48, clip: bool = False) -> np.ndarray:
    """Equivalent normal correlation matrix ``rho_z`` for ``marginals`` and target ``rho_x``.

    Parameters
    ----------
    marginals : sequence
        One object per variable with a vectorised ``ppf`` (a fitted marginal of
        :mod:`fdnmoo.uncertainty.marginals` or a frozen scipy distribution).
    rho_x : array_like, shape (d, d)
        Target Pearson correlation (symmetric, unit diagonal).
    n_nodes : int
        Gauss-Hermite nodes per axis.
    clip : bool
        If a target lies outside the pair's attainable range, use rho_z = -/+1 (the
        attainable bound) and warn instead of raising ValueError.
    """
    rho_x = np.asarray(rho_x, dtype=float)
    d = len(marginals)
    if rho_x.shape != (d, d) or not np.allclose(rho_x, rho_x.T) or not np.allclose(np.diag(rho_x), 1):
        raise ValueError(f"rho_x must be a symmetric ({d}, {d}) correlation matrix with unit diagonal, "
                         f"got shape {rho_x.shape}")
    t, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / w.sum()
    tables = [_table(m) for m in marginals]
    at_nodes = np.array([np.interp(t, _Z_TABLE, tab) for tab in tables])
    mean = at_nodes @ w
    sd = np.sqrt(((at_nodes - mean[:, None]) ** 2) @ w)
    z1 = np.repeat(t, n_nodes)
    z2 = np.tile(t, n_nodes)
    ww = np.outer(w, w).ravel()
    rho_z = np.eye(d)
    n_clipped = 0
    for i in range(d):
        xi = (np.interp(z1, _Z_TABLE, tables[i]) - mean[i]) / sd[i]
        for j in range(i + 1, d):
            if rho_x[i, j] == 0.0:
                continue

            def gap(r, j=j):
                zj = r * z1 + np.sqrt(1.0 - r * r) * z2
                return ww @ (xi * (np.interp(zj, _Z_TABLE, tables[j]) - mean[j])) / sd[j] - rho_x[i, j]

            lo, hi = -1 + 1e-9, 1 - 1e-9
            if clip and (gap(lo) > 0 or gap(hi) < 0):
                rho_z[i, j] = rho_z[j, i] = lo if gap(lo) > 0 else hi
                n_clipped += 1
                continue
            if gap(lo) > 0 or gap(hi) < 0:
                raise ValueError(f"Nataf: target correlation {rho_x[i, j]:.4f} of variables {i} and {j} "
                                 f"is outside what their marginals allow "
                                 f"[{gap(lo) + rho_x[i, j]:.4f}, {gap(hi) + rho_x[i, j]:.4f}]")
            rho_z[i, j] = rho_z[j, i] = optimize.brentq(gap, lo, hi, xtol=1e-10)
    if n_clipped:
        warnings.warn(f"Nataf: {n_clipped} target correlations lie outside what their marginals allow; "
                      "their normal correlation was set to the attainable bound", RuntimeWarning, stacklevel=2)
    return _nearest_positive_definite(rho_z)


def _nearest_positive_definite(c: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    vals, vecs = np.linalg.eigh(c)
    if vals.min() >= floor:
        return c
    fixed = (vecs * np.maximum(vals, floor)) @ vecs.T
    s = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(s, s)
    warnings.warn(f"Nataf: the equivalent normal correlation is not positive definite (smallest "
                  f"eigenvalue {vals.min():.3g}); eigenvalues clipped at {floor}, entries moved by up to "
                  f"{np.abs(fixed - c).max():.3g}, so the target correlation is met only approximately",
                  RuntimeWarning, stacklevel=3)
    return fixed


def standard_normal(n: int, d: int, sampling: str = "random", random_state=None) -> np.ndarray:
    """``(n, d)`` independent standard normals, pseudo-random or from scrambled Sobol points."""
    if sampling not in _SAMPLINGS:
        raise ValueError(f"unknown sampling {sampling!r}; choose one of {list(_SAMPLINGS)}")
    rng = np.random.default_rng(random_state)
    if sampling == "random":
        return rng.standard_normal((int(n), d))
    u = qmc.Sobol(d, scramble=True, seed=rng).random(int(n))
    return special.ndtri(np.clip(u, 1e-16, 1 - 1e-16))


class NatafSampler:
    """Samples of given marginals and normal correlation ``rho_z`` (see :func:`nataf_correlation`).

    Parameters
    ----------
    marginals : sequence
        Objects with a vectorised ``ppf``.
    rho_z : ndarray, shape (d, d)
        Equivalent normal correlation.
    """

    def __init__(self, marginals, rho_z):
        self.marginals = list(marginals)
        self.rho_z = np.asarray(rho_z, dtype=float)
        self._chol = np.linalg.cholesky(self.rho_z)
        self._tables = [_table(m) for m in self.marginals]

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Map independent standard normals ``u`` (n, d) to samples (n, d)."""
        z = u @ self._chol.T
        return np.column_stack([np.interp(z[:, i], _Z_TABLE, tab) for i, tab in enumerate(self._tables)])

    def sample(self, n: int, sampling: str = "random", random_state=None) -> np.ndarray:
        return self.transform(standard_normal(n, len(self.marginals), sampling, random_state))


class NatafModel:
    """Fit marginals per column and the Pearson correlation; sample through Nataf.

    Parameters
    ----------
    marginal : {'gmm', 'kde'}
        Marginal estimator per column (:mod:`fdnmoo.uncertainty.marginals`).
    sampling : {'random', 'sobol'}
        Default sampling of :meth:`sample`.
    random_state : int or None
        Seed of the marginal fits and the default seed of :meth:`sample`.

    Attributes
    ----------
    marginals_ : list
        Fitted marginals.
    rho_x_ : ndarray
        The data's Pearson correlation.
    rho_z_ : ndarray
        The equivalent normal correlation.
    """

    def __init__(self, marginal: str = "gmm", sampling: str = "random", random_state=None):
        self.marginal = marginal
        self.sampling = sampling
        self.random_state = random_state

    def fit(self, X) -> "NatafModel":
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] < 3:
            raise ValueError(f"NatafModel.fit: X must be (n_samples >= 3, n_variables), got shape {X.shape}")
        if self.marginal not in MARGINALS:
            raise ValueError(f"NatafModel: unknown marginal {self.marginal!r}; choose one of {sorted(MARGINALS)}")
        self.marginals_ = [MARGINALS[self.marginal](random_state=self.random_state).fit(col) for col in X.T]
        self.rho_x_ = np.atleast_2d(np.corrcoef(X, rowvar=False))
        self.rho_z_ = nataf_correlation(self.marginals_, self.rho_x_)
        self._sampler = NatafSampler(self.marginals_, self.rho_z_)
        return self

    def sample(self, n: int, random_state=None, sampling: str | None = None) -> np.ndarray:
        if not hasattr(self, "_sampler"):
            raise RuntimeError("NatafModel is not fitted yet: call fit(X) first")
        seed = self.random_state if random_state is None else random_state
        return self._sampler.sample(n, sampling or self.sampling, seed)
