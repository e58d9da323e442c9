"""The fdnmoo command line."""

import json
import logging
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


# --- -v / --quiet and logging -------------------------------------------------------------
@pytest.fixture
def fdnmoo_logger():
    """The ``fdnmoo`` logger, restored after the test (main() configures it)."""
    logger = logging.getLogger("fdnmoo")
    saved = logger.level, list(logger.handlers)
    root_handlers = list(logging.getLogger().handlers)
    yield logger
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    assert logging.getLogger().handlers == root_handlers  # the root logger is never configured


@pytest.mark.parametrize("argv", [["-v", "pf", "ieee33"], ["pf", "ieee33", "--verbose"]])
def test_verbose_shows_debug_messages_on_stderr(argv, capsys, fdnmoo_logger):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "losses 202.68 kW" in captured.out
    assert "DEBUG fdnmoo.cli.pf_cmd: loaded case ieee33" in captured.err
    assert "batch power flow in" in captured.err
    main(argv)
    assert len(fdnmoo_logger.handlers) == 1  # one handler, however often main() runs


def test_default_and_quiet_show_no_debug(capsys, fdnmoo_logger):
    for argv in (["pf", "ieee33"], ["--quiet", "pf", "ieee33"], ["pf", "ieee33", "-q"]):
        assert main(argv) == 0
        captured = capsys.readouterr()
        assert "losses 202.68 kW" in captured.out and captured.err == ""
    assert fdnmoo_logger.level == logging.WARNING
    fdnmoo_logger.info("an info message")
    assert capsys.readouterr().err == ""  # --quiet hides info
    fdnmoo_logger.warning("a warning")
    assert capsys.readouterr().err == "a warning\n"


def test_verbose_and_quiet_exclude_each_other(capsys, fdnmoo_logger):
    with pytest.raises(SystemExit) as exc:
        main(["-v", "pf", "ieee33", "-q"])
    assert exc.value.code == 2 and "exclude each other" in capsys.readouterr().err


def test_verbose_logs_the_traceback_of_an_error(capsys, fdnmoo_logger):
    assert main(["-v", "pf", "ieee34"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith(
        "(or give the path of a .json case file, or simbench:CODE)")
    assert main(["pf", "ieee34"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("flag, progress", [([], True), (["--quiet"], False),
                                            (["--no-progress"], False)])
def test_quiet_run_has_no_progress_bar_and_no_info(flag, progress, monkeypatch, tmp_path,
                                                   capsys, fdnmoo_logger):
    import fdnmoo.experiment as experiment

    seen = {}

    def fake_run(spec, out_dir=None, progress=True, **kwargs):
        seen["progress"] = progress
        raise KeyboardInterrupt  # stop before any work: only the options are checked

    monkeypatch.setattr(experiment, "run_experiment", fake_run)
    with pytest.raises(KeyboardInterrupt):
        main(["run", *flag, "--out", str(tmp_path)])
    assert seen["progress"] is progress
    assert ("running " in capsys.readouterr().err) is (flag != ["--quiet"])
