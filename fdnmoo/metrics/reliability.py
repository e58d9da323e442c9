"""Analytic reliability of a radial stage: EENS, SAIFI, SAIDI, ECOST.

Model (single contingencies of line sections, Billinton-Allan style failure
modes and effects analysis on the radial operating topology):

* every closed line section k has a permanent failure rate ``lambda_k``
  (``net.line.failure_rate_per_year``) and a repair time ``r_k``
  (``repair_time_h``); transformers, buses and switches do not fail;
* a fault on k trips the breaker of its **feeder**: the subtree below the
  first line leaving the substation (the buses reached from the root through
  transformers only) on the path to k. Every bus of the feeder is interrupted
  and every customer of it counts one interruption;
* after ``t_s = switching_time_h`` the fault is isolated (a switch at each
  end of every section) and the breaker recloses: feeder buses that are not
  downstream of k are restored after ``min(t_s, r_k)``;
* the buses downstream of k (the subtree of k's child end, ``D_k``) are
  restored after ``min(t_s, r_k)`` if an alternative supply exists — a
  normally-open line that exists in the stage or a pair of terminals of one
  SOP device with exactly one end in ``D_k`` (the other end being a supplied
  bus of another feeder of the same or another substation, or of the healthy
  part of the same feeder) — and after ``r_k`` otherwise. The back-feed
  capacity of the tie or SOP and the voltage of the restored network are
  **not** checked: the alternative supply is assumed sufficient.

With ``L_b`` the average demand and ``N_b`` the customers of bus b,
``F_k`` the buses of k's feeder and ``t_k`` the downstream restoration time::

    EENS  = sum_k lambda_k [ L(F_k \\ D_k) min(t_s, r_k) + L(D_k) t_k ]      MWh/yr
    SAIFI = sum_k lambda_k N(F_k) / N                               1/(customer yr)
    SAIDI = sum_k lambda_k [ N(F_k \\ D_k) min(t_s, r_k) + N(D_k) t_k ] / N   h/(customer yr)
    ECOST = EENS x price per MWh (if a price is given)

``N`` counts the customers of supplied buses; buses the stage does not supply
are left out (their demand is unserved energy of the operation metrics).

The computation is vectorised over sections: in the depth-first pre-order of
the radial structure every subtree is a contiguous run, so subtree sums are
differences of prefix sums and "b is downstream of k" is an interval test.
"""

from __future__ import annotations

import numpy as np

from ..planning import Plan, PlanningGrid
from .adaptability import interconnections, stage_structure

__all__ = ["reliability_indices"]


