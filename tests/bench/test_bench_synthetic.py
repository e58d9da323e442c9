"""The synthetic-feeder build benchmark runs and reports what it measured (no timing asserted)."""

from __future__ import annotations

import json

import pytest
from bench_scripts import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("synthetic")


def test_small_run_reports_every_size_and_ratio(bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--sizes", "100", "300", "--repeat", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    points = result["points"]
    assert [p["n_bus"] for p in points] == [100, 300]
    for p in points:
        assert p["ours_ms"] > 0 and p["pandapower_tables_ms"] > 0
        assert p["ratio_ours_to_pandapower"] == pytest.approx(p["ours_ms"] / p["pandapower_tables_ms"])
        assert p["ours_us_per_bus"] == pytest.approx(p["ours_ms"] * 1e3 / p["n_bus"])
    assert result["per_bus_growth"] == pytest.approx(
        points[1]["ours_us_per_bus"] / points[0]["ours_us_per_bus"])
    printed = capsys.readouterr().out
    assert "ours/pp" in printed and "time per bus at 300 over 100 buses" in printed


def test_peer_rebuilds_the_same_tables(bench):
    from fdnmoo.cases.synthetic import synthetic_case

    net = synthetic_case(n_bus=150, n_feeders=2, seed=1).net
    copy = bench.pandapower_tables(net)
    for table, cols in (("bus", ["vn_kv"]), ("line", ["from_bus", "to_bus", "length_km",
                                                      "r_ohm_per_km", "in_service"]),
                        ("load", ["bus", "p_mw", "q_mvar"]), ("ext_grid", ["bus", "vm_pu"])):
        assert copy[table][cols].reset_index(drop=True).equals(net[table][cols].reset_index(drop=True))


def test_bad_arguments_are_refused(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(["--repeat", "0"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--sizes", "4"])
