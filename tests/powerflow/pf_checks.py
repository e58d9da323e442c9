"""Comparison of the batch engine with pandapower NR, shared by the power-flow tests."""

import numpy as np

from fdnmoo.powerflow import BatchPowerFlow, run_pandapower

V_TOL = 1e-6  # issue 2 and 6: max |V_batch - V_pandapower| <= 1e-6 p.u.


def assert_same(res, ref, i_rtol=1e-6, loss_rtol=1e-6):
    """Voltages, angles, line currents, losses and grid supply agree; NaN at the same buses.

    Issue 6 asks for 1e-5 relative in currents and losses; observed errors are ~1e-9, so the
    default checks use 1e-6.
    """
    assert res.converged.all() and ref.converged.all()
    np.testing.assert_array_equal(np.isnan(res.vm_pu), np.isnan(ref.vm_pu))
    np.testing.assert_allclose(res.vm_pu, ref.vm_pu, atol=V_TOL, rtol=0, equal_nan=True)
    np.testing.assert_allclose(res.va_degree, ref.va_degree, atol=1e-4, rtol=0, equal_nan=True)
    np.testing.assert_allclose(res.i_ka, ref.i_ka, rtol=i_rtol, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(res.loss_mw, ref.loss_mw, rtol=loss_rtol, atol=1e-9)
    np.testing.assert_allclose(res.ext_grid_p_mw, ref.ext_grid_p_mw, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(res.ext_grid_q_mvar, ref.ext_grid_q_mvar, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(res.supplied, ref.supplied)


def solve_both(net):
    """Batch engine on the net's own state and demand, and pandapower's runpp."""
    pf = BatchPowerFlow(net)
    return pf.run(*pf.base_demand()), run_pandapower(net)


def max_dv(res, ref) -> float:
    return float(np.nanmax(np.abs(res.vm_pu - ref.vm_pu)))
