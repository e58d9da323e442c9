"""Sanity check of ``fdnmoo compare`` on pymoo benchmark problems against pymoo's NSGA-II.

The registry's nsga2 and aa-nsga2 (zero widths), driven by our runner, must
reach a median final HV within 1 % of pymoo's NSGA2 run directly by
``pymoo.optimize.minimize`` with the same budget and seeds (issue 12). The
reference HV is computed here from pymoo's own result with moocore, on the
comparison's normalisation, independently of the grid's reference runs.
"""

from __future__ import annotations

from pathlib import Path

import moocore
import numpy as np
import pandas as pd
import pytest
import yaml

from fdnmoo.experiment import run_experiment
from fdnmoo.experiment.checking import SpecError
from fdnmoo.experiment.compare_report import write_comparison
from fdnmoo.experiment.compare_spec import load_compare_spec, parse_compare_spec
from fdnmoo.experiment.comparison import compare_runs
from fdnmoo.experiment.grid import run_grid
from fdnmoo.experiment.indicators import HV_REFERENCE
from fdnmoo.experiment.spec import parse_spec

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
SEEDS = (1, 2, 3)
POP, N_EVAL = 12, 120
SMALL = f"""
problems:
  - {{name: zdt1, problem: {{pymoo: zdt1, n_var: 8}}}}
algorithms:
  - {{label: nsga2, algorithm: {{name: nsga2, pop_size: {POP}}}}}
  - {{label: aa-nsga2, algorithm: {{name: aa-nsga2, pop_size: {POP}}}}}
references:
  - {{label: pymoo-nsga2, pymoo: NSGA2, pop_size: {POP}}}
seeds: {list(SEEDS)}
budget: {{n_eval: {N_EVAL}}}
"""


def _direct_pymoo_fronts(name: str, params: dict, pop_size: int, n_eval: int, seeds):
    """pymoo's NSGA2 with its defaults, run as a pymoo user runs it: final feasible F per seed."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem

    return {seed: minimize(get_problem(name, **params), NSGA2(pop_size=pop_size),
                           ("n_eval", n_eval), seed=seed).opt.get("F") for seed in seeds}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sanity")
    (folder / "small.yaml").write_text(SMALL)
    spec = load_compare_spec(folder / "small.yaml", output=folder / "out")
    runs = run_grid(spec, progress=False)
    return spec, runs, compare_runs(runs)


def test_registry_nsga2_and_aa_nsga2_match_direct_pymoo(small):
    spec, runs, result = small
    norm = result.normalisations["zdt1"]
    direct = _direct_pymoo_fronts("zdt1", {"n_var": 8}, POP, N_EVAL, SEEDS)
    # moocore directly on pymoo's own result, on the comparison's normalisation
    reference_hv = np.median([moocore.hypervolume((F - norm.ideal) / norm.span,
                                                  ref=np.full(2, HV_REFERENCE))
                              for F in direct.values()])
    final = result.final.set_index(["algorithm", "seed"])
    assert (final.evaluations >= N_EVAL).all()
    for name in ("nsga2", "aa-nsga2", "pymoo-nsga2"):
        median = final.loc[name, "hv"].median()
        assert median == pytest.approx(reference_hv, rel=0.01), name
    against = result.against("pymoo-nsga2").set_index("algorithm")
    assert sorted(against.index) == ["aa-nsga2", "nsga2"]
    assert (against.relative_difference.abs() <= 0.01).all()
    assert against.reference_hv_median.iloc[0] == pytest.approx(reference_hv, rel=1e-9)


def test_benchmark_cells_are_normal_results_folders(small, tmp_path):
    spec, runs, result = small
    folder = Path(runs.folder.iloc[0])
    pareto = pd.read_csv(folder / "pareto.csv")
    population = pd.read_csv(folder / "population.csv")
    x = [f"x{i}" for i in range(8)]
    assert {"f1 [-]", "f2 [-]", *x} <= set(pareto) and set(x) <= set(population)
    assert not any(c.startswith("plan_") for c in pareto)
    assert len(population) == POP and population[x].ge(0).all().all()
    # ZDT1's objectives from the written decision vectors (f1 = x0)
    np.testing.assert_allclose(pareto["f1 [-]"], pareto["x0"])
    reference = [c for c in spec.references if c.seed == 1][0]
    assert {"history.csv", "fronts.csv", "pareto.csv", "run.json"} <= \
        {p.name for p in reference.folder.iterdir()}
    report = write_comparison(result, tmp_path, runs=runs, references=("pymoo-nsga2",))
    text = report.read_text()
    assert "## against_pymoo-nsga2" in text
    assert pd.read_csv(tmp_path / "against_pymoo-nsga2.csv").shape == (2, 5)


def test_our_operators_matter_the_check_can_fail(tmp_path):
    """An nsga2 cell with another crossover probability is not pymoo's NSGA2: its front
    differs from the direct run's (so agreement above is not by construction)."""
    direct = _direct_pymoo_fronts("zdt1", {"n_var": 8}, POP, N_EVAL, [1])[1]
    data = {"problem": {"pymoo": "zdt1", "n_var": 8}, "seed": 1, "output": str(tmp_path / "a"),
            "algorithm": {"name": "nsga2", "pop_size": POP, "n_eval": N_EVAL,
                          "crossover_prob": 0.5}}
    out = run_experiment(parse_spec(data), progress=False)
    fronts = pd.read_csv(out / "fronts.csv")
    last = fronts[fronts.n_gen == fronts.n_gen.max()][["f1", "f2"]].to_numpy()
    assert last.shape != direct.shape or not np.allclose(np.sort(last, axis=0),
                                                         np.sort(direct, axis=0))


