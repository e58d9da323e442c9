"""``algorithm.initial_from``: a run's initial population seeded from an earlier run.

The earlier run plans PV on ieee33; the new one plans the same PV block plus line
reinforcement, so its space contains the earlier plans with every reinforcement at "not
built" (seed 000's Case VII against Case I, at toy size).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fdnmoo.experiment import SpecError, run_experiment
from fdnmoo.experiment.initial_population import transplanted_genomes
from fdnmoo.experiment.runner import CHECKPOINT, load_checkpoint
from fdnmoo.experiment.spec import load_spec
from fdnmoo.experiment.study_runs import chosen_genome

PV = {"der": {"kind": "pv", "levels": 4, "buses": [18, 33], "max_mw": 1.0}}
LINES = {"lines": {"reconfigure": False, "build": True, "reinforce": [1, 2, 3]}}


def _spec(blocks, **algorithm) -> dict:
    return {"case": "ieee33",
            "problem": {"blocks": blocks, "objectives": ["total_cost"],
                        "constraints": ["voltage_band"], "stages": 2, "days": 1, "samples": 2},
            "algorithm": {"name": "nsga2", "pop_size": 8, "n_gen": 1, **algorithm}, "seed": 4}


def _write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A finished 2-generation PV run (results folder ``src``)."""
    folder = tmp_path_factory.mktemp("warm")
    data = _spec([PV], n_gen=2)
    data["seed"] = 3
    run_experiment(_write(folder, "src.yaml", data), folder / "src", progress=False)
    return folder / "src"


@pytest.fixture(scope="module")
def warm(source):
    """The PV + reinforcement run started from ``src``, 1 generation: (spec, folder)."""
    spec = load_spec(_write(source.parent, "dst.yaml", _spec([PV, LINES], initial_from="src")))
    out = run_experiment(spec, source.parent / "dst", progress=False)
    return spec, out


def test_generation_one_holds_the_transplanted_plans(source, warm):
    spec, out = warm
    problem = spec.build_problem()
    pop = load_checkpoint(out / CHECKPOINT, problem, spec.run_hash)["algorithm"].pop
    X = np.asarray(pop.get("X"), dtype=np.int64)
    x0 = transplanted_genomes(source, problem, 8)[0]
    assert any(np.array_equal(x, x0) for x in X)
    src_problem = load_spec(source.parent / "src.yaml").build_problem()
    src_plan = src_problem.decode(chosen_genome(source)[0])
    plan = problem.decode(x0)
    np.testing.assert_array_equal(plan.der["pv"], src_plan.der["pv"])
    assert len(plan.new_lines) == 0  # nothing reinforced
    for closed, base in zip(plan.closed_lines, src_plan.closed_lines):
        np.testing.assert_array_equal(closed, base)


def test_best_at_generation_one_is_at_most_the_source_plan(source, warm):
    spec, out = warm
    problem = spec.build_problem()
    # reference: the source's chosen genes with the reinforcement genes at their lower
    # bounds (conductor 0 = not built), evaluated directly in the new problem
    x = problem.genome.xl.copy()
    src_problem = load_spec(source.parent / "src.yaml").build_problem()
    sl_new, sl_old = problem.genome.slices["der_pv"], src_problem.genome.slices["der_pv"]
    x[sl_new] = chosen_genome(source)[0][sl_old].astype(np.int64)
    reference = problem.evaluate(x[None, :], return_values_of=["F"])[0, 0]
    history = pd.read_csv(out / "history.csv")
    assert history.total_cost_best.iloc[0] <= reference * (1 + 1e-12)


def test_run_hash_only_with_the_key(source, tmp_path):
    folder = source.parent
    plain = load_spec(_write(folder, "plain.yaml", _spec([PV, LINES])))
    d = plain.to_dict()
    assert "initial_from" not in d["algorithm"]
    # the formula before initial_from existed (spec.py run_hash for a spec without options)
    payload = {k: d[k] for k in ("case", "case_params", "problem", "algorithm", "seed")}
    old = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()
                         ).hexdigest()[:16]
    assert plain.run_hash == old
    warm = load_spec(folder / "dst.yaml")
    assert warm.run_hash != plain.run_hash
    copy = tmp_path / "src"
    shutil.copytree(source, copy)
    moved = dict(_spec([PV, LINES], initial_from=str(copy)))
    assert load_spec(_write(tmp_path, "moved.yaml", moved)).run_hash == warm.run_hash
    genomes = pd.read_csv(copy / "pareto_genomes.csv")
    genomes.iloc[0, 1] = 1 - genomes.iloc[0, 1]
    genomes.to_csv(copy / "pareto_genomes.csv", index=False)
    assert load_spec(tmp_path / "moved.yaml").run_hash != warm.run_hash


