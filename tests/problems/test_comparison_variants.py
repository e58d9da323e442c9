"""Seed 000's comparison cases as presets and options: ESS instead of SOPs, line
reinforcement, single-stage planning, no planning (R. Wang et al., Nature Communications
15 (2024), Cases II-V of "Cost-benefit analysis")."""

from __future__ import annotations

import copy
import textwrap

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encoding_checks import check_plan, grid_of
from fdnmoo.cases import load_case
from fdnmoo.cases.model import stage_growth_factor
from fdnmoo.experiment import SpecError, load_spec
from fdnmoo.experiment.runner import run_experiment
from fdnmoo.metrics.economics import cost_breakdown, investment_items
from fdnmoo.metrics.reductions import line_limits_ka
from fdnmoo.parameters import ParameterError
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.problems.encodings import DerBlock, LineBlock, SopBlock, stage_peak_load_mw
from fdnmoo.problems.encodings.base import with_candidate_tables
from fdnmoo.problems.encodings.lines import load_buses
from fdnmoo.problems.genome import Genome
from fdnmoo.problems.planning import PRESETS, ProblemConfig
from fdnmoo.problems.single_stage import SingleStageGenome, collapsed_case, held_plan


def reinforced_grid(case, **kw):
    block = LineBlock(reconfigure=False, **{"reinforce": True, **kw})
    return planning_grid(with_candidate_tables(case, [block])), block


# --- line reinforcement (Case IV) ------------------------------------------------------------
def test_reinforcement_candidates_are_stronger_copies_of_the_lines():
    case = load_case("tpc84")
    grid, _ = reinforced_grid(case)
    cand = grid.candidate_lines
    base = case.net.line[case.net.line.in_service.astype(bool)]
    assert len(cand) == len(base) == 83  # tpc84's sections; its 13 ties are open
    assert set(cand.replaces) == set(base.index)
    new, old = grid.net.line.loc[cand.index], case.net.line.loc[cand.replaces]
    # seed 000: "the maximum capacity of the expanded line is 1.5 times that of the original"
    np.testing.assert_allclose(new.max_i_ka.to_numpy(), 1.5 * old.max_i_ka.to_numpy())
    np.testing.assert_allclose(new.max_i_ka.to_numpy(), 0.6)  # 400 A rated, x 1.5
    for col in ("r_ohm_per_km", "x_ohm_per_km", "length_km", "from_bus", "to_bus"):
        np.testing.assert_array_equal(new[col].to_numpy(), old[col].to_numpy())
    limit = line_limits_ka(grid.net)
    assert np.allclose(limit[grid.net.line.index.get_indexer(cand.index)], 0.6)
    # the released code's variant (data_parameters.py Rxper_exp = 0.5) halves r and x
    grid2, _ = reinforced_grid(case, reinforce_impedance=0.5, reinforce=[1, 2])
    new2 = grid2.net.line.loc[grid2.candidate_lines.index]
    np.testing.assert_allclose(new2.r_ohm_per_km.to_numpy(),
                               0.5 * case.net.line.r_ohm_per_km.loc[[1, 2]].to_numpy())


def test_reinforcement_costs_three_times_line_construction_per_stage():
    case = copy.deepcopy(load_case("tpc84"))
    # seed 000's line construction prices, stages I-IV (data_parameters.py price_ref)
    case.economics.unit_costs["line_per_km"] = [1e5, 1.2e5, 1.6e5, 2e5]
    grid, _ = reinforced_grid(case)
    cand = grid.candidate_lines
    rows = pd.DataFrame({"line": cand.index[:3], "corridor": cand.corridor[:3],
                         "conductor": 0, "stage": [1, 2, 4]})
    replaced = set(cand.replaces.iloc[:3])
    closed = [np.sort(np.r_[np.setdiff1d(grid.base_closed_lines, list(replaced)), cand.index[:3]])
              ] * 4
    plan = Plan(n_stages=4, closed_lines=closed, closed_trafos=[grid.base_closed_trafos] * 4,
                new_lines=rows)
    items = investment_items(grid, plan)
    # 1 km each at 3 x 1.0e5, 3 x 1.2e5 and 3 x 2.0e5 CNY/km
    assert items.unit_cost.tolist() == [3e5, 3.6e5, 6e5]
    assert items.cost.tolist() == [3e5, 3.6e5, 6e5]


