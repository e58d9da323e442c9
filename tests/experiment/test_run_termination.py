"""Termination of ``fdnmoo run`` by generations, evaluations and wall time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymoo.termination.collection import TerminationCollection
from pymoo.termination.max_eval import MaximumFunctionCallTermination

from experiment_toy import ToyPlanning, toy_operators
from fdnmoo.experiment import SpecError, build_algorithm, optimise, parse_spec
from fdnmoo.experiment.runner import FRONTS, HistoryRecorder, termination
from fdnmoo.experiment.spec import AlgorithmSpec

POP = 12  # nsga2 makes pop_size offspring per generation: n_eval = 12 * generations


class Killed(Exception):
    pass


def _run(out, after=None, **limits):
    problem = ToyPlanning()
    algorithm = build_algorithm(AlgorithmSpec(name="nsga2", pop_size=POP), problem,
                                operators=toy_operators())
    return optimise(problem, algorithm, seed=3, out_dir=out, run_hash="toy", progress=False,
                    after_generation=after, **limits)


def test_n_eval_finishes_the_generation_that_reaches_it(tmp_path):
    alg, _ = _run(tmp_path, n_eval=30)
    history = pd.read_csv(tmp_path / "history.csv")
    # 12, 24 < 30 <= 36: the third generation reaches the budget and is finished
    assert history.n_eval.tolist() == [12, 24, 36]
    assert alg.evaluator.n_eval == 36


@pytest.mark.parametrize("limits, generations", [
    ({"n_gen": 2, "n_eval": 60}, 2),       # generations first
    ({"n_gen": 9, "n_eval": 48}, 4),       # evaluations first: 48 = 4 * 12
    ({"n_gen": 9, "max_time_s": 1e-9}, 1)])  # time is checked after a generation only
def test_whichever_comes_first(tmp_path, limits, generations):
    _run(tmp_path, **limits)
    assert len(pd.read_csv(tmp_path / "history.csv")) == generations


def test_resume_with_n_eval_matches_uninterrupted(tmp_path):
    full, _ = _run(tmp_path / "full", n_eval=70)

    def kill_after_3(algorithm):
        if len(algorithm.callback.rows) == 3:
            raise Killed

    with pytest.raises(Killed):
        _run(tmp_path / "cut", after=kill_after_3, n_eval=70)
    resumed, run = _run(tmp_path / "cut", n_eval=70)
    assert run["resumed_at"] == [3]
    assert resumed.evaluator.n_eval == full.evaluator.n_eval == 72
    np.testing.assert_array_equal(resumed.pop.get("F"), full.pop.get("F"))
    np.testing.assert_array_equal(resumed.pop.get("X"), full.pop.get("X"))
    a, b = (pd.DataFrame(alg.callback.rows).drop(columns="seconds") for alg in (full, resumed))
    pd.testing.assert_frame_equal(a, b)
    # the per-generation fronts survive the kill in the checkpoint
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "full" / FRONTS),
                                  pd.read_csv(tmp_path / "cut" / FRONTS))
    assert sorted(pd.read_csv(tmp_path / "cut" / FRONTS).n_gen.unique()) == [1, 2, 3, 4, 5, 6]


def test_recorder_of_an_older_checkpoint_gets_empty_fronts():
    import pickle

    recorder = HistoryRecorder(["a", "b"], np.ones(2))
    recorder.rows.append({"n_gen": 1, "n_eval": 4})
    del recorder.fronts  # as pickled before fronts were kept
    loaded = pickle.loads(pickle.dumps(recorder))
    assert len(loaded.fronts) == 1 and loaded.fronts[0].shape == (0, 2)
    assert loaded.front_table().columns.tolist() == ["n_gen", "n_eval", "a", "b"]


def test_termination_objects():
    assert isinstance(termination(n_eval=5), MaximumFunctionCallTermination)
    both = termination(n_gen=3, n_eval=5, max_time_s=2.0)
    assert isinstance(both, TerminationCollection) and len(both.terminations) == 3
    with pytest.raises(ValueError, match="no termination"):
        termination()


def _algorithm(**keys):
    return parse_spec({"case": "ieee33", "algorithm": {"name": "nsga2", **keys}}).algorithm


def test_spec_keys():
    assert _algorithm().n_gen == 100 and _algorithm().n_eval is None
    a = _algorithm(n_eval=500)
    assert (a.n_gen, a.n_eval, a.max_time_s) == (None, 500, None)  # no hidden generation cap
    assert _algorithm(max_time="01:02:03").max_time_s == 3723.0  # 3600 + 2 * 60 + 3
    assert _algorithm(max_time="02:30").max_time_s == 150.0
    assert _algorithm(max_time=4.5, n_gen=7).n_gen == 7


def test_run_hash_of_specs_without_the_new_keys_unchanged():
    spec = parse_spec({"case": "ieee33"})
    assert set(spec.to_dict()["algorithm"]) == {"name", "pop_size", "n_gen"}
    other = parse_spec({"case": "ieee33", "algorithm": {"n_eval": 100}})
    assert other.run_hash != spec.run_hash


@pytest.mark.parametrize("keys, key, message", [
    ({"n_eval": 0}, "algorithm.n_eval", ">= 1"),
    ({"n_eval": "10"}, "algorithm.n_eval", "integer"),
    ({"max_time": "1h"}, "algorithm.max_time", "HH:MM:SS"),
    ({"max_time": -3}, "algorithm.max_time", "positive"),
    ({"max_time": True}, "algorithm.max_time", "positive"),
    ({"n_gen": None}, "algorithm.n_gen", "no termination"),
    ({"n_evals": 10}, "algorithm.n_evals", "n_eval")])
def test_bad_termination_keys_named(keys, key, message):
    with pytest.raises(SpecError, match=message) as err:
        _algorithm(**keys)
    assert key in str(err.value)
