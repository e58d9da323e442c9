"""Seed 000's case study (``study: cases``): plan per stage, Table 2 cells, case comparison.

Reference: R. Wang et al., Nature Communications 15 (2024), Table 1 (Case I plan), Table 2
(costs per stage, 10^6 CNY, two decimals) and the case comparison, transcribed in
``experiments/published/s000_dynamic.yaml``. The fast study runs Cases I, II, V and VII (from
Case I's solutions) with tiny budgets and Case VI with 3 users' draws
(``experiments/s000_cases_fast.yaml``); the full studies are marked slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fdnmoo.cases import load_case
from fdnmoo.cases.overrides import apply_overrides
from fdnmoo.experiment.case_study import investment_cells, run_case_study
from fdnmoo.experiment.checking import SpecError
from fdnmoo.experiment.runs_study_spec import load_runs_study, parse_runs_study
from fdnmoo.planning import Plan, plan_table, planning_grid

EXP = Path(__file__).parents[2] / "experiments"
PUBLISHED = yaml.safe_load((EXP / "published" / "s000_dynamic.yaml").read_text())
HALF_DIGIT = 0.005  # Table 2's rounding, 10^6 CNY
STAGE_PV = 1.1 ** -(5.0 * np.arange(4))  # present value at each stage start, 10 % (released code)


def test_case_specs_parse_with_per_run_settings():
    spec = load_runs_study(EXP / "s000_gamma.yaml")
    assert spec.kind == "cases"
    assert [r.settings for r in spec.runs][0] == ("uncertainty.gamma=0.03",)
    assert [r.paper_case for r in load_runs_study(EXP / "s000_cases.yaml").runs] == \
        ["I", "II", "III", "IV", "V", "VI", "VII"]


@pytest.mark.parametrize("run, message", [
    ({"label": "a", "spec": "s000_case1.yaml"}, "runs[0].paper_case: missing"),
    ({"label": "a", "spec": "s000_case1.yaml", "paper_case": "I", "settings": ["gamma"]},
     "runs[0].settings[0]: expected KEY=VALUE, got 'gamma'"),
    ({"label": "a", "spec": "s000_case1.yaml", "paper_cas": "I"}, "did you mean 'paper_case'")])
def test_bad_case_runs_are_refused(run, message):
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_runs_study({"study": "cases", "runs": [run]}, source="s.yaml", base_dir=EXP)


@pytest.mark.parametrize("initial, message", [
    ("case 1", "runs\\[1\\].initial_from: 'case 1' is not the label of an earlier run \\(did "
               "you mean 'case I'\\?\\)"),
    ("case VII", "runs\\[1\\].initial_from: 'case VII' is not the label of an earlier run"),
    ("case II", "runs\\[1\\].initial_from: 'case II' is not the label of an earlier run")])
def test_initial_from_must_name_an_earlier_run(initial, message):
    runs = [{"label": "case I", "spec": "s000_case1.yaml", "paper_case": "I"},
            {"label": "case VII", "spec": "s000_case7.yaml", "paper_case": "VII",
             "initial_from": initial},
            {"label": "case II", "spec": "s000_case2.yaml", "paper_case": "II"}]
    with pytest.raises(SpecError, match=message):
        parse_runs_study({"study": "cases", "runs": runs}, source="s.yaml", base_dir=EXP)


def test_initial_from_becomes_the_earlier_runs_folder(tmp_path):
    from fdnmoo.experiment.case_study import run_settings
    from fdnmoo.experiment.study_runs import run_folder

    spec = load_runs_study(EXP / "s000_cases.yaml")
    seven = next(r for r in spec.runs if r.paper_case == "VII")
    assert seven.initial_from == "case I"
    assert run_settings(spec, seven, tmp_path)[-1] == \
        f'algorithm.initial_from="{run_folder(tmp_path.resolve(), "case I")}"'
    assert not any("initial_from" in s for s in run_settings(spec, spec.runs[0], tmp_path))


@pytest.fixture(scope="module")
def published_plan():
    """Table 1's plan (EVCS, PV and the SOP schemes) on tpc84 at the staged prices."""
    case = apply_overrides(load_case("tpc84"), PUBLISHED["case_overrides"])
    grid = planning_grid(case)
    der = {}
    for kind in ("evcs", "pv"):
        buses = grid.case.candidates[kind].bus.tolist()
        cap = np.zeros((4, len(buses)))
        for row in PUBLISHED["table1"]["stages"]:
            for bus, mva in row[kind].items():
                cap[row["stage"] - 1, buses.index(int(bus))] = mva
        der[kind] = cap
    final = [set(s["terminals"]) for s in PUBLISHED["table1"]["stages"][-1]["sop"]]
    rows = [(r["stage"], next(k for k, f in enumerate(final) if set(s["terminals"]) <= f), b, c)
            for r in PUBLISHED["table1"]["stages"] for s in r["sop"]
            for b, c in zip(s["terminals"], s["capacity_mva"])]
    sop = plan_table("sop", pd.DataFrame(rows, columns=["stage", "device", "bus", "capacity_mva"]))
    return grid, Plan.on_base_topology(grid, 4, der=der, sop=sop)


