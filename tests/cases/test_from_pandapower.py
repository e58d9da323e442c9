"""from_pandapower: imported cases against pandapower's Newton-Raphson on the original net.

Reference: ``pandapower.runpp`` on the user's original net (with its switches). The
case's base power flow (our BatchPowerFlow on ``case.net``) must agree with it to
1e-6 p.u. (SPEC: the batch engine matches NR to 1e-6) except for what the case
format cannot express: a line opened by a switch at one end only carries its
charging current in pandapower and nothing as an open tie. With that charging
removed from the original (``c_nf_per_km = g_us_per_km = 0`` on those lines) the
two must agree to 1e-6 again, which shows that charging is the whole difference.
"""

import copy
import json
import math

import numpy as np
import pandapower
import pandapower.toolbox
import pandapower.networks as pn
import pandas as pd
import pytest

from fdnmoo.cases import CaseError, from_pandapower, read_case, validate_case, write_case
from fdnmoo.cases.candidate_rules import RULE_PARAMETERS
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower

TOL_PU = 1e-6  # SPEC: batch engine vs pandapower NR


def cigre_mv():
    return pn.create_cigre_network_mv(with_der="pv_wind")


NETS = {"case33bw": pn.case33bw, "cigre_mv": cigre_mv, "mv_oberrhein": pn.mv_oberrhein}


@pytest.fixture(scope="module", params=sorted(NETS))
def imported(request):
    net = NETS[request.param]()
    return request.param, net, from_pandapower(net, name=request.param)


def batch_vm(case) -> pd.Series:
    pf = BatchPowerFlow(case.net)
    res = pf.run(*pf.base_demand())
    assert res.converged.all()
    return pd.Series(res.vm_pu[0], index=res.bus_labels)


def runpp_vm(net) -> pd.Series:
    res = run_pandapower(copy.deepcopy(net))
    assert res.converged[0]
    return pd.Series(res.vm_pu[0], index=res.bus_labels)


def max_dv_per_original_bus(case, vm_original: pd.Series, vm_case: pd.Series) -> float:
    pairs = [(o, c) for o, c in case.reference["bus_map"] if c is not None]
    return max(abs(vm_original[o] - vm_case[c]) for o, c in pairs)


def without_one_end_charging(net, case):
    net = copy.deepcopy(net)
    net.line.loc[case.reference["open_at_one_end_lines"], ["c_nf_per_km", "g_us_per_km"]] = 0.0
    return net


def test_case_validates_and_survives_a_file_round_trip(imported, tmp_path):
    name, _, case = imported
    validate_case(case)
    again = read_case(write_case(case, tmp_path / f"{name}.json"))
    assert again.reference["bus_map"] == case.reference["bus_map"]
    assert set(again.candidates) == set(case.candidates)


def test_base_power_flow_against_runpp_on_the_original(imported):
    name, net, case = imported
    vm_case = batch_vm(case)
    # our engine on the case net = pandapower on the case net
    assert float((vm_case - runpp_vm(case.net)).abs().max()) <= TOL_PU
    # = pandapower on the original net, once one-end charging (lost by the format) is removed
    exact = max_dv_per_original_bus(case, runpp_vm(without_one_end_charging(net, case)), vm_case)
    assert exact <= TOL_PU, name
    # the recorded difference with charging is the measured one, and small for MV feeders
    measured = max_dv_per_original_bus(case, runpp_vm(net), vm_case)
    recorded = case.reference["pandapower"]["max_abs_dv_pu"]
    assert measured == pytest.approx(recorded, abs=1e-8)
    assert measured < 2e-3
    if case.reference["open_at_one_end_lines"]:
        assert measured > 1e-5  # the charging really is lost, and the notes say so
        assert any("charging" in n for n in case.reference["notes"])
    else:
        assert measured <= TOL_PU


def test_every_original_bus_is_mapped(imported):
    _, net, case = imported
    mapping = dict(case.reference["bus_map"])
    assert set(mapping) == set(int(b) for b in net.bus.index)
    assert {c for c in mapping.values() if c is not None} == set(int(b) for b in case.net.bus.index)


def test_ties_are_the_lines_open_switches_or_in_service_leave_open(imported):
    _, net, case = imported
    sw = net.switch
    switched = set(int(e) for e in sw.element[(sw.et == "l") & ~sw.closed.astype(bool)])
    expected = switched | set(int(k) for k in net.line.index[~net.line.in_service.astype(bool)])
    assert set(int(k) for k in case.tie_lines.index) == expected
    assert len(case.net.switch) == 0


def test_the_input_net_is_not_modified():
    net = cigre_mv()
    before = copy.deepcopy(net)
    from_pandapower(net)
    assert pandapower.toolbox.nets_equal(net, before)


def test_single_feeder_is_split_into_areas_so_ties_join_different_areas():
    case = from_pandapower(pn.case33bw())
    # case33bw: one line leaves the substation; laterals 18-21 (4 buses) and 25-32 (8 buses)
    # hold >= 10 % of the 33 buses (0-based MATPOWER labels), 22-24 (3 buses) does not
    feeder = case.net.bus.feeder
    assert len(set(feeder)) == 3
    assert feeder[18] == feeder[21] != feeder[1]
    assert feeder[25] == feeder[32] != feeder[1] and feeder[22] == feeder[1]
    ends = case.tie_lines
    assert (feeder[ends.from_bus].to_numpy() != feeder[ends.to_bus].to_numpy()).sum() >= 3


