"""The evaluation pipeline (fdnmoo.pipeline): plans x scenario batch -> power flows -> OperationMetrics."""

from __future__ import annotations

import copy
from dataclasses import fields
from functools import cache

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.metrics import OperationMetrics
from fdnmoo.pipeline import evaluate_plans
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower
from fdnmoo.scenarios import ScenarioBatch, TypicalDays

HOURS = 8760.0


#: 1.015 ** (5, 10, 15): ieee33's 1.5 %/yr to the end of each 5-year stage (stage_growth_factor)
IEEE33_GROWTH = np.array([1.077284003884375, 1.16054082502515, 1.2502320666543696])


@cache
def grid(name: str = "ieee33"):
    return planning_grid(load_case(name))


@cache
def ungrown_grid(name: str = "ieee33"):
    """The case with zero load growth: every stage at the published base load."""
    case = copy.deepcopy(load_case(name))
    case.horizon.load_growth_per_year = 0.0
    return planning_grid(case)


def line_between(g, a: int, b: int) -> int:
    line = g.net.line
    ends = line[["from_bus", "to_bus"]].to_numpy()
    return int(line.index[(ends == [a, b]).all(axis=1) | (ends == [b, a]).all(axis=1)][0])


def plan(g, n_stages=3, closed_lines=None, sop=None, der=None) -> Plan:
    lines = g.base_closed_lines if closed_lines is None else np.asarray(closed_lines)
    return Plan(n_stages=n_stages, closed_lines=[lines] * n_stages,
                closed_trafos=[g.base_closed_trafos] * n_stages,
                sop=pd.DataFrame(sop or [], columns=["stage", "device", "bus", "capacity_mva"]),
                der=der or {})


def assert_same_metrics(a: OperationMetrics, b: OperationMetrics, rtol=1e-12) -> None:
    for f in fields(OperationMetrics):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert (x is None) == (y is None), f.name
        if x is None:  # an option's field, off in both
            continue
        np.testing.assert_allclose(x, y, rtol=rtol, atol=0 if rtol == 0 else 1e-12, equal_nan=True,
                                   err_msg=f.name)


def test_base_plan_at_peak_reproduces_ieee33_and_pandapower():
    g = ungrown_grid()
    batch = ScenarioBatch.build(g, 3, profile="peak")
    m = evaluate_plans(g, [plan(g)], batch)[0]
    ref = run_pandapower(copy.deepcopy(g.case.net), numba=False)
    # Baran & Wu (1989) base case: 202.68 kW, Vmin 0.9131 p.u. at bus 18; pandapower NR 202.6771 kW
    assert m.peak_loss_kw[0] == pytest.approx(202.68, abs=0.01)
    assert m.peak_loss_kw[0] == pytest.approx(ref.loss_mw[0] * 1e3, rel=1e-6)
    assert m.peak_vmin_pu[0] == pytest.approx(0.9131, abs=1e-4)
    np.testing.assert_allclose(m.vmin_pu[0, 0], ref.vm_pu[0], atol=1e-6)
    np.testing.assert_allclose(m.vmax_pu[0, 0], ref.vm_pu[0], atol=1e-6)
    np.testing.assert_allclose(m.i_max_ka[0, 0], ref.i_ka[0], rtol=1e-6)
    assert m.energy_loss_mwh[0] == pytest.approx(ref.loss_mw[0] * HOURS, rel=1e-6)
    assert m.demand_mwh[0] == pytest.approx(3.715 * HOURS)
    s_ref = np.hypot(ref.ext_grid_p_mw[0], ref.ext_grid_q_mvar[0])
    np.testing.assert_allclose(m.substation_peak_mva[0], s_ref, rtol=1e-6)
    assert m.grid_energy_mwh[0] == pytest.approx(ref.ext_grid_p_mw[0].sum() * HOURS, rel=1e-6)
    # voltage band 0.95-1.05: buses below 0.95 violate for the whole (one-slot) year
    low = ref.vm_pu[0] < 0.95
    np.testing.assert_array_equal(m.voltage_violation_probability[0], low.astype(float))
    load = batch.load_p_mw[0, 0, 0]
    assert m.violation_energy_mwh[0] == pytest.approx(load[low].sum() * HOURS)
    # mean |V - 1| over the 32 buses below the substation (bus 1 is the set-point)
    assert m.voltage_deviation_pu[0] == pytest.approx(np.abs(ref.vm_pu[0, 1:] - 1).mean())
    assert (m.current_violation_probability == 0).all()  # 400 A lines carry < 200 A
    assert m.unserved_energy_mwh.tolist() == [0, 0, 0] and m.sop_loss_mwh.tolist() == [0, 0, 0]
    assert m.converged_share == 1.0
    np.testing.assert_allclose(m.peak_loss_kw, m.peak_loss_kw[0], rtol=1e-12)  # no growth