def test_a_built_reinforcement_replaces_its_line_and_agrees_with_pandapower():
    grid, block = reinforced_grid(load_case("tpc84"), reinforce=[1, 2, 3])
    genome = Genome([block]).bind(grid, 2)
    x = np.zeros(genome.n_var, dtype=np.int64)
    x[:3] = 1          # build all three
    x[3:6] = [1, 2, 2]  # in stage 1, 2, 2
    plan = genome.decode(genome.repair(x[None], np.random.default_rng(0))[0])
    cand = grid.candidate_lines
    first = cand.index[cand.replaces == 1][0]
    assert first in plan.closed_lines[0] and 1 not in plan.closed_lines[0]
    assert 2 in plan.closed_lines[0] and 2 not in plan.closed_lines[1]
    check_plan(plan, genome)
    # the same network in pandapower: line 1 out, its reinforcement in; identical impedance,
    # so the base case's losses (Su & Lee 2003: 532.01 kW) stay
    net = copy.deepcopy(grid.net)
    net.line["in_service"] = net.line.index.isin(plan.closed_lines[0])
    pp.runpp(net, numba=False)
    assert net.res_line.pl_mw.sum() * 1e3 == pytest.approx(532.01, abs=0.01)
    assert net.res_line.loading_percent[first] == pytest.approx(
        net.res_line.i_ka[first] / 0.6 * 100)


def test_reinforcement_keeps_the_cases_own_corridors_and_is_idempotent():
    md24 = load_case("md24")
    block = LineBlock(reinforce=[int(md24.net.line.index[0])])
    tables = block.candidate_tables(md24)["corridors"]
    own = md24.candidates["corridors"]
    assert len(tables) == len(own[own.kind != "reinforcement"]) + 1
    again = block.candidate_tables(with_candidate_tables(md24, [block]))["corridors"]
    pd.testing.assert_frame_equal(tables, again)


@pytest.mark.parametrize("kw, key", [({"reinforce": [9999]}, "reinforce"),
                                     ({"reinforce": "some"}, "reinforce"),
                                     ({"reinforce": True, "reinforce_capacity": 0.0},
                                      "reinforce_capacity")])
def test_bad_reinforcement_parameters_are_named(kw, key):
    with pytest.raises(ParameterError) as err:
        LineBlock(**kw).candidate_tables(load_case("tpc84"))
    assert err.value.key == key


# --- single-stage planning (Case II) -------------------------------------------------------
def test_collapsed_case_is_the_horizon_end():
    case = load_case("tpc84")
    one = collapsed_case(case)
    h = case.horizon
    assert one.horizon.n_stages == 1 and one.horizon.years_per_stage == 20.0
    assert stage_growth_factor(one.horizon, 1) == pytest.approx(stage_growth_factor(h, 4),
                                                                rel=1e-12)
    assert one.horizon.pv_penetration == [0.65] and one.horizon.ev_penetration == [0.24]
    assert case.horizon.n_stages == 4  # the case is not modified


def test_single_stage_genome_builds_everything_in_stage_one():
    grid = grid_of("tpc84")
    genome = SingleStageGenome([SopBlock(max_terminals=4), DerBlock("pv", penetration=True)]
                               ).bind(grid, 4)
    assert genome.n_stages == 4 and genome.grid is grid
    X = genome.sample(5, np.random.default_rng(2))
    one = collapsed_case(grid.case)
    target = 0.65 * stage_peak_load_mw(one, 1, grid.net)
    for x in X:
        plan = genome.decode(x)
        assert plan.n_stages == 4
        assert set(np.asarray(plan.sop["stage"]).tolist()) <= {1, 2, 3, 4}
        per_stage = [np.sort(plan.sop[plan.sop["stage"] == s][["device", "bus"]]) for s in range(1, 5)]
        assert all(np.array_equal(per_stage[0], p) for p in per_stage[1:])
        pv = plan.der["pv"]
        assert (pv == pv[0]).all()
        # sized for the horizon's end (65 % PV) from stage 1 on, as far as the caps allow
        assert pv[0].sum() >= min(target, grid.case.candidates["pv"].max_mw.sum()) - 1e-9
        costs = cost_breakdown(grid, plan, convention="lifetime")
        assert (costs.investment.loc[[2, 3, 4]] == 0).all()


def test_held_plan_repeats_a_one_stage_plan():
    grid = grid_of("tpc84")
    sop = pd.DataFrame([(1, 0, 29, 0.5), (1, 0, 39, 0.5)],
                       columns=["stage", "device", "bus", "capacity_mva"])
    plan = Plan.on_base_topology(grid, 1, sop=sop, der={"pv": np.ones((1, 11))})
    held = held_plan(plan, 3)
    assert held.sop["stage"].tolist() == [1, 1, 2, 2, 3, 3]
    assert held.der["pv"].shape == (3, 11) and len(held.closed_lines) == 3
    with pytest.raises(ValueError, match="one-stage plan"):
        held_plan(held, 4)


