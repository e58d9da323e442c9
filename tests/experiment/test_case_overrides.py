"""A spec's ``case_overrides:``: the case file's records changed from the spec, checked like
the file, recorded in ``run.json``; prices asked only by the objectives that use them."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.cases.io import case_to_dict
from fdnmoo.cases.overrides import PRICE_KEYS
from fdnmoo.cli.app import main
from fdnmoo.experiment import SpecError, load_spec
from fdnmoo.metrics.economics import PRICED_TERMS
from fdnmoo.problems.planning import ProblemConfig
from spec_files import write_spec

OVERRIDES = """
case_overrides:
  economics: {discount_rate: 0.06, prices: {energy_per_mwh: 420.0}}
  limits: {v_min_pu: 0.90}
"""
STUDY = """
case: ieee33
{overrides}
problem:
  preset: reconfiguration
  objectives: [loss_kw, total_cost]
  constraints: [voltage_band]
algorithm: {name: nsga2, pop_size: 6, n_gen: 2}
seed: 4
"""


def _study(overrides: str) -> str:
    return STUDY.replace("{overrides}", overrides)


SPEC = _study(OVERRIDES)


def _overridden(overrides: str) -> str:
    return _study(f"case_overrides: {{{overrides}}}")


@pytest.fixture(scope="module")
def edited_case_file(tmp_path_factory):
    """What a user did before: copy ieee33's case file and edit the same three numbers."""
    doc = case_to_dict(load_case("ieee33"))
    doc["economics"]["discount_rate"] = 0.06
    doc["economics"]["prices"]["energy_per_mwh"] = 420.0
    doc["uncertainty"]["v_min_pu"] = 0.90
    path = tmp_path_factory.mktemp("case") / "ieee33_edited.json"
    path.write_text(json.dumps(doc))
    return path


def test_overrides_solve_the_problem_of_the_edited_case_file(tmp_path, edited_case_file):
    spec = load_spec(write_spec(tmp_path, SPEC))
    problem = spec.build_problem()
    edited = load_spec(write_spec(tmp_path, _study("").replace(
        "case: ieee33", f"case: {edited_case_file}"), "edited.yaml")).build_problem()
    case = problem.grid.case
    assert case.economics.discount_rate == 0.06 and case.uncertainty.v_min_pu == 0.90
    assert case.economics.prices["pv_feed_in_per_mwh"] == 350.0  # untouched keys are kept
    assert case.economics.sources["discount_rate"] == "case_overrides"
    assert load_case("ieee33").economics.discount_rate == 0.1  # the installed case is unchanged
    X = problem.genome.sample(8, np.random.default_rng(1))
    F, G = problem.evaluate_genomes(X)
    F_ref, G_ref = edited.evaluate_genomes(X)
    np.testing.assert_allclose(F, F_ref, rtol=1e-12)
    np.testing.assert_allclose(G, G_ref, rtol=1e-12)


def test_the_voltage_limit_moves_the_band_constraint(tmp_path):
    # ieee33's base topology has Vmin 0.9131 p.u. at bus 18 (Baran & Wu, README table): inside
    # a band from 0.90, below one from 0.95 (the case file's own)
    def band_g(v_min):
        config = ProblemConfig(case="ieee33", preset="reconfiguration",
                               constraints=("voltage_band",),
                               case_overrides={"limits": {"v_min_pu": v_min}})
        problem = config.build()
        grid = problem.grid
        x = np.isin(grid.switchable_lines, grid.base_closed_lines).astype(int)
        return problem.evaluate_genomes(x[None, :])[1][0, problem.constraint_names.index(
            "voltage_band")]
    assert band_g(0.90) <= 0 < band_g(0.95)


def test_config_stays_picklable_and_its_hash_follows_the_overrides():
    base = ProblemConfig(case="ieee33", preset="reconfiguration")
    a = ProblemConfig(case="ieee33", preset="reconfiguration",
                      case_overrides={"economics": {"discount_rate": 0.06}})
    b = ProblemConfig(case="ieee33", preset="reconfiguration",
                      case_overrides={"economics": {"discount_rate": 0.07}})
    assert len({base.key, a.key, b.key}) == 3
    again = pickle.loads(pickle.dumps(a))
    assert again == a and again.key == a.key and hash(again) == hash(a)


@pytest.mark.parametrize("overrides, key, message", [
    ("economics: {discount_rat: 0.06}", "case_overrides.economics.discount_rat",
     "did you mean 'discount_rate'"),
    ("limit: {v_min_pu: 0.9}", "case_overrides.limit", "did you mean 'limits'"),
    ("limits: {v_mn_pu: 0.9}", "case_overrides.limits.v_mn_pu", "did you mean 'v_min_pu'"),
    ("economics: {prices: {energy_per_mvh: 80}}", "case_overrides.economics.prices.energy_per_mvh",
     "did you mean 'energy_per_mwh'"),
    ("economics: {discount_rate: fast}", "case_overrides.economics.discount_rate",
     "expected a number"),
    ("horizon: {n_stages: 2}", "case_overrides.horizon", "problem.horizon"),
    ("limits: {v_min_pu: 0.9}, uncertainty: {v_min_pu: 0.9}", "case_overrides.limits.v_min_pu",
     "given twice"),
])
def test_names_and_types_are_refused_when_the_spec_is_read(tmp_path, overrides, key, message):
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, _overridden(overrides)))
    assert err.value.key == key and message in str(err.value)
    assert str(err.value).startswith(f"{tmp_path / 'spec.yaml'}: {key}: ")