@pytest.mark.parametrize("column", ["evcs_land", "pv_converter", "sop_land", "sop_converter"])
def test_investment_cells_of_table1_are_table2s(published_plan, column):
    """The study's Table 2 columns, computed from the paper's own plan, are the paper's cells
    (the SOP line cells need the paper's line lengths, which tpc84's coordinates are not)."""
    cells = investment_cells(*published_plan) / 1e6
    paper = pd.DataFrame.from_dict(PUBLISHED["table2"]["rows"], orient="index",
                                   columns=PUBLISHED["table2"]["columns"])
    np.testing.assert_allclose(cells[column].to_numpy(), paper[column].to_numpy(), rtol=0,
                               atol=HALF_DIGIT)
    assert (cells["other_investment"] == 0).all()


@pytest.fixture(scope="module")
def fast_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("s000") / "cases"
    return run_case_study(load_runs_study(EXP / "s000_cases_fast.yaml"), out)


def test_fast_study_tables(fast_study):
    plan = pd.read_csv(fast_study / "plan.csv")
    assert plan.groupby("run").stage.apply(list).to_dict() == {
        "case I": [1, 2, 3, 4], "case II": [1, 2, 3, 4], "case V": [1, 2, 3, 4],
        "case VI": [1, 2, 3, 4], "case VII": [1, 2, 3, 4]}
    # Case II decides once: every stage holds the same plan
    two = plan[plan.run == "case II"]
    assert two[["sop", "evcs", "pv"]].nunique().max() == 1
    # Case V builds no SOP
    assert (plan[plan.run == "case V"].sop == "-").all()
    table2 = pd.read_csv(fast_study / "table2.csv")
    assert len(table2) == 5 * len(PUBLISHED["table2"]["columns"])
    paper = table2[table2.stage == "1"].set_index("cost")["paper [M]"]
    assert paper["evcs_land"] == 3.00 and paper["sum"] == 11.64  # Table 2, stage I
    cases = pd.read_csv(fast_study / "cases.csv").set_index("paper_case")
    assert cases.loc["II", "paper_total [M]"] == 90.48  # section 'Cost-benefit analysis'
    assert cases.loc["II", "paper_case_i_reduction"] == pytest.approx(0.5502)
    np.testing.assert_allclose(cases.case_i_reduction, 1 - cases.loc["I", "total"] / cases.total)
    # Case VII starts from Case I's solutions (initial_from): its chosen plan is no worse
    # (constraint violation first, then the objective, as NSGA-II ranks them)
    seven, one = cases.loc["VII"], cases.loc["I"]
    assert seven.cv <= one.cv + 1e-12
    if seven.cv == one.cv:
        assert seven.objective_total_cost <= one.objective_total_cost * (1 + 1e-12)
    report = (fast_study / "report.md").read_text()
    for heading in ("## Plan per stage", "beside Table 2", "## Case comparison", "## Gamma sweep",
                    "## Users' allocation"):
        assert heading in report


def test_fast_study_land_cells_by_hand(fast_study):
    """Case I's EVCS land cells: new sites of the stage x the stage's site price at the stage
    start (3/3.5/4/5e6 CNY, the released code's price_sit; 10 % discounting)."""
    plan = pd.read_csv(fast_study / "plan.csv")
    one = plan[plan.run == "case I"].sort_values("stage")
    sites = [set() if t == "-" else {p.split(":")[0].strip() for p in t.split(",")}
             for t in one.evcs]
    new = [len(s - (sites[i - 1] if i else set())) for i, s in enumerate(sites)]
    price = np.array(PUBLISHED["case_overrides"]["economics"]["unit_costs"]["evcs_site_per_site"])
    costs = pd.read_csv(fast_study / "stage_costs.csv")
    got = costs[costs.run == "case I"].sort_values("stage").evcs_land.to_numpy()
    np.testing.assert_allclose(got, np.array(new) * price * STAGE_PV, rtol=1e-9)


