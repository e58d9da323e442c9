"""Pareto genomes of one plan are one solution; equal objectives of different plans one group."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from pymoo.core.population import Population

from fdnmoo.experiment.results import (collect_outcome, merge_equal_plans, objective_groups,
                                       pareto_table)
from fdnmoo.problems.planning import ProblemConfig


def test_merge_equal_plans_keeps_the_first_of_each_key():
    keep, n = merge_equal_plans([b"a", b"b", b"a", b"c", b"b", b"a"])
    assert keep.tolist() == [0, 1, 3] and n.tolist() == [3, 2, 1]


def test_objective_groups_to_ten_significant_digits():
    F = np.array([[1.0, 2.0], [1.0 + 1e-13, 2.0], [1.0, 2.0 + 1e-6], [0.0, -0.0], [0.0, 0.0]])
    assert objective_groups(F).tolist() == [1, 1, 2, 3, 3]


@pytest.fixture(scope="module")
def ieee69_loss():
    """Single-objective ieee69 reconfiguration: the classic loss minimisation."""
    return ProblemConfig(case="ieee69", preset="reconfiguration", objectives=("loss_kw",)).build()


def genome(problem, open_names):
    line = problem.grid.net.line
    names = [f"{a}-{b}" for a, b in zip(line.from_bus, line.to_bus)]
    x = np.ones(problem.n_var, dtype=int)
    x[[names.index(n) for n in open_names]] = 0
    return x


def finished_run(problem, X):
    """What collect_outcome reads of a finished pymoo algorithm, with ``X`` as its Pareto set."""
    F, G = problem.evaluate_genomes(X)
    cv = np.maximum(G, 0).sum(axis=1, keepdims=True)
    pop = Population.new(X=X, F=F, CV=cv)
    return SimpleNamespace(opt=pop, pop=pop, callback=None)


def test_equal_plans_merge_and_equal_objectives_group(ieee69_loss):
    problem = ieee69_loss
    ties = ["11-43", "13-21"]
    best = genome(problem, ["13-14", "56-57", "61-62"] + ties)
    # the same plan: 1-2 is the feeder head, the repair closes it whatever its gene says
    same = best.copy()
    same[0] = 0
    assert problem.decode(same).decision_key() == problem.decode(best).decision_key()
    # different plans, equal losses: buses 57 and 58 carry no load, so which of 56-57, 57-58,
    # 58-59 is open moves no current
    moved = [genome(problem, ["13-14", open_, "61-62"] + ties) for open_ in ("57-58", "58-59")]
    base = genome(problem, ties + ["15-46", "50-59", "27-65"])  # the published base topology
    X = np.array([best, moved[0], same, moved[1], base])
    outcome = collect_outcome(problem, finished_run(problem, X))
    table = pareto_table(outcome)
    assert len(table) == 4  # best and same are one solution
    assert table.n_genomes.tolist() == [2, 1, 1, 1]
    assert table.group.tolist() == [1, 1, 1, 2]
    loss = table["loss_kw [kW]"]
    assert loss[:3].nunique() == 1 and loss[3] == pytest.approx(224.99, abs=0.01)  # Baran & Wu
    # the rows of group 1 state their different plans
    assert table.plan_open_sections[:3].tolist() == [
        "s1: 13-14, 56-57, 61-62", "s1: 13-14, 57-58, 61-62", "s1: 13-14, 58-59, 61-62"]
    np.testing.assert_array_equal(outcome.X[0], best)  # the first genome of a plan is kept


def test_currency_units_and_violations_agree_with_the_constraint(tmp_path):
    """ieee33 (currency CNY): money columns name it; the voltage_band constraint is the
    distance of the stated worst voltage from the band; the penalty is the breakdown's."""
    import pandas as pd

    from fdnmoo.experiment.results import write_results

    problem = ProblemConfig(case="ieee33", preset="reconfiguration",
                            objectives=("total_cost", "loss_kw"),
                            constraints=("voltage_band",)).build()
    base = np.ones(problem.n_var, dtype=int)
    base[problem.grid.net.line.index.get_indexer(problem.grid.case.tie_lines.index)] = 0
    outcome = collect_outcome(problem, finished_run(problem, base[None]))
    assert outcome.units == ["CNY (NPV)", "kW"]
    write_results(tmp_path, outcome, plots=False)
    row = pd.read_csv(tmp_path / "pareto.csv").iloc[0]
    # Baran & Wu's base case: Vmin 0.9131 p.u. at bus 18 (README table), band 0.95-1.05
    assert row["vm_min [p.u.]"] == pytest.approx(0.9131, abs=1e-4) and row.vm_min_bus == 18
    assert row["g_voltage_band [p.u.]"] == pytest.approx(0.95 - row["vm_min [p.u.]"], abs=1e-12)
    assert not row.feasible  # constrained: out of band is infeasible ...
    costs = pd.read_csv(tmp_path / "plans" / "solution_1_costs.csv", index_col=0)
    assert row["voltage_penalty [CNY (NPV)]"] == pytest.approx(
        costs["voltage_penalty [CNY]"].sum())  # ... and priced all the same
    assert row["voltage_penalty [CNY (NPV)]"] > 0
    assert row["total_cost [CNY (NPV)]"] == pytest.approx(costs["total [CNY]"].sum())
    violations = pd.read_csv(tmp_path / "plans" / "solution_1_violations.csv", index_col=0)
    assert violations.loc[1, "vm_min_pu"] == pytest.approx(row["vm_min [p.u.]"])
