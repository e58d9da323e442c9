"""Specs that compose their problem: blocks, candidate overrides, limits, objective options."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fdnmoo.cli.app import main
from fdnmoo.experiment import SpecError, load_spec
from fdnmoo.problems.planning import PROFILES
from spec_files import write_spec

COMPOSED = """
case: ieee33
problem:
  preset: dg_siting
  blocks:
    - der: {kind: pv, levels: 6, max_buses: 2, buses: [6, 18, 33], max_mw: 2.0}
    - {der: {kind: evcs, max_buses: 1}}
  stages: 1
  profile: peak
  objectives: [loss_kw, {operational_adaptability: {w3: 0.8, w4: 0.2}}]
  constraints: [{voltage_band: {vmin_pu: 0.9, vmax_pu: 1.05}}, line_current]
algorithm: {name: nsga2, pop_size: 6, n_gen: 2}
seed: 3
"""


def test_composed_spec_builds_the_composition(tmp_path):
    spec = load_spec(write_spec(tmp_path, COMPOSED))
    config = spec.problem_config()
    assert config.blocks == (
        ("der", (("buses", (6, 18, 33)), ("kind", "pv"), ("levels", 6), ("max_buses", 2),
                 ("max_mw", 2.0))),
        ("der", (("kind", "evcs"), ("max_buses", 1))))
    problem = spec.build_problem(config)
    assert [b.name for b in problem.genome.blocks] == ["der_pv", "der_svc", "der_evcs"]
    assert problem.grid.case.candidates["pv"].bus.tolist() == [6, 18, 33]
    comp = problem.composition
    assert comp["blocks"][0]["der"]["levels"] == 6 and comp["blocks"][0]["der"]["max_mw"] == 2.0
    assert comp["blocks"][1] == {"der": {"kind": "svc", "levels": 4, "max_buses": None,
                                         "total_max": None, "penetration": False,
                                         "buses": None, "max_mw": None, "max_mvar": None,
                                         "max_mwh": None, "power_factor": None,
                                         "penetration_base": "load"}}
    assert comp["objectives"][1] == {"operational_adaptability": {
        "w3": 0.8, "w4": 0.2, "vmin_pu": None, "vmax_pu": None}}
    assert comp["constraints"] == [{"power_flow_converged": {}},
                                   {"voltage_band": {"vmin_pu": 0.9, "vmax_pu": 1.05}},
                                   {"line_current": {"max_loading_percent": 100.0}}]


def test_spec_written_back_round_trips_and_hash_follows_the_composition(tmp_path):
    a = load_spec(write_spec(tmp_path, COMPOSED))
    again = load_spec(write_spec(tmp_path, json.dumps(a.to_dict()), "again.yaml"))
    assert again.problem_config() == a.problem_config() and again.run_hash == a.run_hash
    b = load_spec(write_spec(tmp_path, COMPOSED.replace("levels: 6", "levels: 7"), "b.yaml"))
    c = load_spec(write_spec(tmp_path, COMPOSED.replace("vmin_pu: 0.9,", "vmin_pu: 0.92,"), "c.yaml"))
    assert len({a.run_hash, b.run_hash, c.run_hash}) == 3
    assert len({a.problem_config().key, b.problem_config().key, c.problem_config().key}) == 3


def test_blocks_without_preset_need_objectives(tmp_path):
    text = """
    case: ieee33
    problem:
      blocks: [{lines: {reconfigure: true, build: false}}]
      profile: peak
    """
    with pytest.raises(SpecError, match="spec.yaml: problem.objectives: missing"):
        load_spec(write_spec(tmp_path, text))
    spec = load_spec(write_spec(tmp_path, text + "  objectives: [loss_kw]\n"))
    assert spec.problem.preset is None
    assert spec.problem_config().preset is None


@pytest.mark.parametrize("old, new, message", [
    ("kind: pv, levels: 6", "kind: pv, levls: 6",
     "spec.yaml: problem.blocks[0].der.levls: unknown parameter of gene block 'der' "
     "(did you mean 'levels'?)"),
    ("- {der: {kind: evcs", "- {dr: {kind: evcs",
     "spec.yaml: problem.blocks: unknown gene block 'dr' (did you mean 'der'?)"),
    ("max_buses: 2,", "max_buses: two,",
     "spec.yaml: problem.blocks[0].der.max_buses: expected an integer or nothing (null), "
     "got a string ('two')"),
    ("{w3: 0.8, w4: 0.2}", "{w_3: 0.8, w4: 0.2}",
     "spec.yaml: problem.objectives[1].operational_adaptability.w_3: unknown parameter of "
     "objective 'operational_adaptability' (did you mean 'w3'?)"),
    ("vmin_pu: 0.9,", "vmin: 0.9,",
     "spec.yaml: problem.constraints[0].voltage_band.vmin: unknown parameter of constraint "
     "'voltage_band' (did you mean 'vmin_pu'?)"),
    ("line_current]", "line_curent]",
     "spec.yaml: problem.constraints: unknown constraint 'line_curent' (did you mean "
     "'line_current'?)"),
    ("vmin_pu: 0.9,", "vmin_pu: low,",
     "spec.yaml: problem.constraints[0].voltage_band.vmin_pu: expected a number or nothing"),
    ("preset: dg_siting", "preset: dg_sitting",
     "spec.yaml: problem.preset: unknown preset 'dg_sitting' (did you mean 'dg_siting'?)"),
    ("profile: peak", "profile: peek", "spec.yaml: problem.profile: unknown value 'peek'"),
    ("profile: peak", "profile: peak\n  horizon: {load_growth: 0.0}",
     "spec.yaml: problem.horizon.load_growth: unknown parameter of the case horizon (did you "
     "mean 'load_growth_per_year'?)"),
    ("profile: peak", "profile: peak\n  horizon: {years_per_stage: long}",
     "spec.yaml: problem.horizon.years_per_stage: expected a number"),
    ("- {der: {kind: evcs, max_buses: 1}}", "- {der: {kind: evcs}, lines: {}}",
     "spec.yaml: problem.blocks[1]: expected one name mapped to its parameters"),
])
def test_bad_compositions_name_file_key_and_suggest(tmp_path, old, new, message):
    assert old in COMPOSED
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, COMPOSED.replace(old, new)))
    assert message in str(err.value)


@pytest.mark.parametrize("old, new, message", [
    ("buses: [6, 18, 33]", "buses: [6, 18, 330]",
     "spec.yaml: problem.blocks[0].der.buses: bus 330 is not a bus of case 'ieee33'"),
    ("max_mw: 2.0", "max_mw: {6: 2.0, 19: 1.0}",
     "spec.yaml: problem.blocks[0].der.max_mw: bus 19 is not among the candidate buses"),
    ("kind: evcs, max_buses: 1", "kind: evcs, max_mvar: 1.0",
     "spec.yaml: problem.blocks[1].der.max_mvar: evcs candidates are capped by max_mw"),
    ("kind: evcs, max_buses: 1", "kind: wind",
     "spec.yaml: problem.blocks[1].der: unknown resource kind 'wind'"),
])
def test_overrides_the_case_refuses_name_file_key_and_value(tmp_path, old, new, message):
    spec = load_spec(write_spec(tmp_path, COMPOSED.replace(old, new)))  # needs the case to tell
    with pytest.raises(SpecError) as err:
        spec.build_problem()
    assert message in str(err.value)
    # the command line reports it as bad input (exit code 2), not a traceback
    assert main(["run", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 2


def test_run_json_records_the_resolved_composition(tmp_path, capsys):
    path = write_spec(tmp_path, COMPOSED)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    spec = load_spec(path)
    assert run["config_hash"] == spec.problem_config().key
    comp = run["composition"]
    assert comp["profile"] == "peak" and comp["n_stages"] == 1 and comp["preset"] == "dg_siting"
    assert [list(b)[0] for b in comp["blocks"]] == ["der", "der", "der"]
    assert comp["blocks"][0]["der"]["buses"] == [6, 18, 33]
    assert comp["constraints"][1] == {"voltage_band": {"vmin_pu": 0.9, "vmax_pu": 1.05}}
    assert comp["case_limits"]["v_min_pu"] == 0.95
    assert run["spec"]["problem"]["blocks"][0]["der"]["max_mw"] == 2.0


def test_profiles_come_from_one_list(tmp_path):
    assert "peak" in PROFILES
    for profile in PROFILES:
        assert load_spec(write_spec(tmp_path, COMPOSED.replace("profile: peak", f"profile: {profile}"))
                         ).problem.profile == profile


def test_readme_composed_studies_load_and_build(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    studies = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "blocks:" in b]
    assert len(studies) == 2
    composed, single_dg = (load_spec(write_spec(tmp_path, text, f"readme{i}.yaml")).build_problem()
                           for i, text in enumerate(studies))
    # joint's SOP and SVC blocks kept, its lines and PV blocks changed, ESS added
    assert [b.name for b in composed.genome.blocks] == ["lines", "sop", "der_pv", "der_svc",
                                                        "der_ess"]
    assert composed.genome.blocks[0].get_params() == {
        "reconfigure": True, "build": False, "reinforce": False, "reinforce_capacity": 1.5,
        "reinforce_impedance": 1.0, "reinforce_cost": 3.0, "reinforce_transformer": None}
    pv = composed.grid.case.candidates["pv"]
    assert pv.bus.tolist() == [6, 18, 30, 33] and pv.max_mw.tolist() == [2.0, 1.0, 2.0, 1.5]
    assert composed.constraints[2].resolved_params() == {"max_loading_percent": 90.0}
    assert single_dg.objective_names == ["loss_kw"] and single_dg.n_var == 64