def test_a_resumed_run_does_not_transplant_again(warm, monkeypatch):
    spec, out = warm
    import fdnmoo.experiment.initial_population as module

    def refuse(*args, **kwargs):
        raise AssertionError("transplanted on a resume")

    monkeypatch.setattr(module, "transplanted_genomes", refuse)
    before = pd.read_csv(out / "history.csv")
    run_experiment(spec, out, progress=False)  # the checkpoint is finished: nothing to do
    pd.testing.assert_frame_equal(pd.read_csv(out / "history.csv"), before)


def test_more_solutions_than_the_population_keep_the_chosen_first(source, tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(source, copy)
    genomes = pd.read_csv(copy / "pareto_genomes.csv").iloc[[0, 0, 0]]
    genomes["solution"] = [1, 2, 3]
    genomes.iloc[:, 1] = [0, 1, 2]
    genomes.to_csv(copy / "pareto_genomes.csv", index=False)
    meta = json.loads((copy / "run.json").read_text())
    meta["chosen_solution"] = 3
    (copy / "run.json").write_text(json.dumps(meta))
    problem = load_spec(source.parent / "dst.yaml").build_problem()
    X = transplanted_genomes(copy, problem, 2)
    assert X.shape == (2, problem.n_var)
    assert list(X[:, problem.genome.slices["der_pv"]][:, 0]) == [2, 0]


@pytest.mark.parametrize("damage, message", [
    ("missing", "no such results folder"),
    ("no_genomes", "not a finished results folder: no pareto_genomes.csv"),
    ("no_run", "not a finished results folder: no run.json")])
def test_bad_folders_are_refused_naming_the_key(source, tmp_path, damage, message):
    copy = tmp_path / "src"
    if damage != "missing":
        shutil.copytree(source, copy)
        (copy / ("pareto_genomes.csv" if damage == "no_genomes" else "run.json")).unlink()
    path = _write(tmp_path, "bad.yaml", _spec([PV], initial_from="src"))
    with pytest.raises(SpecError, match=f"algorithm.initial_from: 'src': .*{message}"):
        load_spec(path)


def test_a_source_sharing_no_block_is_refused(source, tmp_path):
    path = _write(tmp_path, "lines.yaml", _spec([LINES], initial_from=str(source)))
    spec = load_spec(path)
    with pytest.raises(SpecError, match="algorithm.initial_from: .*no block in common"):
        run_experiment(spec, tmp_path / "out", progress=False)


def test_the_key_has_a_did_you_mean(tmp_path):
    path = _write(tmp_path, "typo.yaml", _spec([PV], initial_frm="src"))
    with pytest.raises(SpecError, match="did you mean 'initial_from'"):
        load_spec(path)


def test_seeded_sampling_puts_the_given_rows_first(source):
    from fdnmoo.operators import SeededSampling

    problem = load_spec(source.parent / "dst.yaml").build_problem()
    X0 = transplanted_genomes(source, problem, 8)
    rng = np.random.default_rng(0)
    X = SeededSampling(X0).do(problem, 6, random_state=rng).get("X").astype(np.int64)
    assert X.shape == (6, problem.n_var)
    np.testing.assert_array_equal(X[:len(X0)], X0)
    np.testing.assert_array_equal(problem.genome.repair(X, rng), X)  # the rest is feasible
    two = SeededSampling(np.repeat(X0[:1], 3, axis=0)).do(problem, 2, random_state=rng)
    assert len(two) == 2
    with pytest.raises(ValueError, match="SeededSampling: X has shape"):
        SeededSampling(X0[:, :3]).do(problem, 4, random_state=rng)
