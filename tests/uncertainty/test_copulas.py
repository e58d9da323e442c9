"""Copula selection: data drawn from a known family gets that family back, theta within 10 %."""

import numpy as np
import pytest
from statsmodels.distributions.copula.api import ClaytonCopula, FrankCopula, GaussianCopula, StudentTCopula

from fdnmoo.uncertainty.copulas import CopulaModel, rank_copulas

# (family, statsmodels copula, true theta: correlation for gaussian/t, theta otherwise)
KNOWN = [("frank", FrankCopula(theta=8.0), 8.0),
         ("clayton", ClaytonCopula(theta=3.0), 3.0),
         ("gaussian", GaussianCopula(corr=0.6), 0.6),
         ("t", StudentTCopula(corr=0.6, df=4), 0.6)]


@pytest.mark.parametrize("family,copula,theta", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_copula_is_selected_and_recovered(family, copula, theta):
    u = copula.rvs(2000, (), np.random.default_rng(0))
    table = rank_copulas(u)
    assert table.family[0] == family
    assert table.theta[0] == pytest.approx(theta, rel=0.10)
    if family == "t":
        assert table.df[0] == pytest.approx(4.0, rel=0.10)
    assert set(table.columns) >= {"d_tau", "d_rho", "s_n"}


def test_negative_dependence_skips_the_archimedean_families():
    rng = np.random.default_rng(1)
    u = GaussianCopula(corr=-0.5).rvs(500, (), rng)
    assert set(rank_copulas(u).family) == {"gaussian", "t"}
    with pytest.raises(ValueError, match="negative dependence"):
        CopulaModel(family="clayton").fit(u)


def test_model_samples_keep_kendall_tau_and_marginals():
    from scipy import stats
    rng = np.random.default_rng(2)
    u = ClaytonCopula(theta=3.0).rvs(1500, (), rng)
    X = np.column_stack([stats.lognorm(0.4).ppf(u[:, 0]), stats.norm(5, 2).ppf(u[:, 1])])
    model = CopulaModel(random_state=0).fit(X)
    assert model.family_ == "clayton"
    s = model.sample(5000, random_state=3)
    assert stats.kendalltau(s[:, 0], s[:, 1])[0] == pytest.approx(3 / 5, abs=0.03)   # tau = theta/(theta+2)
    assert s[:, 1].mean() == pytest.approx(5.0, abs=0.15)


def test_three_dimensional_archimedean_uses_one_theta():
    u = FrankCopula(theta=8.0, k_dim=3).rvs(600, (), np.random.default_rng(4))
    table = rank_copulas(u, families=("frank", "gaussian"))
    assert table.family[0] == "frank"
    assert table.theta[0] == pytest.approx(8.0, rel=0.15)


def test_unknown_family_is_named():
    with pytest.raises(ValueError, match="unknown family 'frnak'"):
        CopulaModel(family="frnak").fit(np.random.default_rng(0).random((20, 2)))
