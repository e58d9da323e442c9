"""Scenario batch: shapes, growth, stage demand, sampling and common random numbers."""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pandapower as pp
import pytest

from fdnmoo.cases import load_case
from fdnmoo.planning import planning_grid
from fdnmoo.scenarios import ScenarioBatch, typical_days


@cache
def grid(name: str):
    return planning_grid(load_case(name))


def base_loads(g):
    p = np.zeros(len(g.net.bus))
    pos = {b: k for k, b in enumerate(g.net.bus.index)}
    for _, row in g.net.load.iterrows():
        p[pos[row.bus]] += row.p_mw * row.scaling
    return p


def test_shapes_and_forecast_sample():
    g = grid("ieee33")
    b = ScenarioBatch.build(g, 3, profile="daily", n_samples=5, seed=3)
    n_bus, n_pv = len(g.net.bus), len(g.case.candidates["pv"])
    assert b.load_p_mw.shape == b.load_q_mvar.shape == (3, 96, 5, n_bus)
    assert b.pv_pu.shape == (3, 96, 5, n_pv)
    assert b.evcs_pu.shape == b.slot_hours.shape == (96,)
    assert b.slot_hours.sum() == pytest.approx(8760)
    # ieee33: 1.5 %/yr, 5-year stages, demand at each stage's end: 1.015 ** (5, 10, 15)
    growth = np.array([1.077284003884375, 1.16054082502515, 1.2502320666543696])
    load_pu = typical_days().load_pu.ravel()
    expected = growth[:, None, None] * load_pu[None, :, None] * base_loads(g)
    np.testing.assert_allclose(b.load_p_mw[:, :, 0, :], expected, rtol=1e-14)
    np.testing.assert_allclose(b.pv_pu[:, :, 0, :], np.broadcast_to(
        typical_days().pv_pu.ravel()[None, :, None], (3, 96, n_pv)))
    assert b.peak_slot == 18


def test_peak_profile_stage_one_is_the_case_grown_over_the_stage():
    g = grid("ieee33")
    b = ScenarioBatch.build(g, 1, profile="peak")
    assert b.load_p_mw.shape == (1, 1, 1, len(g.net.bus))
    # stage 1 = years 1..5: the case's loads grown by 1.015 ** 5 (stage_growth_factor)
    np.testing.assert_allclose(b.load_p_mw[0, 0, 0], 1.077284003884375 * base_loads(g), rtol=1e-14)
    # Baran & Wu's 3715 kW total load
    assert b.load_p_mw[0, 0, 0].sum() == pytest.approx(3.715 * 1.077284003884375, rel=1e-12)


def test_scaling_and_out_of_service_sgens_count_as_in_pandapower():
    case = copy.deepcopy(load_case("ieee33"))
    net = case.net
    case.horizon.load_growth_per_year = 0.0
    net.load.loc[net.load.bus == 18, "scaling"] = 0.5
    pp.create_sgen(net, 10, p_mw=0.2, q_mvar=0.05, scaling=0.5)
    pp.create_sgen(net, 11, p_mw=9.0, in_service=False)
    pp.create_storage(net, 12, p_mw=0.1, max_e_mwh=1.0, q_mvar=0.0)
    g = planning_grid(case)
    b = ScenarioBatch.build(g, 1, profile="peak")
    load = b.load_p_mw[0, 0, 0]
    net_demand = load + b.fixed_p_mw[0]  # what the power flow sees
    pos = {int(bus): k for k, bus in enumerate(b.bus_labels)}
    # ieee33 loads: bus 18 90 kW, bus 33 60 kW, bus 10 60 kW, bus 12 60 kW (Baran & Wu)
    assert load[pos[18]] == pytest.approx(0.045)
    assert load[pos[10]] == pytest.approx(0.06)  # generators are not load
    assert net_demand[pos[10]] == pytest.approx(0.06 - 0.1)
    assert net_demand[pos[11]] == pytest.approx(0.045)  # the out-of-service sgen counts nothing
    assert net_demand[pos[12]] == pytest.approx(0.06 + 0.1)
    assert load.sum() == pytest.approx(3.715 - 0.045)
    assert net_demand.sum() == pytest.approx(3.715 - 0.045 - 0.1 + 0.1)