def reliability_indices(grid: PlanningGrid, plan: Plan, stage: int, demand_mw: np.ndarray,
                        customers: np.ndarray | None = None, switching_time_h: float = 1.0,
                        ecost_per_mwh: float | None = None) -> dict[str, float]:
    """EENS, SAIFI and SAIDI of one stage's operating topology (module docstring).

    Parameters
    ----------
    grid : PlanningGrid
    plan : Plan
    stage : int
        1-based stage whose closed lines/transformers, ties and SOPs are used.
    demand_mw : ndarray, shape (n_bus,)
        Average demand per bus of ``grid.net.bus`` (in its row order).
    customers : ndarray, shape (n_bus,), optional
        Customers per bus; default one customer per bus with demand > 0.
    switching_time_h : float
        Time to isolate the fault and switch the healthy parts back (h).
    ecost_per_mwh : float, optional
        Interruption cost per MWh; adds ``ecost`` (currency/yr).

    Returns
    -------
    dict
        ``eens_mwh`` (MWh/yr), ``saifi`` (interruptions per customer and
        year), ``saidi`` (h per customer and year), ``customers`` (served
        customers), and ``ecost`` when a price is given.
    """
    br, st = stage_structure(grid, plan, stage)
    n = br.n_bus
    demand = np.asarray(demand_mw, dtype=float)
    if demand.shape != (n,):
        raise ValueError(f"demand_mw must have shape ({n},) (one value per bus), "
                         f"got {demand.shape}")
    cust = (demand > 0).astype(float) if customers is None else np.asarray(customers, dtype=float)
    if cust.shape != (n,):
        raise ValueError(f"customers must have shape ({n},), got {cust.shape}")
    supplied = st.supplied
    demand = np.where(supplied, demand, 0.0)
    cust = np.where(supplied, cust, 0.0)
    n_customers = float(cust.sum())

    order, pbranch = st.order, st.parent_branch
    pos = np.full(n, -1, dtype=np.int64)
    pos[order] = np.arange(len(order))
    size, head = _subtree_size_and_feeder_head(br, st)

    # sections: buses whose parent branch is a line; the section's child end is the bus
    child = order[~br.is_trafo[pbranch[order]]]
    section = pbranch[child]
    line = grid.net.line
    labels = br.element[section]
    rate = line.failure_rate_per_year.reindex(labels).to_numpy(float)
    repair = line.repair_time_h.reindex(labels).to_numpy(float)
    if not (np.isfinite(rate).all() and np.isfinite(repair).all()):
        bad = labels[~(np.isfinite(rate) & np.isfinite(repair))][0]
        raise ValueError(f"line {bad} has no failure_rate_per_year/repair_time_h")

    # prefix sums over the pre-order: subtree(c) = order[pos[c] : pos[c] + size[c]]
    cum_l = np.concatenate([[0.0], np.cumsum(demand[order])])
    cum_n = np.concatenate([[0.0], np.cumsum(cust[order])])
    lo_d, hi_d = pos[child], pos[child] + size[child]
    lo_f, hi_f = pos[head[child]], pos[head[child]] + size[head[child]]
    load_down, load_feeder = cum_l[hi_d] - cum_l[lo_d], cum_l[hi_f] - cum_l[lo_f]
    cust_down, cust_feeder = cum_n[hi_d] - cum_n[lo_d], cum_n[hi_f] - cum_n[lo_f]

    alternative = _has_alternative(grid, plan, stage, br, supplied, pos, lo_d, hi_d)
    t_switch = np.minimum(float(switching_time_h), repair)
    t_down = np.where(alternative, t_switch, repair)
    eens = float(np.sum(rate * ((load_feeder - load_down) * t_switch + load_down * t_down)))
    if n_customers > 0:
        saifi = float(np.sum(rate * cust_feeder) / n_customers)
        saidi = float(np.sum(rate * ((cust_feeder - cust_down) * t_switch + cust_down * t_down))
                      / n_customers)
    else:
        saifi = saidi = 0.0
    out = {"eens_mwh": eens, "saifi": saifi, "saidi": saidi, "customers": n_customers}
    if ecost_per_mwh is not None:
        out["ecost"] = eens * float(ecost_per_mwh)
    return out


def _subtree_size_and_feeder_head(br, st) -> tuple[np.ndarray, np.ndarray]:
    """Subtree size (buses) and feeder head of every supplied non-root bus.

    A *station* bus is a root or reached from one through transformers only; a
    feeder head is a non-station bus whose parent is a station bus.
    """
    n = br.n_bus
    order, parent, pbranch, depth = st.order, st.parent, st.parent_branch, st.depth
    size = np.zeros(n, dtype=np.int64)
    size[order] = 1
    station = np.zeros(n, dtype=bool)
    station[br.root_pos] = True
    head = np.full(n, -1, dtype=np.int64)
    levels = [order[depth[order] == d] for d in range(1, int(depth.max(initial=0)) + 1)]
    for buses in levels:  # parents first
        up = parent[buses]
        station[buses] = br.is_trafo[pbranch[buses]] & station[up]
        head[buses] = np.where(station[up] & ~station[buses], buses, head[up])
    for buses in reversed(levels):  # children first
        np.add.at(size, parent[buses], size[buses])
    return size, head


def _has_alternative(grid, plan, stage, br, supplied, pos, lo, hi) -> np.ndarray:
    """Per section: a tie/SOP link with exactly one end downstream of it."""
    links = interconnections(grid, plan, stage)
    if len(links) == 0:
        return np.zeros(len(lo), dtype=bool)
    a = br.bus_position(links.bus_a.to_numpy(np.int64))
    b = br.bus_position(links.bus_b.to_numpy(np.int64))
    ok = supplied[a] & supplied[b]
    pa, pb = pos[a[ok]][None, :], pos[b[ok]][None, :]
    lo, hi = lo[:, None], hi[:, None]
    in_a = (pa >= lo) & (pa < hi)  # pos = -1 (roots) is never inside a subtree
    in_b = (pb >= lo) & (pb < hi)
    return (in_a ^ in_b).any(axis=1)
