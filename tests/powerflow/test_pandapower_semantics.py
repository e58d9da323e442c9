"""pandapower's semantics in the batch engine, element by element, against runpp.

Each test builds a small net showing one rule of pandapower's power-flow model
(switches, half-open branches, out-of-service elements, several grids, taps,
parallel branches, impedances) and checks the batch engine against NR.
"""

import numpy as np
import pandapower as pp
import pytest

from fdnmoo.branches import UnsupportedNetError, branch_table
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower
from fdnmoo.topology import NonRadialError
from pf_checks import assert_same, solve_both


def cable(net, a, b, length=1.5, **kw):
    """An MV cable with charging (NA2XS2Y-like data: 0.161 ohm/km, 0.117 ohm/km, 280 nF/km)."""
    params = dict(r_ohm_per_km=0.161, x_ohm_per_km=0.117, c_nf_per_km=280.0, max_i_ka=0.36)
    params.update(kw)
    return pp.create_line_from_parameters(net, a, b, length_km=length, **params)


@pytest.fixture
def feeder():
    """110 kV grid, 40 MVA trafo, a 20 kV feeder with a lateral and loads, sgen, storage."""
    net = pp.create_empty_network(sn_mva=10.0)
    hv = pp.create_bus(net, 110.0, name="hv")
    mv = [pp.create_bus(net, 20.0, name=f"mv{k}") for k in range(8)]
    pp.create_ext_grid(net, hv, vm_pu=1.03, va_degree=-4.0)
    pp.create_transformer_from_parameters(net, hv, mv[0], sn_mva=40, vn_hv_kv=110, vn_lv_kv=20,
                                          vk_percent=12, vkr_percent=0.3, pfe_kw=20, i0_percent=0.05)
    for a, b in ((0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7)):
        cable(net, mv[a], mv[b])
    for b, p, q in ((2, 1.2, 0.4), (3, 0.8, 0.2), (4, 1.5, 0.5), (6, 0.9, 0.3), (7, 1.1, 0.2)):
        pp.create_load(net, mv[b], p_mw=p, q_mvar=q)
    pp.create_sgen(net, mv[4], p_mw=0.7, q_mvar=0.1)
    pp.create_storage(net, mv[6], p_mw=0.4, q_mvar=0.0, max_e_mwh=2.0)  # charging
    return net


def test_closed_bus_bus_switch_fuses_buses_and_results_cover_every_bus(feeder):
    bar = pp.create_bus(feeder, 20.0, name="second busbar section")
    end = pp.create_bus(feeder, 20.0)
    pp.create_switch(feeder, 3, bar, et="b", closed=True)  # bus 3 is mv2
    pp.create_switch(feeder, 3, bar, et="b", closed=True)  # a parallel coupler: harmless
    cable(feeder, bar, end)
    pp.create_load(feeder, end, p_mw=0.5, q_mvar=0.1)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert res.vm_pu[0, bar] == res.vm_pu[0, 3]
    assert res.supplied.all()


def test_open_bus_bus_switch_separates_and_island_is_reported_unsupplied(feeder):
    bar = pp.create_bus(feeder, 20.0)
    pp.create_switch(feeder, 3, bar, et="b", closed=False)
    pp.create_load(feeder, bar, p_mw=0.5, q_mvar=0.1)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert not res.supplied[bar] and np.isnan(res.vm_pu[0, bar]) and res.converged[0]
    assert res.summary()["unsupplied_buses"] == 1


def test_bus_bus_switch_with_impedance_is_a_branch(feeder):
    bar = pp.create_bus(feeder, 20.0)
    pp.create_switch(feeder, 5, bar, et="b", closed=True, z_ohm=0.8)
    pp.create_load(feeder, bar, p_mw=2.0, q_mvar=0.6)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert res.vm_pu[0, bar] < res.vm_pu[0, 5] - 1e-4  # the 0.8 ohm drop is real


@pytest.mark.parametrize("end", ["from", "to"])
def test_line_opened_at_one_end_stays_energised_from_the_other(feeder, end):
    tie = cable(feeder, 4, 8, length=6.0)  # mv3 - mv7: a tie between the two branches
    bus = feeder.line.at[tie, f"{end}_bus"]
    pp.create_switch(feeder, bus, tie, et="l", closed=False)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert res.i_ka[0, tie] > 1e-3  # 6 km of cable: its charging current flows
    # both ends open: no current at all
    other = feeder.line.at[tie, "to_bus" if end == "from" else "from_bus"]
    pp.create_switch(feeder, other, tie, et="l", closed=False)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert res.i_ka[0, tie] == 0.0


def test_line_at_an_out_of_service_bus_hangs_from_its_other_end(feeder):
    stub = pp.create_bus(feeder, 20.0, in_service=False)
    line = cable(feeder, 8, stub, length=4.0)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert not res.supplied[stub] and res.i_ka[0, line] > 0