def test_stages_are_evaluated_at_their_grown_demand():
    g = grid()
    m = evaluate_plans(g, [plan(g)], ScenarioBatch.build(g, 3, profile="peak"))[0]
    np.testing.assert_allclose(m.demand_mwh, 3.715 * IEEE33_GROWTH * HOURS, rtol=1e-12)
    # the case's own load gives 202.68 kW (previous test): growth raises the losses
    assert 202.68 < m.peak_loss_kw[0] < m.peak_loss_kw[1] < m.peak_loss_kw[2]


def test_energies_are_the_hand_weighted_sums_on_a_two_slot_profile():
    g = grid()
    days = TypicalDays(names=("toy",), probability=np.ones(1), load_pu=np.array([[0.6, 1.0]]),
                       pv_pu=np.array([[0.5, 0.0]]), ev_pu=np.array([[0.2, 1.0]]), slot_duration_h=12.0)
    batch = ScenarioBatch.build(g, 1, n_samples=3, seed=4, days=days)
    cand = g.case.candidates
    der = {"pv": np.zeros((1, len(cand["pv"]))), "evcs": np.zeros((1, len(cand["evcs"])))}
    der["pv"][0, 2] = 0.7  # bus 18
    der["evcs"][0, 0] = 0.25  # bus 7
    m = evaluate_plans(g, [plan(g, 1, der=der)], batch)[0]

    eng = BatchPowerFlow(g.net)
    labels = list(eng.bus_labels)
    hours = 12 * 365.0
    loss = demand = pv_energy = 0.0
    for t in range(2):
        for s in range(3):
            p = batch.load_p_mw[0, t, s].copy()
            q = batch.load_q_mvar[0, t, s]
            ev = 0.25 * days.ev_pu[0, t]
            pv = 0.7 * batch.pv_pu[0, t, s, 2]
            p[labels.index(7)] += ev
            p[labels.index(18)] -= pv
            loss += hours / 3 * eng.run(p, q).loss_mw[0]
            demand += hours / 3 * (batch.load_p_mw[0, t, s].sum() + ev)
            pv_energy += hours / 3 * pv
    assert m.energy_loss_mwh[0] == pytest.approx(loss, rel=1e-12)
    assert m.slot_loss_mwh[0].sum() == pytest.approx(loss, rel=1e-12)
    assert m.demand_mwh[0] == pytest.approx(demand, rel=1e-12)
    assert m.pv_energy_mwh[0] == pytest.approx(pv_energy, rel=1e-12)
    assert batch.peak_slot == 1 and m.peak_loss_kw[0] > 0


def joint_plans(g):
    cand = g.case.candidates
    tie_9_15 = line_between(g, 9, 15)
    reconf = np.union1d(np.setdiff1d(g.base_closed_lines, [line_between(g, 14, 15)]), [tie_9_15])
    der = {k: np.zeros((3, len(cand[k]))) for k in ("pv", "svc", "ess", "evcs")}
    der["pv"][:, 2] = [0.3, 0.6, 1.0]
    der["svc"][1:, 0] = 0.4
    der["ess"][2, 3] = 0.5
    der["evcs"][:, 1] = [0.1, 0.2, 0.5]
    sop = [(s, 0, b, 0.3 * s) for s in (2, 3) for b in (18, 33)]
    return [plan(g), plan(g, closed_lines=reconf, der=der), plan(g, der=der, sop=sop),
            plan(g, closed_lines=reconf, sop=sop), plan(g)]


