"""Operation options (fdnmoo.operation.controls): PV curtailment, PV Q(V), capacitor banks,
OLTC; each rule by hand on the LinDistFlow estimate, the power flow of the resulting
injections against pandapower's Newton-Raphson."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pandapower as pp
import pytest

from fdnmoo.metrics.reductions import line_limits_ka
from fdnmoo.operation.controls import ControlContext, apply_controls, run_tapped
from fdnmoo.operation.injections import DerLayout, FeederTree, net_demand, svc_output
from fdnmoo.operation.settings import OperationSettings
from fdnmoo.parameters import ParameterError
from fdnmoo.scenarios import ScenarioBatch

from .conftest import engine_for, ieee33_grid

PV_BUS = 18  # ieee33's PV candidate at the end of the main feeder


def _pv_der(grid, mw: float) -> dict:
    cap = np.zeros((1, len(grid.case.candidates["pv"])))
    cap[0, list(grid.case.candidates["pv"].bus).index(PV_BUS)] = mw
    return {"pv": cap}


def _controlled(settings: dict, der: dict, **ctx_changes):
    """Net demand of one ieee33 plan (one averaged day) before and after the options."""
    from .conftest import plan_on

    g = ieee33_grid()
    eng = engine_for(g)
    tree = FeederTree.from_engine(eng)
    batch = ScenarioBatch.build(g, 1, n_samples=1, seed=0, days=1)
    layout = DerLayout.of(g, batch.bus_labels)
    plan = plan_on(g, 1, der=der)
    nd = net_demand(g, [plan], batch, 1, tree, layout)
    before = (nd.p_mw.copy(), nd.q_mvar.copy(), nd.pv_mw.copy())
    ctx = ControlContext.of(OperationSettings.from_mapping(settings), g, batch.bus_labels,
                            line_limits_ka(g.net))
    ctx = replace(ctx, **ctx_changes)
    done = apply_controls(ctx, nd, layout.capacities([plan], "pv", 1), tree,
                          eng.structure.root_of, eng.branches.root_pos, layout)
    return g, eng, tree, layout, ctx, nd, before, done


def _pandapower(grid, p_mw, q_mvar, vm_pu=1.0, shunts=()):
    """NR on the base topology with one load per bus (net demand) and the substation at vm_pu."""
    net = copy.deepcopy(grid.net)
    net.load.drop(net.load.index, inplace=True)
    net.sgen.drop(net.sgen.index, inplace=True)
    for bus, p, q in zip(net.bus.index, p_mw, q_mvar):
        pp.create_load(net, bus, p_mw=float(p), q_mvar=float(q))
    for bus, step_mvar, steps in shunts:  # pandapower's sign: q_mvar < 0 is capacitive
        pp.create_shunt(net, bus, q_mvar=-step_mvar, p_mw=0.0, step=int(steps), max_step=int(steps))
    net.ext_grid["vm_pu"] = vm_pu
    pp.runpp(net, tolerance_mva=1e-10, numba=False, max_iteration=50)
    return net.res_bus.vm_pu.reindex(grid.net.bus.index).to_numpy()


def test_curtailment_by_hand_brings_the_pv_bus_to_v_max():
    # no reverse-overload rule here (ratings out of reach): the voltage rule alone
    g, eng, tree, layout, ctx, nd, (p0, q0, pv0), done = _controlled(
        {"curtailment": True}, _pv_der(ieee33_grid(), 8.0),
        i_limit_ka=np.full(len(ieee33_grid().net.line), 1e3))
    k = int(np.flatnonzero(layout.bus["pv"] == np.flatnonzero(eng.bus_labels == PV_BUS)[0])[0])
    b = layout.bus["pv"][k]
    v = tree.voltage_estimate(p0[0, :, 0], q0[0, :, 0], np.array([b]))[:, 0]
    r_kk = tree.impedance_to(np.array([b]))[b, 0].real
    # one PV: the cut that puts the LinDistFlow estimate at v_max, (V - v_max) sn V0 / R_kk
    hand = np.clip((v - ctx.v_max_pu) * tree.sn_mva * 1.0 / r_kk, 0.0, pv0[0, :, 0, k])
    cut = done.pv_curtailed_mw[0, :, 0, k]
    assert hand.max() > 1.0  # midday over-voltage: more than a MW to cut
    np.testing.assert_allclose(cut, hand, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(nd.pv_mw[0, :, 0, k], pv0[0, :, 0, k] - cut)
    np.testing.assert_allclose(nd.p_mw[0, :, 0, b], p0[0, :, 0, b] + cut)
    # the power flow of the curtailed injections: the batch engine and pandapower agree,
    # and the PV bus ends just below v_max: LinDistFlow neglects the losses, which lower the
    # rise of a reverse flow, so the rule over-curtails a little (0.007 p.u. here)
    t = int(np.argmax(cut))
    res = eng.run(nd.p_mw[0, t], nd.q_mvar[0, t])
    ref = _pandapower(g, nd.p_mw[0, t, 0], nd.q_mvar[0, t, 0])
    np.testing.assert_allclose(res.vm_pu[0], ref, atol=1e-6)
    assert ctx.v_max_pu - 0.01 < ref[b] <= ctx.v_max_pu
    before = eng.run(p0[0, t], q0[0, t]).vm_pu[0, b]
    assert before > ctx.v_max_pu + 0.05


def test_curtailment_against_reverse_overload_by_hand():
    g = ieee33_grid()
    limits = np.full(len(g.net.line), 1e3)
    line = int(np.flatnonzero(g.net.line.to_bus.to_numpy() == PV_BUS)[0])  # 17-18
    limits[line] = 0.05  # kA: sqrt(3) * 12.66 kV * 0.05 kA = 1.096 MVA
    g, eng, tree, layout, ctx, nd, (p0, q0, pv0), done = _controlled(
        {"curtailment": True}, _pv_der(g, 8.0), i_limit_ka=limits, v_max_pu=2.0)
    b = int(np.flatnonzero(eng.bus_labels == PV_BUS)[0])
    k = int(np.flatnonzero(layout.bus["pv"] == b)[0])
    rating = np.sqrt(3) * 12.66 * 0.05
    # the leaf's line carries its net demand: the reverse part beyond the rating is cut
    allowed = np.sqrt(rating ** 2 - q0[0, :, 0, b] ** 2)
    hand = np.clip(-p0[0, :, 0, b] - allowed, 0.0, None)
    assert hand.max() > 1.0
    np.testing.assert_allclose(done.pv_curtailed_mw[0, :, 0, k], hand, rtol=1e-9, atol=1e-12)
    flow = np.hypot(nd.p_mw[0, :, 0, b], nd.q_mvar[0, :, 0, b])
    assert flow.max() <= rating * (1 + 1e-9)


def test_pv_reactive_power_by_hand_and_against_pandapower():
    g, eng, tree, layout, ctx, nd, (p0, q0, pv0), done = _controlled(
        {"pv_reactive": "qv", "pv_inverter_ratio": 1.1}, _pv_der(ieee33_grid(), 4.0))
    b = int(np.flatnonzero(eng.bus_labels == PV_BUS)[0])
    k = int(np.flatnonzero(layout.bus["pv"] == b)[0])
    v = tree.voltage_estimate(p0[0, :, 0], q0[0, :, 0], np.array([b]))[:, 0]
    room = np.sqrt((1.1 * 4.0) ** 2 - pv0[0, :, 0, k] ** 2)
    sens = tree.impedance_to(np.array([b]))[b, 0].imag / tree.sn_mva  # V0 = 1 p.u.
    # the droop at its steady state V = V_est + sens * q, by hand: absorbing
    # |q| = room (V - 1.025) / 0.025  =>  |q| = room (V_est - 1.025) / (0.025 + room sens),
    # injecting (night, sagging feeder) q = room (1 - V_est) / (0.05 + room sens)
    hand = (np.clip(room * (1 - v) / (0.05 + room * sens), 0.0, room)
            - np.clip(room * (v - 1.025) / (0.025 + room * sens), 0.0, room))
    q = done.pv_q_mvar[0, :, 0, k]
    np.testing.assert_allclose(q, hand, rtol=1e-12, atol=1e-12)
    assert q.min() < -0.5 and q.max() > 0.5 and (np.abs(q) <= room + 1e-12).all()  # both sides
    # the open-loop droop on V_est would absorb its full room here
    assert svc_output(v, room, 0.95, 1.05).min() < 2 * q.min()
    np.testing.assert_allclose(nd.q_mvar[0, :, 0, b], q0[0, :, 0, b] - q)
    np.testing.assert_allclose(nd.p_mw, p0)  # P untouched without curtailment
    t = int(np.argmin(q))
    res = eng.run(nd.p_mw[0, t], nd.q_mvar[0, t])
    np.testing.assert_allclose(res.vm_pu[0], _pandapower(g, nd.p_mw[0, t, 0], nd.q_mvar[0, t, 0]),
                               atol=1e-6)
    assert res.vm_pu[0, b] < eng.run(p0[0, t], q0[0, t]).vm_pu[0, b] - 0.01  # vars lower V


def test_capacitors_and_oltc_within_limits_and_against_pandapower():
    banks = [{"bus": 18, "step_mvar": 0.1, "steps": 4}, {"bus": 33, "step_mvar": 0.15, "steps": 3}]
    g, eng, tree, layout, ctx, nd, (p0, q0, pv0), done = _controlled(
        {"capacitors": banks, "oltc": {"step_percent": 1.25, "tap_min": -8, "tap_max": 8}}, {})
    tap = done.oltc_tap[0, :, 0, 0]
    steps = done.capacitor_steps[0, :, 0]
    # ieee33 sags to 0.913 p.u. at the peak: the tap raises the substation, within its range
    # and never above v_max (1.05 / 1.0125^4 -> at most +4 taps)
    assert tap.max() > 0 and tap.min() >= -8 and tap.max() <= 4
    assert (steps >= 0).all() and (steps <= [4, 3]).all() and steps.max() > 0
    pos = ctx.capacitor_bus
    np.testing.assert_allclose(q0[0, :, 0][:, pos] - nd.q_mvar[0, :, 0][:, pos], steps * [0.1, 0.15])
    np.testing.assert_allclose(done.root_scale[:, 0], 1 + tap * 0.0125)
    rows = np.flatnonzero(tap == tap.max())[:2].tolist() + [int(np.argmin(tap))]
    point = run_tapped(eng, nd.p_mw[0, :, 0], nd.q_mvar[0, :, 0], done.root_scale)
    worst = 0.0
    for t in rows:
        vm = 1 + tap[t] * 0.0125
        ref = _pandapower(g, nd.p_mw[0, t, 0], nd.q_mvar[0, t, 0], vm_pu=vm)
        np.testing.assert_allclose(point.vm_pu[t], ref, atol=1e-6)
        assert point.vm_pu[t, 0] == pytest.approx(vm, abs=1e-12)
        # pandapower's shunt model of the same steps: Q = n step V^2, not constant
        with_shunts = _pandapower(g, nd.p_mw[0, t, 0], q0[0, t, 0], vm_pu=vm,
                                  shunts=[(b["bus"], b["step_mvar"], n)
                                          for b, n in zip(banks, steps[t])])
        worst = max(worst, float(np.abs(with_shunts - point.vm_pu[t]).max()))
    assert worst < 2e-3  # V^2 of the bank at 0.93-1.0 p.u.: a few per mille of its Q


def test_root_scale_of_the_engine_is_checked():
    eng = engine_for(ieee33_grid())
    p, q = eng.base_demand()
    with pytest.raises(ValueError, match="root_scale must hold 1 positive factors"):
        eng.run(p, q, root_scale=[1.0, 1.0])
    np.testing.assert_array_equal(eng.run(p, q, root_scale=[1.0]).vm_pu, eng.run(p, q).vm_pu)


def test_settings_errors_name_the_key():
    with pytest.raises(ParameterError, match=r"operation.curtailmnt: unknown key .*did you mean "
                                             r"'curtailment'"):
        OperationSettings.from_mapping({"curtailmnt": True})
    with pytest.raises(ParameterError, match=r"operation.capacitors\[0\].steps: must be >= 1"):
        OperationSettings.from_mapping({"capacitors": [{"bus": 3, "step_mvar": 0.1, "steps": 0}]})
    with pytest.raises(ParameterError, match=r"operation.oltc.tap_min: need tap_min <= 0"):
        OperationSettings.from_mapping({"oltc": {"tap_min": 2}})
    with pytest.raises(ParameterError, match="operation.pv_reactive: unknown rule 'qV'"):
        OperationSettings.from_mapping({"pv_reactive": "qV"})
    g = ieee33_grid()
    with pytest.raises(ParameterError, match=r"operation.capacitors\[0\].bus: bus 99 is not a bus"):
        ControlContext.of(OperationSettings.from_mapping(
            {"capacitors": [{"bus": 99, "step_mvar": 0.1, "steps": 2}]}), g, g.net.bus.index.to_numpy(),
            line_limits_ka(g.net))
    assert not OperationSettings.from_mapping({}).active
    full = OperationSettings.from_mapping({"curtailment": True, "oltc": {"tap_max": 4},
                                           "capacitors": [{"bus": 3, "step_mvar": 0.2, "steps": 2}]})
    assert OperationSettings.from_mapping(full.as_dict()) == full  # run.json round trip
    assert ControlContext.of(OperationSettings(), g, g.net.bus.index.to_numpy(), []) is None


def test_root_scale_on_a_forest_against_pandapower():
    import pandapower.networks as pn

    from fdnmoo.powerflow import BatchPowerFlow

    net = pn.case33bw()  # two substations: a second one at bus 18's lateral (index 18)
    net.line.loc[17, "in_service"] = False
    pp.create_ext_grid(net, 18, vm_pu=1.01)
    eng = BatchPowerFlow(net)
    p, q = eng.base_demand()
    scale = np.array([1.025, 0.975])  # an OLTC tap each: +2 and -2 steps of 1.25 %
    res = eng.run(p, q, root_scale=scale)
    at = [list(res.ext_grid_buses).index(b) for b in net.ext_grid.bus]  # scale is in this order
    assert res.ext_grid_buses.tolist() == [0, 18]
    net.ext_grid["vm_pu"] = net.ext_grid.vm_pu.to_numpy() * scale[at]
    pp.runpp(net, tolerance_mva=1e-10, numba=False)
    np.testing.assert_allclose(res.vm_pu[0], net.res_bus.vm_pu.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(res.ext_grid_p_mw[0], net.res_ext_grid.p_mw.to_numpy(), atol=1e-6)


@pytest.mark.parametrize("sites", [{18: 5, 33: 5, 25: 5}, {7: 6, 9: 6, 18: 3, 32: 4},
                                   {22: 10, 24: 10, 25: 10}])
def test_curtailment_of_several_pv_holds_every_pv_bus_at_most_at_v_max(sites):
    g = ieee33_grid()
    cap = np.zeros((1, len(g.case.candidates["pv"])))
    for bus, mw in sites.items():
        cap[0, list(g.case.candidates["pv"].bus).index(bus)] = mw
    g, eng, tree, layout, ctx, nd, (p0, q0, pv0), done = _controlled(
        {"curtailment": True}, {"pv": cap}, i_limit_ka=np.full(len(g.net.line), 1e3))
    cut = done.pv_curtailed_mw[0, :, 0]
    assert (cut >= 0).all() and (cut <= pv0[0, :, 0] + 1e-12).all() and cut.sum() > 1.0
    before = tree.voltage_estimate(p0[0, :, 0], q0[0, :, 0], layout.bus["pv"])
    after = tree.voltage_estimate(nd.p_mw[0, :, 0], nd.q_mvar[0, :, 0], layout.bus["pv"])
    assert before.max() > 1.07 and after.max() <= ctx.v_max_pu + 1e-9
    # the hottest over-voltage bus of every curtailed slot ends at the limit, not below it
    hot = cut.sum(axis=1) > 0
    np.testing.assert_allclose(after[hot].max(axis=1), ctx.v_max_pu, atol=1e-9)
    t = int(np.argmax(cut.sum(axis=1)))
    res = eng.run(nd.p_mw[0, t], nd.q_mvar[0, t])
    ref = _pandapower(g, nd.p_mw[0, t, 0], nd.q_mvar[0, t, 0])
    np.testing.assert_allclose(res.vm_pu[0], ref, atol=1e-6)
    assert ref.max() <= ctx.v_max_pu


def test_capacitor_steps_by_hand():
    banks = [{"bus": 18, "step_mvar": 0.1, "steps": 4}]
    g, eng, tree, layout, ctx, nd, (p0, q0, pv0), done = _controlled({"capacitors": banks}, {})
    b = int(ctx.capacitor_bus[0])
    v = tree.voltage_estimate(p0[0, :, 0], q0[0, :, 0], np.array([b]))[:, 0]
    s = tree.impedance_to(np.array([b]))[b, 0].imag / tree.sn_mva
    # capacitive droop at its steady state V = V_est + s q: q = 0.4 (1 - V) / 0.05, by hand
    q = np.clip(0.4 * (1 - v) / (0.05 + 0.4 * s), 0.0, 0.4)
    room = np.floor((1.05 - v) / (0.1 * s))  # steps that keep the bus under v_max
    hand = np.clip(np.minimum(np.rint(q / 0.1), room), 0, 4)
    np.testing.assert_array_equal(done.capacitor_steps[0, :, 0, 0], hand)
    assert hand.min() >= 1 and hand.max() == 4  # ieee33's end of feeder sags all day
