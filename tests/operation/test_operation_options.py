"""Operation options through the pipeline and the problem: off by default and then
identical, the curtailment penalty in the cost breakdown, the scenario EENS objective by
hand, the spec's problem.operation block."""

from __future__ import annotations

import numpy as np
import pytest

from fdnmoo.experiment.spec import SpecError, load_spec
from fdnmoo.metrics.economics import CURTAILMENT_COLUMN, cost_breakdown
from fdnmoo.objectives import OBJECTIVES, Evaluated
from fdnmoo.operation.settings import OperationSettings
from fdnmoo.parameters import ParameterError
from fdnmoo.pipeline import operate
from fdnmoo.planning import Plan, PlanBatch
from fdnmoo.problems.planning import ProblemConfig
from fdnmoo.scenarios import ScenarioBatch

from .conftest import ieee33_grid, line_between, plan_on

CURTAIL = {"curtailment": True}


def _pv_plan(grid, n_stages: int, mw: float) -> Plan:
    cap = np.zeros((n_stages, len(grid.case.candidates["pv"])))
    cap[:, list(grid.case.candidates["pv"].bus).index(18)] = mw
    return plan_on(grid, n_stages, der={"pv": cap})


def _same(a, b) -> None:
    for name in type(a).__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=name)


def test_options_off_leave_every_metric_and_the_config_key_as_they_were():
    g = ieee33_grid()
    batch = ScenarioBatch.build(g, 1, n_samples=2, seed=1, days=1)
    plans = PlanBatch.of(g, [_pv_plan(g, 1, 8.0), plan_on(g, 1)])
    bare = operate(g, plans, batch)
    _same(bare, operate(g, plans, batch, operation=OperationSettings()))
    _same(bare, operate(g, plans, batch, operation=OperationSettings.from_mapping(
        {"pv_reactive": "off", "curtailment": False, "capacitors": []})))
    assert bare.curtailed_energy_mwh is None
    on = operate(g, plans, batch, operation=OperationSettings.from_mapping(CURTAIL))
    assert on.curtailed_energy_mwh[0, 0] > 0 and on.curtailed_energy_mwh[1, 0] == 0
    # the plan without PV is not touched by PV options
    np.testing.assert_array_equal(on.energy_loss_mwh[1], bare.energy_loss_mwh[1])
    assert on.peak_vmax_pu[0, 0] <= bare.peak_vmax_pu[0, 0]
    base = ProblemConfig(case="ieee33", preset="joint")
    assert ProblemConfig(case="ieee33", preset="joint", operation={}).key == base.key
    assert ProblemConfig(case="ieee33", preset="joint", operation=CURTAIL).key != base.key


def test_curtailment_penalty_is_the_curtailed_energy_priced():
    g = ieee33_grid()
    batch = ScenarioBatch.build(g, 2, n_samples=1, seed=0, days=1)
    plan = _pv_plan(g, 2, 8.0)
    ops = operate(g, PlanBatch.of(g, [plan]), batch,
                  operation=OperationSettings.from_mapping(CURTAIL)).take(0)
    assert (ops.curtailed_energy_mwh > 100).all()
    from fdnmoo.cases.overrides import apply_overrides
    from fdnmoo.planning import planning_grid

    def costs(price):
        case = apply_overrides(g.case, {"economics": {"prices": {"pv_curtailment_per_mwh": price}}})
        return cost_breakdown(planning_grid(case), plan, ops)

    c50, c100 = costs(50.0), costs(100.0)
    assert list(c50.columns)[-2:] == [CURTAILMENT_COLUMN, "total"]
    np.testing.assert_allclose(c100[CURTAILMENT_COLUMN], 2 * c50[CURTAILMENT_COLUMN], rtol=1e-12)
    np.testing.assert_allclose(c100["total"] - c50["total"], c50[CURTAILMENT_COLUMN], rtol=1e-9)
    # priced like PV energy (same annuity): penalty / curtailed = 50 / feed-in x PV profit / PV
    feed_in = g.case.economics.prices.get("pv_feed_in_per_mwh",
                                          g.case.economics.prices.get("energy_per_mwh"))
    np.testing.assert_allclose(c50[CURTAILMENT_COLUMN] / ops.curtailed_energy_mwh,
                               -c50["pv_profit"] / ops.pv_energy_mwh * 50.0 / feed_in, rtol=1e-9)
    assert CURTAILMENT_COLUMN not in cost_breakdown(g, plan, operate(
        g, PlanBatch.of(g, [plan]), batch).take(0)).columns
    with pytest.raises(ValueError, match="economics.prices.pv_curtailment_per_mwh"):
        cost_breakdown(g, plan, ops)