def test_grouping_by_topology_gives_the_metrics_of_one_by_one_evaluation():
    # bit for bit: a plan's metrics must not depend on how plans are grouped or split over workers
    g = grid()
    batch = ScenarioBatch.build(g, 3, n_samples=6, seed=1, days=1)
    plans = joint_plans(g)
    eng = BatchPowerFlow(g.net)
    together = evaluate_plans(g, plans, batch, eng)
    for p, m in zip(plans, together):
        assert_same_metrics(evaluate_plans(g, [p], batch, eng)[0], m, rtol=0)
    # small chunks (one plan per batched run) and another order give the same numbers too
    for a, b in zip(evaluate_plans(g, plans, batch, eng, max_cells=1), together):
        assert_same_metrics(a, b, rtol=0)
    for a, b in zip(evaluate_plans(g, plans[::-1], batch, eng)[::-1], together):
        assert_same_metrics(a, b, rtol=0)
    assert_same_metrics(together[0], together[4])
    assert together[2].sop_loss_mwh[0] == 0 and (together[2].sop_loss_mwh[1:] > 0).all()
    assert (together[2].energy_loss_mwh > together[2].sop_loss_mwh).all()


def test_same_seed_same_metrics():
    g = grid()
    plans = joint_plans(g)[1:3]
    a = evaluate_plans(g, plans, ScenarioBatch.build(g, 3, n_samples=5, seed=9, days=1))
    b = evaluate_plans(g, plans, ScenarioBatch.build(g, 3, n_samples=5, seed=9, days=1))
    c = evaluate_plans(g, plans, ScenarioBatch.build(g, 3, n_samples=5, seed=10, days=1))
    for x, y in zip(a, b):
        assert_same_metrics(x, y, rtol=0)
    assert not np.allclose(a[0].energy_loss_mwh, c[0].energy_loss_mwh)


def test_unsupplied_buses_count_as_unserved():
    g = grid()
    lines = np.setdiff1d(g.base_closed_lines, [line_between(g, 17, 18)])
    batch = ScenarioBatch.build(g, 3, profile="peak")
    m = evaluate_plans(g, [plan(g, closed_lines=lines)], batch)[0]
    np.testing.assert_allclose(m.unserved_energy_mwh, 0.09 * IEEE33_GROWTH * HOURS)  # bus 18: 90 kW
    k = list(g.net.bus.index).index(18)
    assert np.isnan(m.vmin_pu[:, 0, k]).all() and m.voltage_violation_probability[0, k] == 0
    assert m.converged_share == 1.0


def test_diverging_scenarios_count_their_whole_demand_as_unserved():
    g = grid()
    cand = g.case.candidates
    der = {"evcs": np.zeros((3, len(cand["evcs"])))}
    der["evcs"][2, 3] = 40.0  # 40 MW of chargers at bus 24 in stage 3: no power-flow solution
    batch = ScenarioBatch.build(g, 3, profile="peak")
    m = evaluate_plans(g, [plan(g, der=der)], batch)[0]
    assert m.converged_share == pytest.approx(2 / 3)
    assert m.unserved_energy_mwh[2] == pytest.approx(m.demand_mwh[2])
    assert m.demand_mwh[2] == pytest.approx((3.715 * IEEE33_GROWTH[2] + 40.0) * HOURS)
    assert np.isnan(m.peak_loss_kw[2]) and m.energy_loss_mwh[2] == 0
    assert (m.voltage_violation_probability[2] == 1).all()


def test_md24_with_stage_demand_transformers_and_several_substations():
    g = grid("md24")
    batch = ScenarioBatch.build(g, 3, profile="levels", n_samples=3, seed=0)
    m = evaluate_plans(g, [plan(g)], batch)[0]
    sd = g.case.candidates["stage_demand"]
    # the base topology reaches buses 1, 2, 6, 8 (and the substations) only
    served = sd[sd.bus.isin([1, 2, 6, 8])].groupby("stage").p_mw.sum().to_numpy()
    total = sd.groupby("stage").p_mw.sum().to_numpy()
    mean_level = np.array([0.70, 0.83, 1.00]) @ np.array([2000, 5760, 1000])
    np.testing.assert_allclose(m.demand_mwh, total * mean_level, rtol=2e-2)  # samples: +/-10 % loads
    np.testing.assert_allclose(m.unserved_energy_mwh, (total - served) * mean_level, rtol=2e-2)
    assert m.substation_peak_mva.shape == (3, len(g.net.ext_grid))
    assert (m.peak_loss_kw > 0).all() and m.converged_share == 1.0


def test_rejects_mismatched_inputs():
    g = grid()
    batch = ScenarioBatch.build(g, 2, profile="peak")
    with pytest.raises(ValueError, match="stages"):
        evaluate_plans(g, [plan(g, 3)], batch)
    other = ScenarioBatch.build(grid("ieee69"), 3, profile="peak")
    with pytest.raises(ValueError, match="same grid"):
        evaluate_plans(g, [plan(g)], other)


