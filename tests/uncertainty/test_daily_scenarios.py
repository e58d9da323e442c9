"""Daily scenarios: hourly rows from profiles, dependence between hours kept, no negative values."""

import numpy as np
import pytest

from fdnmoo.scenarios import typical_days
from fdnmoo.uncertainty.daily import DailyScenarioModel, daily_matrix
from fdnmoo.uncertainty.reduction import kmeans_reduction


def test_daily_matrix_of_the_shipped_profiles():
    days = typical_days("daily")
    X = daily_matrix(days)
    assert X.shape == (days.n_days, 48)
    np.testing.assert_allclose(X[:, :24], days.load_pu)          # hourly profiles pass through
    with pytest.raises(ValueError, match="do not split"):
        daily_matrix(days, hours=7)


@pytest.fixture(scope="module")
def observed():
    """200 days of 6 hours: a common daily level (strong dependence between hours), PV zero at hour 0."""
    rng = np.random.default_rng(1)
    level = rng.lognormal(0, 0.2, (200, 1))
    load = level * np.array([0.5, 0.6, 0.9, 1.0, 0.8, 0.6]) * rng.lognormal(0, 0.05, (200, 6))
    pv = np.column_stack([np.zeros(200), rng.beta(2, 2, (200, 2)) * level[:, :1] / level.max()])
    return np.hstack([load, pv])


@pytest.mark.parametrize("dependence", ["nataf", "gaussian"])
def test_model_keeps_correlation_between_hours(observed, dependence):
    model = DailyScenarioModel(dependence=dependence, random_state=0).fit(observed)
    X = model.sample(20_000, random_state=2)
    assert not model.varying_[6] and np.all(X[:, 6] == 0)      # PV at night stays zero
    assert np.all(X >= 0)                                        # no negative load or PV
    # only the physical bound clips: the samples keep the fitted marginals' variance
    var = np.array([m.var_ for m in model.marginals_[:6]])
    assert np.all(np.abs(X[:, :6].var(axis=0) / var - 1) < 4 * np.sqrt(2 / 20_000))
    target = np.corrcoef(observed[:, :6], rowvar=False)
    got = np.corrcoef(X[:, :6], rowvar=False)
    tol = 0.02 if dependence == "nataf" else 0.05                # a rank copula matches Pearson only roughly
    assert np.abs(got - target).max() < tol
    np.testing.assert_allclose(X[:, :6].mean(axis=0), observed[:, :6].mean(axis=0), rtol=0.02)


def test_sampled_days_reduce_to_probabilities(observed):
    X = DailyScenarioModel(random_state=0).fit(observed).sample(600, random_state=3)
    red = kmeans_reduction(X, k_values=range(2, 7), random_state=0)
    assert red.probability.sum() == pytest.approx(1.0) and red.scenarios.shape == (red.k, X.shape[1])


def test_unknown_dependence_is_named(observed):
    with pytest.raises(ValueError, match="unknown dependence 'copula'"):
        DailyScenarioModel(dependence="copula").fit(observed)
