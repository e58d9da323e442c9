"""Smoke test of the power-flow benchmark on tiny sizes (structure and agreement, no timings)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fdnmoo.bench import powerflow as bench
from fdnmoo.cases import load_case
from fdnmoo.powerflow import BatchPowerFlow

TINY = dict(ieee33_scenarios=40, feeder_buses=60, feeder_scenarios=12, scaling_buses=(40, 80),
            scaling_bus_scenarios=800, pandapower_calls=3, repeats=1, accuracy_scenarios=3,
            buses_per_feeder=20, simbench_scenarios=20)

# engines must agree to well below the spec's 1e-6 p.u.; 1e-6 leaves room for tolerances
AGREE_PU = 1e-6


@pytest.fixture(scope="module")
def report() -> dict:
    return bench.run_benchmark(bench.BenchConfig(**TINY))


def test_random_scenarios_scale_base_demand_per_bus():
    pf = BatchPowerFlow(load_case("ieee33").net)
    a = bench.random_scenarios(pf, 5, seed=3)
    b = bench.random_scenarios(pf, 5, seed=3)
    p0, q0 = pf.base_demand()
    np.testing.assert_array_equal(a.factors, b.factors)
    assert a.p_mw.shape == (5, p0.shape[1]) and a.n_scenarios == 5
    assert (a.factors >= 0).all() and (a.factors <= 2).all()
    np.testing.assert_allclose(a.p_mw, a.factors * p0)
    np.testing.assert_allclose(a.q_mvar, a.factors * q0)


def test_report_structure(report):
    assert set(report) >= {"meta", "ieee33", "feeder", "simbench", "scaling", "targets"}
    assert report["meta"]["versions"]["pandapower"]
    assert report["simbench"]["n_bus"] == 117  # 1-MV-semiurb--0-sw as simbench ships it
    for key in ("ieee33", "feeder", "simbench"):
        case = report[key]
        assert case["n_scenarios"] > 0 and case["n_bus"] > 0
        ours = case["ours"]
        assert ours["us_per_pf"] > 0 and ours["pf_per_s"] > 0
        assert ours["converged_share"] == 1.0 and ours["mean_iterations"] >= 1
        assert case["pandapower"]["ms_per_call"] > 0
        assert case["ratios"]["pandapower/ours"] > 0
    assert report["ieee33"]["n_bus"] == 33
    points = report["scaling"]["points"]
    assert len(points) == 2 and points[0]["n_bus"] < points[1]["n_bus"]
    assert all(p["us_per_pf"] > 0 and p["ns_per_pf_per_bus"] > 0 for p in points)
    assert np.isfinite(report["scaling"]["exponent"])
    assert {t["target"] for t in report["targets"]} == {t[0] for t in bench.TARGETS}
    json.dumps(report, default=bench._json_default)  # the --json output is serialisable


def test_ours_agrees_with_pandapower(report):
    for key in ("ieee33", "feeder", "simbench"):
        assert report[key]["accuracy"]["ours_vs_pandapower"] < AGREE_PU


@pytest.mark.skipif(not bench.pgm_available(), reason="power-grid-model not installed")
def test_pgm_agrees_with_ours_and_pandapower(report):
    # the SimBench grid goes through power-grid-model-io's converter (transformers, links)
    for key in ("ieee33", "feeder", "simbench"):
        case = report[key]
        for method in bench.PGM_METHODS:
            m = f"pgm_{method}"
            assert case[m]["us_per_pf"] > 0, case["notes"]
            assert case["accuracy"][f"{m}_vs_pandapower"] < AGREE_PU
            assert case["accuracy"][f"ours_vs_{m}_all_scenarios"] < AGREE_PU
    for p in report["scaling"]["points"]:
        assert p["max_dv_vs_pgm"] < AGREE_PU


def test_format_report_and_main(report, tmp_path, capsys):
    text = bench.format_report(report)
    for needle in ("ieee33", "simbench 1-MV-semiurb--0-sw", "pandapower runpp", "scaling",
                   "targets", "us per PF"):
        assert needle in text
    path = tmp_path / "bench.json"
    argv = ["--quick", "--json", str(path), "--ieee33-scenarios", "20", "--feeder-buses", "40",
            "--feeder-scenarios", "8", "--scaling-buses", "40,60", "--pandapower-calls", "2",
            "--repeats", "1", "--no-pgm", "--simbench-scenarios", "10"]
    assert bench.main(argv) == 0
    out, err = capsys.readouterr()
    assert "== targets" in out and "[bench] ieee33: ours" in err
    data = json.loads(path.read_text())
    assert data["ieee33"]["n_scenarios"] == 20 and "pgm_newton_raphson" not in data["ieee33"]
