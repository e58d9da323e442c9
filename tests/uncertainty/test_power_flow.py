"""Affine and interval power flow against Monte Carlo of the batch engine.

Every load is its own uncertain source at +-delta; 10,000 uniform samples of the
box plus its two extreme vertices (every load at -delta, every load at +delta)
are solved by BatchPowerFlow and must lie inside the bounds. The compiled
sweeps are also held to the readable ones on AffineForm / Interval with dense
maps (``compiled=False``), which must give the same bounds.
"""

import copy
from functools import cache

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from fdnmoo.cases import load_case
from fdnmoo.powerflow import BatchPowerFlow
from fdnmoo.uncertainty import AffineForm
from fdnmoo.uncertainty.power_flow import uncertain_demand, uncertain_power_flow

N_SAMPLES = 10_000
CASES = ["ieee33", "ieee69", "tpc84", "md24"]
DELTAS = [0.05, 0.1, 0.2]


@cache
def engine(name):
    pf = BatchPowerFlow(load_case(name).net)
    return pf, *pf.base_demand()


@cache
def solved(name, delta):
    pf, p, q = engine(name)
    n = p.shape[1]
    P, Q = uncertain_demand(p[0], q[0], delta, np.arange(n), n)
    return (uncertain_power_flow(pf, P, Q), uncertain_power_flow(pf, P, Q, arithmetic="interval"))


BOUNDS = ("vm_lo_pu", "vm_hi_pu", "i_lo_ka", "i_hi_ka", "loss_lo_mw", "loss_hi_mw")


def assert_same_bounds(res, ref, atol=1e-12):
    assert (res.iterations, res.converged, res.verified) == (ref.iterations, ref.converged, ref.verified)
    for key in BOUNDS:
        np.testing.assert_allclose(getattr(res, key), getattr(ref, key), rtol=0, atol=atol, err_msg=key)


def monte_carlo(name, delta, seed=0):
    pf, p, q = engine(name)
    eps = np.random.default_rng(seed).uniform(-1, 1, (N_SAMPLES + 2, p.shape[1]))
    eps[-2:] = [[-1.0], [1.0]]
    return pf.run(p * (1 + delta * eps), q * (1 + delta * eps))


def assert_inside(x, lo, hi, tol=1e-10):
    ok = np.isnan(x) | ((x >= lo - tol) & (x <= hi + tol))
    assert ok.all(), f"{(~ok).sum()} values outside the bounds"


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("delta", DELTAS)
def test_monte_carlo_lies_inside_and_affine_is_never_wider_than_interval(name, delta):
    aa, ia = solved(name, delta)
    mc = monte_carlo(name, delta)
    assert mc.converged.all()
    for res in (aa, ia):
        assert res.converged and res.verified and res.iterations < 60
        assert_inside(mc.vm_pu, res.vm_lo_pu, res.vm_hi_pu)
        assert_inside(mc.i_ka, res.i_lo_ka, res.i_hi_ka)
        assert_inside(mc.loss_mw, res.loss_lo_mw, res.loss_hi_mw)
    supplied = np.isfinite(aa.vm_lo_pu)
    w_aa = (aa.vm_hi_pu - aa.vm_lo_pu)[supplied]
    w_ia = (ia.vm_hi_pu - ia.vm_lo_pu)[supplied]
    assert (w_aa <= w_ia + 1e-12).all()
    assert (aa.i_hi_ka - aa.i_lo_ka <= ia.i_hi_ka - ia.i_lo_ka + 1e-12).all()
    assert aa.loss_hi_mw - aa.loss_lo_mw <= ia.loss_hi_mw - ia.loss_lo_mw + 1e-12
    # not vacuous: the affine bounds stay within 25 % of the sampled envelope
    vm = mc.vm_pu[:, supplied]  # unsupplied buses (md24's future ones) are NaN throughout
    w_mc = vm.max(axis=0) - vm.min(axis=0)
    assert w_aa.max() <= 1.25 * w_mc.max()


