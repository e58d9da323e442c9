"""Fitted marginals: moments of the data, exact CDF against scipy, PPF accuracy, BIC choice."""

import numpy as np
import pytest
from scipy import stats

from fdnmoo.uncertainty.marginals import GMMMarginal, KDEMarginal, fit_marginal


@pytest.fixture(scope="module")
def bimodal():
    rng = np.random.default_rng(7)
    return np.r_[rng.normal(0.3, 0.05, 700), rng.normal(0.8, 0.1, 300)]


@pytest.fixture(scope="module")
def gmm(bimodal):
    return GMMMarginal(max_components=4, random_state=0).fit(bimodal)


def test_gmm_chooses_two_components_and_matches_moments(gmm, bimodal):
    assert gmm.n_components_ == 2
    # EM's fixed point preserves the sample mean and variance of a full mixture fit
    assert gmm.mean_ == pytest.approx(bimodal.mean(), rel=1e-6)
    assert gmm.var_ == pytest.approx(bimodal.var(), rel=1e-3)
    s = gmm.sample(200_000, random_state=1)
    assert s.mean() == pytest.approx(bimodal.mean(), abs=4 * bimodal.std() / np.sqrt(2e5))
    assert s.var() == pytest.approx(bimodal.var(), rel=0.01)


def test_cdf_is_the_mixture_of_scipy_normals(gmm):
    x = np.linspace(-0.2, 1.4, 41)
    ref = sum(w * stats.norm.cdf(x, m, s) for w, m, s in zip(gmm.weights_, gmm.means_, gmm.sds_))
    np.testing.assert_allclose(gmm.cdf(x), ref, atol=1e-14)


@pytest.mark.parametrize("make", [lambda: GMMMarginal(random_state=0), lambda: KDEMarginal()])
def test_ppf_inverts_cdf(make, bimodal):
    m = make().fit(bimodal[:400])
    q = np.r_[1e-10, np.linspace(0, 1, 801)[1:-1], 1 - 1e-10]
    assert np.abs(m.cdf(m.ppf(q)) - q).max() < 1e-10
    assert np.all(np.diff(m.ppf(q)) > 0)


def test_kde_matches_scipy_and_data_mean(bimodal):
    kde = KDEMarginal().fit(bimodal)
    x = np.linspace(0, 1.2, 13)
    np.testing.assert_allclose(kde.pdf(x), stats.gaussian_kde(bimodal)(x), rtol=1e-10)
    assert kde.mean_ == pytest.approx(bimodal.mean(), rel=1e-12)
    assert kde.var_ == pytest.approx(bimodal.var() + kde.bandwidth_ ** 2, rel=1e-10)


def test_same_seed_same_samples(gmm):
    np.testing.assert_array_equal(gmm.sample(50, 3), gmm.sample(50, 3))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="constant"):
        GMMMarginal().fit(np.ones(10))
    with pytest.raises(ValueError, match="one-dimensional"):
        KDEMarginal().fit(np.ones((5, 2)))
    with pytest.raises(ValueError, match="unknown marginal 'gauss'"):
        fit_marginal([0.0, 1.0], "gauss")
    with pytest.raises(RuntimeError, match="not fitted"):
        GMMMarginal().ppf([0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        GMMMarginal(random_state=0).fit([0.0, 1.0, 2.0, 0.5]).ppf([1.5])
