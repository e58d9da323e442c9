"""Indicators of finished toy runs on one normalisation per problem (experiment.comparison)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiment_toy import ToyPlanning, toy_operators
from fdnmoo.experiment import build_algorithm, optimise
from fdnmoo.experiment.comparison import compare_runs
from fdnmoo.experiment.indicators import (Normalisation, feasible, hypervolume, igd_plus,
                                          reference_front)
from fdnmoo.experiment.spec import AlgorithmSpec


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("grid")
    rows, finals = [], {}
    for name in ("nsga2", "spea2"):
        for seed in (1, 2):
            problem = ToyPlanning()
            algorithm = build_algorithm(AlgorithmSpec(name=name, pop_size=12), problem,
                                        operators=toy_operators())
            folder = root / f"{name}-{seed}"
            alg, _ = optimise(problem, algorithm, n_eval=36, seed=seed, out_dir=folder,
                              run_hash=f"{name}-{seed}", progress=False)
            finals[name, seed] = feasible(alg.pop.get("F"), alg.pop.get("CV"))
            rows.append({"problem": "toy", "algorithm": name, "seed": seed, "folder": folder})
    return pd.DataFrame(rows), finals


def test_shared_normalisation_and_final_indicators(finished):
    runs, finals = finished
    result = compare_runs(runs)
    front = reference_front(finals.values())  # the merged front of the final populations
    np.testing.assert_allclose(result.fronts["toy"].to_numpy(), front)
    norm = Normalisation.of_front(front)
    np.testing.assert_allclose(result.normalisations["toy"].nadir, norm.nadir)
    for row in result.final.itertuples():
        F = finals[row.algorithm, row.seed]
        assert row.hv == pytest.approx(hypervolume(F, norm))
        assert row.igd_plus == pytest.approx(igd_plus(F, front, norm))
        assert row.evaluations == 36 and row.generation == 3
    assert len(result.history) == 4 * 3
    assert (result.history.groupby(["algorithm", "seed"]).wall_time_s
            .apply(lambda s: s.is_monotonic_increasing).all())


def test_ranked_table_of_two_seeds_ties_everything(finished):
    # 2 against 2 runs: the smallest two-sided exact p is 2 / C(4, 2) = 1/3 > 0.05
    ranked = compare_runs(finished[0]).ranked("hv")
    assert ranked[["better", "worse", "tied"]].to_numpy().tolist() == [[0, 0, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="unknown indicator"):
        compare_runs(finished[0]).ranked("gd")


def test_bad_runs_tables(finished, tmp_path):
    runs = finished[0]
    with pytest.raises(ValueError, match="twice"):
        compare_runs(pd.concat([runs, runs.iloc[:1]]))
    with pytest.raises(ValueError, match="missing"):
        compare_runs(runs.assign(folder=[tmp_path] * len(runs)))
    with pytest.raises(ValueError, match="folder"):
        compare_runs(runs.drop(columns="folder"))
