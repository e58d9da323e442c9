"""A plan states its decision (every stage in full, lines by bus labels) and its violations.

The oracle is pandapower: the configuration a report states is rebuilt from the report's own
text (bus labels only) and run through ``pandapower.runpp``; losses, voltages and loading must
be those the report gives.
"""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.problems.planning import ProblemConfig

#: An optimal-looking radial configuration of Baran & Wu's 69-bus feeder: sections 13-14,
#: 56-57, 61-62 and ties 11-43, 13-21 open (the configuration of the loss-minimisation run
#: of issue 7, line labels 13, 56, 61, 69, 70 of the case).
IEEE69_OPEN = {"13-14", "56-57", "61-62", "11-43", "13-21"}


@pytest.fixture(scope="module")
def ieee69():
    return ProblemConfig(case="ieee69", preset="reconfiguration").build()


def genome_with_open(problem, open_names: set[str]) -> np.ndarray:
    """Reconfiguration genome (1 = closed) with the lines named by their end buses open."""
    line = problem.grid.net.line
    names = [f"{a}-{b}" for a, b in zip(line.from_bus, line.to_bus)]
    x = np.ones(problem.n_var, dtype=int)
    x[[names.index(n) for n in open_names]] = 0
    return x


def pandapower_of_stated_plan(case, plan: pd.DataFrame, stage: int = 1):
    """ieee69 net with exactly the lines the report states open ("13-14") out of service."""
    stated = plan[(plan.stage == stage) & plan.item.isin(["open sections", "open ties"])]
    ends = {tuple(sorted(map(int, w.split("-")))) for w in stated["where"]}
    net = copy.deepcopy(case.net)
    pair = [tuple(sorted((int(a), int(b)))) for a, b in zip(net.line.from_bus, net.line.to_bus)]
    net.line["in_service"] = [p not in ends for p in pair]
    pp.runpp(net)
    return net


def test_reconfiguration_plan_names_opened_sections_and_agrees_with_pandapower(ieee69):
    report = ieee69.plan_report(genome_with_open(ieee69, IEEE69_OPEN))
    plan = report["plan"]
    stated = dict(plan.groupby("item")["where"].apply(set))
    assert stated["open sections"] == {"13-14", "56-57", "61-62"}
    assert stated["open ties"] == {"11-43", "13-21"}
    assert stated["closed ties"] == {"15-46", "50-59", "27-65"}
    assert set(plan.item) == {"open sections", "open ties", "closed ties"}  # nothing built
    net = pandapower_of_stated_plan(ieee69.grid.case, plan)
    # pandapower NR on the stated configuration: the batch sweep agrees to 1e-6 (SPEC)
    assert report["objectives"]["loss_kw"] == pytest.approx(net.res_line.pl_mw.sum() * 1e3,
                                                            rel=1e-6)
    worst = report["violations"].loc[1]
    vm = net.res_bus.vm_pu
    assert worst.vm_min_pu == pytest.approx(vm.min(), abs=1e-6)
    assert worst.vm_min_bus == str(vm.idxmin())
    assert worst.vm_max_pu == pytest.approx(vm.max(), abs=1e-6)
    loading = net.res_line.loading_percent[net.line.in_service]
    assert worst.max_loading_percent == pytest.approx(loading.max(), rel=1e-4)
    # the stated line is one carrying the largest loading (1-2 and 2-3 tie: bus 2 has no load)
    line = net.line[net.line.in_service]
    named = pd.Series([f"{a}-{b}" for a, b in zip(line.from_bus, line.to_bus)], index=line.index)
    at = loading[named == worst.max_loading_line]
    assert at.iloc[0] == pytest.approx(loading.max(), rel=1e-4)


def test_violation_energy_is_the_load_outside_the_band(ieee69):
    """Energy out of band = load at buses outside [v_min, v_max] x the slot's hours per year
    (no line is overloaded here, so no downstream load adds to it)."""
    report = ieee69.plan_report(genome_with_open(ieee69, IEEE69_OPEN))
    net = pandapower_of_stated_plan(ieee69.grid.case, report["plan"])
    u = ieee69.grid.case.uncertainty
    assert net.res_line.loading_percent.max() < 100.0
    vm = net.res_bus.vm_pu
    bad = vm.index[(vm < u.v_min_pu) | (vm > u.v_max_pu)]
    assert len(bad) > 0  # the classic optimum is out of band: feasible, yet penalised
    load_mw = net.load.p_mw[net.load.bus.isin(bad)].sum()
    expected_mwh = load_mw * float(ieee69.batch.slot_hours.sum())  # one 'peak' slot
    assert report["violations"].loc[1, "violation_energy_mwh"] == pytest.approx(expected_mwh,
                                                                                rel=1e-9)
    assert report["constraints"]["power_flow_converged"] <= 0  # feasible
    assert report["costs"]["voltage_penalty"].sum() > 0  # ... and priced


