"""Scenario batches sampled from fitted models (marginals gmm/kde, dependence, reduction).

References: the fitted marginals' analytic moments (a mixture's mean and variance), the
data's Pearson correlation (Nataf's target), statsmodels' closed-form Kendall tau of the
fitted copula, and the nearest-representative rule of both reductions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from fdnmoo.cases import load_case
from fdnmoo.planning import planning_grid
from fdnmoo.problems.planning import ProblemConfig
from fdnmoo.scenarios import ScenarioBatch, typical_days
from fdnmoo.scenarios.fitted import _models, clear_model_cache, hour_weights
from fdnmoo.uncertainty.settings import UncertaintySettings

N = 4001  # samples per slot (4,000 drawn days plus the forecast)


@pytest.fixture(scope="module")
def grid():
    return planning_grid(load_case("ieee33"))


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Nataf's positive-definite repair
        yield


def _settings(path, **block):
    return UncertaintySettings.from_mapping({"data": str(path), **block})


def _build(grid, settings, n_samples=N, seed=3, days=1):
    return ScenarioBatch.build(grid, 1, "daily", n_samples=n_samples, seed=seed, days=days,
                               uncertainty=settings)


def _load_bus(batch) -> int:
    return int(np.flatnonzero(batch.load_p_mw[0, 0, 0] > 0)[0])


@pytest.mark.parametrize("marginals", ["kde", pytest.param("gmm", marks=pytest.mark.slow)])
def test_samples_have_the_fitted_moments_and_the_target_correlation(grid, days_csv, marginals):
    path, X = days_csv
    batch = _build(grid, _settings(path, marginals=marginals, dependence="nataf"))
    model = list(_models.values())[-1]
    bus = _load_bus(batch)
    # one averaged day of 24 one-hour slots: sample s of hour h is x_h / mean_h of a drawn day
    load = batch.load_p_mw[0, :, 1:, bus] / batch.load_p_mw[0, :, :1, bus] * X[:, :24].mean(0)[:, None]
    mean = np.array([m.mean_ for m in model.marginals_[:24]])
    var = np.array([m.var_ for m in model.marginals_[:24]])
    n = N - 1
    assert np.all(np.abs(load.mean(axis=1) - mean) < 4 * np.sqrt(var / n))
    assert np.all(np.abs(load.var(axis=1) / var - 1) < 4 * np.sqrt(2 / n))
    # PV hours with a forecast and without the 1 p.u. cap, beside the load hours
    pv, pv0 = batch.pv_pu[0, :, 1:, 0], batch.pv_pu[0, :, 0, 0]
    mu_pv = X[:, 24:].mean(0)
    hours = np.flatnonzero((pv0 > 0) & (mu_pv > 0.01 * mu_pv.max()) & (pv.max(axis=1) < 1))
    assert hours.size >= 6
    sampled = np.vstack([load, pv[hours] / pv0[hours, None] * mu_pv[hours, None]])
    target = np.corrcoef(np.hstack([X[:, :24], X[:, 24 + hours]]), rowvar=False)
    assert np.abs(np.corrcoef(sampled) - target).max() < 0.06  # ~4 SE of a correlation at n = 4,000
    assert batch.fitted["source"] == str(path) and batch.fitted["family"] == "nataf"


@pytest.mark.parametrize("family", ["frank", "clayton"])
def test_copula_samples_have_the_fitted_tau_between_mean_load_and_pv(grid, days_csv, family):
    path, X = days_csv
    batch = _build(grid, _settings(path, marginals="kde", dependence=family), n_samples=2001)
    model = list(_models.values())[-1]
    assert model.rotated_  # the synthetic days couple more load with less sun
    bus = _load_bus(batch)
    load = batch.load_p_mw[0, :, 1:, bus] / batch.load_p_mw[0, :, :1, bus] * X[:, :24].mean(0)[:, None]
    pv, pv0 = batch.pv_pu[0, :, 1:, 0], batch.pv_pu[0, :, 0, 0]
    mu_pv = X[:, 24:].mean(0)
    hours = np.flatnonzero((pv0 > 0) & (mu_pv > 0.01 * mu_pv.max()) & (pv.max(axis=1) < 1))
    sun = (pv[hours] / pv0[hours, None] * mu_pv[hours, None]).sum(axis=0)
    tau = stats.kendalltau(load.mean(axis=0), sun)[0]
    # fitted to (L, -S): the sample's tau is minus the fitted copula's (statsmodels' closed form);
    # the daytime PV sum is the daily mean times the drawn day's shape, which dilutes tau a little
    expected = -float(np.ravel(model.copula_model_.copula_.tau())[0])
    assert expected < -0.2 and abs(tau - expected) < 0.06
    assert batch.fitted["family"] == family


def test_sample_zero_is_the_forecast_and_one_seed_one_batch(grid, days_csv):
    path, _ = days_csv
    settings = _settings(path, marginals="kde", dependence="gaussian")
    plain = ScenarioBatch.build(grid, 1, "daily", n_samples=5, seed=3)
    first = _build(grid, settings, n_samples=5, days=None)
    clear_model_cache()  # refit: the fit itself must be seeded
    again = _build(grid, settings, n_samples=5, days=None)
    other = _build(grid, settings, n_samples=5, seed=4, days=None)
    np.testing.assert_array_equal(first.load_p_mw[:, :, 0], plain.load_p_mw[:, :, 0])
    np.testing.assert_array_equal(first.pv_pu[:, :, 0], plain.pv_pu[:, :, 0])
    for name in ("load_p_mw", "load_q_mvar", "pv_pu", "slot_hours"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.load_p_mw, other.load_p_mw)


@pytest.mark.parametrize("reduction", ["kmeans", "backward"])
def test_reduced_days_carry_cluster_shares_and_their_members(grid, days_csv, reduction):
    path, _ = days_csv
    settings = _settings(path, marginals="kde", dependence="nataf", reduction=reduction,
                         generated_days=200)
    batch = ScenarioBatch.build(grid, 1, "daily", n_samples=30, seed=5, uncertainty=settings)
    info, days = batch.fitted, batch.days
    k = info["k"]
    assert days.n_days == k and batch.n_slots == 24 * k
    np.testing.assert_allclose(days.probability, np.array(info["cluster_sizes"]) / 200, atol=1e-12)
    assert days.probability.sum() == pytest.approx(1.0, abs=1e-12)
    assert batch.slot_hours.sum() == pytest.approx(8760.0)
    np.testing.assert_allclose(batch.slot_hours, np.repeat(days.probability * 365.0, 24))
    # every sampled day is a member of its reduced day's cluster: nearest to its representative
    bus = _load_bus(batch)
    base = batch.load_p_mw[0, 0, 0, bus] / days.load_pu[0, 0]
    reps = np.hstack([days.load_pu, days.pv_pu])
    for c in range(k):
        slots = slice(24 * c, 24 * c + 24)
        members = np.hstack([batch.load_p_mw[0, slots, 1:, bus].T / base, batch.pv_pu[0, slots, 1:, 0].T])
        nearest = np.linalg.norm(members[:, None, :] - reps[None], axis=2).argmin(axis=1)
        assert np.all(nearest == c)
        np.testing.assert_allclose(batch.load_p_mw[0, slots, 0, bus] / base, days.load_pu[c])


def test_reduction_refuses_another_profile_or_given_days(grid, days_csv):
    path, _ = days_csv
    settings = _settings(path, marginals="kde", dependence="nataf", reduction="kmeans",
                         generated_days=50)
    for kwargs in ({"profile": "peak"}, {"days": 2}):
        with pytest.raises(ValueError, match="gives the batch its typical days"):
            ScenarioBatch.build(grid, 1, **{"profile": "daily", **kwargs}, n_samples=3,
                                uncertainty=settings)


def test_hour_weights_cover_each_slot():
    quarter = hour_weights(typical_days("daily"))            # 1-h slots: the identity
    np.testing.assert_array_equal(quarter, np.eye(24))
    peak = hour_weights(typical_days("peak"))                 # one 24-h slot: every hour once
    np.testing.assert_array_equal(peak, np.ones((1, 24)))
    from fdnmoo.scenarios.profiles import TypicalDays
    z = np.zeros((1, 96))
    fifteen = hour_weights(TypicalDays(("d",), np.ones(1), z, z, z, 0.25))
    assert fifteen.shape == (96, 24) and np.all(fifteen.sum(axis=1) == 0.25)
    assert fifteen[5, 1] == 0.25                             # 01:15-01:30 lies in hour 1


@pytest.mark.parametrize("block", [
    {"marginals": "kde", "dependence": "nataf"},
    {"marginals": "kde", "dependence": "gaussian"},
    {"marginals": "kde", "dependence": "t"},
    {"marginals": "kde", "dependence": "frank"},
    {"marginals": "kde", "dependence": "gumbel"},
    {"marginals": "kde", "dependence": "clayton"},
    {"marginals": "kde", "dependence": "auto"},
    {"marginals": "kde", "dependence": "nataf", "reduction": "kmeans", "generated_days": 60},
    {"marginals": "kde", "dependence": "frank", "reduction": "backward", "generated_days": 60},
    {"marginals": "kde", "dependence": "nataf", "reduction": "kmeans", "generated_days": 60,
     "method": "deterministic"},
])
def test_a_problem_with_each_option_evaluates(days_csv, block):
    path, _ = days_csv
    cfg = ProblemConfig(case="ieee33", preset="sop_planning", n_stages=1, n_samples=4, seed=2,
                        uncertainty={**block, "data": str(path)})
    problem = cfg.build()
    X = np.random.default_rng(0).integers(problem.xl, problem.xu + 1, size=(3, problem.n_var))
    F = problem.evaluate(X.astype(float), return_values_of=["F"])
    assert np.isfinite(F).all() and F.shape == (3, problem.n_obj)
    assert problem.batch.fitted["source"] == str(path)


@pytest.mark.slow
def test_a_simbench_year_with_a_copula_keeps_its_forecast():
    grid = planning_grid(load_case("simbench-mv-rural"))
    settings = UncertaintySettings.from_mapping({"marginals": "kde", "dependence": "frank"})
    batch = ScenarioBatch.build(grid, 1, "year", n_samples=3, seed=0, uncertainty=settings)
    plain = ScenarioBatch.build(grid, 1, "year", n_samples=3, seed=0)
    assert batch.n_slots == 35_136 and "SimBench profile year" in batch.fitted["source"]
    np.testing.assert_array_equal(batch.load_p_mw[:, :, 0], plain.load_p_mw[:, :, 0])
    assert np.isfinite(batch.load_p_mw).all() and 0 <= batch.pv_pu.min() and batch.pv_pu.max() <= 1


def test_generated_days_are_the_ones_the_batch_reduces(grid, days_csv):
    from fdnmoo.scenarios.fitted import generated_days
    from fdnmoo.uncertainty.reduction import kmeans_reduction

    path, _ = days_csv
    settings = _settings(path, marginals="kde", dependence="frank", reduction="kmeans",
                         generated_days=120)
    batch = ScenarioBatch.build(grid, 1, "daily", n_samples=2, seed=9, uncertainty=settings)
    gen, kmeans_seed, info = generated_days(grid, settings, 9)
    assert gen.shape == (120, 48) and info["family"] == "frank"
    red = kmeans_reduction(gen, random_state=kmeans_seed)
    np.testing.assert_array_equal(np.hstack([batch.days.load_pu, batch.days.pv_pu]), red.scenarios)
    np.testing.assert_allclose(batch.days.probability, red.probability)


@pytest.mark.parametrize("reduction", ["kmeans", "backward"])
def test_typical_days_fix_k_of_the_reduction(grid, days_csv, reduction):
    """``typical_days: 4`` (the paper's k) reduces to 4 days: k-means is scikit-learn's
    ``KMeans(n_clusters=4)`` on the same generated days with the batch's seed and n_init,
    backward reduction is :func:`backward_reduction` to 4 days without a k-means fit."""
    from sklearn.cluster import KMeans

    from fdnmoo.scenarios.fitted import generated_days
    from fdnmoo.uncertainty.reduction import backward_reduction

    path, _ = days_csv
    settings = _settings(path, marginals="kde", dependence="frank", reduction=reduction,
                         generated_days=120, typical_days=4)
    batch = ScenarioBatch.build(grid, 1, "daily", n_samples=3, seed=5, uncertainty=settings)
    gen, kmeans_seed, _ = generated_days(grid, settings, 5)
    if reduction == "kmeans":
        ref = KMeans(n_clusters=4, n_init=4, random_state=kmeans_seed).fit(gen)
        centres, shares = ref.cluster_centers_, np.bincount(ref.labels_, minlength=4) / 120
        assert list(batch.fitted["seconds"]) == ["kmeans"]
    else:
        ref = backward_reduction(gen, 4)
        centres, shares = ref.scenarios, ref.probability
        assert list(batch.fitted["seconds"]) == ["backward"]  # no k-means to choose k first
    assert batch.fitted["k"] == 4 and batch.days.n_days == 4
    np.testing.assert_allclose(np.hstack([batch.days.load_pu, batch.days.pv_pu]), centres,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(batch.days.probability, shares, atol=1e-12)
    assert batch.days.probability.sum() == pytest.approx(1.0, abs=1e-12)


def test_without_typical_days_k_is_the_rules(grid, days_csv):
    """The default is unchanged: k and the days are those of the elbow/silhouette rule."""
    from fdnmoo.scenarios.fitted import generated_days
    from fdnmoo.uncertainty.reduction import kmeans_reduction

    path, _ = days_csv
    settings = _settings(path, marginals="kde", dependence="frank", reduction="kmeans",
                         generated_days=120)
    batch = ScenarioBatch.build(grid, 1, "daily", n_samples=3, seed=5, uncertainty=settings)
    gen, kmeans_seed, _ = generated_days(grid, settings, 5)
    rule = kmeans_reduction(gen, random_state=kmeans_seed)
    assert batch.fitted["k"] == rule.k
    np.testing.assert_array_equal(np.hstack([batch.days.load_pu, batch.days.pv_pu]), rule.scenarios)
