"""The fdnmoo command line."""

import json
import shutil
import subprocess

import pytest

from fdnmoo.cli import main


def test_pf_json_ieee33_matches_baran_wu(capsys):
    assert main(["pf", "ieee33", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"losses_kw", "vmin_pu", "vmin_bus", "vmax_pu", "vmax_bus", "converged",
                        "unsupplied_buses"}
    assert out["unsupplied_buses"] == 0
    # Baran & Wu (1989): 202.68 kW, Vmin 0.9131 p.u. at bus 18
    assert out["losses_kw"] == pytest.approx(202.68, abs=0.01)
    assert out["vmin_pu"] == pytest.approx(0.9131, abs=1e-4)
    assert out["vmin_bus"] == 18 and out["converged"] is True


def test_pf_engines_agree(capsys):
    main(["pf", "ieee69", "--json"])
    batch = json.loads(capsys.readouterr().out)
    main(["pf", "ieee69", "--json", "--engine", "pandapower"])
    ref = json.loads(capsys.readouterr().out)
    assert batch["vmin_bus"] == ref["vmin_bus"] == 65
    assert batch["losses_kw"] == pytest.approx(ref["losses_kw"], rel=1e-6)


def test_pf_human_readable(capsys):
    assert main(["pf", "tpc84"]) == 0
    assert "losses" in capsys.readouterr().out


def test_pf_generated_case_with_parameters(capsys):
    assert main(["pf", "synthetic", "--set", "n_bus=120", "--set", "n_feeders=3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["converged"] is True


def test_unknown_case_exit_2_lists_cases(capsys):
    assert main(["pf", "ieee34"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ieee33" in err and "md24" in err


def test_bad_file_exit_2_names_problem(tmp_path, capsys):
    bad = tmp_path / "mine.json"
    bad.write_text("{not json")
    assert main(["pf", str(bad)]) == 2
    assert "mine.json: json" in capsys.readouterr().err


def test_cases_table(capsys):
    assert main(["cases"]) == 0
    out = capsys.readouterr().out
    for name in ("ieee33", "ieee69", "tpc84", "md24", "synthetic"):
        assert name in out


@pytest.mark.skipif(shutil.which("fdnmoo") is None, reason="console script not installed")
def test_console_script_entry_point():
    proc = subprocess.run(["fdnmoo", "pf", "nosuchcase"], capture_output=True, text=True)
    assert proc.returncode == 2 and "available cases" in proc.stderr
