"""PV at a converter power factor: P = pf S pv_pu and Q = P tan(acos pf) injected, and the
batch power flow on those injections agrees with pandapower's Newton-Raphson run on the same
loads and sgens (P, Q) to 1e-6 p.u. (the SPEC's agreement; seed 000's pf 0.95, R. Wang et al.,
Nature Communications 15 (2024), section 'Practical distribution network')."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from fdnmoo.operation.injections import DerLayout, net_demand
from fdnmoo.planning import planning_grid
from fdnmoo.scenarios import ScenarioBatch

from .conftest import engine_for, ieee33_grid, pandapower_run, plan_on

PF = 0.95


@pytest.fixture(scope="module")
def grids():
    base = ieee33_grid()
    case = copy.deepcopy(base.case)
    case.candidates["pv"] = case.candidates["pv"].assign(power_factor=PF)
    return base, planning_grid(case)


def pv_plan(grid):
    pv = np.zeros((1, len(grid.case.candidates["pv"])))
    pv[0, [0, 2, 6]] = [1.0, 0.8, 0.6]  # buses 7, 18, 32 (MVA ratings)
    return plan_on(grid, 1, der={"pv": pv})


def test_pv_injects_p_and_q_at_the_power_factor(grids):
    base, grid = grids
    batch = ScenarioBatch.build(grid, 1, n_samples=2, seed=3, days=1)
    unity = net_demand(base, [pv_plan(base)], batch, 1)
    nd = net_demand(grid, [pv_plan(grid)], batch, 1, layout=DerLayout.of(grid, batch.bus_labels))
    np.testing.assert_allclose(nd.pv_mw, PF * unity.pv_mw, rtol=1e-15)
    tan_phi = np.sqrt(1 - PF ** 2) / PF  # tan(acos 0.95) = 0.3287
    pos = {int(b): k for k, b in enumerate(batch.bus_labels)}
    for k, bus in ((0, 7), (1, 18), (2, 32)):
        pv = nd.pv_mw[0, :, :, [0, 2, 6][k]]
        np.testing.assert_allclose(nd.q_mvar[0, :, :, pos[bus]],
                                   batch.load_q_mvar[0, :, :, pos[bus]] - pv * tan_phi,
                                   rtol=0, atol=1e-15)
    other = pos[3]
    np.testing.assert_array_equal(nd.q_mvar[..., other], unity.q_mvar[..., other])
    # a unity power factor column changes nothing, bit for bit
    assert (net_demand(base, [pv_plan(base)], batch, 1).q_mvar == unity.q_mvar).all()


def test_batch_power_flow_agrees_with_pandapower_on_the_same_sgen_p_q(grids):
    _, grid = grids
    batch = ScenarioBatch.build(grid, 1, n_samples=1, seed=3, days=1)
    nd = net_demand(grid, [pv_plan(grid)], batch, 1)
    slot = int(np.argmax(batch.pv_pu[0, :, 0, 0]))  # the sunniest slot
    eng = engine_for(grid)
    res = eng.run(nd.p_mw[0, slot], nd.q_mvar[0, slot])
    cand = grid.case.candidates["pv"].bus.to_numpy()
    p_pv = nd.pv_mw[0, slot, 0]
    on = p_pv > 0
    net = pandapower_run(grid, grid.base_closed_lines, batch.load_p_mw[0, slot, 0],
                         batch.load_q_mvar[0, slot, 0], cand[on], p_pv[on],
                         p_pv[on] * np.tan(np.arccos(PF)))
    assert p_pv[on].sum() > 1.0  # the PV is producing
    vm = net.res_bus.vm_pu.reindex(batch.bus_labels).to_numpy()
    np.testing.assert_allclose(res.vm_pu[0], vm, rtol=0, atol=1e-6)


def test_uncertain_pv_moves_its_vars_with_its_output(grids):
    """Interval/affine sweep: a PV symbol changes P by -level x P and Q by -level x P tan(phi)."""
    from fdnmoo.uncertain_pass import _Sources

    base, grid = grids
    batch = ScenarioBatch.build(grid, 1, n_samples=1, seed=3, days=1)
    for g, tan_phi in ((base, 0.0), (grid, np.sqrt(1 - PF ** 2) / PF)):
        nd = net_demand(g, [pv_plan(g)], batch, 1)
        src = _Sources.of(nd, batch, 1, load_level=0.1, pv_level=0.2)
        cp, cq = src.coefficients()
        sym = src.load_bus.size + np.arange(src.pv_bus.size)
        dp = cp[0][:, src.pv_bus, sym]
        np.testing.assert_allclose(cq[0][:, src.pv_bus, sym], dp * tan_phi, rtol=1e-14, atol=0)
        assert (dp < 0).any()