@pytest.fixture(scope="module")
def md24_grid():
    return planning_grid(load_case("md24"))


def test_describe_states_every_stage_in_full(md24_grid):
    """Stage 2 repeats what stage 1 built, says which built line it leaves open, and names the
    line a built one replaces."""
    case = md24_grid.case
    corridors, cand = case.candidates["corridors"], md24_grid.candidate_lines
    new = corridors.index[corridors.kind == "new"][0]
    replace = corridors.index[corridors.kind == "existing_replaceable"][0]
    old_line = int(corridors.line[replace])
    first_label, second_label = (int(cand.index[cand.corridor == c][0]) for c in (new, replace))
    base = np.sort(md24_grid.base_closed_lines)
    new_lines = pd.DataFrame({"line": [first_label, second_label], "corridor": [new, replace],
                              "conductor": [int(cand.conductor[first_label]),
                                            int(cand.conductor[second_label])],
                              "stage": [1, 2]})
    closed = [np.append(base, first_label), np.append(base[base != old_line], second_label)]
    plan = Plan(n_stages=2, closed_lines=closed,
                closed_trafos=[np.sort(md24_grid.base_closed_trafos)] * 2, new_lines=new_lines)
    table = plan.describe(case)
    built = table[table.item == "built lines"]
    first = f"{int(corridors.from_bus[new])}-{int(corridors.to_bus[new])}"
    second = f"{int(corridors.from_bus[replace])}-{int(corridors.to_bus[replace])}"
    type_1, type_2 = new_lines.conductor
    assert built[["stage", "where", "size", "built_in_stage"]].values.tolist() == [
        [1, first, f"conductor type {type_1}", 1],
        [2, first, f"conductor type {type_1}, open", 1],  # built in stage 1, open in stage 2
        [2, second, f"conductor type {type_2}", 2]]
    replaced = table[table.item == "replaced lines"]
    line = case.net.line.loc[old_line]
    assert replaced[["stage", "where", "line"]].values.tolist() == [
        [2, f"{int(line.from_bus)}-{int(line.to_bus)}", old_line]]
    assert not (table.item == "open sections").any()  # the replaced line is not "opened"


def test_describe_lists_sop_terminals_and_der_of_every_stage():
    grid = planning_grid(load_case("ieee33"))
    case = grid.case
    pv = np.zeros((2, len(case.candidates["pv"])))
    pv[:, 0] = [0.5, 1.0]
    sop = pd.DataFrame({"stage": [1, 1, 2, 2], "device": [0, 0, 0, 0], "bus": [12, 22, 12, 22],
                        "capacity_mva": [0.5, 0.5, 1.0, 0.5]})
    plan = Plan.on_base_topology(grid, 2, sop=sop, der={"pv": pv})
    table = plan.describe(case)
    pv_bus = int(case.candidates["pv"].bus.iloc[0])
    assert table[table.item == "pv"][["stage", "where", "size"]].values.tolist() == [
        [1, f"bus {pv_bus}", "0.5 MW"], [2, f"bus {pv_bus}", "1 MW"]]
    assert table[table.item == "sop"][["stage", "where", "size"]].values.tolist() == [
        [1, "buses 12, 22", "0.5 MVA, 0.5 MVA"], [2, "buses 12, 22", "1 MVA, 0.5 MVA"]]
    ties = case.tie_lines
    open_ties = {f"{a}-{b}" for a, b in zip(ties.from_bus, ties.to_bus)}
    for stage in (1, 2):  # the base topology: every tie open, in each stage's own rows
        rows = table[(table.stage == stage) & (table.item == "open ties")]
        assert set(rows["where"]) == open_ties and len(rows) == len(ties)
    # items come in the documented order within a stage
    items = table[table.stage == 1].item.tolist()
    assert items == sorted(items, key=["open ties", "sop", "pv"].index)
