"""The built-in feeders ieee33, ieee69 and tpc84 (files written by experiments/cases/build_feeders.py).

Reference values carry their source. Power flows use pandapower's Newton-Raphson
(``run_pandapower``) and our batch sweep on the same nets.
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pytest

from fdnmoo.cases import load_case, validate_case
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower

CASES = ["ieee33", "ieee69", "tpc84"]

# (buses, bus labels, in-service sections, tie-line labels, substation bus)
LAYOUT = {
    "ieee33": (33, range(1, 34), 32, range(33, 38), 1),
    "ieee69": (69, range(1, 70), 68, range(69, 74), 1),
    "tpc84": (84, range(0, 84), 83, range(84, 97), 0),
}

# Published base cases (constant-PQ loads, substation at 1.0 p.u.):
# ieee33: Baran & Wu (1989) 33-bus feeder, 202.68 kW and Vmin 0.9131 p.u. at bus 18 (as
#         reproduced by MATPOWER case33bw);
# ieee69: Baran & Wu (1989) 69-bus feeder, 224.99 kW and Vmin 0.9092 p.u. at bus 65;
# tpc84:  Su & Lee (2003), IEEE Trans. Power Delivery 18(3), 532.01 kW; Vmin 0.9285 p.u.
#         (no bus stated).
PUBLISHED = {
    "ieee33": {"losses_kw": 202.68, "vmin_pu": 0.9131, "vmin_bus": 18},
    "ieee69": {"losses_kw": 224.99, "vmin_pu": 0.9092, "vmin_bus": 65},
    "tpc84": {"losses_kw": 532.01, "vmin_pu": 0.9285, "vmin_bus": None},
}

# Su & Lee (2003) optimal configuration of the TPC network: all 13 ties closed and these
# lines open (OpenDSS line names, which are our line labels); they report 469.88 kW.
TPC84_OPTIMAL_OPEN = [7, 13, 34, 39, 42, 55, 62, 72, 83, 86, 89, 90, 92]
TPC84_OPTIMAL_LOSSES_KW = 469.88


@cache
def _case(name: str):
    return load_case(name)


def _pandapower(net):
    return run_pandapower(copy.deepcopy(net), numba=False)


@pytest.mark.parametrize("name", CASES)
def test_loads_and_validates(name):
    case = _case(name)
    validate_case(case)
    assert case.name == name
    assert case.citation and "schematic coordinates" in case.description
    assert set(case.candidates) >= {"sop_nodes", "pv", "svc", "ess", "evcs"}


@pytest.mark.parametrize("name", CASES)
def test_counts_and_labels(name):
    n_bus, bus_labels, n_sections, tie_labels, substation = LAYOUT[name]
    net = _case(name).net
    assert len(net.bus) == n_bus
    assert sorted(net.bus.index) == list(bus_labels)
    assert list(net.bus.name) == [str(b) for b in net.bus.index]
    in_service = net.line.in_service.astype(bool)
    assert int(in_service.sum()) == n_sections
    assert sorted(net.line.index[in_service]) == list(range(1, n_sections + 1))
    assert sorted(net.line.index[~in_service]) == list(tie_labels)
    assert _case(name).substation_buses == [substation]
    assert net.ext_grid.vm_pu.tolist() == [1.0]
    assert (net.line.length_km > 0).all() and (net.line.c_nf_per_km == 0).all()
    assert (net.line.max_i_ka == 0.4).all()


def test_ieee33_section_k_feeds_bus_k_plus_1():
    line = _case("ieee33").net.line
    sections = line[line.in_service.astype(bool)]
    assert (sections.to_bus == sections.index + 1).all()


def test_tpc84_has_feeders_a_to_k():
    case = _case("tpc84")
    assert case.feeders == list("ABCDEFGHIJK")
    # first bus of every feeder (DSS buses 12, 22, 26, 36, 41, 54, 58, 67, 76, 84, 88 minus 11)
    heads = {1: "A", 11: "B", 15: "C", 25: "D", 30: "E", 43: "F", 47: "G", 56: "H", 65: "I",
             73: "J", 77: "K"}
    feeder = case.net.bus.feeder
    assert {b: feeder[b] for b in heads} == heads
    # nodes named in the Nature Communications FDN paper (seed 000): 83 on K, 64 on H,
    # the reused tie (29, 39) between D and E
    assert (feeder[83], feeder[64], feeder[29], feeder[39]) == ("K", "H", "D", "E")


@pytest.mark.parametrize("name", CASES)
def test_base_case_matches_published(name):
    case = _case(name)
    published = PUBLISHED[name]
    got = _pandapower(case.net).summary()
    # published figures are rounded to 0.01 kW and 1e-4 p.u.
    assert got["losses_kw"] == pytest.approx(published["losses_kw"], abs=0.01)
    assert got["vmin_pu"] == pytest.approx(published["vmin_pu"], abs=5e-5)
    if published["vmin_bus"] is not None:
        assert got["vmin_bus"] == published["vmin_bus"]
    # the case file carries the same published figures
    for key in ("losses_kw", "vmin_pu"):
        assert case.reference[key] == published[key]


@pytest.mark.parametrize("name", CASES)
def test_batch_engine_matches_pandapower(name):
    net = _case(name).net
    reference = _pandapower(net)
    pf = BatchPowerFlow(net)
    result = pf.run(*pf.base_demand())
    assert result.converged.all()
    np.testing.assert_allclose(result.vm_pu, reference.vm_pu, rtol=0, atol=1e-6)
    assert result.loss_mw[0] == pytest.approx(reference.loss_mw[0], abs=1e-6)


# Ties inside one supply area in the source data: tpc84 tie 95 (DSS buses 51-53, our 40-42)
# closes a loop within feeder E of Su & Lee's network.
INTRA_AREA_TIES = {"ieee33": set(), "ieee69": set(), "tpc84": {95}}


@pytest.mark.parametrize("name", CASES)
def test_every_tie_joins_two_supply_areas(name):
    case = _case(name)
    feeder = case.net.bus.feeder
    inside = {int(label) for label, tie in case.tie_lines.iterrows()
              if feeder[tie.from_bus] == feeder[tie.to_bus]}
    assert inside == INTRA_AREA_TIES[name]


@pytest.mark.parametrize("name", CASES)
def test_candidate_tables_reference_existing_buses(name):
    case = _case(name)
    buses = set(case.net.bus.index)
    for table, df in case.candidates.items():
        assert len(df) > 0, table
        assert set(df.bus) <= buses, table
        assert not df.bus.duplicated().any(), table
    ties = case.tie_lines
    sop = case.candidates["sop_nodes"]
    assert set(sop.bus) == set(ties.from_bus) | set(ties.to_bus)
    assert (sop.feeder.to_numpy() == case.net.bus.feeder[sop.bus].to_numpy()).all()


@pytest.mark.parametrize("name", CASES)
def test_every_economic_number_has_a_source(name):
    e = _case(name).economics
    keys = set(e.lifetimes_years) | set(e.unit_costs) | set(e.prices) | {"discount_rate", "currency"}
    assert keys <= set(e.sources)


def test_tpc84_literature_optimal_configuration():
    case = _case("tpc84")
    assert case.reference["reconfigured_open_lines"] == TPC84_OPTIMAL_OPEN
    net = copy.deepcopy(case.net)
    net.line["in_service"] = ~net.line.index.isin(TPC84_OPTIMAL_OPEN)
    got = _pandapower(net).summary()
    # Su & Lee (2003) report 469.88 kW; pandapower gives 469.893 kW (radial, all buses supplied)
    assert got["losses_kw"] == pytest.approx(TPC84_OPTIMAL_LOSSES_KW, abs=0.02)
    pf = BatchPowerFlow(case.net, closed_lines=net.line.index[net.line.in_service])
    result = pf.run(*pf.base_demand())
    assert pf.supplied.all()
    assert result.loss_mw[0] * 1e3 == pytest.approx(got["losses_kw"], abs=1e-3)
