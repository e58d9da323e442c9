"""The resumable optimisation loop: history, checkpoints, resume, algorithms by name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiment_toy import ToyPlanning, toy_operators
from fdnmoo.evaluation import Evaluator
from fdnmoo.experiment import ALGORITHMS, SpecError, build_algorithm, optimise
from fdnmoo.experiment.runner import CHECKPOINT
from fdnmoo.operators import reference_directions
from fdnmoo.experiment.spec import AlgorithmSpec


class Killed(Exception):
    pass


def _run(out, n_gen=6, seed=3, after=None, problem=None, name="nsga2", **options):
    problem = problem or ToyPlanning()
    algorithm = build_algorithm(AlgorithmSpec(name=name, pop_size=12, n_gen=n_gen,
                                              options=tuple(options.items())),
                                problem, operators=toy_operators())
    return optimise(problem, algorithm, n_gen=n_gen, seed=seed, out_dir=out, run_hash="toy",
                    progress=False, after_generation=after)


def test_history_columns_and_files(tmp_path):
    _, run = _run(tmp_path)
    history = pd.read_csv(tmp_path / "history.csv")
    assert history.n_gen.tolist() == [1, 2, 3, 4, 5, 6]
    assert history.n_eval.iloc[0] == 12 and history.n_eval.is_monotonic_increasing
    for col in ("hypervolume", "feasible_share", "n_front", "seconds",
                "total_cost_best", "total_cost_median", "structural_adaptability_q75"):
        assert col in history
    assert history.hypervolume.iloc[-1] > 0
    # structural_adaptability is maximised: reported with its own (positive) sign, best = max
    assert (history.structural_adaptability_best >= history.structural_adaptability_median).all()
    assert (history.structural_adaptability_best > 0).all()
    assert (tmp_path / CHECKPOINT).is_file() and run["resumed_at"] == []


def test_resume_after_interruption_matches_uninterrupted(tmp_path):
    full, _ = _run(tmp_path / "full")

    def kill_after_3(algorithm):
        if len(algorithm.callback.rows) == 3:
            raise Killed

    with pytest.raises(Killed):
        _run(tmp_path / "cut", after=kill_after_3)
    assert len(pd.read_csv(tmp_path / "cut" / "history.csv")) == 3
    resumed, run = _run(tmp_path / "cut")
    assert run["resumed_at"] == [3]
    np.testing.assert_array_equal(resumed.pop.get("F"), full.pop.get("F"))
    np.testing.assert_array_equal(resumed.pop.get("X"), full.pop.get("X"))
    a, b = (pd.DataFrame(alg.callback.rows).drop(columns="seconds") for alg in (full, resumed))
    pd.testing.assert_frame_equal(a, b)


def test_finished_run_is_not_recomputed(tmp_path):
    first, _ = _run(tmp_path, n_gen=2)
    again, _ = _run(tmp_path, n_gen=2)
    assert again.evaluator.n_eval == first.evaluator.n_eval
    np.testing.assert_array_equal(again.pop.get("F"), first.pop.get("F"))


def test_checkpoint_of_another_run_refused(tmp_path):
    _run(tmp_path, n_gen=1)
    problem = ToyPlanning()
    algorithm = build_algorithm(AlgorithmSpec(pop_size=12, n_gen=1), problem,
                                operators=toy_operators())
    with pytest.raises(SpecError, match="checkpoint of another run"):
        optimise(problem, algorithm, n_gen=1, seed=3, out_dir=tmp_path, run_hash="other",
                 progress=False)
    (tmp_path / CHECKPOINT).write_bytes(b"\x80\x05garbage")
    with pytest.raises(SpecError, match="unreadable checkpoint"):
        optimise(problem, algorithm, n_gen=1, seed=3, out_dir=tmp_path, run_hash="toy",
                 progress=False)


def test_parallel_evaluation_gives_the_same_run(tmp_path):
    serial, _ = _run(tmp_path / "serial", n_gen=3)
    problem = ToyPlanning()
    with Evaluator("joblib", n_workers=2) as ev:
        problem.evaluator = ev
        parallel, _ = _run(tmp_path / "joblib", n_gen=3, problem=problem)
    np.testing.assert_array_equal(parallel.pop.get("F"), serial.pop.get("F"))


# moead refuses constrained problems; bilevel needs a planning genome (tests/operators)
@pytest.mark.parametrize("name", sorted(set(ALGORITHMS) - {"moead", "bilevel"}))
def test_every_algorithm_runs_by_name(tmp_path, name):
    options = {"ref_points": [[10.0, -3.0]]} if name == "rnsga2" else {}
    algorithm, _ = _run(tmp_path, n_gen=2, name=name, **options)
    assert len(algorithm.callback.rows) == 2 and algorithm.opt is not None


def test_moead_refuses_a_problem_that_exposes_constraints():
    with pytest.raises(SpecError, match="moead handles no constraints and this problem exposes 1 "
                                        r"\(budget\)"):
        build_algorithm(AlgorithmSpec(name="moead"), ToyPlanning(), operators=toy_operators())


def test_reference_directions_sized_for_population():
    assert len(reference_directions(4, 40)) == 35      # 4 partitions; 5 would give 56
    assert len(reference_directions(2, 12)) == 12      # 11 partitions
    assert len(reference_directions(4, 10, n_partitions=5)) == 56


_KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {toy_dir!r})
from experiment_toy import ToyPlanning, toy_operators
from fdnmoo.experiment import build_algorithm, optimise
from fdnmoo.experiment.spec import AlgorithmSpec

class Slow(ToyPlanning):
    def _evaluate(self, X, out, *a, **k):
        time.sleep(0.25)
        super()._evaluate(X, out, *a, **k)

problem = Slow()
algorithm = build_algorithm(AlgorithmSpec(pop_size=12, n_gen=40), problem,
                            operators=toy_operators())
optimise(problem, algorithm, n_gen=40, seed=3, out_dir={out!r}, run_hash="toy",
         progress=False)
"""


def test_sigkill_loses_no_finished_generation(tmp_path):
    out = tmp_path / "killed"
    script = _KILL_SCRIPT.format(toy_dir=str(Path(__file__).parent), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)])
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            history = out / "history.csv"
            if history.exists() and len(pd.read_csv(history)) >= 3:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    finished = len(pd.read_csv(out / "history.csv"))
    assert 3 <= finished < 40
    # resume (fast problem, same results) and compare with an uninterrupted run
    resumed, run = _run(out, n_gen=40)
    assert run["resumed_at"][0] >= finished
    full, _ = _run(tmp_path / "full", n_gen=40)
    np.testing.assert_array_equal(resumed.pop.get("F"), full.pop.get("F"))


class _Unpicklable(ToyPlanning):
    def __reduce_ex__(self, protocol):
        raise TypeError("the problem must not be pickled into checkpoints")


def test_checkpoint_leaves_the_problem_out(tmp_path):
    _run(tmp_path, n_gen=2, problem=_Unpicklable())
    resumed, run = _run(tmp_path, n_gen=3, problem=_Unpicklable())
    assert isinstance(resumed.problem, _Unpicklable) and run["resumed_at"] == [2]
