"""The algorithm-comparison study specs: the slow one parses, the fast one runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fdnmoo.experiment.compare_spec import load_compare_spec
from fdnmoo.experiment.comparison import compare_runs
from fdnmoo.experiment.grid import run_grid

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def test_study_grid_is_as_issue_12_asks():
    spec = load_compare_spec(EXPERIMENTS / "compare_algorithms.yaml")
    assert set(spec.algorithms) == {"nsga2", "nsga3", "smsemoa", "moead", "agemoea2",
                                    "deap-nsga2", "aa-nsga2"}
    assert spec.seeds == tuple(range(1, 12)) and len(spec.cells) == 2 * 7 * 11
    assert {c.spec.algorithm.n_eval for c in spec.cells} == {4000}


def test_reduced_study_is_the_same_grid_with_a_smaller_budget():
    full = load_compare_spec(EXPERIMENTS / "compare_algorithms.yaml")
    reduced = load_compare_spec(EXPERIMENTS / "compare_algorithms_reduced.yaml")
    assert (reduced.problems, reduced.algorithms, reduced.seeds) == (
        full.problems, full.algorithms, full.seeds)
    assert {c.spec.algorithm.n_eval for c in reduced.cells} == {400}
    assert {c.spec.algorithm.pop_size for c in reduced.cells} == {20}


def _run(name, tmp_path) -> pd.DataFrame:
    spec = load_compare_spec(EXPERIMENTS / name, output=tmp_path / "out")
    return compare_runs(run_grid(spec, progress=False)).ranked("hv")


def test_fast_variant_runs(tmp_path):
    ranked = _run("compare_algorithms_fast.yaml", tmp_path)
    assert sorted(ranked.algorithm) == ["aa-nsga2", "nsga2"]
    assert ranked[["better", "worse", "tied"]].sum(axis=1).eq(1).all()


@pytest.mark.slow
def test_slow_study_runs(tmp_path):
    ranked = _run("compare_algorithms.yaml", tmp_path)
    assert len(ranked) == 2 * 7