def test_fast_study_case_vi_from_its_draws(fast_study):
    """Case VI: the SOP genes of every draw are its run's chosen genes; its cases.csv row
    and allocation.csv are medians of the per-draw CSV; its plan and stage costs are the
    draw of median total; the per-stage probabilities are what the chance constraints bound
    (their largest over stages = g + gamma)."""
    from fdnmoo.experiment.spec import load_spec
    from fdnmoo.experiment.study_runs import chosen_genome

    folder = fast_study / "runs" / "case_VI"
    draws = pd.read_csv(folder / "allocation_draws.csv")
    genomes = pd.read_csv(folder / "allocation_genomes.csv").drop(columns="draw").to_numpy()
    assert len(draws) == len(genomes) == 3
    step1 = load_spec(EXP / "s000_case6.yaml", settings=("problem.samples=2",)).build_problem()
    case1 = load_spec(EXP / "s000_case1.yaml", settings=("problem.samples=2",)).build_problem()
    sop = chosen_genome(folder)[0][step1.genome.slices["sop"]]
    np.testing.assert_array_equal(genomes[:, case1.genome.slices["sop"]], np.tile(sop, (3, 1)))
    cases = pd.read_csv(fast_study / "cases.csv").set_index("paper_case")
    for col in ("total", "investment", "operation", "violation_cost", "voltage_probability_s3"):
        assert cases.loc["VI", col] == pytest.approx(np.median(draws[col]))
    assert cases.loc["VI", "total_factor"] == pytest.approx(
        np.median(draws.total) / cases.loc["I", "total"])
    assert cases.loc["VI", "paper_sop_investment_change"] == -0.0917  # Discussion, Case VI
    assert cases.loc["VI", "paper_violation_cost_factor"] == 4.70
    table = pd.read_csv(fast_study / "allocation.csv").set_index("quantity")
    assert table.loc["violation_cost_factor", "median"] == pytest.approx(
        np.median(draws.violation_cost / cases.loc["I", "violation_cost"]))
    assert table.loc["max_current_probability", "max"] == pytest.approx(
        draws[["current_probability_s2", "current_probability_s3",
               "current_probability_s4"]].max(axis=1).max())
    assert table.loc["max_voltage_probability", "paper"] == 0.15  # "exceeds 15 %"
    totals = draws.total.to_numpy()
    k = int(np.argsort(totals)[1])  # 3 draws: the median one
    costs = pd.read_csv(fast_study / "stage_costs.csv")
    assert costs[costs.run == "case VI"]["sum"].sum() == pytest.approx(totals[k])
    v = draws[[f"voltage_probability_s{s}" for s in (1, 2, 3, 4)]].max(axis=1)
    np.testing.assert_allclose(v, draws.g_chance_voltage + 0.05)
    i = draws[[f"current_probability_s{s}" for s in (1, 2, 3, 4)]].max(axis=1)
    np.testing.assert_allclose(i, draws.g_chance_current + 0.05)
    assert (draws.g_pv_penetration <= 0).all() and (draws.g_ev_penetration <= 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s000_cases", "s000_gamma"])
def test_full_study(tmp_path, name):
    out = run_case_study(load_runs_study(EXP / f"{name}.yaml"), tmp_path / name)
    cases = pd.read_csv(out / "cases.csv")
    assert (cases.total > 0).all()
    if name == "s000_cases":  # the paper's finding: planning in stages beats one stage
        by = cases.set_index("paper_case").total
        assert by["I"] < by["II"]
    else:
        assert len(pd.read_csv(out / "gamma.csv")) == 4


def test_monte_carlo_check_on_the_run_samples_is_the_run_constraint(fast_study):
    """On the run's own samples (its scenario seed 0, 2 samples per slot) the check gives back
    the run's chance-constraint values plus gamma; on the 4 fresh samples of the study, some
    probability in [0, 1]."""
    from fdnmoo.experiment.case_study import monte_carlo_check

    spec = load_runs_study(EXP / "s000_cases_fast.yaml")
    folder = fast_study / "runs" / "case_I"
    got = monte_carlo_check(folder, spec.runs[0].spec, spec.settings, samples=2, chunk=2, seed=0)
    pareto = pd.read_csv(folder / "pareto.csv")
    chosen = pareto[pareto.chosen].iloc[0]
    assert got["mc_samples"] == 2
    assert got["mc_voltage_probability"] == pytest.approx(chosen["g_chance_voltage [-]"] + 0.05)
    assert got["mc_current_probability"] == pytest.approx(chosen["g_chance_current [-]"] + 0.05)
    cases = pd.read_csv(fast_study / "cases.csv").set_index("paper_case")
    assert 0.0 <= cases.loc["I", "mc_voltage_probability"] <= 1.0
    assert cases.loc["I", "mc_samples"] == 4
