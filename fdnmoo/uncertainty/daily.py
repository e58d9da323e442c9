"""Daily scenarios: many days of hourly load and PV that keep the dependence between hours.

:func:`daily_matrix` turns profile days (the shipped profiles, a SimBench year via
:func:`fdnmoo.scenarios.simbench_profiles.year_profile`, or a user's array) into one row
per day: 24 hourly load values, then 24 hourly PV values (hourly means of the slots).

:class:`DailyScenarioModel` fits one marginal per column (GMM or KDE) and the dependence
over all 48 columns, by Nataf (the data's Pearson correlation, :mod:`.nataf`; a target
beyond what two fitted marginals allow is set to the attainable bound, with a warning) or a
Gaussian copula (the correlation of the normal scores of the ranks); columns that do not
vary (PV at night) are held at their value. Samples are clipped to each column's data
range, since a fitted mixture has tails beyond physical bounds (no negative PV).
The result feeds :func:`fdnmoo.uncertainty.reduction.kmeans_reduction` or
:func:`~fdnmoo.uncertainty.reduction.backward_reduction`.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .marginals import MARGINALS
from .nataf import NatafSampler, nataf_correlation, standard_normal

__all__ = ["daily_matrix", "DailyScenarioModel", "DEPENDENCE"]

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
        self.lo_, self.hi_, self.constant_ = X.min(axis=0), X.max(axis=0), X[0].copy()
        self.marginals_ = [MARGINALS[self.marginal](random_state=self.random_state).fit(col) for col in V.T]
        if self.dependence == "nataf":
            self.rho_z_ = nataf_correlation(self.marginals_, np.corrcoef(V, rowvar=False), clip=True)
        else:
            scores = special.ndtri(stats.rankdata(V, axis=0) / (V.shape[0] + 1))
            self.rho_z_ = np.corrcoef(scores, rowvar=False)
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
        return np.clip(out, self.lo_, self.hi_)
