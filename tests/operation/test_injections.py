"""Net demand rules: feeder tree, storage schedule, SVC droop and PV/EV arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdnmoo.operation.injections import DerLayout, FeederTree, ess_schedule, net_demand, svc_output
from fdnmoo.scenarios import ScenarioBatch

from .conftest import engine_for, ieee33_grid, plan_on


def test_feeder_tree_paths_and_common_impedance():
    g = ieee33_grid()
    eng = engine_for(g)
    tree = FeederTree.from_engine(eng)
    pos = {int(b): k for k, b in enumerate(eng.bus_labels)}
    path_18 = {int(eng.bus_labels[c]) for c in tree.path[pos[18]].indices}
    assert path_18 == set(range(2, 19))  # bus 1 is the substation
    assert tree.path[pos[1]].nnz == 0
    z = tree.impedance_to(np.array([pos[18], pos[33]]))
    # common path of 18 and 33: the branches feeding buses 2..6
    shared = sum(tree.z_pu[pos[b]] for b in range(2, 7))
    assert z[pos[33], 0] == pytest.approx(shared) and z[pos[18], 1] == pytest.approx(shared)
    assert z[pos[18], 0] == pytest.approx(sum(tree.z_pu[pos[b]] for b in range(2, 19)))
    np.testing.assert_allclose(tree.root_vm_pu, 1.0)


def test_lindistflow_estimate_is_close_to_the_power_flow():
    g = ieee33_grid()
    eng = engine_for(g)
    tree = FeederTree.from_engine(eng)
    p, q = eng.base_demand()
    v = tree.voltage_estimate(p, q, np.arange(len(eng.bus_labels)))
    exact = eng.run(p, q).vm_pu
    # LinDistFlow neglects losses: it overestimates voltages by < 0.01 p.u. on ieee33's base case
    assert np.all(v >= exact - 1e-9) and np.max(v - exact) < 0.01


def test_downstream_of_lines():
    g = ieee33_grid()
    eng = engine_for(g)
    tree = FeederTree.from_engine(eng)
    labels = eng.bus_labels
    flag = np.zeros((2, len(g.net.line)), dtype=bool)
    flag[1, 5] = True  # line 5 is 6-7: buses 7..18 lie below it
    flag[1, 25] = True  # line 25 is 26-27, nested: buses 27..33
    down = tree.downstream_of_lines(flag)
    assert not down[0].any()
    assert set(labels[down[1]]) == set(range(7, 19)) | set(range(27, 34))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 24), st.floats(0.1, 2.0), st.floats(0.1, 8.0), st.integers(0, 2 ** 31))
def test_ess_schedule_is_energy_balanced_and_within_limits(spd, power, hours, seed):
    rng = np.random.default_rng(seed)
    net_load = rng.random((2, 3, spd))
    energy = power * hours
    out = ess_schedule(net_load, np.full((2, 1), power), np.full((2, 1), energy), 24.0 / spd)[..., 0]
    h = 24.0 / spd
    assert np.abs(out).max() <= power + 1e-12
    np.testing.assert_allclose(out.sum(axis=-1), 0.0, atol=1e-9)  # energy-balanced every day
    soc = np.cumsum(out * h, axis=-1)
    assert (soc.max(axis=-1) - np.minimum(soc.min(axis=-1), 0)).max() <= energy + 1e-9  # cyclic SoC fits
    moved = np.minimum(energy, power * h * (spd // 2))
    np.testing.assert_allclose(np.clip(out, 0, None).sum(axis=-1) * h, moved)
    # charging happens in cheaper slots than discharging
    for p in range(2):
        for d in range(3):
            ch, dis = out[p, d] > 0, out[p, d] < 0
            if ch.any() and dis.any():
                assert net_load[p, d][ch].max() <= net_load[p, d][dis].min()


def test_one_slot_days_leave_storage_idle():
    out = ess_schedule(np.ones((1, 1, 1)), np.ones((1, 2)), np.ones((1, 2)), 24.0)
    assert (out == 0).all()


def test_svc_droop():
    cap = np.array([1.0])
    v = np.array([[1.0, 0.95, 0.90, 0.975, 1.02, 1.0375, 1.05, 1.10, np.nan]]).T
    q = svc_output(v, cap, 0.95, 1.05)[:, 0]
    np.testing.assert_allclose(q, [0.0, 1.0, 1.0, 0.5, 0.0, -0.5, -1.0, -1.0, 0.0])


def test_net_demand_adds_ev_and_storage_and_subtracts_pv_and_svc():
    g = ieee33_grid()
    cand = g.case.candidates
    n = {k: len(cand[k]) for k in ("pv", "svc", "ess", "evcs")}
    der = {k: np.zeros((1, n[k])) for k in n}
    der["pv"][0, 0] = 0.8  # bus 7
    der["evcs"][0, 1] = 0.3  # bus 14
    der["ess"][0, 2] = 0.5  # bus 12, 3 h
    der["svc"][0, 0] = 0.4  # bus 9
    plan = plan_on(g, 1, der=der)
    batch = ScenarioBatch.build(g, 1, n_samples=3, seed=2, days=1)
    eng = engine_for(g)
    nd = net_demand(g, [plan], batch, 1, FeederTree.from_engine(eng), DerLayout.of(g, batch.bus_labels))
    pos = {int(b): k for k, b in enumerate(batch.bus_labels)}
    load = batch.load_p_mw[0]
    ev = 0.3 * batch.evcs_pu[:, None]
    pv = 0.8 * batch.pv_pu[0, :, :, 0]
    np.testing.assert_allclose(nd.demand_mw[0, :, :, pos[14]], load[:, :, pos[14]] + ev)
    np.testing.assert_allclose(nd.p_mw[0, :, :, pos[7]], load[:, :, pos[7]] - pv)
    ess = nd.ess_mw[0, :, 2]
    np.testing.assert_allclose(nd.p_mw[0, :, :, pos[12]], load[:, :, pos[12]] + ess[:, None])
    assert ess.sum() == pytest.approx(0.0, abs=1e-12) and ess.max() == pytest.approx(0.5)
    assert ess[batch.peak_slot] < 0  # discharges at the peak
    svc = nd.svc_mvar[0, :, :, 0]
    assert (svc > 0).all() and (svc <= 0.4).all()  # ieee33 sags everywhere: capacitive
    np.testing.assert_allclose(nd.q_mvar[0, :, :, pos[9]], batch.load_q_mvar[0, :, :, pos[9]] - svc)
    untouched = [pos[b] for b in (3, 20, 30)]
    np.testing.assert_array_equal(nd.p_mw[0][..., untouched], load[..., untouched])


def test_plans_without_svc_do_not_need_a_tree_and_wrong_sizes_are_refused():
    g = ieee33_grid()
    batch = ScenarioBatch.build(g, 1, profile="peak")
    nd = net_demand(g, [plan_on(g, 1)], batch, 1)
    np.testing.assert_array_equal(nd.p_mw[0], batch.load_p_mw[0])
    with pytest.raises(ValueError, match="FeederTree"):
        net_demand(g, [plan_on(g, 1, der={"svc": np.ones((1, len(g.case.candidates["svc"])))})], batch, 1)
    with pytest.raises(ValueError, match="candidates"):
        net_demand(g, [plan_on(g, 1, der={"pv": np.ones((1, 2))})], batch, 1)


def test_resources_are_added_at_their_buses_as_the_one_hot_product_bit_for_bit():
    """One candidate per bus: columns updated in place; two at one bus: the product."""
    from types import SimpleNamespace

    from fdnmoo.operation.injections import _add_at_buses

    rng = np.random.default_rng(5)
    values = rng.normal(size=(2, 3, 4, 3))
    for bus in (np.array([4, 0, 2]), np.array([1, 1, 3])):
        matrix = np.zeros((3, 5))
        matrix[np.arange(3), bus] = 1.0
        layout = SimpleNamespace(bus={"pv": bus}, matrix={"pv": matrix})
        for sign in (-1.0, 1.0):
            target = rng.normal(size=(2, 3, 4, 5))
            want = target + sign * (values @ matrix) if sign > 0 else target - values @ matrix
            _add_at_buses(target, sign, values, layout, "pv")
            assert np.array_equal(target, want)
