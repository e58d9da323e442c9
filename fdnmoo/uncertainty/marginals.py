"""Fitted one-dimensional marginals for Monte Carlo: Gaussian mixture (BIC) or Gaussian KDE.

Both estimators end as a mixture of normals: scikit-learn's ``GaussianMixture``
with the number of components chosen by BIC, or scipy's ``gaussian_kde`` (one
normal per data point, bandwidth by Scott's rule unless given). They share
``cdf`` (a weighted sum of normal CDFs, exact), ``pdf``, ``sample`` and ``ppf``.

``ppf`` inverts the CDF numerically: linear interpolation on a grid of 2,049 points
spanning the mixture's 1e-12 and 1 - 1e-12 quantile bracket, then Newton steps on
``cdf(x) - q`` with the exact ``pdf`` (each clipped to the grid cell that brackets the
root) until the largest residual is below 1e-12, at most four. For q in
[1e-10, 1 - 1e-10] the result satisfies ``|cdf(ppf(q)) - q| < 1e-10`` (tested);
outside it saturates at the bracket.

A KDE is a mixture of one normal per data point, so its CDF and PPF cost O(n_data) per
value; Nataf and the daily model call PPF only on a fixed table of 1,601 values.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from sklearn.mixture import GaussianMixture

__all__ = ["GMMMarginal", "KDEMarginal", "fit_marginal", "MARGINALS"]

_GRID_POINTS = 2049
_NEWTON_STEPS = 4
_TOL = 1e-12
_TAIL = 1e-12
_CHUNK = 2 ** 22


def _as_sample(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"{name}.fit: x must be one-dimensional (n_samples,), got shape {x.shape}")
    if x.size < 2 or not np.isfinite(x).all():
        raise ValueError(f"{name}.fit: x needs >= 2 finite values, got {x.size} "
                         f"({np.count_nonzero(~np.isfinite(x))} not finite)")
    if np.ptp(x) == 0:
        raise ValueError(f"{name}.fit: x is constant ({x[0]}); a constant has no continuous marginal")
    return x


class _NormalMixture:
    """CDF, PDF, PPF and sampling of ``sum_k w_k N(mu_k, sd_k^2)``; set by ``_set_mixture``."""

    weights_: np.ndarray
    means_: np.ndarray
    sds_: np.ndarray

    def _set_mixture(self, weights, means, sds) -> None:
        self.weights_ = np.asarray(weights, float) / np.sum(weights)
        self.means_ = np.asarray(means, float)
        self.sds_ = np.asarray(sds, float)
        lo = np.min(self.means_ - 8 * self.sds_)
        hi = np.max(self.means_ + 8 * self.sds_)
        # widen until the bracket holds [1e-12, 1 - 1e-12] of the mass
        while self._cdf(np.array([lo]))[0] > _TAIL:
            lo -= np.max(self.sds_)
        while self._cdf(np.array([hi]))[0] < 1 - _TAIL:
            hi += np.max(self.sds_)
        self._grid = np.linspace(lo, hi, _GRID_POINTS)
        self._grid_cdf = np.maximum.accumulate(self._cdf(self._grid))

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(x) first")

    def _terms(self, x: np.ndarray, density: bool) -> np.ndarray:
        """``sum_k w_k Phi(z_k)`` (or the density), in chunks so that n x components stays small."""
        flat = x.ravel()
        out = np.empty(flat.size)
        weights = self.weights_ / self.sds_ if density else self.weights_
        step = max(1, _CHUNK // self.means_.size)
        for s in range(0, flat.size, step):
            z = (flat[s:s + step, None] - self.means_) / self.sds_
            out[s:s + step] = (np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) if density else special.ndtr(z)) @ weights
        return out.reshape(x.shape)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return self._terms(x, density=False)

    def cdf(self, x) -> np.ndarray:
        """P(X <= x), exact (a weighted sum of normal CDFs)."""
        self._check_fitted()
        return self._cdf(np.asarray(x, float))

    def pdf(self, x) -> np.ndarray:
        """Density at ``x``."""
        self._check_fitted()
        return self._terms(np.asarray(x, float), density=True)

    def ppf(self, q) -> np.ndarray:
        """Quantile function: grid interpolation plus Newton steps (see the module docstring)."""
        self._check_fitted()
        q = np.asarray(q, float)
        if np.any((q < 0) | (q > 1)) or np.isnan(q).any():
            raise ValueError(f"{type(self).__name__}.ppf: q must lie in [0, 1]")
        qc = np.clip(q, self._grid_cdf[0], self._grid_cdf[-1])
        cell = np.clip(np.searchsorted(self._grid_cdf, qc), 1, _GRID_POINTS - 1)
        lo, hi = self._grid[cell - 1], self._grid[cell]
        x = np.interp(qc, self._grid_cdf, self._grid)
        for _ in range(_NEWTON_STEPS):
            residual = self._cdf(x) - qc
            if np.max(np.abs(residual), initial=0.0) < _TOL:
                break
            x = np.clip(x - residual / np.maximum(self._terms(x, density=True), 1e-300), lo, hi)
        return x

    @property
    def mean_(self) -> float:
        self._check_fitted()
        return float(self.weights_ @ self.means_)

    @property
    def var_(self) -> float:
        self._check_fitted()
        return float(self.weights_ @ (self.sds_ ** 2 + self.means_ ** 2) - self.mean_ ** 2)

    def sample(self, n: int, random_state=None) -> np.ndarray:
        """``n`` draws; ``random_state`` (int, Generator or None) defaults to the constructor's."""
        self._check_fitted()
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        k = rng.choice(self.weights_.size, size=int(n), p=self.weights_)
        return self.means_[k] + self.sds_[k] * rng.standard_normal(int(n))