@pytest.mark.parametrize("problem, key, message", [
    ({"pymoo": "zdt9"}, "problem.pymoo", "unknown pymoo problem 'zdt9' (did you mean"),
    ({"pymoo": "zdt1", "n_vars": 4}, "problem.n_vars", "did you mean 'n_var'"),
    ({"pymoo": "zdt1", "n_var": "four"}, "problem.n_var", "an integer"),
    ({"pymoo": "wfg1"}, "problem", "refuses wfg1 with no arguments: TypeError"),
    ({"pymoo": "wfg1", "n_var": 6, "n_obj": 2, "k_": 2}, "problem.k_", "did you mean 'k'"),
])
def test_benchmark_spec_errors_name_the_key(problem, key, message):
    with pytest.raises(SpecError) as info:
        parse_spec({"problem": problem}, source="b.yaml")
    assert info.value.key == key and message in info.value.message


def test_only_real_valued_problems_get_pymoo_default_operators():
    from pymoo.core.problem import Problem

    from fdnmoo.operators import build_algorithm

    integer = Problem(n_var=3, n_obj=2, xl=0, xu=4, vtype=int)
    with pytest.raises(ValueError, match="type int; only real-valued"):
        build_algorithm("nsga2", integer, pop_size=4)
    with pytest.raises(ValueError, match="no finite variable bounds"):
        build_algorithm("nsga2", Problem(n_var=3, n_obj=2, vtype=float), pop_size=4)
    algorithm = build_algorithm("nsga2", Problem(n_var=3, n_obj=2, xl=0.0, xu=1.0),
                                pop_size=4, options={"crossover_prob": 0.7})
    assert type(algorithm.mating.crossover).__name__ == "SBX"
    assert algorithm.mating.crossover.prob.value == 0.7


def test_a_benchmark_has_no_case():
    with pytest.raises(SpecError) as info:
        parse_spec({"case": "ieee33", "problem": {"pymoo": "zdt1"}}, source="b.yaml")
    assert info.value.key == "case" and "pymoo" in info.value.message


@pytest.mark.parametrize("changes, key, message", [
    ({"references": [{"label": "r", "pymoo": "NSGA9", "pop_size": 4}]},
     "references[0].pymoo", "choose one of"),
    ({"references": [{"label": "nsga2", "pymoo": "NSGA2", "pop_size": 4}]},
     "references[0].label", "twice"),
    ({"references": [{"label": "r", "pymoo": "NSGA2"}]}, "references[0].pop_size", "missing"),
    ({"problems": [{"name": "reconf", "case": "ieee33",
                    "problem": {"preset": "reconfiguration", "stages": 1}}]},
     "references", "pymoo benchmark problems"),
])
def test_reference_errors_name_the_key(changes, key, message):
    data = {**yaml.safe_load(SMALL), **changes}
    with pytest.raises(SpecError) as info:
        parse_compare_spec(data, source="g.yaml")
    assert info.value.key == key and message in info.value.message


def test_sanity_study_is_as_issue_12_asks():
    spec = load_compare_spec(EXPERIMENTS / "compare_sanity.yaml")
    assert spec.problems == ("zdt1", "zdt2", "zdt3", "dtlz2")
    assert set(spec.algorithms) == {"nsga2", "aa-nsga2"} and len(spec.seeds) == 11
    assert {c.spec.algorithm.n_eval for c in spec.cells} == {10000}
    assert {(c.algorithm, c.pymoo_class) for c in spec.references} == {("pymoo-nsga2", "NSGA2")}
    assert len(spec.references) == 4 * 11


@pytest.mark.slow
def test_sanity_study_within_one_percent(tmp_path):
    spec = load_compare_spec(EXPERIMENTS / "compare_sanity.yaml", output=tmp_path / "out")
    against = compare_runs(run_grid(spec, progress=False)).against("pymoo-nsga2")
    assert len(against) == 4 * 2
    assert (against.relative_difference.abs() <= 0.01).all(), against
