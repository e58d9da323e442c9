"""Results folder of a (toy) run and the PNG figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiment_toy import ToyPlanning, toy_operators
from figure_checks import assert_png_of
from fdnmoo.experiment import build_algorithm, optimise, write_results
from fdnmoo.experiment.plots import convergence_figure, pareto_figure
from fdnmoo.experiment.results import collect_outcome, compact_plan_text
from fdnmoo.experiment.spec import AlgorithmSpec



@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy_run")
    problem = ToyPlanning()
    algorithm = build_algorithm(AlgorithmSpec(pop_size=16, n_gen=4), problem,
                                operators=toy_operators())
    algorithm, _ = optimise(problem, algorithm, n_gen=4, seed=1, out_dir=out, progress=False)
    outcome = collect_outcome(problem, algorithm)
    outcome.metadata["seed"] = 1
    written = write_results(out, outcome)
    return out, outcome, written


def test_pareto_csv(toy_run):
    out, outcome, _ = toy_run
    pareto = pd.read_csv(out / "pareto.csv", keep_default_na=False)
    assert pareto.solution.tolist() == list(range(1, len(outcome.F) + 1))
    # every quantity with its unit (the toy has no case, hence no currency of its own)
    cost, adapt = "total_cost [currency (NPV)]", "structural_adaptability [-]"
    assert {cost, adapt, "g_budget [-]", "cv", "feasible", "chosen", "group", "n_genomes",
            "plan_pv"} <= set(pareto.columns)
    assert pareto.chosen.sum() == 1
    # objectives in their own sign and equal to the plan reports' values
    for (_, row), report in zip(pareto.iterrows(), outcome.reports):
        assert row[cost] == pytest.approx(report["objectives"]["total_cost"])
        assert row[adapt] == pytest.approx(report["objectives"]["structural_adaptability"])
        assert row[adapt] > 0
    # the toy's genomes are its plans: distinct rows, each its own objective vector
    assert (pareto.n_genomes >= 1).all()
    assert len(set(map(tuple, outcome.X.tolist()))) == len(outcome.X)
    genomes = pd.read_csv(out / "pareto_genomes.csv")
    np.testing.assert_array_equal(genomes.drop(columns="solution").to_numpy(), outcome.X)


def test_plans_costs_history_and_run_json(toy_run):
    out, outcome, _ = toy_run
    for k in range(1, len(outcome.F) + 1):
        plan = pd.read_csv(out / "plans" / f"solution_{k}.csv")
        assert list(plan.columns) == ["stage", "item", "where", "size", "built_in_stage"]
        costs = pd.read_csv(out / "plans" / f"solution_{k}_costs.csv", index_col=0)
        assert costs["total [currency]"].sum() == pytest.approx(outcome.reports[k - 1]["objectives"]
                                                  ["total_cost"])
    history = pd.read_csv(out / "history.csv")
    assert history.n_gen.tolist() == [1, 2, 3, 4]
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 1 and run["n_pareto"] == len(outcome.F)
    assert [o["sense"] for o in run["objectives"]] == ["min", "max"]
    assert run["objectives"][0]["unit"] == "currency (NPV)"
    assert 1 <= run["chosen_solution"] <= len(outcome.F)
    population = pd.read_csv(out / "population.csv")
    assert len(population) == 16 and (population["structural_adaptability [-]"] > 0).all()


def test_plots_are_the_outcomes_figures(toy_run):
    out, outcome, written = toy_run
    assert written["pareto_plot"] == out / "pareto.png"
    assert_png_of(pareto_figure(outcome), out / "pareto.png")
    assert_png_of(convergence_figure(outcome.history, outcome.objective_names),
                  out / "convergence.png")
    assert "network_plot" not in written  # no grid given


def test_compact_plan_text_states_every_stage_in_full():
    table = pd.DataFrame([
        {"stage": 1, "item": "pv", "where": "bus 7", "size": "0.5 MW"},
        {"stage": 2, "item": "pv", "where": "bus 7", "size": "0.5 MW"},
        {"stage": 3, "item": "pv", "where": "bus 7", "size": "1 MW"},
        {"stage": 2, "item": "pv", "where": "bus 12", "size": "0.3 MW"},
        {"stage": 3, "item": "pv", "where": "bus 12", "size": "0.3 MW"},
        {"stage": 1, "item": "closed ties", "where": "8-21", "size": ""},
        {"stage": 1, "item": "closed ties", "where": "12-22", "size": ""},
        {"stage": 2, "item": "closed ties", "where": "12-22", "size": ""},
        {"stage": 2, "item": "built lines", "where": "1-5", "size": "conductor type 2",
         "built_in_stage": 2},
        {"stage": 3, "item": "built lines", "where": "1-5", "size": "conductor type 2",
         "built_in_stage": 2},
    ])
    texts = compact_plan_text(table, n_stages=4)
    assert texts["pv"] == ("s1: bus 7 (0.5 MW); s2: bus 7 (0.5 MW), bus 12 (0.3 MW); "
                           "s3: bus 7 (1 MW), bus 12 (0.3 MW); s4: none")
    # stage 2 keeps only 12-22 closed: the text says so, it does not list a change
    assert texts["closed ties"] == "s1: 8-21, 12-22; s2: 12-22; s3-s4: none"
    assert texts["built lines"] == "s1: none; s2-s3: 1-5 (conductor type 2, built s2); s4: none"
    assert compact_plan_text(table)["pv"].endswith("s3: bus 7 (1 MW), bus 12 (0.3 MW)")
    assert compact_plan_text(table.iloc[:0]) == {}


def _parse_stage_text(text: str, n_stages: int) -> list[set[str]]:
    """Inverse of compact_plan_text for entries without commas: the set of every stage."""
    states: list[set[str]] = [set() for _ in range(n_stages)]
    for part in text.split("; "):
        span, state = part.split(": ", 1)
        first, _, last = span.partition("-")
        for s in range(int(first[1:]), int((last or first)[1:]) + 1):
            states[s - 1] = set() if state == "none" else set(state.split(", "))
    return states


@given(st.lists(st.sets(st.sampled_from(["13-14", "56-57", "61-62", "11-43"])),
                min_size=1, max_size=5))
def test_compact_plan_text_gives_back_every_stage(stages):
    """The stage notation is unambiguous: every stage's full set is read back from the text."""
    rows = [{"stage": s, "item": "open sections", "where": w, "size": ""}
            for s, lines in enumerate(stages, start=1) for w in sorted(lines)]
    table = pd.DataFrame(rows, columns=["stage", "item", "where", "size"])
    text = compact_plan_text(table, n_stages=len(stages)).get("open sections")
    if not any(stages):
        assert text is None
    else:
        assert _parse_stage_text(text, len(stages)) == [set(s) for s in stages]
