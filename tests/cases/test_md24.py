"""The md24 case: Munoz-Delgado et al. 24-node expansion system (experiments/cases/build_md24.py).

Expected values are read by hand from shared/data/munoz_delgado_24node.json
(Munoz-Delgado, Contreras, Arroyo, IEEE Trans. Power Syst. 30(5), 2015), not
computed with the builder.
"""

from __future__ import annotations

import copy
import math
from functools import cache

import numpy as np
import pytest

from fdnmoo.cases import load_case, validate_case
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower

# Sum of peak_demand_mva over the 24 nodes, per stage (by hand from the source JSON):
# stage 1: 4.05+0.78+2.58+0.32+0.28+1.17+4.04+0.72+1.14+1.56                     = 16.64 MVA
# stage 2: 3.45+0.77+3.38+0.41+0.37+0.92+3.70+0.60+1.12+2.04+1.91+0.93+1.15+3.05
#          +1.62+2.16                                                             = 27.58 MVA
# stage 3: 5.42+1.21+3.98+2.43+0.47+1.81+4.36+0.94+1.77+2.40+2.80+1.29+1.87+3.16
#          +1.62+1.22+2.40+2.10+1.81+3.79                                         = 46.85 MVA
STAGE_MVA = {1: 16.64, 2: 27.58, 3: 46.85}
POWER_FACTOR = 0.9
# existing corridors (EFF/ERF) of the source: the only lines of the base topology
EXISTING = {(1, 21): "existing_replaceable", (2, 21): "existing_fixed",
            (6, 22): "existing_fixed", (8, 22): "existing_replaceable"}
SUPPLIED = {1, 2, 6, 8, 21, 22}


@cache
def _case():
    return load_case("md24")


def test_loads_and_validates():
    case = _case()
    validate_case(case)
    assert case.name == "md24"
    assert "Munoz-Delgado" in case.citation and "Munoz-Delgado" in case.economics.sources["data"]
    assert case.reference["n_nodes"] == 24 and case.reference["n_corridors"] == 33
    assert case.reference["n_substations"] == 4


def test_nodes_and_substations():
    case = _case()
    bus = case.net.bus
    mv = bus[bus.vn_kv == 20.0]
    assert sorted(mv.index) == list(range(1, 25))
    assert (mv.name == mv.index.astype(str)).all()
    assert set(bus.index[bus.in_service.astype(bool)]) & set(range(1, 25)) == SUPPLIED
    subs = case.candidates["substations"].set_index("bus")
    assert sorted(subs.index[subs.status == "existing"]) == [21, 22]
    assert sorted(subs.index[subs.status == "candidate"]) == [23, 24]
    assert subs.investment.to_dict() == {21: 100000, 22: 100000, 23: 140000, 24: 180000}
    # existing substations: ext_grid upstream of a transformer into the 20 kV bus
    trafo = case.net.trafo
    assert sorted(trafo.lv_bus) == [21, 22]
    assert set(case.net.ext_grid.bus) == set(trafo.hv_bus)
    assert np.allclose(trafo.sn_mva, 7.5)
    # |Z| = 0.25 ohm on 20 kV / 7.5 MVA: vk = 0.25 / 53.33 = 0.46875 %
    assert np.allclose(trafo.vk_percent, 0.46875)


def test_corridors():
    corridors = _case().candidates["corridors"]
    assert len(corridors) == 33
    kinds = corridors.kind.value_counts().to_dict()
    assert kinds == {"new": 29, "existing_fixed": 2, "existing_replaceable": 2}
    line = _case().net.line
    assert len(line) == 4 and line.in_service.all()
    for row in corridors.itertuples():
        ends = (min(row.from_bus, row.to_bus), max(row.from_bus, row.to_bus))
        if row.kind == "new":
            assert row.line == -1
        else:
            assert EXISTING[ends] == row.kind
            assert {line.from_bus[row.line], line.to_bus[row.line]} == set(ends)
            assert line.length_km[row.line] == row.length_km


