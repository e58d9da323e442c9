"""The bi-level benchmark: the same evaluation budget for both algorithms, hypervolumes on a
common normalisation (no timing asserted)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bench_scripts import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("bilevel")


def test_hypervolumes_share_one_normalisation(bench):
    # union of the fronts spans [0, 2] x [0, 4]: scaled, A = {(0, 1), (1, 0)} and
    # B = {(0.5, 0.5)}; with reference 1.1, HV(A) = 1.1*0.1 + 0.1*1.1 - 0.1*0.1 = 0.21
    # and HV(B) = 0.6 * 0.6 = 0.36 (hand computation)
    A = np.array([[0.0, 4.0], [2.0, 0.0]])
    B = np.array([[1.0, 2.0]])
    hv = bench.hypervolumes({"a": A, "b": B})
    assert hv == pytest.approx({"a": 0.21, "b": 0.36})


def test_tiny_run_gives_both_algorithms_the_same_budget(bench, capsys):
    argv = ["--upper-pop", "2", "--upper-gen", "1", "--lower-pop", "4", "--lower-gen", "1",
            "--single-pop", "4", "--workers", "1", "--json"]
    assert bench.main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["bilevel_evals"] == r["bilevel_lower_runs"] * 4
    # pymoo stops after the generation that reaches the budget: at most one population more
    assert r["bilevel_evals"] <= r["single_evals"] < r["bilevel_evals"] + 4
    assert r["bilevel_over_single"] == pytest.approx(r["bilevel_s"] / r["single_s"])
    for key in ("bilevel_hv", "single_hv"):
        assert 0 <= r[key] <= 1.1 ** 4
    assert r["runpp_ms"] > 0
