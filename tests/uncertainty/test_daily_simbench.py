"""The daily-scenario pipeline on a SimBench year (slow; fast variants in test_daily_scenarios.py).

366 days of SimBench MV rural (hourly means of the quarter-hours) -> Nataf/GMM model ->
3,650 days -> k-means and backward reduction at the same k.
"""

import warnings

import numpy as np
import pytest

from fdnmoo.cases import load_case
from fdnmoo.planning import planning_grid
from fdnmoo.scenarios.simbench_profiles import year_profile
from fdnmoo.uncertainty import DailyScenarioModel, backward_reduction, daily_matrix, kmeans_reduction


@pytest.mark.slow
def test_simbench_year_to_reduced_days():
    observed = daily_matrix(year_profile(planning_grid(load_case("simbench-mv-rural"))).days)
    assert observed.shape == (366, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)       # the positive-definite repair is expected
        days = DailyScenarioModel(random_state=0).fit(observed).sample(3650, random_state=1)
    load = slice(0, 24)
    assert np.abs(np.corrcoef(days[:, load], rowvar=False)
                  - np.corrcoef(observed[:, load], rowvar=False)).max() < 0.06
    np.testing.assert_allclose(days.mean(axis=0), observed.mean(axis=0), atol=0.01)
    km = kmeans_reduction(days, random_state=0)
    bw = backward_reduction(days, km.k)
    np.testing.assert_allclose(km.probability @ km.scenarios, days.mean(axis=0), atol=1e-9)
    assert bw.probability.sum() == pytest.approx(1.0)
    assert set(bw.diagnostics["kept"]) <= set(range(3650))
    # k >= 2 scenarios must beat the one-scenario reduction to the mean day (its distance is `spread`)
    spread = np.linalg.norm(days - days.mean(axis=0), axis=1).mean()
    assert 0 < km.distance < spread and 0 < bw.distance < spread