def test_same_seed_same_samples_and_stage_independent_draws():
    g = grid("ieee33")
    a = ScenarioBatch.build(g, 3, n_samples=20, seed=7, days=1)
    b = ScenarioBatch.build(g, 3, n_samples=20, seed=7, days=1)
    c = ScenarioBatch.build(g, 3, n_samples=20, seed=8, days=1)
    np.testing.assert_array_equal(a.load_p_mw, b.load_p_mw)
    np.testing.assert_array_equal(a.pv_pu, b.pv_pu)
    assert not np.array_equal(a.load_p_mw, c.load_p_mw)
    # the draws do not depend on the stage: stage ratios are the growth factor only
    loaded = a.load_p_mw[0] > 0
    ratio = a.load_p_mw[2][loaded] / a.load_p_mw[0][loaded]
    np.testing.assert_allclose(ratio, 1.015 ** 10, rtol=1e-12)
    # more samples extend, not change, the first ones
    d = ScenarioBatch.build(g, 3, n_samples=40, seed=7, days=1)
    assert d.n_samples == 40


def test_sample_factors_are_truncated_normals_with_sigma_a_third_of_the_deviation():
    g = grid("ieee33")
    unc = g.case.uncertainty
    b = ScenarioBatch.build(g, 1, n_samples=400, seed=1, days=1)
    forecast = b.load_p_mw[0, :, :1, :]  # (T, 1, B)
    loaded = (forecast > 0)[:, 0, :]
    f = (b.load_p_mw[0, :, 1:, :] / np.where(forecast > 0, forecast, 1.0)).transpose(0, 2, 1)[loaded]
    assert f.min() >= 1 - unc.load_deviation - 1e-12 and f.max() <= 1 + unc.load_deviation + 1e-12
    assert f.mean() == pytest.approx(1.0, abs=2e-3)
    # truncation at 3 sigma shrinks the std by 1.3 %
    assert f.std() == pytest.approx(unc.load_deviation / 3 * 0.9866, rel=0.02)
    pv = b.pv_pu[0, :, 1:, :]
    day = b.pv_pu[0, :, 0, 0] > 0
    g_pv = pv[day] / b.pv_pu[0, day][:, :1, :]
    assert g_pv.min() >= 1 - unc.pv_deviation - 1e-12 and g_pv.max() <= 1 + unc.pv_deviation + 1e-12
    assert (b.pv_pu >= 0).all()


def test_md24_uses_stage_demand():
    g = grid("md24")
    b = ScenarioBatch.build(g, 3, profile="peak")
    sd = g.case.candidates["stage_demand"]
    totals = sd.groupby("stage").p_mw.sum().to_numpy()
    np.testing.assert_allclose(b.load_p_mw[:, 0, 0, :].sum(axis=1), totals)
    lv = ScenarioBatch.build(g, 3, profile="levels", n_samples=2)
    np.testing.assert_allclose(lv.slot_hours, [2000, 5760, 1000])
    np.testing.assert_allclose(lv.load_p_mw[2, :, 0, :].sum(axis=1), totals[2] * np.array([0.7, 0.83, 1.0]))


def test_invalid_requests_are_refused():
    g = grid("ieee33")
    with pytest.raises(ValueError, match="load_levels"):
        ScenarioBatch.build(g, 3, profile="levels")
    with pytest.raises(ValueError):
        ScenarioBatch.build(g, 0)
    with pytest.raises(ValueError, match="unknown profile"):
        ScenarioBatch.build(g, 3, profile="weekly")


def test_memory_of_the_benchmark_batch_is_small():
    g = grid("ieee33")
    b = ScenarioBatch.build(g, 3, n_samples=100, days=1)
    assert b.load_p_mw.nbytes + b.load_q_mvar.nbytes < 4e6  # 2 x 3 x 24 x 100 x 33 floats
