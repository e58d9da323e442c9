"""Parameters of objectives and constraints: signature checks, limits set per problem.

The limits are checked against pandapower's own results of the IEEE 33-bus base case
(``runpp`` voltages and line loadings), not against the metrics code they read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, Mapping, Sequence

import pandapower as pp
import pytest

from fdnmoo.cases import load_case
from fdnmoo.pipeline import evaluate_plans
from fdnmoo.objectives import CONSTRAINTS, OBJECTIVES, Evaluated, Registry
from fdnmoo.parameters import (ParameterError, UnknownEntryError, check_params, check_value,
                               entry)
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.scenarios import ScenarioBatch


@pytest.fixture(scope="module")
def base():
    """The IEEE 33-bus base plan at its peak snapshot, and pandapower's run of it."""
    case = load_case("ieee33")  # stage demand grows to the stage's end: stay at the case's loads
    grid = planning_grid(replace(case, horizon=replace(case.horizon, load_growth_per_year=0.0)))
    plan = Plan.on_base_topology(grid, 1)
    batch = ScenarioBatch.build(grid, 1, profile="peak")
    ops = evaluate_plans(grid, [plan], batch)[0]
    net = load_case("ieee33").net
    pp.runpp(net, calculate_voltage_angles=False, init="flat", tolerance_mva=1e-10)
    return Evaluated(grid, plan, ops), net


def test_entries_normalise_names_mappings_and_pairs():
    assert entry("line_current", "c[0]") == ("line_current", ())
    assert entry({"voltage_band": {"vmin_pu": 0.9}}, "c[0]") == ("voltage_band", (("vmin_pu", 0.9),))
    frozen = entry(("der", {"buses": [6, 18], "max_mw": {18: 1.5, 6: 3.0}}), "b[0]")
    assert frozen == ("der", (("buses", (6, 18)), ("max_mw", ((18, 1.5), (6, 3.0)))))
    hash(frozen)  # immutable all the way down: a config holding it stays hashable
    with pytest.raises(ParameterError, match=r"b\[1\]: expected a name or a one-key mapping"):
        entry({"a": {}, "b": {}}, "b[1]")
    with pytest.raises(ParameterError, match=r"b\[0\]\.der: expected a mapping of parameters"):
        entry({"der": 3}, "b[0]")


def test_check_params_names_key_suggests_and_types():
    def term(ev, vmin_pu: float | None = None, levels: int = 4, on: bool = False,
             buses: Sequence[int] | Literal["all"] | None = None,
             caps: float | Mapping[int, float] | None = None):
        return 0.0

    ok = check_params(term, {"vmin_pu": 1, "levels": 3, "buses": "all", "caps": ((6, 2),)},
                      "x", "objective 'term'")
    assert ok == {"vmin_pu": 1.0, "levels": 3, "buses": "all", "caps": ((6, 2),)}
    assert isinstance(ok["vmin_pu"], float)
    with pytest.raises(ParameterError, match=r"x\.vmin: unknown parameter of objective 'term' "
                                             r"\(did you mean 'vmin_pu'\?\); parameters are"):
        check_params(term, {"vmin": 0.9}, "x", "objective 'term'")
    for name, value, expected in [("levels", 2.5, "an integer"), ("levels", True, "an integer"),
                                  ("on", 1, "true or false"), ("buses", "some", "'all'"),
                                  ("buses", [6, "x"], "a list of an integer"),
                                  ("vmin_pu", float("nan"), "a number"),
                                  ("caps", {6: "big"}, "a mapping of an integer to a number")]:
        with pytest.raises(ParameterError, match=f"x.{name}: expected .*{expected}"):
            check_params(term, {name: value}, "x", "objective 'term'")
    with pytest.raises(ParameterError, match="needs parameter 'kind'"):
        check_params(lambda self, kind: None, {}, "b", "gene block 'der'")
    assert check_value([1, 2], None, "k") == [1, 2]  # no hint: any plain value


def test_registry_records_module_and_refuses_unknown_names():
    reg = Registry("objective")

    @reg.register("scaled", unit="-")
    def scaled(ev, factor: float = 2.0):
        return factor * ev

    assert reg["scaled"].module == __name__
    assert reg["scaled"].parameters == {"factor": 2.0}
    assert reg["scaled"](3.0) == 6.0
    bound = reg["scaled"].with_params({"factor": 5})
    assert bound(3.0) == 15.0 and bound.resolved_params() == {"factor": 5.0}
    assert reg["scaled"](3.0) == 6.0  # the registered entry is unchanged
    with pytest.raises(UnknownEntryError, match="did you mean 'scaled'") as err:
        reg["scaeld"]
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)


def test_voltage_band_limits_against_pandapower(base):
    ev, net = base
    vmin = float(net.res_bus.vm_pu.min())  # 0.9131 p.u. at bus 18 (Baran & Wu base case)
    band = CONSTRAINTS["voltage_band"]
    assert band(ev) == pytest.approx(0.95 - vmin, abs=1e-6)  # the case's band [0.95, 1.05]
    assert band.with_params({"vmin_pu": 0.93})(ev) == pytest.approx(0.93 - vmin, abs=1e-6)
    assert band.with_params({"vmin_pu": 0.90})(ev) == 0.0
    # an upper limit below the substation voltage (1.0 p.u.) is violated by 1 - vmax
    assert band.with_params({"vmin_pu": 0.9, "vmax_pu": 0.99})(ev) == pytest.approx(0.01, abs=1e-9)
    with pytest.raises(ValueError, match="vmin_pu < vmax_pu"):
        band.with_params({"vmin_pu": 1.0, "vmax_pu": 0.95})(ev)
    assert OBJECTIVES["max_voltage_violation"].with_params({"vmin_pu": 0.92})(ev) == \
        pytest.approx(0.92 - vmin, abs=1e-6)


def test_line_current_limit_against_pandapower(base):
    ev, net = base
    worst = float(net.res_line.loading_percent[net.line.in_service].max())
    current = CONSTRAINTS["line_current"]
    assert current(ev) == pytest.approx(worst / 100 - 1, abs=1e-6)
    assert current.with_params({"max_loading_percent": worst / 2})(ev) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="max_loading_percent must be > 0"):
        current.with_params({"max_loading_percent": 0.0})(ev)


def test_budget_and_unserved_energy_limits(base):
    ev, _ = base
    budget = CONSTRAINTS["budget"]
    assert budget(ev) == -1.0  # ieee33 has no budget and the base plan builds nothing
    assert budget.with_params({"budget_per_stage": 1e6})(ev) == -1.0  # nothing invested
    unserved = CONSTRAINTS["unserved_energy"]
    assert unserved(ev) == 0.0 and unserved.with_params({"max_mwh": 2.0})(ev) == -2.0


def test_objective_weights_are_parameters(base):
    ev, _ = base
    oa = OBJECTIVES["operational_adaptability"]
    vvm = oa.with_params({"w3": 1.0, "w4": 0.0})(ev)
    cvm = oa.with_params({"w3": 0.0, "w4": 1.0})(ev)
    assert oa(ev) == pytest.approx(0.5 * vvm + 0.5 * cvm)
    assert oa.with_params({"w3": 0.2, "w4": 0.8})(ev) == pytest.approx(0.2 * vvm + 0.8 * cvm)
