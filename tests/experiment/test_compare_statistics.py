"""Medians, rank-sum tests with Holm correction, the ranked table (experiment.statistics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu, ranksums

from fdnmoo.experiment.statistics import (holm, pairwise_tests, rank_sum_p, ranked_table,
                                          summary)


def test_holm_by_hand():
    # p = 0.01, 0.04, 0.03, 0.005 (m = 4); sorted with factors m, m-1, ...:
    #   0.005 * 4 = 0.02,  0.01 * 3 = 0.03,  0.03 * 2 = 0.06,  0.04 * 1 = 0.04 -> 0.06
    #   (step-down: an adjusted p is at least the one before it)
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    # 0.2 * 2 = 0.4, then 0.6 * 1 = 0.6; capped at 1: 0.6 * 2 = 1.2 -> 1, 0.7 -> max(1, 0.7)
    np.testing.assert_allclose(holm([0.6, 0.2]), [0.6, 0.4])
    np.testing.assert_allclose(holm([0.6, 0.7]), [1.0, 1.0])
    assert holm([]).size == 0


def test_rank_sum_against_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.0, 1.0, 11), rng.normal(0.8, 1.0, 11)
    assert rank_sum_p(a, b) == mannwhitneyu(a, b, alternative="two-sided").pvalue
    # without ties, the U test's normal approximation (no continuity correction) is
    # scipy's ranksums: the same Wilcoxon rank-sum test
    assert mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue == \
        pytest.approx(ranksums(a, b).pvalue)
    # small samples: exact p of 3 vs 3 fully separated = 2 / C(6, 3) = 2 / 20
    assert rank_sum_p([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    assert rank_sum_p([0.5] * 4, [0.5] * 5) == 1.0  # one value throughout: no difference
    with pytest.raises(ValueError, match="empty"):
        rank_sum_p([], [1.0])


@pytest.fixture
def runs():
    # "good" clearly above the two others (all 8 of its values above theirs); "mid" and
    # "low" overlap completely (same values, shuffled): tied
    seeds = range(8)
    good = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97]
    mid = [0.50, 0.52, 0.54, 0.56, 0.58, 0.60, 0.62, 0.64]
    low = mid[::-1]
    rows = [{"problem": "p1", "algorithm": name, "seed": s, "hv": v}
            for name, values in (("good", good), ("mid", mid), ("low", low))
            for s, v in zip(seeds, values)]
    return pd.DataFrame(rows)


def test_summary(runs):
    table = summary(runs, "hv").set_index("algorithm")
    assert table.loc["good", "n"] == 8
    assert table.loc["good", "median"] == pytest.approx(0.935)  # (0.93 + 0.94) / 2
    # pandas' linear quantiles of 8 values: q25 at position 1.75 -> 0.91 + 0.75 * 0.01
    assert table.loc["good", "q25"] == pytest.approx(0.9175)
    # q75 at position 5.25 -> 0.95 + 0.25 * 0.01
    assert table.loc["good", "iqr"] == pytest.approx(0.9525 - 0.9175)


def test_pairwise_and_ranked_table(runs):
    tests = pairwise_tests(runs, "hv", higher_is_better=True)
    assert list(zip(tests.a, tests.b)) == [("good", "low"), ("good", "mid"), ("low", "mid")]
    # 8 vs 8 fully separated: exact p = 2 / C(16, 8) = 2 / 12870; Holm over 3 pairs: * 3, * 2
    np.testing.assert_allclose(tests.p[:2], 2 / 12870)
    np.testing.assert_allclose(tests.p_holm[:2], [3 * 2 / 12870, 3 * 2 / 12870])
    assert tests.winner.tolist() == ["good", "good", ""]
    ranked = ranked_table(runs, "hv", higher_is_better=True)
    assert ranked.algorithm.tolist()[0] == "good"
    assert ranked[["better", "worse", "tied"]].iloc[0].tolist() == [2, 0, 0]
    rest = ranked.iloc[1:].set_index("algorithm")
    assert rest.better.tolist() == [0, 0] and rest.worse.tolist() == [1, 1]
    assert rest.tied.tolist() == [1, 1]
    assert ranked["rank"].tolist() == [1, 2, 3]
    # the same values as a loss (lower is better): "good" is now the worst
    flipped = ranked_table(runs, "hv", higher_is_better=False)
    assert flipped.algorithm.iloc[-1] == "good"
    assert flipped[["better", "worse"]].iloc[-1].tolist() == [0, 2]


def test_per_problem_families(runs):
    other = runs.assign(problem="p2", hv=1 - runs.hv)  # reversed on the second problem
    both = ranked_table(pd.concat([runs, other]), "hv", higher_is_better=True)
    assert both.groupby("problem").algorithm.first().to_dict() == {"p1": "good", "p2": "low"}
    # p2: low (1 - mid reversed) and mid have the same values: medians equal, tie on score
    # and median broken by name
    assert both[both.problem == "p2"].algorithm.tolist() == ["low", "mid", "good"]


def test_missing_column_named(runs):
    with pytest.raises(ValueError, match="igd_plus"):
        summary(runs, "igd_plus")


def test_median_bands_hold_each_run_at_the_evaluation_grid():
    from fdnmoo.experiment.compare_report import median_bands

    # two runs of one algorithm with different generation sizes (hand values): on the
    # union of evaluation counts 10, 20, 25, 30, each run holds its last generation's value
    history = pd.DataFrame({
        "algorithm": ["a"] * 5, "seed": [1, 1, 1, 2, 2],
        "evaluations": [10, 20, 30, 10, 25], "wall_time_s": [1.0, 2.0, 3.0, 4.0, 6.0]})
    band = median_bands(history, "wall_time_s")["a"]
    assert band.evaluations.tolist() == [10, 20, 25, 30]
    # seed 1: 1, 2, 2, 3; seed 2: 4, 4, 6, 6 -> medians, quartiles of two values
    assert band["median"].tolist() == [2.5, 3.0, 4.0, 4.5]
    assert band.q25.tolist() == [1.75, 2.5, 3.0, 3.75]
    assert band.q75.tolist() == [3.25, 3.5, 5.0, 5.25]
