"""Batch sweep vs pandapower NR on element models: lines with shunts, transformers, forests."""

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from fdnmoo.powerflow import BatchPowerFlow, run_pandapower
from fdnmoo.topology import NonRadialError
from pf_checks import assert_same, solve_both

def test_case33bw_matches_pandapower_and_baran_wu():
    net = pn.case33bw()
    res, ref = solve_both(net)
    assert_same(res, ref)
    # Baran & Wu (1989) base case: 202.68 kW losses, Vmin 0.9131 p.u. at bus 18 (index 17)
    assert res.loss_mw[0] * 1e3 == pytest.approx(202.68, abs=0.01)
    assert res.summary()["vmin_bus"] == 17
    assert res.vm_pu[0].min() == pytest.approx(0.9131, abs=1e-4)


def _mv_lv_net(trafo_model_params: dict) -> "pp.pandapowerNet":
    """HV grid -> trafo -> MV feeder with cable charging, shunt, sgen; second trafo to LV."""
    net = pp.create_empty_network(sn_mva=5.0)
    hv = pp.create_bus(net, 110.0)
    mv = [pp.create_bus(net, 20.0) for _ in range(5)]
    lv = pp.create_bus(net, 0.4)
    pp.create_ext_grid(net, hv, vm_pu=1.02, va_degree=3.0)
    pp.create_transformer_from_parameters(net, hv, mv[0], sn_mva=25, vn_hv_kv=110, vn_lv_kv=20.5,
                                          **trafo_model_params)
    for a, b, length in ((0, 1, 2.5), (1, 2, 1.2), (2, 3, 3.0), (1, 4, 0.7)):
        pp.create_line_from_parameters(net, mv[a], mv[b], length_km=length, r_ohm_per_km=0.16,
                                       x_ohm_per_km=0.11, c_nf_per_km=280, g_us_per_km=0.5,
                                       max_i_ka=0.4)
    pp.create_transformer_from_parameters(net, mv[4], lv, sn_mva=0.63, vn_hv_kv=20, vn_lv_kv=0.4,
                                          vk_percent=6, vkr_percent=1.1, pfe_kw=1.2, i0_percent=0.3)
    for b, p, q in ((mv[2], 2.0, 0.6), (mv[3], 3.1, 1.1), (lv, 0.35, 0.1)):
        pp.create_load(net, b, p_mw=p, q_mvar=q)
    pp.create_sgen(net, mv[3], p_mw=1.2, q_mvar=-0.2)
    pp.create_shunt(net, mv[2], q_mvar=-0.8, p_mw=0.01)
    return net


@pytest.mark.parametrize("params", [
    dict(vk_percent=12, vkr_percent=0.4, pfe_kw=14, i0_percent=0.07),
    dict(vk_percent=12, vkr_percent=0.4, pfe_kw=0, i0_percent=0, shift_degree=150),
    dict(vk_percent=12, vkr_percent=0.4, pfe_kw=14, i0_percent=0.07, tap_side="hv",
         tap_changer_type="Ratio", tap_neutral=0, tap_min=-9, tap_max=9, tap_step_percent=1.5, tap_pos=-3),
    dict(vk_percent=12, vkr_percent=0.4, pfe_kw=14, i0_percent=0.07, tap_side="lv",
         tap_changer_type="Ratio", tap_neutral=0, tap_min=-9, tap_max=9, tap_step_percent=1.25, tap_pos=2),
])
def test_transformers_line_shunts_and_bus_shunts_match_pandapower(params):
    res, ref = solve_both(_mv_lv_net(params))
    assert_same(res, ref)


def test_forest_with_two_substations_and_an_unsupplied_island():
    net = pn.case33bw()
    # split the feeder: a second substation at bus 18's lateral, open line 17 (buses 17-18)
    net.line.loc[17, "in_service"] = False
    pp.create_ext_grid(net, 18, vm_pu=1.01)
    # an island: open the line feeding bus 32 (the last of the 25..32 branch)
    net.line.loc[31, "in_service"] = False
    res, ref = solve_both(net)
    assert_same(res, ref)
    assert np.isnan(res.vm_pu[0, 32]) and np.isnan(ref.vm_pu[0, 32])
    assert res.ext_grid_p_mw.shape == (1, 2)


def test_loop_raises_naming_its_lines():
    net = pn.case33bw()
    net.line.loc[33, "in_service"] = True  # tie 8-14 closes a loop
    pf = BatchPowerFlow(net)
    with pytest.raises(NonRadialError) as err:
        pf.run(*pf.base_demand())
    assert "line 33" in str(err.value)
    assert set(err.value.loop_branches) >= {"line 33", "line 8"}


def test_two_substations_joined_is_a_loop():
    net = pn.case33bw()
    pp.create_ext_grid(net, 17)
    with pytest.raises(NonRadialError, match="common supply"):
        BatchPowerFlow(net).structure