@pytest.mark.parametrize("name", ["ieee33", "tpc84"])
def test_widths_grow_with_delta_while_centres_stay_put(name):
    pf, p, q = engine(name)
    forecast = pf.run(p, q).vm_pu[0]
    loaded = p[0] > 0
    widths = []
    for delta in DELTAS:
        aa, _ = solved(name, delta)
        width = aa.vm_hi_pu - aa.vm_lo_pu
        widths.append(width)
        # the centre of the bounds is the forecast solution to within 1 % of the half-width
        mid = 0.5 * (aa.vm_hi_pu + aa.vm_lo_pu)
        assert np.nanmax(np.abs(mid - forecast)) <= 0.01 * np.nanmax(width / 2)
    for small, large in zip(widths, widths[1:]):
        assert (large[loaded] > small[loaded]).all()


def test_load_groups_and_pv_sources_share_symbols():
    """All loads of ieee33 in one group (symbol 0) and 3 PV units with their own symbols."""
    pf, p, q = engine("ieee33")
    n = p.shape[1]
    pv_bus = np.array([17, 24, 32])  # positions of buses 18, 25, 33
    pv_mw = np.array([0.4, 0.6, 0.5])
    forecast, deviation, symbol = np.zeros(n), np.zeros(n), np.full(n, -1)
    forecast[pv_bus], deviation[pv_bus], symbol[pv_bus] = pv_mw, 0.2 * pv_mw, [1, 2, 3]

    def solve(load_symbols, n_symbols):
        load_p, load_q = uncertain_demand(p[0], q[0], 0.1, load_symbols, n_symbols)
        pv = AffineForm.from_sources(forecast, deviation, symbol, n_symbols)
        return uncertain_power_flow(pf, load_p - pv, load_q)

    grouped = solve(np.zeros(n, np.int64), 4)
    rng = np.random.default_rng(5)
    g, u = rng.uniform(-1, 1, (4000, 1)), rng.uniform(-1, 1, (4000, 3))
    pv_samples = np.zeros((4000, n))
    pv_samples[:, pv_bus] = pv_mw * (1 + 0.2 * u)
    mc = pf.run(p * (1 + 0.1 * g) - pv_samples, q * (1 + 0.1 * g))
    assert grouped.verified
    assert_inside(mc.vm_pu, grouped.vm_lo_pu, grouped.vm_hi_pu)
    assert_inside(mc.loss_mw, grouped.loss_lo_mw, grouped.loss_hi_mw)
    # the same +-10 % on independent loads spans a larger set (it holds the grouped one)
    independent = solve(np.concatenate([[0], np.arange(4, 4 + n - 1)]), 4 + n - 1)
    w_group = grouped.vm_hi_pu - grouped.vm_lo_pu
    assert (w_group <= independent.vm_hi_pu - independent.vm_lo_pu + 1e-12).all()
    assert grouped.loss_hi_mw - grouped.loss_lo_mw < independent.loss_hi_mw - independent.loss_lo_mw


def test_a_diverging_forecast_is_refused():
    pf, p, q = engine("ieee33")
    n = p.shape[1]
    P, Q = uncertain_demand(40 * p[0], 40 * q[0], 0.1, np.arange(n), n)
    with pytest.raises(ValueError, match="forecast power flow does not converge"):
        uncertain_power_flow(pf, P, Q)
    with pytest.raises(ValueError, match="arithmetic"):
        uncertain_power_flow(pf, P, Q, arithmetic="taylor")


