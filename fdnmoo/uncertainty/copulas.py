"""Copula families from ``statsmodels.distributions.copula``: fit, rank, select, sample.

Each family is fitted to pseudo-observations ``u = rank / (n + 1)`` by Kendall-tau
inversion (statsmodels' ``fit_corr_param``); the Student-t copula then gets its degrees of
freedom by maximum pseudo-likelihood over [2, 100] with the correlation held. The
families are ranked by three distances between the fitted and the empirical copula:

* ``d_tau`` = |tau(fitted) - tau(data)| (tau from statsmodels' ``tau()``),
* ``d_rho`` = |Spearman rho(fitted) - Spearman rho(data)|,
* ``s_n`` = sum_i (C_n(u_i) - C(u_i))^2, the squared Euclidean distance to the
  empirical copula C_n at the data points (Genest, Remillard & Beaudoin 2009).

Spearman's rho and C(u_i) of a fitted family are estimated from 20,000 draws of it with
a fixed seed (the t copula has no closed-form CDF in statsmodels), so the ranking is
deterministic. The table is sorted by ``s_n`` and ``auto`` picks the first row; tau
inversion makes ``d_tau`` nearly zero for every family, so it only separates families that
cannot reach the data's tau (Frank, Gumbel and Clayton are skipped under negative
dependence: statsmodels samples Frank only for theta > 0). The Gaussian copula is the t copula's limit df -> inf, so t ranks above the
Gaussian only if its pseudo-likelihood ratio 2 (l_t - l_gauss) exceeds 2.706 (5 % level,
the df -> inf boundary makes it a 50:50 chi2(0)/chi2(1) mixture); otherwise the two
swap places.

Higher dimensions: Gaussian and t take the full correlation matrix (from pairwise taus);
Frank, Gumbel and Clayton are exchangeable with one theta from the mean pairwise tau
(statsmodels samples them in any dimension). The ranking then uses every pair's taus
and rhos (mean absolute difference) and the d-dimensional empirical copula.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.distributions.copula.api import (
    ClaytonCopula, FrankCopula, GaussianCopula, GumbelCopula, StudentTCopula)

from .marginals import MARGINALS

__all__ = ["FAMILIES", "pseudo_observations", "fit_copula", "rank_copulas", "CopulaModel"]

FAMILIES = ("gaussian", "t", "frank", "gumbel", "clayton")
_SIM_DRAWS = 20_000
_SIM_SEED = 20_240_601
# 5 % critical value of the 50:50 mixture of chi2(0) and chi2(1): df -> inf is on the boundary
_LR_CRITICAL = 2.706


def pseudo_observations(X) -> np.ndarray:
    """Ranks scaled to (0, 1): ``rank / (n + 1)`` per column."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] < 2 or X.shape[0] < 10:
        raise ValueError(f"copula data must be (n_samples >= 10, n_variables >= 2), got shape {X.shape}")
    return stats.rankdata(X, axis=0) / (X.shape[0] + 1)


def _pairwise(fn, u: np.ndarray) -> np.ndarray:
    d = u.shape[1]
    out = np.eye(d)
    for i in range(d):
        for j in range(i + 1, d):
            out[i, j] = out[j, i] = fn(u[:, i], u[:, j])
    return out


def _kendall(u):
    return _pairwise(lambda a, b: stats.kendalltau(a, b)[0], u)


def _spearman(u):
    return _pairwise(lambda a, b: stats.spearmanr(a, b)[0], u)


def _off(m: np.ndarray) -> np.ndarray:
    return m[np.triu_indices_from(m, 1)]


def fit_copula(u: np.ndarray, family: str):
    """A statsmodels copula of ``family`` fitted to pseudo-observations ``u``, or None if unreachable.

    Returns None for Frank, Gumbel and Clayton when the mean pairwise tau is <= 0
    (Gumbel and Clayton model only positive dependence; statsmodels samples Frank only
    for theta > 0).
    """
    d = u.shape[1]
    tau = _kendall(u)
    if family in ("gaussian", "t"):
        corr = np.sin(np.pi * tau / 2)          # tau inversion for elliptical copulas
        if family == "gaussian":
            return GaussianCopula(corr=corr, k_dim=d)

        def nll(df):
            return -StudentTCopula(corr=corr, df=df, k_dim=d).logpdf(u).sum()
        df = optimize.minimize_scalar(nll, bounds=(2.0, 100.0), method="bounded",
                                      options={"xatol": 1e-3}).x
        return StudentTCopula(corr=corr, df=float(df), k_dim=d)
    mean_tau = float(_off(tau).mean())
    cls = {"frank": FrankCopula, "gumbel": GumbelCopula, "clayton": ClaytonCopula}.get(family)
    if cls is None:
        raise ValueError(f"unknown copula family {family!r}; choose one of {list(FAMILIES)} or 'auto'")
    if mean_tau <= 0:
        return None
    theta = cls().theta_from_tau(mean_tau)
    return cls(theta=float(theta), k_dim=d)


