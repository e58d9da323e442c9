"""The copula-scenario study (seed paper 001): case files, scheme specs, the two studies.

References: the paper's Table 1 (which of PV, ESS and line expansion each scheme plans,
transcribed in experiments/published/s001_copula.yaml), its statement that no scheme
leaves load unserved in any scenario (sections 4.3 and 4.4: EENS = 0), and, for the
reduction table, the batch's own reduction (recomputed independently by the study) and
scikit-learn / brute force in tests/uncertainty/test_reduction.py. The full studies run
in the slow tests at the end.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fdnmoo.cli.app import main
from fdnmoo.experiment.checking import SpecError
from fdnmoo.experiment.reduction_study import run_reduction_study
from fdnmoo.experiment.runs_study_spec import load_runs_study, parse_runs_study
from fdnmoo.experiment.scheme_study import run_scheme_study, scheme_table
from fdnmoo.experiment.study_runs import chosen_genome, run_folder
from fdnmoo.experiment.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
EXP = ROOT / "experiments"
PUBLISHED = yaml.safe_load((EXP / "published" / "s001_copula.yaml").read_text())
SCHEME_SPECS = sorted(EXP.glob("s001_scheme[1-4]_*.yaml"))


def _builder():
    spec = importlib.util.spec_from_file_location("build_s001_cases",
                                                  EXP / "cases" / "build_s001_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_case_files_are_what_the_script_writes(tmp_path):
    assert _builder().main(["--out", str(tmp_path)]) == 0
    for name in ("ieee33", "tpc84"):
        assert (tmp_path / f"s001_{name}.json").read_bytes() == \
            (EXP / "cases" / f"s001_{name}.json").read_bytes()


def test_every_scheme_spec_plans_what_the_papers_table_1_says():
    assert len(SCHEME_SPECS) == 8
    for path in SCHEME_SPECS:
        spec = load_spec(path)
        scheme = int(path.stem.split("_")[1][-1])
        want = PUBLISHED["schemes"][scheme]
        entries = [(name, dict(params or {})) for entry in spec.problem.blocks
                   for name, params in entry.items()]
        kinds = {params["kind"] for name, params in entries if name == "der"}
        assert dict(entries)["lines"]["build"] is True, path.name
        assert ("pv" in kinds) == want["pv"] and ("ess" in kinds) == want["ess"], path.name
        assert spec.uncertainty.dependence == PUBLISHED["scenarios"]["copula"]
        assert spec.uncertainty.reduction == "kmeans" and spec.uncertainty.marginals == "kde"
        assert spec.case.endswith(f"s001_{path.stem.split('_')[2]}.json")


def test_study_specs_name_existing_runs_and_the_published_file():
    for name in ("s001_schemes", "s001_schemes_fast", "s001_reduction", "s001_reduction_fast"):
        spec = load_runs_study(EXP / f"{name}.yaml")
        assert spec.published.endswith("s001_copula.yaml")
        assert {r.system for r in spec.runs} <= set(PUBLISHED["systems"])


@pytest.mark.parametrize("change, key, message", [
    ({"studdy": "schemes"}, "studdy", "did you mean 'study'"),
    ({"study": "bounds"}, "study", "expected one of schemes, scenario_reduction"),
    ({"runs": [{"label": "a", "spec": "missing.yaml", "system": "25-bus", "scheme": 1}]},
     "runs[0].spec", "no such file"),
    ({"runs": [{"label": "a", "spec": "s001_scheme1_ieee33.yaml"}]}, "runs[0].system", "missing"),
    ({"reductions": ["kmeans"]}, "reductions", "only a scenario_reduction study"),
    ({"settings": ["algorithm.n_gen"]}, "settings[0]", "expected KEY=VALUE"),
])
def test_study_spec_errors_name_the_key(change, key, message):
    data = {**yaml.safe_load((EXP / "s001_schemes_fast.yaml").read_text()), **change}
    if "studdy" in change:   # a typo of the key itself
        del data["study"]
    with pytest.raises(SpecError, match=message) as info:
        parse_runs_study(data, source="s.yaml", base_dir=EXP)
    assert info.value.key == key


def test_scheme_table_ratios_and_ranks():
    rows = [{"run": f"x {k}", "system": "25-bus", "scheme": k, "total_cost": c}
            for k, c in ((1, 100.0), (2, 314.36), (3, 140.32), (4, 157.71))]
    t = scheme_table(rows, PUBLISHED)
    # the paper's own percentages (Table 13 text) give back its order 1, 3, 4, 2
    np.testing.assert_allclose(t.cost_vs_scheme_1_percent, [0.0, 214.36, 40.32, 57.71])
    np.testing.assert_allclose(t.published_vs_scheme_1_percent, t.cost_vs_scheme_1_percent)
    assert t.cost_rank.tolist() == t.published_rank.tolist() == [1, 4, 2, 3]


@cache
def _fast_reduction(tmp: Path) -> Path:
    return run_reduction_study(load_runs_study(EXP / "s001_reduction_fast.yaml"), tmp / "red")


def test_fast_reduction_study_tables(tmp_path_factory):
    out = _fast_reduction(tmp_path_factory.getbasetemp())
    red, costs = pd.read_csv(out / "reduction.csv"), pd.read_csv(out / "costs.csv")
    rule = red[red.k_rule == "elbow/silhouette"].iloc[0]
    assert set(red.method) == {"kmeans", "backward"}
    assert sorted(red[red.k_rule == "fixed"].k.unique()) == sorted({int(rule.k), 4})
    # the runs reduce to the spec's typical_days (the paper's 4), else to the rule's k
    run_k = load_spec(EXP / "s001_scheme4_ieee33.yaml").uncertainty.typical_days or int(rule.k)
    assert costs.reduction.tolist() == ["kmeans", "backward"] and (costs.k == run_k).all()
    # the study's own reduction of the generated days is the one the runs' batches made
    for method in ("kmeans", "backward"):
        mine = red[(red.method == method) & (red.k_rule == "fixed") & (red.k == run_k)].kantorovich
        assert costs[costs.reduction == method].kantorovich.iloc[0] == pytest.approx(mine.iloc[0], rel=1e-9)
    assert costs.cost_vs_backward_percent.iloc[1] == 0.0
    for r in ("kmeans", "backward"):   # re-evaluating a run's plan on its own days gives its cost
        row = costs[costs.reduction == r].iloc[0]
        assert row[f"cost_on_{r}_days"] == pytest.approx(row.total_cost, rel=1e-9)
    assert np.isfinite(costs.total_cost).all() and (costs.total_cost > 0).all()
    report = (out / "report.md").read_text()
    assert "362.3" in report and "3.44" in report   # the paper's Table 20 beside ours


@cache
def _fast_schemes(tmp: Path) -> Path:
    return run_scheme_study(load_runs_study(EXP / "s001_schemes_fast.yaml"), tmp / "schemes")


def test_fast_scheme_study_beside_the_paper(tmp_path_factory):
    out = _fast_schemes(tmp_path_factory.getbasetemp())
    t = pd.read_csv(out / "schemes.csv").set_index("scheme")
    assert t.index.tolist() == [1, 2, 3, 4] and (t.system == "25-bus").all()
    # what each scheme may plan (Table 1): PV only in 2 and 4, storage only in 3 and 4
    assert t.pv_mw[1] == t.pv_mw[3] == 0 and t.ess_mwh[1] == t.ess_mwh[2] == 0
    assert t.pv_mw[2] > 0 and t.pv_mw[4] > 0   # the PV schemes meet the 50 % penetration target
    # the paper (sections 4.3, 4.4): every scheme meets the load in every scenario, EENS = 0
    assert (t.unserved_energy_mwh == PUBLISHED["eens_mwh"]).all()
    np.testing.assert_allclose(t.published_vs_scheme_1_percent.loc[[2, 3, 4]],
                               [214.36, 40.32, 57.71])
    assert "differs from the paper's" in (out / "report.md").read_text() \
        or "the same as the paper's" in (out / "report.md").read_text()


def _embedded_cost(study: Path, settings: tuple, small: int, large: int) -> tuple[float, float]:
    """Scheme ``small``'s chosen plan in scheme ``large``'s problem, the genes of the blocks
    ``small`` lacks at 0 (no PV / no ESS): its ``total_cost`` there and in its own run."""
    folders = {k: run_folder(study, f"ieee33 scheme {k}") for k in (small, large)}
    probs = {k: load_spec(EXP / f"s001_scheme{k}_ieee33.yaml", settings=settings).build_problem()
             for k in (small, large)}
    own, big = probs[small].genome, probs[large].genome
    x = np.zeros((1, big.n_var))
    for name, genes in own.slices.items():   # the same block must mean the same genes
        np.testing.assert_array_equal(own.xu[genes], big.xu[big.slices[name]])
        x[0, big.slices[name]] = chosen_genome(folders[small])[0, genes]
    F = probs[large].evaluate(x, return_values_of=["F"])
    names = [o["name"] for o in json.loads((folders[large] / "run.json").read_text())["objectives"]]
    t = pd.read_csv(study / "schemes.csv").set_index("scheme")
    return float(F[0, names.index("total_cost")]), float(t.total_cost[small])


@pytest.mark.parametrize("small, large", [(2, 4), (3, 4)])
def test_scheme_4_contains_schemes_2_and_3_at_their_cost(tmp_path_factory, small, large):
    """The cost order that holds at any budget: scheme 4 (lines + PV + ESS) can plan what
    scheme 2 (no ESS) or 3 (no PV) plans, at the same cost, so its optimum is not dearer.
    The GA's chosen plans at 6 x 2 need not show it; the embedded plan must: the ESS (PV)
    genes at 0 cost nothing and the operation options of the schemes agree."""
    out = _fast_schemes(tmp_path_factory.getbasetemp())
    settings = load_runs_study(EXP / "s001_schemes_fast.yaml").settings
    embedded, own = _embedded_cost(out, settings, small, large)
    assert embedded == pytest.approx(own, rel=1e-9)


def test_study_command_refuses_a_bad_spec(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: schemes\nruns: []\n")
    assert main(["study", str(bad)]) == 2
    assert "runs: expected a non-empty list" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s001_schemes", "s001_reduction"])
def test_full_study(tmp_path, name):
    assert main(["-q", "study", str(EXP / f"{name}.yaml"), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").is_file()