class GMMMarginal(_NormalMixture):
    """Gaussian mixture marginal, components chosen by BIC (scikit-learn ``GaussianMixture``).

    Parameters
    ----------
    max_components : int
        Mixtures of 1..max_components components are fitted; the lowest BIC wins.
    random_state : int, Generator or None
        Seed of the EM initialisation and the default seed of :meth:`sample`.

    Attributes
    ----------
    n_components_ : int
        The chosen number of components.
    bic_ : ndarray, shape (max_components,)
        BIC per number of components.
    weights_, means_, sds_ : ndarray
        The fitted mixture.
    """

    def __init__(self, max_components: int = 6, random_state=None):
        self.max_components = max_components
        self.random_state = random_state

    def fit(self, x) -> "GMMMarginal":
        x = _as_sample(x, "GMMMarginal")
        if not (isinstance(self.max_components, (int, np.integer)) and self.max_components >= 1):
            raise ValueError(f"GMMMarginal: max_components must be an int >= 1, got {self.max_components!r}")
        seed = self.random_state
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2 ** 31))
        n_max = int(min(self.max_components, np.unique(x).size))
        fits = [GaussianMixture(k, random_state=seed).fit(x[:, None]) for k in range(1, n_max + 1)]
        self.bic_ = np.array([f.bic(x[:, None]) for f in fits])
        best = fits[int(np.argmin(self.bic_))]
        self.n_components_ = best.n_components
        self._set_mixture(best.weights_, best.means_[:, 0], np.sqrt(best.covariances_.reshape(-1)))
        return self


class KDEMarginal(_NormalMixture):
    """Gaussian kernel density marginal (scipy ``gaussian_kde``).

    Parameters
    ----------
    bw_method : str, float or None
        Passed to ``scipy.stats.gaussian_kde`` (None: Scott's rule).
    random_state : int, Generator or None
        Default seed of :meth:`sample`.
    """

    def __init__(self, bw_method=None, random_state=None):
        self.bw_method = bw_method
        self.random_state = random_state

    def fit(self, x) -> "KDEMarginal":
        x = _as_sample(x, "KDEMarginal")
        kde = stats.gaussian_kde(x, bw_method=self.bw_method)
        self.bandwidth_ = float(np.sqrt(kde.covariance[0, 0]))
        self._set_mixture(kde.weights, x, np.full(x.size, self.bandwidth_))
        return self


MARGINALS = {"gmm": GMMMarginal, "kde": KDEMarginal}


def fit_marginal(x, kind: str = "gmm", random_state=None) -> _NormalMixture:
    """Fit a marginal of ``kind`` ('gmm' or 'kde') to ``x``."""
    if kind not in MARGINALS:
        raise ValueError(f"unknown marginal {kind!r}; choose one of {sorted(MARGINALS)}")
    return MARGINALS[kind](random_state=random_state).fit(x)
