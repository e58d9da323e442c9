"""Reference power flow: pandapower's Newton-Raphson, as a :class:`PowerFlowResult`."""

from __future__ import annotations

import copy

import numpy as np

from .result import PowerFlowResult

__all__ = ["run_pandapower"]


def run_pandapower(net, p_mw=None, q_mvar=None, inplace: bool = False, **runpp_kwargs) -> PowerFlowResult:
    """Run ``pandapower.runpp`` and return a one-scenario :class:`PowerFlowResult`.

    Parameters
    ----------
    net : pandapowerNet
    p_mw, q_mvar : array_like, shape (n_bus,), optional
        Net demand per bus (``net.bus`` order, + = consumption). When given,
        the net's loads and static generators are replaced by one load per
        bus with these values (on a copy unless ``inplace``).
    inplace : bool
        Modify ``net`` itself instead of a copy when demands are given.
    **runpp_kwargs
        Passed to ``pandapower.runpp`` (default ``tolerance_mva=1e-10``).

    Notes
    -----
    A power flow that does not converge gives ``converged == [False]`` and NaN
    results, like the batch engine, instead of pandapower's exception.
    """
    import pandapower as pp

    if p_mw is not None or q_mvar is not None:
        if p_mw is None or q_mvar is None:
            raise ValueError("give both p_mw and q_mvar, or neither")
        if not inplace:
            net = copy.deepcopy(net)
        _set_demand(net, np.asarray(p_mw, float).ravel(), np.asarray(q_mvar, float).ravel())
    runpp_kwargs.setdefault("tolerance_mva", 1e-10)
    try:
        pp.runpp(net, **runpp_kwargs)
        converged = bool(net.converged)
    except pp.LoadflowNotConverged:
        converged = False
    return _result(net, converged)


def _set_demand(net, p: np.ndarray, q: np.ndarray) -> None:
    import pandapower as pp

    if p.shape != (len(net.bus),) or q.shape != (len(net.bus),):
        raise ValueError(f"p_mw and q_mvar need one value per bus ({len(net.bus)})")
    for table in ("sgen", "load", "storage"):  # the tables fdnmoo.demand.bus_demand reads
        net[table].drop(net[table].index, inplace=True)
    for bus, pi, qi in zip(net.bus.index, p, q):
        if pi != 0 or qi != 0:
            pp.create_load(net, bus, p_mw=pi, q_mvar=qi)


def _result(net, converged: bool) -> PowerFlowResult:
    n_bus, n_line = len(net.bus), len(net.line)
    # the roots: in-service grids at in-service buses (a grid at a dead bus supplies nothing)
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)
                      & net.bus.in_service.reindex(net.ext_grid.bus).to_numpy(dtype=bool)]
    if converged:
        vm = net.res_bus.vm_pu.reindex(net.bus.index).to_numpy(float)
        va = net.res_bus.va_degree.reindex(net.bus.index).to_numpy(float)
        i_ka = net.res_line.i_ka.reindex(net.line.index).fillna(0.0).to_numpy(float)
        loss = _branch_losses_mw(net)
        p_eg = net.res_ext_grid.p_mw.reindex(eg.index).to_numpy(float)
        q_eg = net.res_ext_grid.q_mvar.reindex(eg.index).to_numpy(float)
    else:
        vm = va = np.full(n_bus, np.nan)
        i_ka = np.full(n_line, np.nan)
        loss = np.nan
        p_eg = q_eg = np.full(len(eg), np.nan)
    return PowerFlowResult(
        v_pu=(vm * np.exp(1j * np.deg2rad(va)))[None, :], vm_pu=vm[None, :], line_currents=i_ka[None, :],
        loss_mw=np.array([loss]),
        ext_grid_p_mw=p_eg[None, :], ext_grid_q_mvar=q_eg[None, :],
        converged=np.array([converged]), iterations=np.array([-1]),
        bus_labels=net.bus.index.to_numpy(), line_labels=net.line.index.to_numpy(),
        ext_grid_buses=eg.bus.to_numpy(),
        supplied=np.isfinite(vm) if converged else None)


def _branch_losses_mw(net) -> float:
    """Active losses of lines, transformers, impedances and impedance switches."""
    loss = float(net.res_line.pl_mw.sum())
    for table in ("trafo", "impedance"):
        if table in net and len(net[table]) and f"res_{table}" in net:
            loss += float(net[f"res_{table}"].pl_mw.sum())
    if len(net.switch) and "p_from_mw" in net.res_switch:
        loss += float((net.res_switch.p_from_mw + net.res_switch.p_to_mw).fillna(0.0).sum())
    return loss
