"""Experiment specs: YAML parsing, unknown keys and wrong types rejected by name."""

from __future__ import annotations


import pytest

from fdnmoo.experiment import SpecError, load_spec, parse_spec
from fdnmoo.operators import algorithm_entry
from fdnmoo.problems.planning import ProblemConfig
from spec_files import write_spec

GOOD = """
case: ieee33
problem:
  preset: joint
  stages: 3
  profile: daily
  days: 1
  samples: 4
  objectives: [total_cost, operational_adaptability]
  options: {w1: 0.7}
algorithm:
  name: nsga2
  pop_size: 16
  n_gen: 3
  eliminate_duplicates: false
seed: 5
evaluation: {backend: joblib, workers: 2}
output: results/test
"""


def test_good_spec_parses(tmp_path):
    spec = load_spec(write_spec(tmp_path, GOOD))
    assert spec.case == "ieee33" and spec.seed == 5 and spec.output == "results/test"
    assert spec.problem.stages == 3 and spec.problem.samples == 4 and spec.problem.days == 1
    assert spec.problem.objectives == ("total_cost", "operational_adaptability")
    assert spec.problem.options == (("w1", 0.7),)
    assert spec.algorithm.pop_size == 16 and dict(spec.algorithm.options) == {
        "eliminate_duplicates": False}
    assert (spec.evaluation.backend, spec.evaluation.workers) == ("joblib", 2)
    assert spec.to_dict()["algorithm"]["eliminate_duplicates"] is False


def test_run_hash_ignores_evaluation_and_output(tmp_path):
    a = load_spec(write_spec(tmp_path, GOOD))
    b = load_spec(write_spec(tmp_path, GOOD.replace("workers: 2", "workers: 1")
                         .replace("results/test", "elsewhere"), "b.yaml"))
    c = load_spec(write_spec(tmp_path, GOOD.replace("seed: 5", "seed: 6"), "c.yaml"))
    assert a.run_hash == b.run_hash != c.run_hash


@pytest.mark.parametrize("old, new, key", [
    ("seed: 5", "seed: 5\nsed: 4", "spec.yaml: sed: unknown key (did you mean 'seed'?)"),
    ("  samples: 4", "  samples: 4\n  sample: 3", "spec.yaml: problem.sample: unknown key"),
    ("  n_gen: 3", "  n_gen: 3\n  n_gen_max: 3", "spec.yaml: algorithm.n_gen_max: unknown option"),
    ("{backend: joblib, workers: 2}", "{backend: joblib, worker: 2}",
     "spec.yaml: evaluation.worker: unknown key"),
])
def test_unknown_keys_named(tmp_path, old, new, key):
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, GOOD.replace(old, new)))
    assert key in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("old, new, message", [
    ("pop_size: 16", "pop_size: many", "algorithm.pop_size: expected an integer, got a string"),
    ("pop_size: 16", "pop_size: 1.5", "algorithm.pop_size: expected an integer"),
    ("seed: 5", "seed: true", "seed: expected an integer, got a boolean"),
    ("stages: 3", "stages: 0", "problem.stages: must be >= 1"),
    ("days: 1", "days: one", "problem.days: expected an integer"),
    ("eliminate_duplicates: false", "eliminate_duplicates: 3",
     "algorithm.eliminate_duplicates: expected true or false"),
    ("objectives: [total_cost, operational_adaptability]", "objectives: total_cost",
     "problem.objectives: expected a list of names"),
    ("objectives: [total_cost, operational_adaptability]", "objectives: [total_cost, beauty]",
     "problem.objectives: unknown objective 'beauty'"),
    ("profile: daily", "profile: weekly", "problem.profile: unknown value 'weekly'"),
    ("name: nsga2", "name: nsga9", "algorithm.name: unknown value 'nsga9'"),
    ("backend: joblib", "backend: ray", "evaluation.backend: unknown value 'ray'"),
    ("case: ieee33", "case: ieee34", "case: unknown case 'ieee34'"),
    ("evaluation: {backend: joblib, workers: 2}", "evaluation: [joblib, 2]",
     "evaluation: expected a mapping, got a list"),
])
def test_bad_values_named(tmp_path, old, new, message):
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_spec(write_spec(tmp_path, GOOD.replace(old, new)))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "absent.yaml")
    with pytest.raises(SpecError, match=r"bad.yaml: line \d+: invalid YAML"):
        load_spec(write_spec(tmp_path, "case: [ieee33\n", "bad.yaml"))
    with pytest.raises(SpecError, match="case: missing"):
        parse_spec({"seed": 1}, source="x.yaml")


def test_defaults_and_relative_case_path(tmp_path):
    case_file = tmp_path / "mycase.json"
    case_file.write_text("{}")
    spec = parse_spec({"case": "mycase.json"}, source=str(tmp_path / "s.yaml"),
                      base_dir=tmp_path)
    assert spec.case == str(case_file)
    assert spec.algorithm.name == "nsga2" and spec.evaluation.backend == "serial"
    assert str(spec.output_dir()).endswith("results/s")


def test_algorithm_options_come_from_pymoo_signatures():
    assert {"n_partitions", "n_neighbors", "prob_neighbor_mating"} <= set(
        algorithm_entry("moead").options())
    assert "sampling" not in algorithm_entry("nsga2").options()
    assert algorithm_entry("rnsga2").options()["ref_points"] is list
    with pytest.raises(SpecError, match="rnsga2 needs ref_points \\(reference points"):
        parse_spec({"case": "ieee33", "algorithm": {"name": "rnsga2"}})


def test_problem_config_of_a_spec(tmp_path):
    spec = load_spec(write_spec(tmp_path, GOOD))
    assert spec.problem_config() == ProblemConfig(
        case="ieee33", preset="joint", n_stages=3, profile="daily", n_days=1, n_samples=4,
        objectives=("total_cost", "operational_adaptability"), constraints=None, seed=0,
        case_params=(), options=(("w1", 0.7),))
    levels = parse_spec({"case": "ieee33", "problem": {"preset": "joint", "profile": "levels"}},
                        source="levels.yaml")
    assert levels.problem.profile == "levels"


@pytest.mark.parametrize("data, command", [
    ({"study": "uncertainty_bounds", "cases": ["ieee33"]}, "fdnmoo study s.yaml"),
    ({"problems": [], "algorithms": [], "seeds": 2}, "fdnmoo compare s.yaml"),
])
def test_other_spec_kinds_point_to_their_command(data, command):
    with pytest.raises(SpecError, match=f"not a run spec: run it with `{command}`"):
        parse_spec(data, source="s.yaml")
