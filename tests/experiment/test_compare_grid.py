"""``fdnmoo compare``: compare specs, the grid runner, its tables and its resume."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cli import main
from fdnmoo.experiment.checking import SpecError
from fdnmoo.experiment.compare_spec import load_compare_spec, parse_compare_spec
from fdnmoo.experiment.comparison import compare_runs
from fdnmoo.experiment.grid import is_finished, run_cell, run_grid

# ieee33 reconfiguration, one stage at peak, 4 plans a generation: about a second a run
TINY = """
description: tiny grid
problems:
  - name: reconf
    case: ieee33
    problem: {preset: reconfiguration, stages: 1, objectives: [loss_kw, total_cost],
              constraints: []}
algorithms:
  - {label: nsga2, algorithm: {name: nsga2, pop_size: 4}}
  - {label: smsemoa, algorithm: {name: smsemoa, pop_size: 4}}
seeds: [1, 2]
budget: {n_eval: 12}
"""
_INDICATORS = ["problem", "algorithm", "seed", "generation", "evaluations", "hv", "igd_plus"]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def _spec(tiny, out):
    return load_compare_spec(tiny, output=out)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("whole")
    (folder / "tiny.yaml").write_text(TINY)
    spec = load_compare_spec(folder / "tiny.yaml", output=folder / "out")
    return compare_runs(run_grid(spec, progress=False))


def test_cells_are_run_specs_with_the_budget(tiny, tmp_path):
    spec = _spec(tiny, tmp_path / "out")
    assert [(c.problem, c.algorithm, c.seed) for c in spec.cells] == [
        ("reconf", "nsga2", 1), ("reconf", "nsga2", 2), ("reconf", "smsemoa", 1),
        ("reconf", "smsemoa", 2)]
    for cell in spec.cells:
        assert cell.spec.algorithm.n_eval == 12 and cell.spec.algorithm.n_gen is None
        assert cell.spec.seed == cell.seed
        assert cell.folder == tmp_path / "out" / "runs" / "reconf" / cell.algorithm \
            / f"seed_{cell.seed}"


def test_cli_end_to_end(tiny, tmp_path, capsys, uninterrupted):
    out = tmp_path / "cli"
    assert main(["compare", str(tiny), "--out", str(out), "--json", "--no-progress"]) == 0
    ranked = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert sorted(ranked.algorithm) == ["nsga2", "smsemoa"] and list(ranked["rank"]) == [1, 2]
    for name in ("runs", "final", "ranked_hv", "ranked_igd_plus", "reference_front_reconf"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"),
                                      pd.read_csv(out / f"{name}.csv"), check_dtype=False)
    final = pd.read_parquet(out / "final.parquet")
    assert len(final) == 4 and (final.evaluations == 12).all()
    # same seeds, same budget: the same indicators as the grid run in-process
    pd.testing.assert_frame_equal(final[_INDICATORS], uninterrupted.final[_INDICATORS],
                                  check_dtype=False)
    report = (out / "report.md").read_text()
    assert "## ranked_hv" in report and "convergence_reconf.png" in report
    assert (out / "convergence_reconf.png").stat().st_size > 5000
    assert (out / "final_hv_reconf.png").stat().st_size > 5000
    assert (out / "wall_time_reconf.png").stat().st_size > 5000
    assert "wall_time_reconf.png" in report and "evaluates serially" in report
    for name in ("eaf_reconf.png", "eafdiff_reconf.png"):  # 2 objectives: EAF figures
        assert (out / name).stat().st_size > 5000 and name in report
    population = pd.read_parquet(out / "final_population_reconf.parquet")
    folders = sorted((out / "runs" / "reconf").glob("*/seed_*"))
    assert len(population) == sum(len(pd.read_csv(f / "pareto.csv")) for f in folders)
    assert {"problem", "algorithm", "seed", "plan_open_ties", "loss_kw [kW]"} <= set(population)


def test_final_fronts_merge_to_the_reference_front(tiny, tmp_path, uninterrupted):
    from fdnmoo.experiment.compare_report import final_fronts
    from fdnmoo.experiment.indicators import reference_front

    spec = _spec(tiny, tmp_path / "out")
    runs = run_grid(spec, progress=False)
    front = uninterrupted.fronts["reconf"]
    fronts = final_fronts(runs, uninterrupted.final, list(front.columns))
    assert sorted(fronts) == ["nsga2", "smsemoa"] and all(len(v) == 2 for v in fronts.values())
    merged = reference_front([f for runs_ in fronts.values() for f in runs_])
    np.testing.assert_allclose(merged, front.to_numpy())


def test_killed_grid_resumed_gives_the_same_tables(tiny, tmp_path, uninterrupted):
    spec = _spec(tiny, tmp_path / "out")
    done = []

    def dies_after_two(cell, serial):
        if len(done) == 2:
            raise KeyboardInterrupt  # the grid is killed before its third run
        done.append(run_cell(cell, serial))
        return done[-1]

    with pytest.raises(KeyboardInterrupt):
        run_grid(spec, progress=False, runner=dies_after_two)
    assert [is_finished(c) for c in spec.cells] == [True, True, False, False]
    mtimes = [(c.folder / "run.json").stat().st_mtime_ns for c in spec.cells[:2]]
    result = compare_runs(run_grid(spec, progress=False))
    assert [(c.folder / "run.json").stat().st_mtime_ns for c in spec.cells[:2]] == mtimes
    for name in ("final", "history"):
        pd.testing.assert_frame_equal(getattr(result, name)[_INDICATORS],
                                      getattr(uninterrupted, name)[_INDICATORS])
    pd.testing.assert_frame_equal(result.ranked("hv"), uninterrupted.ranked("hv"))
    pd.testing.assert_frame_equal(result.fronts["reconf"], uninterrupted.fronts["reconf"])


def test_joblib_grid_gives_the_same_tables(tiny, tmp_path, uninterrupted):
    spec = _spec(tiny, tmp_path / "out")
    result = compare_runs(run_grid(spec, workers=2, progress=False))
    pd.testing.assert_frame_equal(result.final[_INDICATORS], uninterrupted.final[_INDICATORS])


def _data(**changes):
    import yaml

    data = yaml.safe_load(TINY)
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, key, message", [
    ({"algoritms": []}, "algoritms", "did you mean 'algorithms'"),
    ({"budget": {"n_gen": 3}}, "budget.n_eval", "missing"),
    ({"budget": {"n_eval": 0}}, "budget.n_eval", ">= 1"),
    ({"budget": {"n_eval": 5, "evals": 3}}, "budget.evals", "unknown key"),
    ({"seeds": [1, 1]}, "seeds", "must not repeat"),
    ({"seeds": 0}, "seeds", ">= 1"),
    ({"algorithms": [{"algorithm": {"name": "nsga2", "n_gen": 5}}]},
     "algorithms[0].algorithm.n_gen", "budget"),
    ({"algorithms": [{"label": "a"}, {"label": "a"}]}, "algorithms[1].label", "twice"),
    ({"algorithms": [{"label": "a b"}]}, "algorithms[0].label", "folder name"),
    ({"problems": [{"case": "ieee33"}]}, "problems[0].name", "missing"),
    ({"problems": [{"name": "p", "case": "ieee33", "seed": 3}]}, "problems[0].seed",
     "set by the grid"),
    ({"problems": [{"name": "p", "spec": "nowhere.yaml"}]}, "problems[0].spec", "no such"),
])
def test_spec_errors_name_the_key(changes, key, message):
    with pytest.raises(SpecError, match="did you mean|" + message) as info:
        parse_compare_spec(_data(**changes), source="grid.yaml")
    assert info.value.source == "grid.yaml" and info.value.key == key
    assert message in info.value.message


def test_a_cell_error_names_problem_algorithm_and_run_key():
    data = _data(algorithms=[{"label": "big", "algorithm": {"name": "nsga2", "pop_size": 1}}])
    with pytest.raises(SpecError) as info:
        parse_compare_spec(data, source="grid.yaml")
    assert info.value.key == "algorithm.pop_size"
    assert "grid.yaml (problem reconf, algorithm big)" in str(info.value)


def test_problem_from_a_run_spec_file(tmp_path):
    (tmp_path / "run.yaml").write_text(
        "case: ieee33\nproblem: {preset: reconfiguration, stages: 1}\n"
        "algorithm: {name: nsga2, n_gen: 50}\nseed: 9\noutput: elsewhere\n")
    data = _data(problems=[{"name": "fromfile", "spec": "run.yaml"}])
    spec = parse_compare_spec(data, source=str(tmp_path / "g.yaml"), base_dir=tmp_path,
                              output=tmp_path / "o")
    cell = spec.cells[0]
    assert cell.spec.problem.preset == "reconfiguration" and cell.spec.seed == 1
    assert cell.spec.algorithm.n_gen is None and cell.spec.algorithm.n_eval == 12
    assert cell.folder == tmp_path / "o" / "runs" / "fromfile" / "nsga2" / "seed_1"


def test_dask_grid_gives_the_same_tables(tiny, tmp_path, uninterrupted):
    distributed = pytest.importorskip("distributed")  # the [dask] extra
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        spec = _spec(tiny, tmp_path / "out")
        result = compare_runs(run_grid(spec, scheduler=cluster.scheduler_address,
                                       progress=False))
    pd.testing.assert_frame_equal(result.final[_INDICATORS], uninterrupted.final[_INDICATORS])


def test_run_killed_mid_way_resumes_from_its_checkpoint(tiny, tmp_path, monkeypatch,
                                                        uninterrupted):
    import fdnmoo.experiment.runner as runner

    spec = _spec(tiny, tmp_path / "out")
    optimise = runner.optimise

    def killed_after_generation_1(*args, **kwargs):
        def kill(algorithm):
            if kwargs["out_dir"] == spec.cells[2].folder:  # after its first generation
                raise KeyboardInterrupt
        return optimise(*args, **kwargs, after_generation=kill)

    monkeypatch.setattr(runner, "optimise", killed_after_generation_1)
    with pytest.raises(KeyboardInterrupt):
        run_grid(spec, progress=False)
    monkeypatch.setattr(runner, "optimise", optimise)
    killed = spec.cells[2]
    assert (killed.folder / "checkpoint.pkl").is_file() and not is_finished(killed)
    result = compare_runs(run_grid(spec, progress=False))
    resumed = json.loads((killed.folder / "run.json").read_text())["resumed_at_generation"]
    assert resumed == [1]
    pd.testing.assert_frame_equal(result.history[_INDICATORS],
                                  uninterrupted.history[_INDICATORS])


def test_each_cell_runs_its_own_algorithm(tiny, tmp_path):
    """On the tiny grid nsga2 and smsemoa have equal HV at every generation, legitimately:
    each run's final front is one point (loss and cost agree on reconfiguration); on seed 1
    the two points are the two ends of the merged reference front, normalised to (1, 0) and
    (0, 1), both of HV 0.1 * 1.1 = 0.11; earlier fronts lie beyond the nadir (HV 0), and on
    seed 2 the two algorithms keep the same four plans. The cells do run different
    algorithms: the classes differ and the final populations differ on a seed."""
    spec = _spec(tiny, tmp_path / "out")
    runs = run_grid(spec, progress=False)
    classes = {"nsga2": "NSGA2", "smsemoa": "SMSEMOA"}
    populations = {}
    for row in runs.itertuples(index=False):
        run = json.loads((row.folder / "run.json").read_text())
        assert run["algorithm"]["class"] == classes[row.algorithm]
        assert run["spec"]["algorithm"]["name"] == row.algorithm
        populations[row.algorithm, row.seed] = pd.read_csv(row.folder / "population.csv")
    assert any(not populations["nsga2", s].equals(populations["smsemoa", s]) for s in (1, 2))
    result = compare_runs(runs)
    front = result.fronts["reconf"].to_numpy()
    norm = result.normalisations["reconf"]
    for row in result.final.itertuples(index=False):
        if row.hv > 0:  # a one-point front at an end of a two-point reference front
            assert len(front) == 2 and row.hv == pytest.approx(0.1 * 1.1)
    np.testing.assert_allclose(norm.apply(front), [[0.0, 1.0], [1.0, 0.0]])
