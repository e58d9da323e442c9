"""Synthetic radial feeders (fdnmoo.cases.synthetic)."""

from __future__ import annotations

import copy
import json
from functools import cache

import numpy as np
import pytest

from fdnmoo.cases import load_case, validate_case
from fdnmoo.cases.io import case_to_dict
from fdnmoo.cases.synthetic import synthetic_case
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower
from fdnmoo.branches import branch_table


@cache
def _case(n_bus: int, n_feeders: int = 4, seed: int = 0, **kw):
    return synthetic_case(n_bus=n_bus, n_feeders=n_feeders, seed=seed, **kw)


def _batch(case):
    pf = BatchPowerFlow(case.net)
    return pf.run(*pf.base_demand())


def _doc(case) -> str:
    return json.dumps(case_to_dict(case), sort_keys=True)


def test_same_seed_same_case_other_seed_other_case():
    a = synthetic_case(n_bus=200, seed=7)
    b = synthetic_case(n_bus=200, seed=7)
    c = synthetic_case(n_bus=200, seed=8)
    assert _doc(a) == _doc(b)
    assert _doc(a) != _doc(c)
    assert not np.allclose(a.net.line.length_km[:50], c.net.line.length_km[:50])


def test_registry_builds_it():
    case = load_case("synthetic", n_bus=120, n_feeders=3, seed=2)
    assert len(case.net.bus) == 120 and case.feeders == ["F1", "F2", "F3"]


@pytest.mark.parametrize("n_bus, n_feeders, n_substations",
                         [(5, 4, 1), (10, 1, 1), (57, 3, 1), (300, 4, 1), (999, 7, 1), (400, 6, 2)])
def test_sizes_radial_and_feeders(n_bus, n_feeders, n_substations):
    case = _case(n_bus, n_feeders, n_substations=n_substations)
    net = case.net
    validate_case(case)  # radial, every bus supplied, schema columns
    assert len(net.bus) == n_bus and list(net.bus.index) == list(range(n_bus))
    assert case.substation_buses == list(range(n_substations))
    assert int(net.line.in_service.sum()) == n_bus - n_substations
    assert case.feeders == [f"F{f + 1}" for f in range(n_feeders)]
    # every feeder is one subtree hanging from one substation bus
    st = branch_table(net).radial_structure()
    assert st.supplied.all()
    head_of = {}
    for b in st.order:  # parents first
        u = st.parent[b]
        head_of[b] = b if u < n_substations else head_of[u]
    feeder = net.bus.feeder.to_numpy()
    for b, h in head_of.items():
        assert feeder[b] == feeder[h]
    assert len({head_of[b] for b in head_of}) == n_feeders


def test_loads_lengths_and_coordinates_are_realistic():
    case = _case(1000)
    net = case.net
    ref = case.reference
    assert all(2.0 <= p <= 6.0 for p in ref["feeder_peak_mw"])
    assert all(4.0 <= km <= 15.0 for km in ref["feeder_length_km"])
    load = net.load.join(net.bus.feeder, on="bus")
    per_feeder = load.groupby("feeder").p_mw.sum().to_numpy()
    assert np.allclose(per_feeder, ref["feeder_peak_mw"], atol=1e-6)
    pf = load.p_mw / np.hypot(load.p_mw, load.q_mvar)
    assert pf.between(0.9 - 1e-9, 0.98 + 1e-9).all()
    tree_lines = net.line[net.line.in_service.astype(bool)]
    km = tree_lines.length_km.groupby(net.bus.feeder[tree_lines.to_bus].to_numpy()).sum()
    assert np.allclose(km.to_numpy(), ref["feeder_length_km"], atol=1e-3)
    assert net.line.r_ohm_per_km.between(0.1, 0.6).all() and net.line.x_ohm_per_km.between(0.1, 0.4).all()
    # a line is as long as the straight distance between its ends
    xy = net.bus[["x_km", "y_km"]].to_numpy()
    dist = np.linalg.norm(xy[net.line.from_bus] - xy[net.line.to_bus], axis=1)
    tree = net.line.in_service.to_numpy()
    assert np.allclose(dist[tree], net.line.length_km[tree], atol=1e-5)
    assert (net.line.failure_rate_per_year > 0).all() and (net.line.repair_time_h > 0).all()


