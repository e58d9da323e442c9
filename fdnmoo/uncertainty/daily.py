"""Daily scenarios: many days of hourly load and PV that keep the dependence between hours.

:func:`daily_matrix` turns profile days (the shipped profiles, a SimBench year via
:func:`fdnmoo.scenarios.simbench_profiles.year_profile`, or a user's array) into one row
per day: 24 hourly load values, then 24 hourly PV values (hourly means of the slots).

:class:`DailyScenarioModel` fits one marginal per column (GMM or KDE) and the dependence
over all 48 columns, by Nataf (the data's Pearson correlation, :mod:`.nataf`; a target
beyond what two fitted marginals allow is set to the attainable bound, with a warning) or a
Gaussian copula (the correlation of the normal scores of the ranks, made positive definite
like Nataf's if needed); columns that do not
vary (PV at night) are held at their value. A column whose data are all >= 0 has its
samples clipped at 0, since a fitted mixture has tails beyond that physical bound (no
negative PV); nothing else is clipped, so that the samples keep the fitted marginals'
spread (clipping to the observed range would cut it: by 11 % in variance for 40 days).
The result feeds :func:`fdnmoo.uncertainty.reduction.kmeans_reduction` or
:func:`~fdnmoo.uncertainty.reduction.backward_reduction`.

:class:`CopulaDailyModel` couples load and PV by a copula family of :mod:`.copulas`
(one family, or ``auto``: the best of the ranking). A 48-dimensional Archimedean copula
would force one dependence on every pair of hours, so the copula is two-dimensional: it
couples the day's mean load ``L`` and mean PV ``S`` (marginals GMM or KDE, fitted to the
observed days' means). Under negative dependence (high load on dull days, as in a
European winter) the families are fitted to ``(L, -S)`` -- the copula rotated by 90
degrees -- since Gumbel and Clayton (and statsmodels' Frank sampler) model positive
dependence only. A sampled ``(L, S)`` takes its hourly shapes ``load_h / L`` and
``pv_h / S`` from the observed day nearest to it in copula space (Euclidean distance of
the pseudo-observations), so the dependence between hours is that of real days.
Sampled means are clipped at 0 (like :class:`DailyScenarioModel`).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from scipy.spatial import cKDTree

from .copulas import CopulaModel, pseudo_observations
from .marginals import MARGINALS
from .nataf import NatafSampler, _nearest_positive_definite, nataf_correlation, standard_normal

__all__ = ["daily_matrix", "DailyScenarioModel", "CopulaDailyModel", "DEPENDENCE"]

DEPENDENCE = ("nataf", "gaussian")


def daily_matrix(days, hours: int = 24) -> np.ndarray:
    """Rows of ``[load_pu per hour..., pv_pu per hour...]``, one per day of ``days`` (TypicalDays)."""
    per_hour = days.slots_per_day // hours
    if per_hour * hours != days.slots_per_day:
        raise ValueError(f"{days.slots_per_day} slots per day do not split into {hours} hours")
    blocks = [a.reshape(days.n_days, hours, per_hour).mean(axis=2) for a in (days.load_pu, days.pv_pu)]
    return np.hstack(blocks)


class DailyScenarioModel:
    """Fitted generator of daily scenarios (rows of hourly values).

    Parameters
    ----------
    dependence : {'nataf', 'gaussian'}
        Nataf on the Pearson correlation, or a Gaussian copula on the rank correlation.
    marginal : {'gmm', 'kde'}
    sampling : {'random', 'sobol'}
    random_state : int or None
        Seed of the marginal fits and default seed of :meth:`sample`.

    Attributes
    ----------
    varying_ : ndarray of bool
        Columns with a fitted marginal (the others are constant).
    rho_z_ : ndarray
        Normal correlation over the varying columns.
    """

    def __init__(self, dependence: str = "nataf", marginal: str = "gmm", sampling: str = "random",
                 random_state=None):
        self.dependence = dependence
        self.marginal = marginal
        self.sampling = sampling
        self.random_state = random_state

    def fit(self, X) -> "DailyScenarioModel":
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] < 10 or not np.isfinite(X).all():
            raise ValueError(f"DailyScenarioModel.fit: X must be finite (n_days >= 10, n_columns), got {X.shape}")
        if self.dependence not in DEPENDENCE:
            raise ValueError(f"DailyScenarioModel: unknown dependence {self.dependence!r}; choose one of {list(DEPENDENCE)}")
        if self.marginal not in MARGINALS:
            raise ValueError(f"DailyScenarioModel: unknown marginal {self.marginal!r}; choose one of {sorted(MARGINALS)}")
        self.varying_ = np.ptp(X, axis=0) > 1e-9 * np.maximum(1.0, np.abs(X).max(axis=0))
        V = X[:, self.varying_]
        self.lo_ = np.where(X.min(axis=0) >= 0, 0.0, -np.inf)
        self.constant_ = X[0].copy()
        self.marginals_ = [MARGINALS[self.marginal](random_state=self.random_state).fit(col) for col in V.T]
        if self.dependence == "nataf":
            self.rho_z_ = nataf_correlation(self.marginals_, np.corrcoef(V, rowvar=False), clip=True)
        else:
            scores = special.ndtri(stats.rankdata(V, axis=0) / (V.shape[0] + 1))
            self.rho_z_ = _nearest_positive_definite(np.corrcoef(scores, rowvar=False))
        self._sampler = NatafSampler(self.marginals_, self.rho_z_)
        return self

    def sample(self, n_days: int, random_state=None) -> np.ndarray:
        """``(n_days, n_columns)`` scenarios."""
        if not hasattr(self, "_sampler"):
            raise RuntimeError("DailyScenarioModel is not fitted yet: call fit(X) first")
        seed = self.random_state if random_state is None else random_state
        u = standard_normal(n_days, int(self.varying_.sum()), self.sampling, seed)
        out = np.tile(self.constant_, (int(n_days), 1))
        out[:, self.varying_] = self._sampler.transform(u)
        return np.maximum(out, self.lo_)


class CopulaDailyModel:
    """Daily scenarios whose mean load and mean PV are coupled by a copula (module docstring).

    Parameters
    ----------
    family : {'auto', 'gaussian', 't', 'frank', 'gumbel', 'clayton'}
    marginal : {'gmm', 'kde'}
        Marginal of the daily means.
    hours : int
        Load columns come first, then as many PV columns.
    random_state : int or None
        Seed of the fits and default seed of :meth:`sample`.

    Attributes
    ----------
    copula_model_ : CopulaModel
        Fitted to ``(L, S)``, or to ``(L, -S)`` if ``rotated_``.
    family_ : str
        The family used (the chosen one under ``auto``).
    rotated_ : bool
        True if Kendall's tau of ``(L, S)`` is negative.
    """

    def __init__(self, family: str = "auto", marginal: str = "gmm", hours: int = 24,
                 random_state=None):
        self.family = family
        self.marginal = marginal
        self.hours = hours
        self.random_state = random_state

    def fit(self, X) -> "CopulaDailyModel":
        X = np.asarray(X, dtype=float)
        h = int(self.hours)
        if X.ndim != 2 or X.shape[1] != 2 * h or X.shape[0] < 10 or not np.isfinite(X).all():
            raise ValueError(f"CopulaDailyModel.fit: X must be finite (n_days >= 10, {2 * h}), got {X.shape}")
        means = np.column_stack([X[:, :h].mean(axis=1), X[:, h:].mean(axis=1)])
        for j, name in enumerate(("load", "PV")):
            if np.ptp(means[:, j]) == 0:
                raise ValueError(f"CopulaDailyModel.fit: the daily mean {name} is the same every day; "
                                 "a copula needs both to vary")
        self.rotated_ = bool(stats.kendalltau(means[:, 0], means[:, 1])[0] < 0)
        sign = np.array([1.0, -1.0 if self.rotated_ else 1.0])
        self.copula_model_ = CopulaModel(self.family, self.marginal, self.random_state).fit(means * sign)
        self.family_ = self.copula_model_.family_
        self._sign = sign
        self._lo = np.where(means.min(axis=0) >= 0, 0.0, -np.inf)
        self._tree = cKDTree(pseudo_observations(means * sign))
        with np.errstate(invalid="ignore", divide="ignore"):
            shapes = [X[:, :h] / means[:, :1], X[:, h:] / means[:, 1:]]
        self._shapes = [np.nan_to_num(a, nan=0.0, posinf=0.0) for a in shapes]
        return self

    def sample(self, n_days: int, random_state=None) -> np.ndarray:
        """``(n_days, 2 * hours)`` scenarios."""
        if not hasattr(self, "copula_model_"):
            raise RuntimeError("CopulaDailyModel is not fitted yet: call fit(X) first")
        seed = self.random_state if random_state is None else random_state
        u = self.copula_model_.sample_uniform(n_days, seed)
        means = np.column_stack([m.ppf(u[:, i]) for i, m in enumerate(self.copula_model_.marginals_)])
        means = np.maximum(means * self._sign, self._lo)
        nearest = self._tree.query(u)[1]
        return np.hstack([means[:, :1] * self._shapes[0][nearest], means[:, 1:] * self._shapes[1][nearest]])
