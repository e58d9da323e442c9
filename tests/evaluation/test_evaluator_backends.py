"""The evaluator gives identical F and G on every backend and worker count."""

from __future__ import annotations

import os
import pickle

import dask
import distributed  # the test extra installs dask[distributed]: the dask backend is always tested
import numpy as np
import pytest

from evaluation_toy import BUILDS, ToyConfig
from fdnmoo.evaluation import Evaluator, cached_problem, clear_cache, evaluate_chunk
from fdnmoo.operators import GenomeSampling
from fdnmoo.problems.planning import ProblemConfig


@pytest.fixture
def genomes():
    return np.random.default_rng(3).integers(0, 6, size=(23, 6))


@pytest.fixture
def reference(genomes):
    return ToyConfig().build().evaluate_genomes(genomes)


def _same(result, reference):
    F, G = result
    np.testing.assert_array_equal(F, reference[0])
    np.testing.assert_array_equal(G, reference[1])


def test_constructor_stores_and_starts_nothing():
    ev = Evaluator("dask", n_workers=3, chunk_size=5)
    assert (ev.backend, ev.n_workers, ev.client, ev.chunk_size) == ("dask", 3, None, 5)
    assert ev._own_cluster is None and ev._parallel is None


def test_serial_builds_once_per_config(genomes, reference):
    clear_cache()
    BUILDS["count"] = 0
    ev = Evaluator()
    for _ in range(3):
        _same(ev.evaluate(ToyConfig(), genomes), reference)
    assert BUILDS["count"] == 1
    assert cached_problem(ToyConfig()) is cached_problem(ToyConfig())
    ev.evaluate(ToyConfig(scale=2.0), genomes)
    assert BUILDS["count"] == 2


@pytest.mark.parametrize("chunk_size", [None, 1, 4, 100])
def test_joblib_two_workers_identical(genomes, reference, chunk_size):
    with Evaluator("joblib", n_workers=2, chunk_size=chunk_size) as ev:
        _same(ev.evaluate(ToyConfig(), genomes), reference)
        _same(ev.evaluate(ToyConfig(), genomes[::-1]), tuple(a[::-1] for a in reference))


def test_dask_local_cluster_identical(genomes, reference):
    trim_before = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    with Evaluator("dask", n_workers=2) as ev:
        _same(ev.evaluate(ToyConfig(), genomes), reference)
        _same(ev.evaluate(ToyConfig(), genomes[:1]), tuple(a[:1] for a in reference))
        cluster = ev._own_cluster
        assert all(addr.startswith("tcp://127.0.0.1:")
                   for addr in cluster.scheduler_info["workers"])
        assert len(cluster.scheduler_info["workers"]) == 2
    assert ev._own_cluster is None and cluster.status.name == "closed"
    # dask's nanny would leak MALLOC_TRIM_THRESHOLD_ (a 2x slow-down of numpy-heavy
    # evaluation) into this process and so into later loky workers
    assert os.environ.get("MALLOC_TRIM_THRESHOLD_") == trim_before


def test_dask_given_client_left_open(genomes, reference):
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                     host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with Evaluator("dask", client=client, chunk_size=5) as ev:
            _same(ev.evaluate(ToyConfig(), genomes), reference)
        assert client.status == "running"


def test_empty_population_and_pickling(reference):
    ev = Evaluator("joblib", n_workers=2)
    F, G = ev.evaluate(ToyConfig(), np.zeros((0, 6), dtype=int))
    assert F.shape == (0, 2) and G.shape == (0, 1)
    clone = pickle.loads(pickle.dumps(ev))
    assert (clone.backend, clone.n_workers) == ("joblib", 2)


def test_bad_arguments_rejected_on_use():
    with pytest.raises(ValueError, match="unknown evaluation backend 'ray'"):
        Evaluator("ray").evaluate(ToyConfig(), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="n_workers"):
        Evaluator("joblib", n_workers=0).evaluate(ToyConfig(), np.zeros((2, 6)))


@pytest.mark.parametrize("backend", ["serial", "joblib"])
def test_prepare_and_reports_in_row_order(genomes, reference, backend):
    with Evaluator(backend, n_workers=2) as ev:
        ev.prepare(ToyConfig())
        reports = ev.reports(ToyConfig(), genomes)
    assert [r["x"] for r in reports] == genomes.tolist()
    assert [r["objectives"]["f1"] for r in reports] == reference[0][:, 0].tolist()


def test_evaluate_chunk_is_the_worker_function(genomes, reference):
    _same(evaluate_chunk(ToyConfig(), genomes), reference)


def test_planning_problem_identical_on_every_backend():
    config = ProblemConfig(case="ieee33", preset="joint", n_stages=3, profile="peak",
                            n_samples=2, seed=4)
    problem = config.build()
    X = GenomeSampling()._do(problem, 9, random_state=np.random.default_rng(5))
    reference = problem.evaluate_genomes(X)
    assert reference[0].shape == (9, problem.n_obj) and np.isfinite(reference[0]).all()
    with Evaluator("joblib", n_workers=2) as ev:
        _same(ev.evaluate(config, X), reference)
    with Evaluator("dask", n_workers=2, chunk_size=4) as ev:
        _same(ev.evaluate(config, X), reference)
    # the problem's own _evaluate goes through its evaluator
    with Evaluator("joblib", n_workers=2) as ev:
        problem.evaluator = ev
        out = {}
        problem._evaluate(X, out)
        np.testing.assert_array_equal(out["F"], reference[0])


@pytest.mark.parametrize("backend", ["serial", "joblib"])
def test_interval_objective_bounds_survive_every_backend(backend):
    config = ProblemConfig(case="ieee33", preset="joint", n_stages=1, profile="peak", seed=4,
                           uncertainty={"method": "affine", "level": 0.1})
    problem = config.build()
    X = GenomeSampling()._do(problem, 6, random_state=np.random.default_rng(5))
    reference = problem.evaluate_genomes(X, bounds=True)
    assert len(reference) == 4 and np.any(reference[3] > reference[2])
    with Evaluator(backend, n_workers=2, chunk_size=2) as ev:
        result = ev.evaluate(config, X, bounds=True)
        for got, want in zip(result, reference):
            np.testing.assert_array_equal(got, want)
        _same(ev.evaluate(config, X), reference[:2])  # without bounds: F, G as before
        problem.evaluator = ev
        out = {}
        problem._evaluate(X, out)
    for key, want in zip(("F", "G", "F_lo", "F_hi"), reference):
        np.testing.assert_array_equal(out[key], want)
    affine = problem.evaluate_genomes(X, bounds="affine")  # + shared terms (F_aff, F_rad)
    for key, want in zip(("F_aff", "F_rad"), affine[4:]):
        np.testing.assert_array_equal(out[key], want)