def test_scenario_eens_by_hand_on_an_islanded_bus():
    # ieee33 with line 17-18 open: bus 18 (a leaf) is unsupplied in every scenario
    g = ieee33_grid()
    closed = g.base_closed_lines[g.base_closed_lines != line_between(g, 17, 18)]
    plan = plan_on(g, 2, closed_lines=closed)
    batch = ScenarioBatch.build(g, 2, n_samples=2, seed=4)  # four typical days
    ops = operate(g, PlanBatch.of(g, [plan]), batch).take(0)
    k = int(np.flatnonzero(batch.bus_labels == 18)[0])
    days = batch.days
    load = batch.load_p_mw[..., k].reshape(2, days.n_days, days.slots_per_day, 2)  # stage, d, t, s
    per_scenario = load.sum(axis=2) * days.slot_duration_h  # MWh in one day of (d, s)
    np.testing.assert_allclose(ops.scenario_unserved_mwh, per_scenario, rtol=1e-12)
    hand = np.mean([365 * sum(days.probability[d] * per_scenario[s, d].mean()
                              for d in range(days.n_days)) for s in range(2)])
    assert days.n_days == 4 and hand > 100
    ev = Evaluated(g, plan, ops)
    assert OBJECTIVES["scenario_eens_mwh"](ev) == pytest.approx(hand, rel=1e-12)
    # the yearly unserved energy weights the same slots by their hours: the same number
    assert OBJECTIVES["scenario_eens_mwh"](ev) == pytest.approx(np.mean(ops.unserved_energy_mwh))
    assert OBJECTIVES["scenario_eens_mwh"].unit == "MWh/yr"
    supplied = operate(g, PlanBatch.of(g, [plan_on(g, 2)]), batch).take(0)
    assert OBJECTIVES["scenario_eens_mwh"](Evaluated(g, plan_on(g, 2), supplied)) == 0.0


def test_problem_operation_in_a_spec(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("case: ieee33\nproblem:\n  preset: joint\n  days: 1\n  operation:\n"
                    "    curtailment: true\n    oltc: {step_percent: 1.25, tap_max: 4}\n"
                    "    capacitors: [{bus: 18, step_mvar: 0.1, steps: 4}]\n"
                    "case_overrides: {economics: {prices: {pv_curtailment_per_mwh: 40}}}\n"
                    "algorithm: {pop_size: 4, n_gen: 1}\n")
    s = load_spec(spec)
    assert s.problem.operation.oltc.tap_max == 4 and s.problem.operation.capacitors[0].steps == 4
    assert s.to_dict()["problem"]["operation"]["curtailment"] is True
    plain = tmp_path / "plain.yaml"
    plain.write_text("case: ieee33\nproblem: {preset: joint}\n")
    assert "operation" not in load_spec(plain).to_dict()["problem"]
    problem = s.build_problem()
    F, G = problem.evaluate_genomes(problem.genome.sample(3, np.random.default_rng(0)))
    assert np.isfinite(F).all()
    assert problem.composition["operation"]["oltc"]["tap_max"] == 4
    bad = tmp_path / "bad.yaml"
    bad.write_text("case: ieee33\nproblem:\n  operation: {capacitors: [{bus: 18, step_mvar: 0.1, "
                   "stpes: 2}]}\n")
    with pytest.raises(SpecError, match=r"bad.yaml: problem.operation.capacitors\[0\].stpes: "
                                        r"unknown key 'stpes' \(did you mean 'steps'\?\)"):
        load_spec(bad)
    wrong_bus = tmp_path / "bus.yaml"
    wrong_bus.write_text("case: ieee33\nproblem:\n  operation: {capacitors: [{bus: 99, "
                         "step_mvar: 0.1, steps: 2}]}\nalgorithm: {pop_size: 4, n_gen: 1}\n")
    s = load_spec(wrong_bus)
    problem = s.build_problem()
    with pytest.raises(SpecError, match=r"problem.operation.capacitors\[0\].bus: bus 99"):
        with s.spec_errors():
            problem.evaluate_genomes(problem.genome.sample(1, np.random.default_rng(0)))


def test_oltc_is_refused_with_bounded_uncertainty():
    cfg = ProblemConfig(case="ieee33", preset="joint", n_days=1, operation={"oltc": True},
                        uncertainty={"method": "interval"})
    problem = cfg.build()
    with pytest.raises(ValueError, match="OLTC option works with sampled scenarios only"):
        problem.evaluate_genomes(problem.genome.sample(1, np.random.default_rng(0)))
    with pytest.raises(ParameterError, match="operation.oltc.step_percent"):
        ProblemConfig(case="ieee33", preset="joint", operation={"oltc": {"step_percent": 0}})


def test_oltc_taps_reach_the_sop_dispatch():
    from .conftest import sop_table

    g = ieee33_grid()
    batch = ScenarioBatch.build(g, 1, n_samples=1, seed=0, days=1)
    sop = plan_on(g, 1, sop=sop_table([(1, 0, 18, 1.0), (1, 0, 33, 1.0)]))
    plans = PlanBatch.of(g, [sop, plan_on(g, 1)])
    oltc = OperationSettings.from_mapping({"oltc": {"step_percent": 1.25}})
    on, off = operate(g, plans, batch, operation=oltc), operate(g, plans, batch)
    root = int(np.flatnonzero(batch.bus_labels == 1)[0])
    for i in range(2):  # the substation sits on a tap step in every slot, SOP or not
        taps = (on.vmin_pu[i, 0, :, root] - 1) / 0.0125
        np.testing.assert_allclose(taps, np.rint(taps), atol=1e-9)
        assert taps.max() >= 1 and taps.max() <= 4  # 1.05 / 1.0125^4: the band's top
    assert on.sop_loss_mwh[0, 0] > 0 and on.peak_vmin_pu[0, 0] > off.peak_vmin_pu[0, 0]
    # the taps are chosen before the SOP dispatch (on the demand without SOP): the same
    np.testing.assert_array_equal(on.vmin_pu[0, 0, :, root], on.vmin_pu[1, 0, :, root])