def test_stage_demand_matches_source():
    case = _case()
    sd = case.candidates["stage_demand"]
    assert sorted(sd.stage.unique()) == [1, 2, 3]
    s_mva = np.hypot(sd.p_mw, sd.q_mvar)
    for stage, total in STAGE_MVA.items():
        rows = sd.stage == stage
        assert s_mva[rows].sum() == pytest.approx(total, abs=1e-9)
        assert sd.p_mw[rows].sum() == pytest.approx(POWER_FACTOR * total, abs=1e-9)
    assert np.allclose(sd.p_mw[s_mva > 0] / s_mva[s_mva > 0], POWER_FACTOR)
    # net.load holds stage 1; only the loads of supplied nodes are in service
    load = case.net.load
    assert np.hypot(load.p_mw, load.q_mvar).sum() == pytest.approx(STAGE_MVA[1])
    assert set(load.bus[load.in_service.astype(bool)]) == {1, 2, 6, 8}


def test_candidate_tables():
    case = _case()
    cond = case.candidates["conductors"].set_index("type")
    assert list(cond.kind) == ["existing_replaceable"] * 2 + ["new"] * 2
    # MVA limits at 20 kV: I = S / (sqrt(3) 20 kV)
    assert np.allclose(cond.max_i_ka, np.array([6.28, 9.0, 3.94, 6.28]) / (math.sqrt(3) * 20))
    assert list(cond.investment_per_km) == [19140, 29870, 15020, 25030]
    assert np.allclose(np.hypot(cond.r_ohm_per_km, cond.x_ohm_per_km), [0.557, 0.478, 0.732, 0.557])
    tt = case.candidates["transformer_types"].set_index("type")
    assert list(tt.capacity_mva) == [7.5, 12, 15] and list(tt.investment) == [0, 750000, 950000]
    lv = case.candidates["load_levels"]
    assert lv.duration_h.sum() == 8760 and list(lv.energy_price_per_mwh) == [57.7, 70, 85.3]
    dg = case.candidates["dg"]
    assert (dg.technology == "conventional").sum() == 8 and (dg.technology == "wind").sum() == 8
    assert len(case.candidates["dg_types"]) == 4


def test_horizon_economics_uncertainty():
    case = _case()
    assert case.horizon.n_stages == 3 and case.horizon.years_per_stage == 1
    e = case.economics
    assert e.discount_rate == 0.071
    assert e.unit_costs["investment_budget_per_stage"] == 6_000_000
    assert e.prices["unserved_energy_per_mwh"] == 2000
    assert (case.uncertainty.v_min_pu, case.uncertainty.v_max_pu) == (0.95, 1.05)


def test_base_power_flow_pandapower_and_batch_agree():
    net = _case().net
    ref = run_pandapower(copy.deepcopy(net), numba=False)
    assert ref.converged[0]
    pf = BatchPowerFlow(net)
    res = pf.run(*pf.base_demand())
    assert res.converged[0]
    supplied = ~np.isnan(ref.vm_pu[0])
    assert np.array_equal(supplied, ~np.isnan(res.vm_pu[0]))
    assert np.max(np.abs(res.v_pu[0, supplied] - ref.v_pu[0, supplied])) < 1e-6
    assert res.loss_mw[0] == pytest.approx(ref.loss_mw[0], abs=1e-8)
    # the 20 kV substation buses sit just below the 1.05 p.u. of the source
    vm = dict(zip(res.bus_labels, res.vm_pu[0]))
    assert 1.04 < vm[21] < 1.05 and 1.04 < vm[22] < 1.05


def test_wind_data_transcribed():
    case = load_case("md24")
    speed = case.candidates["wind_speed"].set_index(["zone", "level"]).speed_m_s
    # Munoz-Delgado et al. (2015) 24-node data: zone A 8.53/9.12/10.04 m/s, zone C level 1 4.13 m/s
    assert speed[("A", 1)] == 8.53 and speed[("A", 3)] == 10.04 and speed[("C", 1)] == 4.13
    curve = case.candidates["wind_power_curve"]
    type2 = curve[curve.alternative == 2].set_index("speed_m_s").p_kw
    assert type2[13.0] == 2050.0 and len(curve) == 15 + 12