def test_ties_and_candidates():
    case = _case(300)
    net = case.net
    ties = case.tie_lines
    assert len(ties) == 4
    feeder = net.bus.feeder
    assert (feeder[ties.from_bus].to_numpy() != feeder[ties.to_bus].to_numpy()).all()
    ends = np.concatenate([ties.from_bus, ties.to_bus])
    assert len(set(ends)) == len(ends) and 0 not in ends
    assert sorted(case.candidates["sop_nodes"].bus) == sorted(ends)
    assert len(case.candidates["pv"]) >= 4 and len(case.candidates["svc"]) >= 4
    assert len(synthetic_case(n_bus=200, n_feeders=3, n_ties=7).tie_lines) == 7
    assert len(synthetic_case(n_bus=50, n_feeders=1).tie_lines) == 0


def test_batch_power_flow_equals_pandapower_300_buses():
    net = _case(300, seed=3).net
    ref = run_pandapower(copy.deepcopy(net), numba=False)
    res = _batch(_case(300, seed=3))
    assert ref.converged[0] and res.converged[0]
    assert np.max(np.abs(res.v_pu[0] - ref.v_pu[0])) < 1e-6
    assert res.loss_mw[0] == pytest.approx(ref.loss_mw[0], rel=1e-6)


@pytest.mark.parametrize("n_bus", [30, 300, 3000])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_base_vmin_in_realistic_band(n_bus, seed):
    res = _batch(_case(n_bus, seed=seed))
    assert res.converged[0]
    vm = res.vm_pu[0]
    assert 0.91 < np.nanmin(vm) < 0.97
    assert np.nanmax(res.i_ka[0] / _case(n_bus, seed=seed).net.line.max_i_ka.to_numpy()) < 1.0


def test_voltage_level_keeps_the_per_unit_profile():
    lv, mv = _case(300), _case(300, vn_kv=20.0)
    tree = lv.net.line.in_service.to_numpy(bool)
    assert np.array_equal(lv.net.line.from_bus[tree], mv.net.line.from_bus[tree])
    assert (mv.net.bus.vn_kv == 20.0).all()
    # load and length scale with vn_kv / 11 (currents unchanged)
    assert np.allclose(mv.net.load.p_mw, lv.net.load.p_mw * 20 / 11)
    assert np.allclose(_batch(lv).vm_pu, _batch(mv).vm_pu, atol=5e-3)


def test_ten_thousand_buses_build_validate_and_solve():
    # build time: experiments/bench/synthetic.py (against pandapower's own table creation)
    case = synthetic_case(n_bus=10_000, n_feeders=8, seed=5)
    validate_case(case)
    res = _batch(case)
    assert len(case.net.bus) == 10_000 and len(case.feeders) == 8
    assert int(case.net.line.in_service.sum()) == 10_000 - len(case.substation_buses)  # radial
    assert res.converged[0] and 0.91 < np.nanmin(res.vm_pu) < 0.97


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_bus=4, n_feeders=4), "n_bus"),
    (dict(n_bus=3, n_feeders=2, n_substations=2), "every feeder needs at least one bus"),
    (dict(n_feeders=0), "n_feeders must be a whole number >= 1"),
    (dict(n_feeders=-2), "n_feeders"),
    (dict(n_feeders=2.5), "n_feeders"),
    (dict(n_bus=True), "n_bus"),
    (dict(n_feeders=1, n_ties=1), "n_feeders >= 2"),
    (dict(n_feeders=2, n_substations=3), "n_substations"),
    (dict(n_ties=-1), "n_ties"),
    (dict(seed=-1), "seed"),
    (dict(vn_kv=0.0), "vn_kv"),
    (dict(feeder_peak_mw=(5.0, 1.0)), "feeder_peak_mw"),
    (dict(vmin_target_pu=(0.95, 1.01)), "vmin_target_pu"),
    (dict(trunk_share=0.0), "trunk_share"),
    (dict(n_bus=12, n_feeders=2, n_ties=40), "cannot place 40 tie lines"),
])
def test_bad_parameters_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthetic_case(**kwargs)
