"""The objective/constraint registries and the objectives that read operation metrics only."""

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.metrics import OperationMetrics
from fdnmoo.objectives import CONSTRAINTS, OBJECTIVES, Evaluated, Registry
from fdnmoo.planning import Plan, planning_grid


@pytest.fixture(scope="module")
def grid():
    return planning_grid(load_case("ieee33"))


def fake_ops(n_stages=2, n_slots=3, n_bus=33, n_line=37, vmin=0.96, vmax=1.02, i_max=0.2):
    z = np.zeros(n_stages)
    return OperationMetrics(
        energy_loss_mwh=np.array([100.0, 140.0][:n_stages]), sop_loss_mwh=z.copy(),
        demand_mwh=np.full(n_stages, 8760.0 * 3.7), pv_energy_mwh=z.copy(),
        unserved_energy_mwh=z.copy(), violation_energy_mwh=z.copy(),
        peak_loss_kw=np.array([202.68, 150.0][:n_stages]), peak_vmin_pu=np.full(n_stages, vmin),
        peak_vmax_pu=np.full(n_stages, vmax),
        vmin_pu=np.full((n_stages, n_slots, n_bus), vmin), vmax_pu=np.full((n_stages, n_slots, n_bus), vmax),
        i_max_ka=np.full((n_stages, n_slots, n_line), i_max), i_limit_ka=np.full(n_line, 0.4),
        voltage_deviation_pu=np.array([0.03, 0.05][:n_stages]),
        voltage_violation_probability=np.zeros((n_stages, n_bus)),
        current_violation_probability=np.zeros((n_stages, n_line)),
        substation_peak_mva=np.full((n_stages, 1), 4.0), converged_share=1.0)


def base_plan(grid, n_stages=2, **kw):
    return Plan.on_base_topology(grid, n_stages, **kw)


def test_duplicate_names_are_refused():
    reg = Registry("objective")

    @reg.register("a", unit="-")
    def a(ev):
        return 1.0

    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", unit="-")(lambda ev: 2.0)
    with pytest.raises(ValueError, match="sense"):
        reg.register("b", unit="-", sense="up")
    with pytest.raises(KeyError, match="registered: a"):
        reg["nope"]


def test_builtins_are_registered_with_unit_and_sense():
    for name in ("total_cost", "investment", "loss_kw", "energy_loss_mwh", "voltage_deviation",
                 "max_voltage_violation", "structural_adaptability", "operational_adaptability",
                 "pv_uneven_degree", "pv_hosting_mw", "eens_mwh", "saifi", "saidi",
                 "sop_capacity_mva"):
        o = OBJECTIVES[name]
        assert o.unit and o.sense in ("min", "max") and o.description
    for name in ("voltage_band", "line_current", "substation_capacity", "budget"):
        assert name in CONSTRAINTS
    assert OBJECTIVES["structural_adaptability"].to_minimise(0.4) == -0.4


def test_operation_objectives_by_hand(grid):
    ev = Evaluated(grid, base_plan(grid), fake_ops())
    assert OBJECTIVES["loss_kw"](ev) == pytest.approx((202.68 + 150.0) / 2)
    assert OBJECTIVES["energy_loss_mwh"](ev) == pytest.approx(120.0)
    assert OBJECTIVES["voltage_deviation"](ev) == pytest.approx(0.04)
    # band 0.95..1.05 (ieee33 case file): nothing violated
    assert OBJECTIVES["max_voltage_violation"](ev) == 0.0
    assert CONSTRAINTS["voltage_band"](ev) == 0.0
    # voltage margin = min(1.05 - 1.02, 0.96 - 0.95) / 0.05 = 0.2;
    # current margin = (0.4 - 0.2) / 0.4 = 0.5 on closed lines; 0.5 * 0.2 + 0.5 * 0.5 = 0.35
    assert OBJECTIVES["operational_adaptability"](ev) == pytest.approx(0.35)
    # loading 0.2 / 0.4 = 0.5 -> g = -0.5
    assert CONSTRAINTS["line_current"](ev) == pytest.approx(-0.5)


def test_violations_by_hand(grid):
    ev = Evaluated(grid, base_plan(grid), fake_ops(vmin=0.91, vmax=1.02, i_max=0.5))
    assert OBJECTIVES["max_voltage_violation"](ev) == pytest.approx(0.04)
    assert CONSTRAINTS["line_current"](ev) == pytest.approx(0.25)
    # margin (0.91 - 0.95) / 0.05 = -0.8 ; current (0.4 - 0.5) / 0.4 = -0.25
    assert OBJECTIVES["operational_adaptability"](ev) == pytest.approx(0.5 * -0.8 + 0.5 * -0.25)


def test_pv_and_sop_sizes(grid):
    pv = np.array([[0.5, 0.0], [0.5, 1.0]])
    sop = pd.DataFrame({"stage": [1, 1, 2, 2], "device": [0, 0, 0, 0], "bus": [8, 21, 8, 21],
                        "capacity_mva": [0.5, 0.5, 1.0, 1.0]})
    ev = Evaluated(grid, base_plan(grid, der={"pv": pv}, sop=sop), fake_ops())
    assert OBJECTIVES["pv_hosting_mw"](ev) == pytest.approx(1.5)
    assert OBJECTIVES["sop_capacity_mva"](ev) == pytest.approx(2.0)