def _empirical_cdf(points: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Share of ``sample`` rows <= each row of ``points`` (componentwise), in chunks."""
    out = np.empty(points.shape[0])
    step = max(1, 2 ** 24 // (sample.shape[0] * points.shape[1]))
    for s in range(0, points.shape[0], step):
        out[s:s + step] = (sample[None, :, :] <= points[s:s + step, None, :]).all(axis=2).mean(axis=1)
    return out


def _draw(cop, n: int, rng: np.random.Generator) -> np.ndarray:
    # positional: the keyword is ``random_state`` in statsmodels 0.14 and ``rng`` from 0.15
    return np.asarray(cop.rvs(n, (), rng))


def _parameters(cop) -> dict:
    if isinstance(cop, StudentTCopula):
        return {"theta": float(_off(np.atleast_2d(cop.corr)).mean()), "df": float(cop.df)}
    if isinstance(cop, GaussianCopula):
        return {"theta": float(_off(np.atleast_2d(cop.corr)).mean()), "df": np.nan}
    return {"theta": float(cop.theta), "df": np.nan}


def rank_copulas(X, families=FAMILIES) -> pd.DataFrame:
    """Fit every family to ``X`` (raw data or pseudo-observations) and rank them.

    Returns
    -------
    DataFrame
        One row per reachable family, best first: ``family``, ``theta`` (correlation
        for Gaussian/t, averaged over pairs; theta otherwise), ``df`` (t only),
        ``d_tau``, ``d_rho``, ``s_n``, and ``copula`` (the fitted statsmodels object).
    """
    u = pseudo_observations(X)
    tau_data, rho_data = _off(_kendall(u)), _off(_spearman(u))
    c_data = _empirical_cdf(u, u)
    rows = []
    for family in families:
        cop = fit_copula(u, family)
        if cop is None:
            continue
        sim = _draw(cop, _SIM_DRAWS, np.random.default_rng(_SIM_SEED))
        tau_fit = np.array([cop.tau()]).ravel() if u.shape[1] == 2 else _off(_kendall(sim))
        rows.append({"family": family, **_parameters(cop),
                     "d_tau": float(np.abs(tau_fit - tau_data).mean()),
                     "d_rho": float(np.abs(_off(_spearman(sim)) - rho_data).mean()),
                     "s_n": float(((c_data - _empirical_cdf(u, sim)) ** 2).sum()),
                     "copula": cop})
    columns = ["family", "theta", "df", "d_tau", "d_rho", "s_n", "copula"]
    table = pd.DataFrame(rows, columns=columns).sort_values("s_n").reset_index(drop=True)
    return _nested_t_check(table, u)


def _nested_t_check(table: pd.DataFrame, u: np.ndarray) -> pd.DataFrame:
    """Put Gaussian above t unless t's extra parameter is significant (pseudo-likelihood ratio)."""
    fams = list(table.family)
    if "t" not in fams or "gaussian" not in fams or fams.index("t") > fams.index("gaussian"):
        return table
    ll_t = table.copula[fams.index("t")].logpdf(u).sum()
    ll_g = table.copula[fams.index("gaussian")].logpdf(u).sum()
    if 2.0 * (ll_t - ll_g) >= _LR_CRITICAL:
        return table
    order = [i for i in range(len(fams)) if fams[i] != "gaussian"]
    order.insert(fams.index("t"), fams.index("gaussian"))
    return table.iloc[order].reset_index(drop=True)


class CopulaModel:
    """A fitted copula (one family or ``auto``) over columns with fitted marginals.

    Parameters
    ----------
    family : {'auto', 'gaussian', 't', 'frank', 'gumbel', 'clayton'}
    marginal : {'gmm', 'kde'}
        Marginal estimator per column.
    random_state : int or None
        Seed of the marginal fits and default seed of :meth:`sample`.

    Attributes
    ----------
    ranking_ : DataFrame
        :func:`rank_copulas` of the data (all families under ``auto``, else the one).
    family_ : str
    copula_ : statsmodels copula
    marginals_ : list
    """

    def __init__(self, family: str = "auto", marginal: str = "gmm", random_state=None):
        self.family = family
        self.marginal = marginal
        self.random_state = random_state

    def fit(self, X) -> "CopulaModel":
        if self.family != "auto" and self.family not in FAMILIES:
            raise ValueError(f"CopulaModel: unknown family {self.family!r}; choose 'auto' or one of {list(FAMILIES)}")
        if self.marginal not in MARGINALS:
            raise ValueError(f"CopulaModel: unknown marginal {self.marginal!r}; choose one of {sorted(MARGINALS)}")
        X = np.asarray(X, dtype=float)
        self.ranking_ = rank_copulas(X, FAMILIES if self.family == "auto" else (self.family,))
        if self.ranking_.empty:
            raise ValueError(f"CopulaModel: family {self.family!r} cannot model this data's negative dependence")
        self.family_ = str(self.ranking_.family[0])
        self.copula_ = self.ranking_.copula[0]
        self.marginals_ = [MARGINALS[self.marginal](random_state=self.random_state).fit(c) for c in X.T]
        return self

    def sample_uniform(self, n: int, random_state=None) -> np.ndarray:
        """``(n, d)`` draws of the fitted copula (uniform marginals on (0, 1))."""
        if not hasattr(self, "copula_"):
            raise RuntimeError("CopulaModel is not fitted yet: call fit(X) first")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        return np.atleast_2d(_draw(self.copula_, int(n), rng))

    def sample(self, n: int, random_state=None) -> np.ndarray:
        """``(n, d)`` samples: copula draws through the fitted marginals' ``ppf``."""
        u = self.sample_uniform(n, random_state)
        return np.column_stack([m.ppf(u[:, i]) for i, m in enumerate(self.marginals_)])