def test_existing_generators_are_not_load_in_demand_unserved_or_violation_energy():
    """A net with a large existing sgen (SimBench's are like this): energies count loads only."""
    case = copy.deepcopy(load_case("ieee33"))
    case.horizon.load_growth_per_year = 0.0
    pp.create_sgen(case.net, 18, p_mw=3.0)  # 3 MW at the end of the feeder: over-voltage there
    g = planning_grid(case)
    batch = ScenarioBatch.build(g, 1, profile="peak")
    m = evaluate_plans(g, [plan(g, 1)], batch)[0]
    assert m.demand_mwh[0] == pytest.approx(3.715 * HOURS)
    # the feeder now exports: every bus beyond the band counts its load, never the generator
    assert m.violation_energy_mwh[0] > 0
    assert m.unserved_energy_mwh[0] == 0
    ref = run_pandapower(g.net)  # the same power flow: the sgen is in the net
    assert m.peak_loss_kw[0] == pytest.approx(ref.loss_mw[0] * 1e3, rel=1e-6)
    # opening the line feeding bus 18 leaves its 90 kW load unserved, not 90 kW - 3 MW
    lines = np.setdiff1d(g.base_closed_lines, [line_between(g, 17, 18)])
    cut = evaluate_plans(g, [plan(g, 1, closed_lines=lines)], batch)[0]
    assert cut.unserved_energy_mwh[0] == pytest.approx(0.09 * HOURS)


def test_voltage_and_overload_penalty_bases_count_load_as_the_paper_does():
    """Voltage base: load at out-of-band buses; overload base: the load below each overloaded
    line, summed over the lines (a bus below two counts twice). References: pandapower runpp
    per sample for voltages and currents, networkx for what lies below a line."""
    import networkx as nx

    case = copy.deepcopy(load_case("ieee33"))
    case.horizon.load_growth_per_year = 0.0
    net = case.net
    # two lines in series on the main feeder, made too weak for their flow
    weak = [line_between(planning_grid(case), a, b) for a, b in ((2, 3), (5, 6))]
    net.line.loc[weak, "max_i_ka"] = 0.05
    g = planning_grid(case)
    batch = ScenarioBatch.build(g, 1, profile="peak", n_samples=6, seed=3)
    m = evaluate_plans(g, [plan(g, 1)], batch)[0]
    graph = nx.Graph()
    closed = g.net.line.loc[g.base_closed_lines]
    graph.add_edges_from(zip(closed.from_bus, closed.to_bus))
    root = int(g.net.ext_grid.bus.iloc[0])
    below = {}
    for k in weak:
        cut = graph.copy()
        cut.remove_edge(int(g.net.line.from_bus[k]), int(g.net.line.to_bus[k]))
        below[k] = sorted(set(cut.nodes) - nx.node_connected_component(cut, root))
    assert set(below[weak[1]]) < set(below[weak[0]])  # nested: 6.. lies below 3 too
    labels = list(batch.bus_labels)
    volt, over = [], []
    for k in range(batch.n_samples):  # brute force: one pandapower run per sample
        work = copy.deepcopy(g.net)
        load = batch.load_p_mw[0, 0, k]
        work.load = work.load.iloc[0:0]
        for b, p_mw in zip(labels, load):
            pp.create_load(work, b, p_mw=p_mw, q_mvar=batch.load_q_mvar[0, 0, k][labels.index(b)])
        pp.runpp(work)
        vm = work.res_bus.vm_pu.reindex(labels).to_numpy()
        out = (vm < case.uncertainty.v_min_pu) | (vm > case.uncertainty.v_max_pu)
        volt.append(load[out].sum())
        i_ka = work.res_line.i_ka
        over.append(sum(load[[labels.index(b) for b in below[l]]].sum()
                        for l in weak if i_ka[l] > 0.05))
    assert sum(over) > 0 and sum(volt) > 0
    assert m.voltage_violation_energy_mwh[0] == pytest.approx(np.mean(volt) * HOURS, rel=1e-9)
    assert m.overload_energy_mwh[0] == pytest.approx(np.mean(over) * HOURS, rel=1e-9)
    # the union base counts a bus once: never more than the two bases together
    assert m.violation_energy_mwh[0] <= (m.voltage_violation_energy_mwh[0]
                                         + m.overload_energy_mwh[0]) * (1 + 1e-12)