def test_geodata_in_unknown_units_is_scaled_to_line_lengths():
    case = from_pandapower(cigre_mv())
    assert "unknown units" in case.reference["coordinates"]
    line = case.net.line[case.net.line.in_service]
    xy = case.net.bus[["x_km", "y_km"]]
    d = np.hypot(*(xy.loc[line.from_bus].to_numpy() - xy.loc[line.to_bus].to_numpy()).T)
    assert np.median(line.length_km.to_numpy()[d > 0] / d[d > 0]) == pytest.approx(1.0)


def test_wgs84_geodata_is_projected_to_km():
    net = pn.mv_oberrhein()
    case = from_pandapower(net)
    assert "WGS84" in case.reference["coordinates"]
    a, b = 58, 318  # the two substations of mv_oberrhein
    (lon1, lat1), (lon2, lat2) = (json.loads(net.bus.geo[k])["coordinates"] for k in (a, b))
    # haversine on a 6371 km sphere (independent of the equirectangular projection)
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    great_circle = 2 * 6371.0 * math.asin(math.sqrt(h))
    xy = case.net.bus[["x_km", "y_km"]]
    assert math.dist(xy.loc[a], xy.loc[b]) == pytest.approx(great_circle, rel=5e-3)


def test_no_geodata_gives_schematic_coordinates_and_the_file_says_so():
    net = pn.case33bw()
    net.bus["geo"] = None
    case = from_pandapower(net)
    assert "schematic" in case.reference["coordinates"] and "schematic" in case.description
    assert case.net.bus[["x_km", "y_km"]].notna().all().all()


def test_defaults_are_marked_as_assumed_with_their_source():
    case = from_pandapower(cigre_mv())
    assumed = " ".join(case.reference["assumed"])
    for key in ("economics", "horizon", "uncertainty", "candidates.pv", "failure_rate_per_year"):
        assert key in assumed
    assert case.economics.sources and all(v.startswith("assumed") for v in case.economics.sources.values())
    # RBTS 11 kV sections: 0.065 failures per km-year, 5 h repair
    line = case.net.line
    np.testing.assert_allclose(line.failure_rate_per_year, 0.065 * line.length_km)
    assert (line.repair_time_h == 5.0).all()


def test_candidate_rules_follow_the_documented_shares():
    case = from_pandapower(cigre_mv())
    pv, feeder = case.candidates["pv"], case.net.bus.feeder
    peak = case.net.load.groupby(feeder[case.net.load.bus].to_numpy()).p_mw.sum()
    for _, row in pv.iterrows():
        expected = math.ceil(round(RULE_PARAMETERS["pv_share"] * peak[feeder[row.bus]] * 10, 6)) / 10
        assert row.max_mw == pytest.approx(max(0.1, expected))
    assert set(case.candidates["sop_nodes"].bus) == set(case.tie_lines.from_bus) | set(case.tie_lines.to_bus)
    ess = case.candidates["ess"]
    np.testing.assert_allclose(ess.max_mwh, RULE_PARAMETERS["ess_hours"] * ess.max_mw)


def test_overrides_replace_drop_and_tune_tables_and_records():
    base = from_pandapower(cigre_mv())
    pv = pd.DataFrame({"bus": [5, 9], "max_mw": [2.0, 3.0]})
    case = from_pandapower(cigre_mv(), pv=pv, evcs=None, ess_share=0.5,
                           economics={"discount_rate": 0.05}, horizon={"n_stages": 2, "pv_penetration": [],
                                                                       "ev_penetration": []})
    pd.testing.assert_frame_equal(case.candidates["pv"], pv)
    assert "evcs" not in case.candidates
    assert (case.candidates["ess"].max_mw >= base.candidates["ess"].max_mw).all()
    assert (case.candidates["ess"].max_mw > base.candidates["ess"].max_mw).any()
    assert case.economics.discount_rate == 0.05
    assert case.economics.unit_costs == base.economics.unit_costs
    assert case.horizon.n_stages == 2
    assert "candidates.pv" not in case.reference["assumed"]


def test_closed_bus_switch_fuses_buses_and_results_match_per_original_bus():
    net = pn.case33bw()
    extra = pandapower.create_bus(net, 12.66)
    pandapower.create_load(net, extra, p_mw=0.2, q_mvar=0.1)
    pandapower.create_switch(net, 5, extra, et="b", closed=True)
    spare = pandapower.create_bus(net, 12.66)
    pandapower.create_switch(net, 7, spare, et="b", closed=False)
    case = from_pandapower(net)
    mapping = dict(case.reference["bus_map"])
    assert mapping[extra] == 5 and mapping[spare] is None  # spare: nothing supplies it
    assert (case.net.load.bus == 5).sum() == 2
    # pandapower fuses the switch too: the same voltages at every original bus
    assert max_dv_per_original_bus(case, runpp_vm(net), batch_vm(case)) <= TOL_PU


def test_bad_candidate_table_type_is_refused():
    with pytest.raises(CaseError) as err:
        from_pandapower(pn.case33bw(), pv=3)
    assert err.value.field == "pv" and "DataFrame" in str(err.value)
