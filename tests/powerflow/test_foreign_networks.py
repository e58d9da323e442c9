"""The batch engine on networks it was not written for, against pandapower NR.

* every radial distribution network bundled with ``pandapower.networks``;
* the SimBench MV and LV grids (data shipped inside the ``simbench`` package),
  at their base state and at time steps of their own year of load/PV profiles;
* random radial reconfigurations of those that have ties (open switches).

Meshed or unsupported networks of ``pandapower.networks`` must be refused with
a clear error instead (last tests).
"""

import copy
import re
import warnings

import numpy as np
import pandapower.networks as pn
import pytest

from fdnmoo.branches import UnsupportedNetError
from fdnmoo.demand import profile_demand
from fdnmoo.powerflow import BatchPowerFlow, run_pandapower
from fdnmoo.topology import NonRadialError, spanning_forest
from pf_checks import assert_same, solve_both

simbench = pytest.importorskip("simbench")  # a third-party package, not ours

RADIAL_NETWORKS = {
    "case33bw": pn.case33bw,
    "cigre_mv": pn.create_cigre_network_mv,
    "cigre_mv_pv_wind": lambda: pn.create_cigre_network_mv(with_der="pv_wind"),
    "cigre_mv_all_der": lambda: pn.create_cigre_network_mv(with_der="all"),
    "cigre_lv": pn.create_cigre_network_lv,
    "dickert_lv": pn.create_dickert_lv_network,
    "dickert_lv_long_mixed_multiple_bad": lambda: pn.create_dickert_lv_network(
        feeders_range="long", linetype="C&OHL", customer="multiple", case="bad",
        trafo_type_name="0.4 MVA 20/0.4 kV"),
    "kerber_landnetz_freileitung_1": pn.create_kerber_landnetz_freileitung_1,
    "kerber_landnetz_freileitung_2": pn.create_kerber_landnetz_freileitung_2,
    "kerber_landnetz_kabel_1": pn.create_kerber_landnetz_kabel_1,
    "kerber_landnetz_kabel_2": pn.create_kerber_landnetz_kabel_2,
    "kerber_dorfnetz": pn.create_kerber_dorfnetz,
    "kerber_vorstadtnetz_kabel_1": pn.create_kerber_vorstadtnetz_kabel_1,
    "kerber_vorstadtnetz_kabel_2": pn.create_kerber_vorstadtnetz_kabel_2,
    "kb_extrem_dorfnetz": pn.kb_extrem_dorfnetz,
    "kb_extrem_dorfnetz_trafo": pn.kb_extrem_dorfnetz_trafo,
    "kb_extrem_landnetz_freileitung": pn.kb_extrem_landnetz_freileitung,
    "kb_extrem_landnetz_freileitung_trafo": pn.kb_extrem_landnetz_freileitung_trafo,
    "kb_extrem_landnetz_kabel": pn.kb_extrem_landnetz_kabel,
    "kb_extrem_landnetz_kabel_trafo": pn.kb_extrem_landnetz_kabel_trafo,
    "kb_extrem_vorstadtnetz_1": pn.kb_extrem_vorstadtnetz_1,
    "kb_extrem_vorstadtnetz_2": pn.kb_extrem_vorstadtnetz_2,
    "kb_extrem_vorstadtnetz_trafo_1": pn.kb_extrem_vorstadtnetz_trafo_1,
    "kb_extrem_vorstadtnetz_trafo_2": pn.kb_extrem_vorstadtnetz_trafo_2,
    "mv_oberrhein": pn.mv_oberrhein,
    "mv_oberrhein_generation": lambda: pn.mv_oberrhein(scenario="generation"),
    "mv_oberrhein_substations": lambda: pn.mv_oberrhein(include_substations=True),
    "simple_mv_open_ring_net": pn.simple_mv_open_ring_net,
    "panda_four_load_branch": pn.panda_four_load_branch,
    "four_loads_with_branches_out": pn.four_loads_with_branches_out,
    "simple_four_bus_system": pn.simple_four_bus_system,
    "synthetic_voltage_control_lv_network": pn.create_synthetic_voltage_control_lv_network,
}

SIMBENCH_GRIDS = ["1-MV-rural--0-sw", "1-MV-semiurb--0-sw", "1-MV-urban--0-sw", "1-MV-comm--0-sw",
                  "1-LV-rural1--0-sw", "1-LV-rural2--0-sw", "1-LV-rural3--0-sw",
                  "1-LV-semiurb4--0-sw", "1-LV-semiurb5--0-sw", "1-LV-urban6--0-sw"]
WITH_TIES = ["case33bw", "cigre_mv", "mv_oberrhein", "simple_mv_open_ring_net"]
N_STEPS = 12  # profile time steps per SimBench grid (issue 6: at least 10)

_NETS: dict = {}


def network(name: str):
    """A fresh copy of a named network (built once per test session)."""
    if name not in _NETS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _NETS[name] = (simbench.get_simbench_net(name) if name in SIMBENCH_GRIDS
                           else RADIAL_NETWORKS[name]())
    return copy.deepcopy(_NETS[name])


