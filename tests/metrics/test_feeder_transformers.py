"""Transformer expansion of reinforced feeders (seed 000's Case IV, R. Wang et al., Nature
Communications 15 (2024): "the transformer capacity of the reinforced feeder needs to be
expanded as well"), priced by hand on tpc84."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.metrics.investment import investment_items
from fdnmoo.parameters import ParameterError
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.problems.encodings.lines import LineBlock

# seed 000's staged transformer price (experiments/s000_case4.yaml, CNY/MVA per stage)
PRICES = [500000.0, 400000.0, 350000.0, 300000.0]
# tpc84's feeder heads: one 400 A line at 11.4 kV each (case description)
HEAD_MVA = math.sqrt(3) * 11.4 * 0.4  # 7.8984 MVA


def _grid(reinforce, expand=1.5, case=None):
    case = copy.deepcopy(case or load_case("tpc84"))
    case.economics.unit_costs["transformer_per_mva"] = PRICES
    block = LineBlock(reconfigure=False, build=True, reinforce=reinforce,
                      reinforce_transformer=expand)
    case.candidates.update(block.candidate_tables(case))
    return planning_grid(case)


def _plan(grid, built: dict[int, int]):
    """A plan building the reinforcement of net.line ``k`` in stage ``built[k]``."""
    lines = grid.candidate_lines
    rows = [{"line": int(lines.index[lines.replaces == k][0]),
             "corridor": int(lines.corridor[lines.replaces == k].iloc[0]), "conductor": 0,
             "stage": s} for k, s in built.items()]
    return Plan.on_base_topology(grid, 4, new_lines=pd.DataFrame(rows))


def _expansions(grid, plan):
    items = investment_items(grid, plan)
    return items[items.kind == "feeder transformer"].sort_values(["stage", "where"])


def test_each_reinforced_feeder_pays_once_in_its_first_stage():
    # lines 2 and 3 are on feeder A (reinforced in stages 2 and 1), line 12 on feeder B (stage 3)
    grid = _grid([2, 3, 12])
    got = _expansions(grid, _plan(grid, {2: 2, 3: 1, 12: 3}))
    added = 0.5 * HEAD_MVA  # 1.5 x the head capacity: 3.9492 MVA more
    assert got.stage.tolist() == [1, 3]
    assert got["where"].str.startswith("feeder ").tolist() == [True, True]
    assert [w.split()[1] for w in got["where"]] == ["A", "B"]
    np.testing.assert_allclose(got.quantity, [added, added], rtol=1e-12)
    np.testing.assert_allclose(got.unit_cost, [500000.0, 350000.0])
    # 3.9492 MVA x 500,000 = 1,974,600 CNY and x 350,000 = 1,382,220 CNY
    np.testing.assert_allclose(got.cost, [1974600.0, 1382220.0], rtol=1e-4)
    assert (got.lifetime_years == 15.0).all()  # tpc84's lifetimes_years.transformer
    # the line items are as without the expansion
    items = investment_items(grid, _plan(grid, {2: 2, 3: 1, 12: 3}))
    plain = _grid([2, 3, 12], expand=None)
    base = investment_items(plain, _plan(plain, {2: 2, 3: 1, 12: 3}))
    assert set(base.kind) == {"line"}
    np.testing.assert_array_equal(items[items.kind == "line"].cost, base.cost)


def test_a_reinforced_tie_expands_both_feeders():
    grid = _grid([84])  # tie 84 joins bus 5 (feeder A) and bus 55 (feeder G)
    got = _expansions(grid, _plan(grid, {84: 4}))
    assert [w.split()[1] for w in got["where"]] == ["A", "G"]
    np.testing.assert_allclose(got.cost, 2 * [0.5 * HEAD_MVA * 300000.0])


def test_the_factor_sets_the_added_capacity():
    grid = _grid([12], expand=2.0)
    got = _expansions(grid, _plan(grid, {12: 1}))
    np.testing.assert_allclose(got.quantity, [HEAD_MVA])


def test_a_feeder_without_head_line_is_refused():
    case = copy.deepcopy(load_case("tpc84"))
    case.net.bus.loc[[4, 5, 6, 7, 8, 9, 10], "feeder"] = "Z"  # a feeder no head line reaches
    grid = _grid([6], case=case)
    with pytest.raises(ValueError, match="feeder Z is reinforced but no line joins it"):
        investment_items(grid, _plan(grid, {6: 1}))


def test_a_factor_below_one_is_refused():
    with pytest.raises(ParameterError, match="reinforce_transformer: must be >= 1"):
        LineBlock(reinforce=True, reinforce_transformer=0.9).candidate_tables(load_case("tpc84"))


def test_the_problems_total_cost_carries_the_expansion():
    from fdnmoo.metrics.economics import cost_breakdown
    from fdnmoo.problems.config import ProblemConfig

    def problem(expand):
        lines = {"reconfigure": False, "build": True, "reinforce": [2, 12],
                 "reinforce_transformer": expand}
        return ProblemConfig(case="tpc84", preset="reinforcement", n_days=1,
                             objectives=("total_cost",), blocks=(("lines", lines),),
                             case_overrides={"economics": {"unit_costs": {
                                 "transformer_per_mva": PRICES}}}).build()

    with_, without = problem(1.5), problem(None)
    X = with_.genome.sample(8, np.random.default_rng(5))
    X = X[[bool(len(with_.decode(x).new_lines)) for x in X]][:3]
    assert len(X)
    F1 = with_.evaluate(X, return_as_dictionary=True)["F"][:, 0]
    F0 = without.evaluate(X, return_as_dictionary=True)["F"][:, 0]
    assert (F1 > F0).all()
    for f, f0, ev, ev0 in zip(F1, F0, with_.evaluated(X), without.evaluated(X)):
        table = cost_breakdown(with_.grid, ev.plan, ev.ops)
        assert f == pytest.approx(float(table["total"].sum()), rel=1e-9)  # array path = table
        # a price only: the operation is the same, the difference is investment (and O&M)
        base = cost_breakdown(without.grid, ev0.plan, ev0.ops)
        pd.testing.assert_frame_equal(table.drop(columns=["investment", "om", "total"]),
                                      base.drop(columns=["investment", "om", "total"]))
        assert f - f0 == pytest.approx(float((table.investment - base.investment).sum()
                                             + (table.om - base.om).sum()), rel=1e-9)