@pytest.mark.parametrize("side", ["hv", "lv"])
def test_trafo_open_on_one_side_draws_its_magnetising_current(feeder, side):
    lv = pp.create_bus(feeder, 0.4)
    trafo = pp.create_transformer_from_parameters(
        feeder, 8, lv, sn_mva=0.63, vn_hv_kv=20, vn_lv_kv=0.4, vk_percent=6, vkr_percent=1.0,
        pfe_kw=1.8, i0_percent=2.5)
    pp.create_load(feeder, lv, p_mw=0.2, q_mvar=0.05)
    pp.create_switch(feeder, 8 if side == "hv" else lv, trafo, et="t", closed=False)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert not res.supplied[lv]
    if side == "lv":  # energised from the HV side: its no-load losses (pfe 1.8 kW) count
        no_load_mw = feeder.res_trafo.pl_mw[trafo]  # runpp ran on this net
        assert 1.8e-3 < no_load_mw < 2.1e-3
        feeder.trafo.loc[trafo, "in_service"] = False
        without, _ = solve_both(feeder)
        # its no-load losses plus a little more line loss from its magnetising current
        assert no_load_mw < res.loss_mw[0] - without.loss_mw[0] < 1.1 * no_load_mw


def test_out_of_service_elements_are_ignored(feeder):
    pp.create_load(feeder, 5, p_mw=9.0, q_mvar=3.0, in_service=False)
    pp.create_sgen(feeder, 7, p_mw=9.0, in_service=False)
    pp.create_ext_grid(feeder, 8, in_service=False)
    pp.create_storage(feeder, 2, p_mw=-3.0, max_e_mwh=1.0, in_service=False)
    feeder.line.loc[6, "in_service"] = False  # last lateral section: bus 8 islanded
    dead = pp.create_bus(feeder, 20.0, in_service=False)
    pp.create_load(feeder, dead, p_mw=1.0)
    pp.create_ext_grid(feeder, dead)  # a grid at a dead bus supplies nothing
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert not res.supplied[[8, dead]].any()


def test_scaling_of_loads_sgens_and_storage(feeder):
    feeder.load["scaling"] = [0.5, 1.2, 1.0, 0.8, 1.3]
    feeder.sgen["scaling"] = 2.5
    feeder.storage["scaling"] = 0.5
    pp.create_storage(feeder, 3, p_mw=-0.6, q_mvar=0.1, max_e_mwh=1.0)  # discharging
    assert_same(*solve_both(feeder))


def test_ext_grid_set_points_and_two_grids_as_a_forest(feeder):
    feeder.line.loc[4, "in_service"] = False  # cut the lateral mv1-mv5 off the first grid
    pp.create_ext_grid(feeder, 6, vm_pu=0.98, va_degree=12.0)
    res, ref = solve_both(feeder)
    assert_same(res, ref)
    assert res.ext_grid_p_mw.shape == (1, 2)
    assert res.va_degree[0, 6] == pytest.approx(12.0)


def test_bus_shunt_and_line_conductance(feeder):
    pp.create_shunt(feeder, 4, q_mvar=-1.2, p_mw=0.02, step=2, max_step=3)
    feeder.line["g_us_per_km"] = 2.0
    assert_same(*solve_both(feeder))


@pytest.mark.parametrize("tap_side,tap_pos", [("hv", -4), ("hv", 3), ("lv", 2), ("lv", -5)])
def test_trafo_fed_from_its_lv_side_with_taps(tap_side, tap_pos):
    """A grid on the 20 kV side feeding a 110 kV island through a tapped trafo."""
    net = pp.create_empty_network()
    mv, hv, hv2 = pp.create_bus(net, 20.0), pp.create_bus(net, 110.0), pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, mv, vm_pu=1.01)
    pp.create_transformer_from_parameters(
        net, hv, mv, sn_mva=40, vn_hv_kv=110, vn_lv_kv=20, vk_percent=12, vkr_percent=0.4,
        pfe_kw=18, i0_percent=0.06, shift_degree=30, tap_side=tap_side, tap_neutral=0,
        tap_min=-9, tap_max=9, tap_step_percent=1.5, tap_pos=tap_pos, tap_changer_type="Ratio")
    pp.create_line_from_parameters(net, hv, hv2, length_km=12, r_ohm_per_km=0.12,
                                   x_ohm_per_km=0.39, c_nf_per_km=9.5, max_i_ka=0.6)
    pp.create_load(net, hv2, p_mw=15.0, q_mvar=4.0)
    assert_same(*solve_both(net))


