"""The uncertainty benchmark runs and reports every figure it promises (no timing asserted)."""

from __future__ import annotations

import json

import pytest
from bench_scripts import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("uncertainty")


def test_tiny_run_prints_one_json_object(bench, capsys):
    argv = ["--slots", "2", "--samples", "40", "--runpp-calls", "2", "--repeat", "1", "--json"]
    assert bench.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mc_power_flows"] == 24 * 40
    assert result["aa_over_deterministic"] == pytest.approx(
        result["aa_seconds"] / result["deterministic_seconds"])
    assert result["aa_verified"] is True
    assert 0 < result["aa_width_over_ia"] < 1  # affine bounds are the narrower ones
    assert result["mc_inside_aa"] == 1.0
    assert result["runpp_over_mc"] > 1


def test_table_names_every_figure(bench, capsys):
    assert bench.main(["--slots", "1", "--samples", "20", "--runpp-calls", "1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for figure in ("aa_over_deterministic", "mc_seconds", "aa_width_over_ia", "mc_inside_aa", "runpp"):
        assert figure in out