def test_single_stage_option_from_a_spec(tmp_path):
    path = tmp_path / "s.yaml"
    text = textwrap.dedent("""\
        case: tpc84
        problem:
          preset: sop_planning
          single_stage: true
          days: 1
          objectives: [total_cost]
        algorithm: {name: nsga2, pop_size: 4, n_gen: 1}
        """)
    path.write_text(text)
    spec = load_spec(path)
    config = spec.problem_config()
    assert config.single_stage is True and spec.to_dict()["problem"]["single_stage"] is True
    problem = config.build()
    assert isinstance(problem.genome, SingleStageGenome)
    X = problem.genome.sample(2, np.random.default_rng(0))
    F = problem.evaluate(X, return_as_dictionary=True)["F"]
    assert F.shape == (2, 1) and np.isfinite(F).all()
    path.write_text(text.replace("single_stage: true", "single_stage: 1"))
    with pytest.raises(SpecError, match="problem.single_stage.*true or false"):
        load_spec(path)


# --- ESS instead of SOP (Case III) and no planning (Case V) ------------------------------------
def test_ess_preset_plans_storage_only():
    blocks = PRESETS["ess_planning"].blocks(load_case("tpc84"))
    assert [(type(b).__name__, getattr(b, "kind", None)) for b in blocks] == [("DerBlock", "ess")]
    problem = ProblemConfig(case="tpc84", preset="ess_planning", n_days=1).build()
    X = problem.genome.sample(3, np.random.default_rng(1))
    plans = [problem.genome.decode(x) for x in X]
    assert all(len(p.sop) == 0 and "ess" in p.der for p in plans)
    assert any(p.der["ess"].any() for p in plans)
    out = problem.evaluate(X, return_as_dictionary=True)
    assert np.isfinite(out["F"]).all()


def test_no_planning_evaluates_the_base_network_through_a_run(tmp_path):
    problem = ProblemConfig(case="tpc84", preset="no_planning", n_days=1,
                            objectives=("total_cost",)).build()
    assert problem.n_var == 0
    F = problem.evaluate(np.zeros((1, 0), dtype=int), return_as_dictionary=True)["F"]
    plan = problem.genome.decode(np.zeros(0, dtype=int))
    base = Plan.on_base_topology(problem.grid, 4)
    for s in range(4):
        np.testing.assert_array_equal(np.sort(plan.closed_lines[s]), base.closed_lines[s])
    assert investment_items(problem.grid, plan).empty and F[0, 0] > 0
    path = tmp_path / "v.yaml"
    path.write_text(textwrap.dedent(f"""\
        case: tpc84
        problem: {{preset: no_planning, days: 1, objectives: [total_cost]}}
        algorithm: {{name: nsga2, pop_size: 4, n_gen: 3}}
        output: {tmp_path / 'out'}
        """))
    out = run_experiment(path, progress=False)
    pareto = pd.read_csv(out / "pareto.csv")
    assert len(pareto) == 1
    assert pareto.iloc[0, 1] == pytest.approx(F[0, 0], rel=1e-9)


def test_load_buses_unchanged_by_the_collapsed_case():
    # the one decision stage supplies the load buses of the last stage
    grid = grid_of("tpc84")
    one = planning_grid(collapsed_case(grid.case))
    np.testing.assert_array_equal(load_buses(one, 1), load_buses(grid, 4))


@pytest.fixture(scope="module")
def reinforce_and_sop():
    blocks = [LineBlock(reinforce=True), SopBlock(max_terminals=4)]
    grid = planning_grid(with_candidate_tables(load_case("tpc84"), blocks))
    return Genome(blocks).bind(grid, 4)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_reinforcement_and_sop_genomes_repair_to_valid_plans(reinforce_and_sop, seed):
    # the independent checks: radial stages, replaced lines open, SOP ties open, SOP rules
    genome = reinforce_and_sop
    gen = np.random.default_rng(seed)
    X = gen.integers(genome.xl, genome.xu + 1, size=(3, genome.n_var))
    R = genome.repair(X, gen)
    np.testing.assert_array_equal(genome.repair(R, gen), R)
    for x in R:
        check_plan(genome.decode(x), genome)