@pytest.mark.parametrize("overrides, key, message", [
    # the case file's own checks (fdnmoo/cases/validate.py), named by the override's key
    ("economics: {discount_rate: 1.5}", "case_overrides.economics.discount_rate",
     "is a fraction: must be < 1 (got 1.5)"),
    ("limits: {v_min_pu: 1.1}", "case_overrides.limits.v_min_pu", "must be below v_max_pu (1.05)"),
    ("economics: {prices: {energy_per_mwh: -3}}",
     "case_overrides.economics.prices.energy_per_mwh", "must be >= 0.0"),
    ("uncertainty: {pv_deviation: 1.2}", "case_overrides.uncertainty.pv_deviation",
     "is a fraction"),
])
def test_values_meet_the_case_files_checks_when_the_problem_is_built(tmp_path, overrides, key,
                                                                     message):
    spec = load_spec(write_spec(tmp_path, _overridden(overrides)))
    with pytest.raises(SpecError) as err:
        spec.build_problem()
    assert err.value.key == key and message in str(err.value)


def test_problem_horizon_goes_through_the_same_checks(tmp_path):
    text = SPEC.replace("  preset: reconfiguration\n",
                        "  preset: reconfiguration\n  horizon: {years_per_stage: -5}\n")
    with pytest.raises(SpecError, match=r"problem\.horizon\.years_per_stage: must be > 0\.0"):
        load_spec(write_spec(tmp_path, text)).build_problem()


def test_run_json_records_the_overrides(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(write_spec(tmp_path, SPEC)), "--out", str(out), "--no-progress"]) == 0
    run = json.loads((out / "run.json").read_text())
    given = {"economics": {"discount_rate": 0.06, "prices": {"energy_per_mwh": 420.0}},
             "limits": {"v_min_pu": 0.9}}
    assert run["spec"]["case_overrides"] == given
    assert run["composition"]["case_overrides"] == given
    assert run["composition"]["economics"]["discount_rate"] == 0.06
    assert run["composition"]["case_limits"]["v_min_pu"] == 0.9
    plain = load_spec(write_spec(tmp_path, _study(""), "plain.yaml"))
    assert run["run_hash"] != plain.run_hash


# -- prices asked only for what the objectives use ------------------------------------------
NO_PRICES = """
case: ieee33
case_overrides:
  economics: {prices: {energy_per_mwh: null, pv_feed_in_per_mwh: null,
                       violation_penalty_per_mwh: null, unserved_energy_per_mwh: null}}
problem: {preset: reconfiguration, objectives: [loss_kw]}
algorithm: {name: nsga2, pop_size: 6, n_gen: 2}
"""


def test_a_loss_kw_run_needs_no_price(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(write_spec(tmp_path, NO_PRICES)), "--out", str(out),
                 "--no-progress"]) == 0
    costs = pd.read_csv(out / "plans" / "solution_1_costs.csv")
    costs.columns = [c.split(" [")[0] for c in costs.columns]  # units in brackets
    # reconfiguration builds nothing; the losses have no price: unknown, not 0
    assert (costs.investment == 0).all() and costs.energy_loss.isna().all()
    assert costs.total.isna().all()


def test_investment_needs_no_price(tmp_path):
    spec = NO_PRICES.replace("preset: reconfiguration, objectives: [loss_kw]",
                             "preset: joint, stages: 1, samples: 1, days: 1, "
                             "objectives: [loss_kw, investment]")
    out = tmp_path / "out"
    assert main(["run", str(write_spec(tmp_path, spec)), "--out", str(out), "--no-progress"]) == 0
    pareto = pd.read_csv(out / "pareto.csv")
    column = next(c for c in pareto.columns if c.startswith("investment"))
    assert pareto[column].notna().all() and (pareto[column] >= 0).all()


def test_total_cost_names_the_missing_price_and_itself(tmp_path, capsys):
    spec = write_spec(tmp_path, NO_PRICES.replace("objectives: [loss_kw]",
                                              "objectives: [loss_kw, total_cost]"))
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith("fdnmoo: error: ")]  # one line, after the log's
    assert len(errors) == 1
    assert f"{spec}: problem.objectives[1].total_cost: objective 'total_cost' needs " \
           "economics.prices.energy_per_mwh to price energy losses" in errors[0]


def test_price_keys_are_the_ones_the_cost_model_reads():
    assert {name for name, _, _ in PRICED_TERMS.values()} == set(PRICE_KEYS)


def test_workers_rebuild_the_overridden_problem(tmp_path):
    from fdnmoo.evaluation import Evaluator

    config = load_spec(write_spec(tmp_path, SPEC)).problem_config()
    problem = config.build()
    X = problem.genome.sample(4, np.random.default_rng(2))
    F, G = problem.evaluate_genomes(X)
    F_base = ProblemConfig(case="ieee33", preset="reconfiguration",
                           objectives=("loss_kw", "total_cost")).build().evaluate_genomes(X)[0]
    assert not np.allclose(F[:, 1], F_base[:, 1])  # the overrides change the cost...
    with Evaluator("joblib", n_workers=2) as evaluator:
        F_jl, G_jl = evaluator.evaluate(config, X)
    np.testing.assert_array_equal(F_jl, F)  # ...in the workers too
    np.testing.assert_array_equal(G_jl, G)
