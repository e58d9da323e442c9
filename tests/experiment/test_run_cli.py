"""``fdnmoo run``: errors as one line with exit code 2; a short seeded end-to-end run."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from figure_checks import png_shape

from fdnmoo.cli import main, run_cmd


TINY = """
case: ieee33
problem: {preset: joint, stages: 3, profile: peak, samples: 1}
algorithm: {name: nsga2, pop_size: 8, n_gen: 2}
seed: 11
evaluation: {backend: serial}
"""


def _spec(tmp_path, text):
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_missing_spec_file_exit_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "absent.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "absent.yaml: no such spec file" in err


def test_unknown_key_exit_2_names_it(tmp_path, capsys):
    path = _spec(tmp_path, TINY.replace("seed: 11", "seed: 11\nworkers: 2"))
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tiny.yaml: workers: unknown key" in err


def test_quickstart_located_in_the_source_tree(monkeypatch, capsys):
    path = run_cmd.quickstart_path()
    assert path.name == "quickstart.yaml" and path.parent.name == "experiments"
    monkeypatch.setattr(run_cmd, "QUICKSTART", path.parent / "absent.yaml")
    assert main(["run"]) == 2
    assert "absent.yaml not found" in capsys.readouterr().err


def test_bad_workers_option_rejected(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "x.yaml", "--workers", "0"])
    assert exc.value.code == 2


def test_tiny_run_writes_every_output(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(_spec(tmp_path, TINY)), "--out", str(out), "--no-progress"]) == 0
    assert str(out) in capsys.readouterr().out
    pareto = pd.read_csv(out / "pareto.csv")
    names = ["total_cost [CNY (NPV)]", "operational_adaptability [-]", "pv_uneven_degree [MW]",
             "structural_adaptability [-]"]  # ieee33's currency is CNY
    assert list(pareto.columns[1:5]) == names and len(pareto) >= 1
    assert any(c.startswith("plan_") for c in pareto.columns)
    for k in pareto.solution:
        assert (out / "plans" / f"solution_{k}.csv").is_file()
        assert (out / "plans" / f"solution_{k}_costs.csv").is_file()
    assert pd.read_csv(out / "history.csv").n_gen.tolist() == [1, 2]
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 11 and run["n_evals"] >= 8 and run["wall_time_s"] > 0
    assert {"fdnmoo", "pymoo", "numpy", "pandapower"} <= set(run["versions"])
    assert run["spec"]["algorithm"]["pop_size"] == 8 and len(run["config_hash"]) == 16
    k = run["chosen_solution"]
    # 4 objectives: a 4 x 4 matrix of 2.4 in panels and 3 rows of convergence panels, 120 dpi
    assert png_shape(out / "pareto.png") == (1152, 1152)
    assert png_shape(out / "convergence.png") == (936, 1080)
    height, width = png_shape(out / f"network_solution_{k}.png")
    # ieee33 is long: stages stacked, the width scaled to its bus spacing
    assert 1200 <= width <= 1800 and height > width / 2


def test_workers_switch_a_serial_spec_to_joblib(tmp_path, monkeypatch):
    import fdnmoo.experiment as experiment

    seen = {}

    def fake_run(spec, out_dir, workers, backend, progress):
        seen.update(workers=workers, backend=backend)
        raise SystemExit(0)

    monkeypatch.setattr(experiment, "run_experiment", fake_run)
    path = _spec(tmp_path, TINY)
    with pytest.raises(SystemExit):
        main(["run", str(path), "--workers", "2"])
    assert seen == {"workers": 2, "backend": "joblib"}
    with pytest.raises(SystemExit):
        main(["run", str(path), "--workers", "2", "--backend", "dask"])
    assert seen == {"workers": 2, "backend": "dask"}


MOEAD = """
case: ieee33
problem: {preset: reconfiguration}
algorithm: {name: moead, pop_size: 12, n_gen: 4}
seed: 3
evaluation: {backend: serial, workers: 1}
"""


def test_moead_runs_with_constraints_as_penalty(tmp_path):
    from fdnmoo.experiment.spec import load_spec

    spec = load_spec(_spec(tmp_path, MOEAD))
    config = spec.problem_config()
    assert config.constraint_penalty == 1e12
    problem = config.build()
    assert problem.n_ieq_constr == 0 and problem.constraint_names == ["power_flow_converged"]
    # random radial configurations of ieee33 include some whose power flow diverges (the
    # sweep and pandapower agree on that); their violation must dominate the objectives
    rng = np.random.default_rng(0)
    X = problem.genome.repair(problem.genome.sample(30, rng), rng)
    F_raw, G = problem.evaluate_genomes(X)
    assert (G[:, 0] > 0).any() and (G[:, 0] <= 0).any()
    out = {}
    problem._evaluate(X, out)
    np.testing.assert_allclose(out["F"], F_raw + 1e12 * np.maximum(G, 0).sum(axis=1, keepdims=True))
    assert out["F"][G[:, 0] > 0].min() > out["F"][G[:, 0] <= 0].max()
    out_dir = tmp_path / "moead"
    assert main(["run", str(tmp_path / "tiny.yaml"), "--out", str(out_dir), "--no-progress"]) == 0
    pareto = pd.read_csv(out_dir / "pareto.csv")
    assert {"loss_kw [kW]", "voltage_deviation [p.u.]"} <= set(pareto.columns)
    assert pareto["loss_kw [kW]"].min() < 202.68  # better than the base configuration


def test_penalty_shifts_interval_ends_and_keeps_affine_terms():
    """With a constraint penalty (moead) and affine objectives, F, F_lo and F_hi move by the
    same penalty and the affine terms stay (a shift does not change the deviations)."""
    from fdnmoo.problems.planning import ProblemConfig

    config = ProblemConfig(case="ieee33", n_stages=1, profile="peak",
                           blocks=(("der", {"kind": "pv", "levels": 2}),),
                           objectives=("total_cost", "pv_uneven_degree"),
                           constraints=("voltage_band",), constraint_penalty=1e12,
                           uncertainty={"method": "affine", "level": 0.1})
    problem = config.build()
    X = problem.genome.sample(4, np.random.default_rng(3))
    F, G, lo, hi, aff, rad = problem.evaluate_genomes(X, bounds="affine")
    out = problem.pymoo_outputs(F, G, lo, hi, aff, rad)
    shift = 1e12 * np.maximum(G, 0).sum(axis=1, keepdims=True)
    assert (shift > 0).any()  # ieee33's base voltages leave the band: the penalty is live
    for key, raw in (("F", F), ("F_lo", lo), ("F_hi", hi)):
        np.testing.assert_array_equal(out[key], raw + shift)
    np.testing.assert_array_equal(out["F_aff"], aff)
    np.testing.assert_array_equal(out["F_rad"], rad)