@pytest.mark.parametrize("taps", [(0, 0), (2, -3)])
def test_parallel_transformers_on_coupled_busbars(taps):
    """Two HV/MV trafos feeding two busbar sections joined by a coupler (SimBench's substations).

    With different taps a current circulates between them; pandapower solves the
    mesh, the engine merges the two into one exact equivalent.
    """
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110.0)
    bars = [pp.create_bus(net, 20.0) for _ in range(2)]
    pp.create_ext_grid(net, hv, vm_pu=1.02)
    for bar, tap in zip(bars, taps):
        pp.create_transformer_from_parameters(
            net, hv, bar, sn_mva=25, vn_hv_kv=110, vn_lv_kv=20, vk_percent=12, vkr_percent=0.4,
            pfe_kw=15, i0_percent=0.06, tap_side="hv", tap_neutral=0, tap_min=-9, tap_max=9,
            tap_step_percent=1.5, tap_pos=tap, tap_changer_type="Ratio")
    pp.create_switch(net, bars[0], bars[1], et="b", closed=True)
    end = pp.create_bus(net, 20.0)
    cable(net, bars[1], end, length=3.0)
    cable(net, bars[1], end, length=3.0)  # a double cable: parallel lines too
    pp.create_load(net, end, p_mw=6.0, q_mvar=2.0)
    pp.create_load(net, bars[0], p_mw=3.0, q_mvar=1.0)
    res, ref = solve_both(net)
    assert_same(res, ref)
    assert res.i_ka[0, 0] == pytest.approx(res.i_ka[0, 1])


def test_parallel_transformers_with_different_phase_shifts_are_refused():
    net = pp.create_empty_network()
    hv, mv = pp.create_bus(net, 110.0), pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, hv)
    for shift in (0.0, 30.0):
        pp.create_transformer_from_parameters(net, hv, mv, sn_mva=25, vn_hv_kv=110, vn_lv_kv=20,
                                              vk_percent=12, vkr_percent=0.4, pfe_kw=0,
                                              i0_percent=0, shift_degree=shift)
    with pytest.raises(ValueError, match=r"\['trafo 0', 'trafo 1'\] are in parallel.*phase shifts"):
        BatchPowerFlow(net).structure


def test_symmetric_impedance_element_with_shunts(feeder):
    far = pp.create_bus(feeder, 20.0)
    pp.create_impedance(feeder, 8, far, rft_pu=0.02, xft_pu=0.06, sn_mva=10.0,
                        gf_pu=0.001, bf_pu=0.004, gt_pu=0.0005, bt_pu=0.002)
    pp.create_load(feeder, far, p_mw=0.8, q_mvar=0.3)
    assert_same(*solve_both(feeder))


@pytest.mark.parametrize("build,table,reason", [
    (lambda n: pp.create_gen(n, 4, p_mw=1.0, vm_pu=1.0), "gen", "in-service gen"),
    (lambda n: pp.create_ward(n, 4, ps_mw=0.1, qs_mvar=0.0, pz_mw=0.0, qz_mvar=0.0), "ward",
     "in-service ward"),
    (lambda n: pp.create_xward(n, 4, ps_mw=0.1, qs_mvar=0.0, pz_mw=0.0, qz_mvar=0.0, r_ohm=1,
                               x_ohm=1, vm_pu=1.0), "xward", "in-service xward"),
    (lambda n: pp.create_motor(n, 4, pn_mech_mw=0.2, cos_phi=0.9), "motor", "in-service motor"),
    (lambda n: pp.create_asymmetric_load(n, 4, p_a_mw=0.1), "asymmetric_load", "asymmetric_load"),
    (lambda n: pp.create_transformer3w(n, 1, 4, 5, "63/25/38 MVA 110/20/10 kV"), "trafo3w",
     "in-service trafo3w"),
    (lambda n: pp.create_dcline(n, 2, 8, p_mw=1.0, loss_percent=1, loss_mw=0, vm_from_pu=1,
                                vm_to_pu=1), "dcline", "in-service dcline"),
    (lambda n: pp.create_load(n, 4, p_mw=0.5, const_z_p_percent=30.0), "load", "ZIP"),
    (lambda n: pp.create_impedance(n, 4, 5, rft_pu=0.01, xft_pu=0.02, rtf_pu=0.02, xtf_pu=0.02,
                                   sn_mva=1), "impedance", "asymmetric impedance"),
])
def test_unsupported_elements_are_refused_by_table_and_index(feeder, build, table, reason):
    index = build(feeder)
    with pytest.raises(UnsupportedNetError, match=reason) as err:
        branch_table(feeder)
    assert (err.value.table, err.value.index) == (table, index)
    assert f"net.{table}[{index}]" in str(err.value)
    feeder[table].loc[index, "in_service"] = False  # out of service: accepted and ignored
    if table != "impedance":
        assert_same(*solve_both(feeder))


def test_meshed_net_raises_naming_the_loop(feeder):
    tie = cable(feeder, 4, 8)
    with pytest.raises(NonRadialError, match=f"line {tie}"):
        BatchPowerFlow(feeder).structure


def test_reference_replaces_storage_with_the_demand_it_is_given(feeder):
    pf = BatchPowerFlow(feeder)
    p, q = pf.base_demand()
    ours = pf.run(p, q)
    ref = run_pandapower(feeder, p[0], q[0])
    assert_same(ours, ref)