def test_a_batch_of_slots_is_solved_at_once_like_slot_by_slot():
    pf, p, q = engine("ieee33")
    n = p.shape[1]
    levels = np.array([0.4, 0.7, 1.0, 1.2])[:, None]  # four slots of the day
    P, Q = uncertain_demand(levels * p, levels * q, 0.1, np.arange(n), n)
    batch = uncertain_power_flow(pf, P, Q)
    assert batch.vm_lo_pu.shape == (4, n) and batch.i_hi_ka.shape == (4, pf.branches.n_line)
    assert batch.loss_lo_mw.shape == (4,) and batch.verified
    eps = np.random.default_rng(9).uniform(-1, 1, (3000, n))
    for t, level in enumerate(levels[:, 0]):
        one = uncertain_power_flow(pf, P[t], Q[t])
        np.testing.assert_allclose(batch.vm_lo_pu[t], one.vm_lo_pu, atol=2e-4 * level)
        np.testing.assert_allclose(batch.vm_hi_pu[t], one.vm_hi_pu, atol=2e-4 * level)
        mc = pf.run(level * p * (1 + 0.1 * eps), level * q * (1 + 0.1 * eps))
        assert_inside(mc.vm_pu, batch.vm_lo_pu[t], batch.vm_hi_pu[t])
        assert_inside(mc.i_ka, batch.i_lo_ka[t], batch.i_hi_ka[t])
        assert_inside(mc.loss_mw, batch.loss_lo_mw[t], batch.loss_hi_mw[t])


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("delta", DELTAS)
def test_the_compiled_sweeps_give_the_bounds_of_the_readable_ones(name, delta):
    """Same Chebyshev fits, condensation and outward rounding in both; the tree sweep and
    the dense maps differ only by rounding on these feeders (no phase shift, r, x >= 0)."""
    pf, p, q = engine(name)
    n = p.shape[1]
    P, Q = uncertain_demand(p[0], q[0], delta, np.arange(n), n)
    aa, ia = solved(name, delta)
    assert_same_bounds(aa, uncertain_power_flow(pf, P, Q, compiled=False))
    assert_same_bounds(ia, uncertain_power_flow(pf, P, Q, arithmetic="interval", compiled=False))


@pytest.mark.parametrize("arithmetic", ["affine", "interval"])
def test_the_compiled_sweeps_on_a_batch_of_slots_and_grouped_sources(arithmetic):
    pf, p, q = engine("tpc84")
    n = p.shape[1]
    levels = np.array([0.5, 1.0, 1.3])[:, None]
    groups = np.arange(n) % 7  # seven load groups
    P, Q = uncertain_demand(levels * p, levels * q, 0.15, groups, 7)
    assert_same_bounds(uncertain_power_flow(pf, P, Q, arithmetic),
                       uncertain_power_flow(pf, P, Q, arithmetic, compiled=False))


def ieee33_with_a_parallel_line():
    net = copy.deepcopy(load_case("ieee33").net)
    row = net.line.loc[net.line.index[4]]
    pp.create_line_from_parameters(net, row.from_bus, row.to_bus, row.length_km, row.r_ohm_per_km,
                                   row.x_ohm_per_km, row.c_nf_per_km, row.max_i_ka)
    return net


@pytest.mark.parametrize("arithmetic", ["affine", "interval"])
@pytest.mark.parametrize("make_net", [pn.simple_four_bus_system, pn.simple_mv_open_ring_net,
                                      ieee33_with_a_parallel_line])
def test_the_compiled_sweeps_through_transformers_parallel_and_half_open_lines(make_net, arithmetic):
    """pandapower's example nets feed their lines through a 150-degree (Dyn5) transformer (the
    ratio branch of the kernels), the open ring has a line switched open at one end (charging
    current only), ieee33 gets a second line beside its 5th (merged by the engine; each line's
    current from the end voltages); the bounds enclose Monte Carlo and match the dense maps."""
    pf = BatchPowerFlow(make_net())
    p, q = pf.base_demand()
    n = p.shape[1]
    P, Q = uncertain_demand(p[0], q[0], 0.2, np.arange(n), n)
    res = uncertain_power_flow(pf, P, Q, arithmetic)
    assert res.verified
    assert_same_bounds(res, uncertain_power_flow(pf, P, Q, arithmetic, compiled=False))
    eps = np.random.default_rng(3).uniform(-1, 1, (4000, n))
    mc = pf.run(p * (1 + 0.2 * eps), q * (1 + 0.2 * eps))
    assert_inside(mc.vm_pu, res.vm_lo_pu, res.vm_hi_pu)
    assert_inside(mc.i_ka, res.i_lo_ka, res.i_hi_ka)
