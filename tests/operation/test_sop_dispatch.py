"""SOP dispatch: capacity and power balance, better than idle, and agreement with pandapower."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdnmoo.metrics.reductions import line_limits_ka
from fdnmoo.operation import (FeederTree, OperatingLimits, OperatingPoint, SopTerminals,
                              balance_converter_losses, dispatch_sop, loss_optimal_setpoints)
from fdnmoo.operation.injections import DerLayout, net_demand
from fdnmoo.operation.sop_dispatch import SopModel, operating_score
from fdnmoo.scenarios import ScenarioBatch

from .conftest import engine_for, ieee33_grid, line_between, pandapower_run, plan_on, sop_table

ETA = 0.02


def terminals(eng, buses, devices, caps) -> SopTerminals:
    pos = {int(b): k for k, b in enumerate(eng.bus_labels)}
    return SopTerminals(bus=np.array([pos[b] for b in buses]), device=np.array(devices),
                        capacity_mva=np.array(caps, dtype=float))


def limits(grid, v_min=0.95, v_max=1.05) -> OperatingLimits:
    return OperatingLimits(v_min, v_max, line_limits_ka(grid.net))


def check_capacity_and_balance(term: SopTerminals, p: np.ndarray, q: np.ndarray, eta: float) -> None:
    s = np.hypot(p, q)
    assert (s <= term.capacity_mva * (1 + 1e-12)).all()
    for d in range(term.n_devices):
        mine = term.device == d
        residual = p[:, mine].sum(axis=1) + eta * s[:, mine].sum(axis=1)
        assert np.abs(residual).max() <= 1e-9


@settings(max_examples=25, deadline=None)
@given(scales=st.lists(st.floats(0.05, 2.0), min_size=1, max_size=6),
       caps=st.lists(st.floats(0.01, 3.0), min_size=5, max_size=5),
       eta=st.floats(0.0, 0.1), weight=st.sampled_from([0.0, 1.0]), pv=st.floats(0.0, 3.0))
def test_capacity_and_power_balance_hold_in_every_scenario(scales, caps, eta, weight, pv):
    g = ieee33_grid()
    eng = engine_for(g)
    tree = FeederTree.from_engine(eng)
    p0, q0 = eng.base_demand()
    scale = np.asarray(scales)[:, None]
    p = p0 * scale
    p[:, 17] -= pv  # a PV plant at bus 18 can reverse the flow
    q = q0 * scale
    # a three-terminal device across ties 21-8 / 12-22 and a two-terminal one across 25-29
    term = terminals(eng, [8, 22, 12, 25, 29], [0, 0, 0, 1, 1], caps)
    d = dispatch_sop(eng, tree, [term], p[None], q[None], (p0 * scale)[None], limits(g), eta=eta,
                     violation_weight=weight)
    check_capacity_and_balance(term, d.p_mw[0], d.q_mvar[0], eta)
    np.testing.assert_allclose(d.converter_loss_mw, eta * np.hypot(d.p_mw[0], d.q_mvar[0]).sum(axis=1))
    idle = OperatingPoint.from_result(eng.run(p, q))
    lim = limits(g)
    chosen = operating_score(d.point, p0 * scale, tree, lim, d.converter_loss_mw, weight)
    assert (chosen <= operating_score(idle, p0 * scale, tree, lim, 0.0, weight)).all()


def test_balance_is_exact_for_large_loss_coefficients():
    g = ieee33_grid()
    eng = engine_for(g)
    term = terminals(eng, [18, 33, 25], [0, 0, 0], [1.0, 0.5, 2.0])
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(50, 3))
    p0 -= p0.mean(axis=1, keepdims=True)
    q = rng.normal(size=(50, 3)) * 0.3
    s0 = np.hypot(p0, q)
    shrink = np.minimum(1.0, (1 - 0.3) * term.capacity_mva / s0).min(axis=1, keepdims=True)
    p0, q = p0 * shrink, q * shrink
    p = balance_converter_losses(p0, q, term, 0.3, np.ones(3, bool))
    check_capacity_and_balance(term, p, q, 0.3)


def test_beats_an_idle_sop_on_losses_on_ieee33():
    # ieee33 base case (Baran & Wu: 202.68 kW); a 2-terminal SOP across tie 18-33, 1 MVA per terminal,
    # eta = 0.02. Loss-only dispatch (violation_weight = 0): 151.52 kW in lines + 17.64 kW in the
    # converters = 169.16 kW (a 41 x 41 x 41 grid search over (P, Q18, Q33) finds 169.16 kW too).
    g = ieee33_grid()
    eng = engine_for(g)
    tree = FeederTree.from_engine(eng)
    p, q = eng.base_demand()
    term = terminals(eng, [18, 33], [0, 0], [1.0, 1.0])
    d = dispatch_sop(eng, tree, [term], p[None], q[None], p[None], limits(g), eta=ETA, violation_weight=0.0)
    idle_kw = eng.run(p, q).loss_mw[0] * 1e3
    total_kw = (d.point.loss_mw[0] + d.converter_loss_mw[0]) * 1e3
    assert idle_kw == pytest.approx(202.68, abs=0.01)
    assert total_kw == pytest.approx(169.16, abs=0.05)
    assert d.point.loss_mw[0] * 1e3 == pytest.approx(151.52, abs=0.05)
    assert d.active.all()
    # with the violation penalty (band 0.95-1.05) it trades losses for voltage: idle violates at
    # 21 buses (2.05 MW of load); the dispatch lifts every bus into the band at 223.3 kW
    d = dispatch_sop(eng, tree, [term], p[None], q[None], p[None], limits(g), eta=ETA)
    assert np.nanmin(d.point.vm_pu) >= 0.95
    assert (d.point.loss_mw[0] + d.converter_loss_mw[0]) * 1e3 == pytest.approx(223.3, abs=0.5)


def test_loss_optimal_setpoint_is_the_linear_model_minimum():
    g = ieee33_grid()
    eng = engine_for(g)
    tree = FeederTree.from_engine(eng)
    p, q = eng.base_demand()
    term = terminals(eng, [18, 33], [0, 0], [10.0, 10.0])  # no capacity bound
    p0, q0 = loss_optimal_setpoints(tree, term, p, q, ETA)
    assert p0.sum() == pytest.approx(0.0, abs=1e-12)
    model = SopModel.build(tree, term, ETA)
    g_p, g_q = p @ model.r_t, q @ model.r_t
    best = model.loss_change_mw(g_p, g_q, p0, q0)[0]
    for dp, dq1, dq2 in [(0.01, 0, 0), (-0.01, 0, 0), (0, 0.01, 0), (0, 0, -0.01)]:
        other = model.loss_change_mw(g_p, g_q, p0 + [[-dp, dp]], q0 + [[dq1, dq2]])[0]
        assert other > best
    # the linear voltage change predicts the power flow's within a few per cent
    pi = balance_converter_losses(p0 * 0.05, q0 * 0.05, term, 0.0)
    exact = eng.run(p - np.bincount(term.bus, pi[0], p.shape[1]),
                    q - np.bincount(term.bus, q0[0] * 0.05, p.shape[1])).vm_pu - eng.run(p, q).vm_pu
    pred = model.voltage_change_pu(pi, q0 * 0.05)
    np.testing.assert_allclose(pred, exact, rtol=0.1, atol=2e-4)


def test_terminals_at_unsupplied_or_substation_buses_stay_idle():
    g = ieee33_grid()
    open_17_18 = line_between(g, 17, 18)
    lines = np.setdiff1d(g.base_closed_lines, [open_17_18])
    eng = engine_for(g, lines)
    tree = FeederTree.from_engine(eng)
    p, q = eng.base_demand()
    term = terminals(eng, [18, 33, 1], [0, 0, 0], [1.0, 1.0, 1.0])
    d = dispatch_sop(eng, tree, [term], p[None], q[None], p[None], limits(g), eta=ETA)
    assert d.p_mw[0][:, [0, 2]].tolist() == [[0.0, 0.0]] and d.q_mvar[0][:, [0, 2]].tolist() == [[0.0, 0.0]]


def test_joint_plan_agrees_with_pandapower():
    """Whole path (PV, EV, storage, SVC, two SOPs, a reconfigured topology) on a few scenarios vs NR."""
    g = ieee33_grid()
    cand = g.case.candidates
    # close tie 9-15 and open 14-15
    lines = np.union1d(np.setdiff1d(g.base_closed_lines, [line_between(g, 14, 15)]), [line_between(g, 9, 15)])
    der = {k: np.zeros((1, len(cand[k]))) for k in ("pv", "svc", "ess", "evcs")}
    der["pv"][0, [0, 3, 6]] = [0.9, 0.6, 1.0]
    der["svc"][0, [1, 3]] = [0.3, 0.5]
    der["ess"][0, [4, 8]] = [0.4, 0.6]
    der["evcs"][0, [1, 3]] = [0.5, 0.4]
    sop = sop_table([(1, 0, 18, 0.8), (1, 0, 33, 0.8), (1, 1, 25, 0.5), (1, 1, 29, 0.5)])
    plan = plan_on(g, 1, closed_lines=lines, sop=sop, der=der)
    batch = ScenarioBatch.build(g, 1, n_samples=4, seed=11, days=1)
    eng = engine_for(g, lines)
    tree = FeederTree.from_engine(eng)
    nd = net_demand(g, [plan], batch, 1, tree, DerLayout.of(g, batch.bus_labels))
    n_b = nd.p_mw.shape[-1]
    shape = (1, -1, n_b)
    term = SopTerminals.of_plan(plan, 1, batch.bus_labels)
    d = dispatch_sop(eng, tree, [term], nd.p_mw.reshape(shape), nd.q_mvar.reshape(shape),
                     nd.demand_mw.reshape(shape), limits(g), eta=g.case.uncertainty.sop_loss_coefficient)
    p, q = nd.p_mw.reshape(-1, n_b), nd.q_mvar.reshape(-1, n_b)
    rows = [batch.peak_slot * 4, 12 * 4 + 1, 3 * 4 + 2, 19 * 4 + 3]  # peak, noon, night, evening
    assert d.active[rows].any()
    for r in rows:
        net = pandapower_run(g, lines, p[r], q[r], batch.bus_labels[term.bus], d.p_mw[0][r], d.q_mvar[0][r])
        vm = net.res_bus.vm_pu.reindex(g.net.bus.index).to_numpy()
        np.testing.assert_allclose(d.point.vm_pu[r], vm, atol=1e-6)
        loss = net.res_line.pl_mw.sum()
        assert d.point.loss_mw[r] == pytest.approx(loss, rel=1e-6)
        i_ka = net.res_line.i_ka.reindex(g.net.line.index).fillna(0.0).to_numpy()
        np.testing.assert_allclose(d.point.i_ka[r], i_ka, rtol=1e-5, atol=1e-9)
        # the grid supplies demand + line losses + converter losses
        supplied = net.res_ext_grid.p_mw.sum()
        sop_p = d.p_mw[0][r].sum()
        assert supplied == pytest.approx(p[r].sum() - sop_p + loss, abs=1e-6)
        assert -sop_p == pytest.approx(d.converter_loss_mw[r], abs=1e-9)
