"""The cluster-vs-centralised benchmark runs both modes of the zonal study and reports what it
measured (no timing asserted)."""

from __future__ import annotations

import pytest
from bench_scripts import load_script

TINY = ("partition.pop_size=6", "partition.n_generations=1", "partition.cooling=0.5")


@pytest.fixture(scope="module")
def bench():
    return load_script("zonal")


def test_both_modes_of_the_same_study(bench, tmp_path):
    result = bench.measure({"tpc84": (TINY, (4, 1))}, tmp_path)
    case = result["cases"]["tpc84"]
    cluster, central = case["modes"]
    assert (cluster["mode"], central["mode"]) == ("cluster", "centralised")
    assert central["n_clusters"] == 1 and cluster["n_clusters"] >= 2
    # centralised: every line of tpc84 (96) is a gene; cluster: only those between clusters
    assert central["n_var"] - cluster["n_var"] > 0
    assert central["n_var"] == 96 + 11 + 26  # lines + PV + ESS candidates
    assert case["time_ratio"] == pytest.approx(central["wall_time_s"] / cluster["wall_time_s"])
    assert result["paper_time_ratio"] == pytest.approx(55.62 / 32.41)
    assert set(cluster["best"]) == {"total_cost", "eens_mwh", "ecost"}
    text = bench.format_report(result)
    assert "time centralised / cluster" in text and "paper: 1.72" in text
    assert f"{result['runpp_tpc84_ms']:.2f} ms" in text


def test_the_synthetic_feeder_takes_tpc84s_economics(bench):
    from fdnmoo.experiment import load_spec

    studies = bench.cases()
    assert set(studies) == {"tpc84", "synthetic-1000"} and set(bench.cases(quick=True)) == {"tpc84"}
    spec = load_spec(bench.SPEC, settings=studies["synthetic-1000"][0])
    assert spec.case == "synthetic" and dict(spec.case_params)["n_bus"] == 1000
    problem = spec.build_problem(spec.problem_config(clusters=(0,) * 1000))
    assert problem.grid.case.economics.unit_costs["pv_per_mw"] == 800000.0
