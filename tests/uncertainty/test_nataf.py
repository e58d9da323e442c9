"""Nataf: closed-form lognormal correlation, and sampled Pearson correlation within 0.02."""

import numpy as np
import pytest
from scipy import stats

from fdnmoo.uncertainty.marginals import GMMMarginal
from fdnmoo.uncertainty.nataf import NatafModel, NatafSampler, nataf_correlation


def test_lognormal_pair_matches_closed_form():
    # two lognormals of log-sd s1, s2: rho_x = (exp(s1 s2 rho_z) - 1) / sqrt((e^s1^2 - 1)(e^s2^2 - 1))
    # (Liu & Der Kiureghian 1986), solved for rho_z
    s1, s2, rho_x = 0.5, 0.8, 0.7
    exact = np.log(1 + rho_x * np.sqrt(np.expm1(s1 ** 2) * np.expm1(s2 ** 2))) / (s1 * s2)
    rz = nataf_correlation([stats.lognorm(s1), stats.lognorm(s2)], [[1, rho_x], [rho_x, 1]])
    assert rz[0, 1] == pytest.approx(exact, abs=1e-5)


@pytest.fixture(scope="module")
def marginals():
    rng = np.random.default_rng(3)
    gmm = GMMMarginal(max_components=3, random_state=0).fit(np.r_[rng.normal(0, 1, 600), rng.normal(4, 0.7, 400)])
    return [stats.lognorm(0.5), stats.lognorm(0.8), gmm]


TARGET = np.array([[1, 0.7, 0.3], [0.7, 1, 0.2], [0.3, 0.2, 1]])


@pytest.mark.parametrize("sampling", ["random", "sobol"])
def test_samples_reproduce_target_pearson(marginals, sampling):
    rz = nataf_correlation(marginals, TARGET)
    x = NatafSampler(marginals, rz).sample(2 ** 14 if sampling == "sobol" else 20_000, sampling, random_state=11)
    assert np.abs(np.corrcoef(x, rowvar=False) - TARGET).max() < 0.02
    assert x[:, 0].mean() == pytest.approx(stats.lognorm(0.5).mean(), rel=0.01)


def test_unreachable_target_is_refused_or_clipped():
    m = [stats.lognorm(1.5), stats.norm()]
    with pytest.raises(ValueError, match="variables 0 and 1"):
        nataf_correlation(m, [[1, -0.99], [-0.99, 1]])
    with pytest.warns(RuntimeWarning, match="attainable"):
        rz = nataf_correlation(m, [[1, -0.99], [-0.99, 1]], clip=True)
    assert rz[0, 1] == pytest.approx(-1, abs=1e-6)


def test_model_fits_data_correlation():
    rng = np.random.default_rng(5)
    z = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], 3000)
    X = np.exp(0.6 * z)
    model = NatafModel(random_state=0).fit(X)
    x = model.sample(20_000, random_state=1)
    assert np.corrcoef(x, rowvar=False)[0, 1] == pytest.approx(model.rho_x_[0, 1], abs=0.02)
    np.testing.assert_array_equal(model.sample(10, 4), model.sample(10, 4))