def test_divergent_scenario_is_flagged_not_raised():
    net = pn.case33bw()
    pf = BatchPowerFlow(net)
    p, q = pf.base_demand()
    scale = np.array([[1.0], [40.0], [0.5]])  # 40x load: no power-flow solution
    res = pf.run(p * scale, q * scale)
    assert res.converged.tolist() == [True, False, True]
    assert np.isnan(res.vm_pu[1]).all() and np.isnan(res.loss_mw[1])
    assert np.isfinite(res.vm_pu[[0, 2]]).all()
    assert not run_pandapower(net, p[0] * 40, q[0] * 40).converged[0]


def test_bad_demand_arrays_give_clear_errors():
    pf = BatchPowerFlow(pn.case33bw())
    p, q = pf.base_demand()
    with pytest.raises(ValueError, match=r"shape \(n_scenarios, 33\)"):
        pf.run(p[:, :5], q[:, :5])
    p_bad = p.copy()
    p_bad[0, 7] = np.nan
    with pytest.raises(ValueError, match="scenario 0 at bus 7"):
        pf.run(p_bad, q)


def test_results_do_not_depend_on_block_size_or_batch_composition():
    net = pn.case33bw()
    rng = np.random.default_rng(3)
    base = BatchPowerFlow(net)
    p, q = base.base_demand()
    scale = rng.uniform(0, 2, size=(37, 33))
    ref = base.run(p * scale, q * scale)
    for block in (1, 5, 64):
        res = BatchPowerFlow(net, block=block).run(p * scale, q * scale)
        np.testing.assert_array_equal(res.vm_pu, ref.vm_pu)
    single = base.run(p * scale[11], q * scale[11])
    np.testing.assert_array_equal(single.vm_pu[0], ref.vm_pu[11])


def test_reconfigure_shares_per_unit_data_and_matches_fresh_engine():
    net = pn.case33bw()
    pf = BatchPowerFlow(net)
    closed = [k for k in net.line.index if k not in (6, 8, 13, 31, 36)]
    # Baran-Wu optimal reconfiguration: open 7, 9, 14, 32, 37 (1-based) -> 139.55 kW
    # (Goswami & Basu 1992 report 139.55 kW; our pandapower run agrees)
    other = pf.reconfigure(closed)
    assert other.branches is pf.branches
    fresh = BatchPowerFlow(net, closed_lines=closed)
    p, q = pf.base_demand()
    np.testing.assert_array_equal(other.run(p, q).vm_pu, fresh.run(p, q).vm_pu)
    assert other.run(p, q).loss_mw[0] * 1e3 == pytest.approx(139.55, abs=0.05)


def test_reconfigure_returns_the_engine_of_a_closed_set_again():
    net = pn.case33bw()
    pf = BatchPowerFlow(net)
    closed = [k for k in net.line.index if k not in (6, 8, 13, 31, 36)]
    other = pf.reconfigure(closed)
    prepared = other._prepared
    assert pf.reconfigure(closed[::-1]) is other  # the same set in another order
    assert other.reconfigure(np.array(closed)) is other  # from any engine sharing the cache
    assert other._prepared is prepared
    assert pf.reconfigure(closed, closed_trafos=[]) is not other
    assert pf.reconfigure(closed[1:]) is not other


def test_switching_a_candidate_transformer_in_matches_pandapower():
    net = _mv_lv_net(dict(vk_percent=12, vkr_percent=0.4, pfe_kw=14, i0_percent=0.07))
    lv_trafo = net.trafo.index[-1]
    net.trafo.loc[lv_trafo, "in_service"] = False
    pf = BatchPowerFlow(net)
    p, q = pf.base_demand()
    off = pf.run(p, q)
    assert np.isnan(off.vm_pu[0, -1])  # LV bus unsupplied while its trafo is open
    on = pf.reconfigure(closed_trafos=net.trafo.index.tolist()).run(p, q)
    net.trafo.loc[lv_trafo, "in_service"] = True
    assert_same(on, run_pandapower(net))


def test_structure_before_branches_on_a_fresh_engine():
    # regression: touching .structure first used to lose the cache entry run() looks up
    pf = BatchPowerFlow(pn.case33bw())
    assert pf.structure.supplied.all()
    assert pf.run(*pf.base_demand()).converged.all()


def test_engine_survives_eviction_of_its_topology_from_the_shared_cache(monkeypatch):
    from fdnmoo.powerflow import batch

    monkeypatch.setattr(batch, "_STRUCTURE_CACHE_SIZE", 1)
    net = pn.case33bw()
    pf = BatchPowerFlow(net)
    pf.structure  # noqa: B018 - caches the base topology
    other = pf.reconfigure([k for k in net.line.index if k not in (6, 8, 13, 31, 36)])
    other.structure  # noqa: B018 - evicts the base topology from the shared cache
    assert pf.run(*pf.base_demand()).loss_mw[0] * 1e3 == pytest.approx(202.68, abs=0.01)
