"""The algorithm registry: duplicates refused, declared needs, plug-in algorithms."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from pymoo.algorithms.moo.nsga2 import NSGA2

from fdnmoo.experiment import SpecError, optimise, parse_spec
from fdnmoo.experiment.runner import build_algorithm
from fdnmoo.operators import ALGORITHMS, algorithm_entry, register_algorithm
from fdnmoo.operators.registry import build_algorithm as registry_build

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiment"))
from experiment_toy import ToyPlanning, toy_operators  # noqa: E402


def test_every_pymoo_entry_declares_its_needs():
    assert algorithm_entry("nsga3").ref_dirs and not algorithm_entry("nsga2").ref_dirs
    moead = algorithm_entry("moead")
    assert not moead.constraints and moead.penalty == 1e12
    assert algorithm_entry("rnsga2").required == ("ref_points",)
    assert set(algorithm_entry("nsga2").needs()) == {
        "reference_directions", "constraints", "constraint_penalty", "interval_objectives"}


def test_duplicate_and_incomplete_entries_are_refused(registries):
    with pytest.raises(ValueError, match="'nsga2' is already registered"):
        register_algorithm("nsga2")(lambda request: None)
    with pytest.raises(ValueError, match="handles no constraints: give the penalty"):
        register_algorithm("test-free-ga", constraints=False)(lambda request: None)
    assert "test-free-ga" not in ALGORITHMS
    with pytest.raises(KeyError, match="unknown algorithm 'nsga4'; registered: aa-nsga2, agemoea"):
        algorithm_entry("nsga4")


def test_unconstrained_entry_refuses_a_constrained_problem():
    with pytest.raises(ValueError, match="build it with constraint_penalty=1e\\+12"):
        registry_build("moead", ToyPlanning(), pop_size=12, operators=toy_operators())


def test_reference_directions_reach_the_builder(registries):
    seen = {}

    @register_algorithm("test-ref-ga", ref_dirs=True, options={"tournament": int})
    def build(request):
        seen.update(request.options, n_dirs=len(request.ref_dirs))
        return NSGA2(pop_size=request.pop_size, **request.operators)

    registry_build("test-ref-ga", ToyPlanning(), pop_size=12, operators=toy_operators(),
                   options={"n_partitions": 3, "tournament": 2})
    # n_obj = 2 for the toy problem: 3 partitions give 4 Das-Dennis directions
    assert seen == {"tournament": 2, "n_dirs": 4}


def test_plugin_algorithm_from_a_spec(tmp_path, registries):
    (tmp_path / "my_algorithms.py").write_text(textwrap.dedent('''
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from fdnmoo.operators import register_algorithm


        @register_algorithm("test-plugin-nsga2", options={"offspring_share": float})
        def build(request):
            """NSGA-II making a share of the population as offspring each generation."""
            share = request.options.get("offspring_share", 1.0)
            return NSGA2(pop_size=request.pop_size,
                         n_offsprings=max(1, int(share * request.pop_size)),
                         **request.operators)
    '''))
    data = {"case": "ieee33", "plugins": ["my_algorithms.py"],
            "algorithm": {"name": "test-plugin-nsga2", "pop_size": 12, "n_gen": 3,
                          "offspring_share": 0.5}}
    spec = parse_spec(data, source="plugin.yaml", base_dir=tmp_path)
    assert algorithm_entry("test-plugin-nsga2").description.startswith("NSGA-II making")
    problem = ToyPlanning()
    algorithm = build_algorithm(spec.algorithm, problem, operators=toy_operators())
    algorithm, _ = optimise(problem, algorithm, n_gen=3, seed=1, out_dir=tmp_path / "out",
                            run_hash="plugin", progress=False)
    # 12 initial individuals, then 6 offspring in each of the 2 further generations
    assert algorithm.evaluator.n_eval == 12 + 2 * 6
    bad = dict(data, algorithm=dict(data["algorithm"], offspring_shar=0.5))
    with pytest.raises(SpecError, match="algorithm.offspring_shar: unknown option of "
                                        "test-plugin-nsga2.*did you mean 'offspring_share'"):
        parse_spec(bad, source="plugin.yaml", base_dir=tmp_path)


def test_run_json_records_the_needs(tmp_path):
    from fdnmoo.experiment import run_experiment

    spec = parse_spec({"case": "ieee33", "problem": {"preset": "reconfiguration", "stages": 1,
                                                      "profile": "peak"},
                       "algorithm": {"name": "nsga2", "pop_size": 6, "n_gen": 1}, "seed": 2})
    out = run_experiment(spec, out_dir=tmp_path, progress=False)
    run = json.loads((out / "run.json").read_text())
    assert run["algorithm"]["needs"] == {"reference_directions": False, "constraints": True,
                                         "constraint_penalty": None,
                                         "interval_objectives": False}
    assert np.isfinite(run["n_evals"])
