"""``fdnmoo run SPEC --seed N --set KEY=VALUE``: quick variants, checked like the YAML."""

from __future__ import annotations

import json
import textwrap

import pytest

from fdnmoo.cli.app import main
from fdnmoo.experiment import SpecError, load_spec
from fdnmoo.experiment.checking import apply_settings

SPEC = """
case: ieee33
problem: {preset: reconfiguration, stages: 1}
algorithm: {name: nsga2, pop_size: 6, n_gen: 1}
seed: 1
"""


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(SPEC))
    return path


def test_values_are_yaml_and_missing_mappings_are_made():
    data = {"problem": {"stages": 3}, "seed": 1}
    out = apply_settings(data, ["problem.stages=2", "problem.objectives=[loss_kw]",
                                "evaluation.backend=joblib", "problem.options={w1: 0.7}",
                                "output=results/x", "seed=7", "seed=8"], "s.yaml")
    assert out == {"problem": {"stages": 2, "objectives": ["loss_kw"], "options": {"w1": 0.7}},
                   "seed": 8, "evaluation": {"backend": "joblib"}, "output": "results/x"}
    assert data == {"problem": {"stages": 3}, "seed": 1}  # the file's data is not changed


@pytest.mark.parametrize("setting, message", [
    ("problem.stages", "expected KEY=VALUE"),
    ("problem..stages=2", "expected KEY=VALUE"),
    ("problem.stages=[1", "invalid YAML value"),
    ("case.name=x", "case is a string ('ieee33'), not a mapping"),
])
def test_malformed_settings_name_the_setting(spec_path, setting, message):
    with pytest.raises(SpecError) as err:
        load_spec(spec_path, [setting])
    assert err.value.key == f"--set {setting}" and message in str(err.value)


@pytest.mark.parametrize("setting, yaml_line", [
    ("problem.stages=0", "problem: {preset: reconfiguration, stages: 0}"),
    ("problem.stagse=2", "problem: {preset: reconfiguration, stages: 1, stagse: 2}"),
    ("algorithm.pop_size=one", "algorithm: {name: nsga2, pop_size: one, n_gen: 1}"),
    ("algorithm.nmae=nsga3", "algorithm: {name: nsga2, pop_size: 6, n_gen: 1, nmae: nsga3}"),
    ("problem.objectives=[loss_kv]",
     "problem: {preset: reconfiguration, stages: 1, objectives: [loss_kv]}"),
])
def test_a_setting_meets_the_error_of_the_same_value_in_the_file(tmp_path, spec_path, setting,
                                                                  yaml_line):
    with pytest.raises(SpecError) as from_set:
        load_spec(spec_path, [setting])
    edited = tmp_path / "edited.yaml"
    lines = textwrap.dedent(SPEC).splitlines()
    head = yaml_line.split(":")[0]
    edited.write_text("\n".join(yaml_line if line.startswith(f"{head}:") else line
                                for line in lines))
    with pytest.raises(SpecError) as from_file:
        load_spec(edited)
    assert from_set.value.key == from_file.value.key
    assert str(from_set.value) == str(from_file.value).replace(str(edited), str(spec_path)) \
        + f" (--set {setting})"


def test_a_value_refused_when_the_problem_is_built_names_the_setting(spec_path):
    spec = load_spec(spec_path, ["case_overrides.economics.discount_rate=1.5"])
    with pytest.raises(SpecError, match=r"case_overrides\.economics\.discount_rate: is a "
                                        r"fraction: must be < 1 \(got 1\.5\) \(--set "):
        spec.build_problem()


def test_run_with_seed_and_settings_records_them(tmp_path, spec_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(spec_path), "--seed", "5", "--set", "problem.samples=2",
                 "--set", "algorithm.pop_size=8", "--out", str(out), "--no-progress"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["settings"] == ["seed=5", "problem.samples=2", "algorithm.pop_size=8"]
    assert run["seed"] == 5 and run["spec"]["seed"] == 5
    assert run["algorithm"]["pop_size"] == 8 and run["composition"]["n_samples"] == 2
    assert run["run_hash"] != load_spec(spec_path).run_hash


def test_cli_error_of_a_setting_is_one_line_with_exit_2(spec_path, capsys):
    assert main(["run", str(spec_path), "--set", "problem.stages=0"]) == 2
    err = capsys.readouterr().err
    assert err == f"fdnmoo: error: {spec_path}: problem.stages: must be >= 1, got 0 " \
                  "(--set problem.stages=0)\n"
