"""``history.csv``'s per-run hypervolume: scaled by the first feasible front, never by
infeasible objective values (HistoryRecorder)."""

from __future__ import annotations

import json

import moocore
import numpy as np
import pandas as pd
import pytest
from pymoo.core.problem import Problem
from pymoo.core.sampling import Sampling

from fdnmoo.experiment import build_algorithm, optimise, run_experiment
from fdnmoo.experiment.spec import AlgorithmSpec, parse_spec


class InfeasibleStart(Problem):
    """Two objectives on [0, 1]^2; feasible only where x1 <= 0.5 (g = x1 - 0.5), and the
    infeasible region's objectives are huge (1e6 per unit of violation), as a penalised
    planning problem's are."""

    def __init__(self) -> None:
        super().__init__(n_var=2, n_obj=2, n_ieq_constr=1, xl=0.0, xu=1.0)

    def _evaluate(self, X, out, *args, **kwargs):
        g = X[:, 1] - 0.5
        penalty = 1e6 * np.maximum(g, 0.0)
        out["F"] = np.column_stack([X[:, 0] + penalty, 1.0 - X[:, 0] + X[:, 1] + penalty])
        out["G"] = g[:, None]


class UpperHalf(Sampling):
    """Initial points with x1 in [0.75, 1]: the whole first generation is infeasible."""

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        X = random_state.random((n_samples, 2))
        X[:, 1] = 0.75 + 0.25 * X[:, 1]
        return X


@pytest.fixture(scope="module")
def infeasible_start(tmp_path_factory):
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM

    problem = InfeasibleStart()
    algorithm = build_algorithm(AlgorithmSpec(name="nsga2", pop_size=10), problem,
                                operators={"sampling": UpperHalf(), "crossover": SBX(),
                                           "mutation": PM(), "eliminate_duplicates": True})
    out = tmp_path_factory.mktemp("infeasible")
    algorithm, _ = optimise(problem, algorithm, n_gen=12, seed=4, out_dir=out, run_hash="inf",
                            progress=False)
    return algorithm.callback, pd.read_csv(out / "history.csv"), pd.read_csv(out / "fronts.csv")


def test_bounds_come_from_the_first_feasible_front(infeasible_start):
    recorder, history, fronts = infeasible_start
    assert history.feasible_share.iloc[0] == 0.0  # the case of issue 12: gen 1 all infeasible
    first = int(history.loc[history.feasible_share > 0, "n_gen"].iloc[0])
    assert recorder.bounds_generation == first > 1
    front = fronts.loc[fronts.n_gen == first, ["f1", "f2"]].to_numpy()
    np.testing.assert_allclose(recorder.lower, front.min(axis=0))
    np.testing.assert_allclose(recorder.upper, front.max(axis=0))
    assert np.all(recorder.upper < 2.0)  # the 1e6-scale infeasible values set nothing
    assert (history.loc[history.n_gen < first, "hypervolume"] == 0).all()


def test_history_hypervolume_is_moocore_on_the_stated_scale(infeasible_start):
    recorder, history, fronts = infeasible_start
    span = np.where(recorder.upper > recorder.lower, recorder.upper - recorder.lower, 1.0)
    for gen, rows in fronts.groupby("n_gen"):
        Z = (rows[["f1", "f2"]].to_numpy() - recorder.lower) / span
        expected = moocore.hypervolume(Z, ref=[1.1, 1.1])
        assert history.loc[history.n_gen == gen, "hypervolume"].item() == \
            pytest.approx(expected, rel=1e-12)
    # the scaled first feasible front spans [0, 1]: its HV lies in (0, 1.21]
    at_first = history.loc[history.n_gen == recorder.bounds_generation, "hypervolume"].item()
    assert 0 < at_first <= 1.1 ** 2


def test_run_json_states_the_normalisation(tmp_path):
    data = {"problem": {"pymoo": "zdt1", "n_var": 4}, "seed": 1, "output": str(tmp_path),
            "algorithm": {"name": "nsga2", "pop_size": 8, "n_gen": 2}}
    out = run_experiment(parse_spec(data), progress=False)
    hv = json.loads((out / "run.json").read_text())["hypervolume"]
    assert hv["bounds_generation"] == 1 and "first with a feasible solution" in hv["note"]
    fronts = pd.read_csv(out / "fronts.csv")
    first = fronts.loc[fronts.n_gen == 1, ["f1", "f2"]].to_numpy()
    np.testing.assert_allclose(hv["lower"], first.min(axis=0))
    np.testing.assert_allclose(hv["upper"], first.max(axis=0))