@pytest.mark.parametrize("name", sorted(RADIAL_NETWORKS))
def test_pandapower_networks_match_newton_raphson(name):
    res, ref = solve_both(network(name))
    assert_same(res, ref)


def profile_steps(profiles, n_steps: int) -> np.ndarray:
    """The steps of the largest load, the largest generation and the lowest net load,
    plus evenly spread ones."""
    load = profiles[("load", "p_mw")].sum(axis=1).to_numpy()
    gen = profiles[("sgen", "p_mw")].sum(axis=1).to_numpy()
    special = [int(load.argmax()), int(gen.argmax()), int((load - gen).argmin())]
    spread = np.linspace(0, len(load) - 1, n_steps - len(special)).astype(int)
    return np.unique(np.concatenate([special, spread]))


def apply_step(net, profiles, step: int) -> None:
    for (table, column), df in profiles.items():
        if df.shape[1] and table in ("load", "sgen", "storage"):
            net[table].loc[df.columns, column] = df.iloc[step].to_numpy()


@pytest.mark.parametrize("code", SIMBENCH_GRIDS)
def test_simbench_grids_at_base_state_and_profile_steps(code):
    net = network(code)
    assert_same(*solve_both(net))
    profiles = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    steps = profile_steps(profiles, N_STEPS)
    assert len(steps) >= 10
    pf = BatchPowerFlow(net)
    p, q = profile_demand(net, profiles)
    ours = pf.run(p[steps], q[steps])  # one batched run over the steps
    for row, step in enumerate(steps):
        apply_step(net, profiles, step)
        ref = run_pandapower(net)
        one = BatchPowerFlow(net).run(*BatchPowerFlow(net).base_demand())
        np.testing.assert_array_equal(one.vm_pu[0], ours.vm_pu[row])  # same demand either way
        assert_same(one, ref)


def random_radial_lines(pf: BatchPowerFlow, rng) -> np.ndarray:
    """Lines of a random radial configuration: about half of the ties closed, each loop
    opened at a random line. Transformers, impedances and switches stay as they are."""
    br = pf.branches
    fixed = ~br.is_line & br.closed
    usable = br.is_line & br.bus_in_service[br.from_pos] & br.bus_in_service[br.to_pos]
    weights = np.where(usable, rng.random(len(br.kind)), np.inf)
    tie = usable & ~br.closed
    weights[tie] -= rng.integers(0, 2, int(tie.sum()))  # a preferred tie is taken first
    weights[fixed] = -2.0  # taken before any line
    closed = spanning_forest(br.n_bus, br.from_pos, br.to_pos, weights, br.root_pos)
    return br.element[closed & br.is_line]


def reconfigured_net(net, closed_lines, pf):
    """The same reconfiguration in pandapower: chosen lines in service with their switches
    closed; lines half-open in the base net stay so; every other line out of service."""
    net = copy.deepcopy(net)
    br = pf.branches
    half_open = br.element[br.is_line & (br.live_end != 0)]
    chosen = net.line.index.isin(closed_lines)
    sw = net.switch
    line_sw = (sw.et == "l") & sw.element.isin(closed_lines)
    net.switch.loc[line_sw, "closed"] = True
    net.line["in_service"] = chosen | net.line.index.isin(half_open)
    return net


@pytest.mark.parametrize("name", WITH_TIES + SIMBENCH_GRIDS[:4])
@pytest.mark.parametrize("seed", range(3))
def test_random_reconfigurations_of_networks_with_ties(name, seed):
    net = network(name)
    pf = BatchPowerFlow(net)
    base = set(pf.branches.element[pf.branches.closed & pf.branches.is_line])
    rng = np.random.default_rng([seed, len(name)])
    for _ in range(20):  # some random trees collapse the voltage: both engines must say so
        closed = random_radial_lines(pf, rng)
        res = pf.reconfigure(closed_lines=closed).run(*pf.base_demand())
        ref_net = reconfigured_net(net, closed, pf)
        ref = run_pandapower(ref_net)
        if res.converged[0] or ref.converged[0] or set(closed) == base:
            break
    assert set(closed) != base
    assert_same(res, ref)
    # the reconfigured net itself, read with its switch states, gives the same answer
    assert_same(solve_both(ref_net)[0], ref)


def test_meshed_lv_network_is_refused_naming_its_loop():
    with pytest.raises(NonRadialError, match="form a loop"):
        BatchPowerFlow(pn.lv_schutterwald()).structure


@pytest.mark.parametrize("build,element", [(pn.example_simple, "gen[0]"),
                                           (pn.example_multivoltage, "gen[0]"),
                                           (pn.ieee_european_lv_asymmetric, "asymmetric_load[0]")])
def test_networks_with_unsupported_elements_are_refused(build, element):
    with pytest.raises(UnsupportedNetError, match=re.escape(f"net.{element}")):
        BatchPowerFlow(build()).structure
