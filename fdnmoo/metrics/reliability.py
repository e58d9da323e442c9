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
:func:`reliability_arrays` computes a whole population: the sections and their
intervals once per distinct topology (:class:`~fdnmoo.topology_cache.TopologyCache`),
the sums for all plans and stages of that topology at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..planning import Plan, PlanBatch, PlanningGrid
from ..topology_cache import StageTopology, TopologyCache
from .adaptability import plan_links

__all__ = ["reliability_arrays", "reliability_indices"]

#: Indices of :func:`reliability_arrays`, each of shape (n_plans, n_stages).
INDICES = ("eens_mwh", "saifi", "saidi", "customers")


def reliability_arrays(grid: PlanningGrid, batch: PlanBatch, demand_mw: np.ndarray,
                       customers: np.ndarray | None = None, switching_time_h: float = 1.0,
                       cache: TopologyCache | None = None) -> dict[str, np.ndarray]:
    """EENS, SAIFI and SAIDI of every plan and stage of a batch (module docstring).

    Parameters
    ----------
    grid : PlanningGrid
    batch : PlanBatch
    demand_mw : ndarray, shape (n_plans, n_stages, n_bus)
        Average demand per bus of ``grid.net.bus`` (in its row order).
    customers : ndarray, shape (n_bus,) or (n_plans, n_stages, n_bus), optional
        Customers per bus; default one customer per bus with demand > 0.
    switching_time_h : float
        Time to isolate the fault and switch the healthy parts back (h).
    cache : TopologyCache, optional
        Per-topology arrays kept across calls (default: a new one).

    Returns
    -------
    dict of str to ndarray, shape (n_plans, n_stages)
        ``eens_mwh`` (MWh/yr), ``saifi`` (interruptions per customer and year),
        ``saidi`` (h per customer and year) and ``customers`` (served customers).
    """
    cache = TopologyCache(grid) if cache is None else cache
    n = cache.branches.n_bus
    shape = (len(batch), batch.n_stages, n)
    demand = np.asarray(demand_mw, dtype=float)
    if demand.shape != shape:
        raise ValueError(f"demand_mw must have shape {shape} (plans, stages, one value per "
                         f"bus), got {demand.shape}")
    if customers is None:
        cust = (demand > 0).astype(float)
    elif np.shape(customers) in ((n,), shape):
        cust = np.broadcast_to(np.asarray(customers, dtype=float), shape)
    else:
        raise ValueError(f"customers must have shape ({n},) or {shape}, got "
                         f"{np.shape(customers)}")
    index, topos = cache.of_batch(batch)
    links = plan_links(grid, batch, cache)
    link_topo = index[links.plan, links.stage]
    by_topo = np.argsort(link_topo, kind="stable")
    bounds = np.searchsorted(link_topo[by_topo], np.arange(len(topos) + 1))
    local = np.full(index.shape, -1, dtype=np.int64)  # row of a (plan, stage) in its group
    out = {k: np.zeros(index.shape) for k in INDICES}
    line_data = _line_data(grid.net.line)
    for t, topo in enumerate(topos):
        plans, stages = np.nonzero(index == t)
        local[plans, stages] = np.arange(plans.size)
        mine = links.take(by_topo[bounds[t]:bounds[t + 1]])
        supplied = topo.structure.supplied
        mine = mine.take(supplied[mine.a] & supplied[mine.b])
        values = _indices(line_data, topo, demand[plans, stages], cust[plans, stages],
                          (local[mine.plan, mine.stage], mine.a, mine.b),
                          float(switching_time_h))
        for k, v in values.items():
            out[k][plans, stages] = v
    return out


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
    n = len(grid.net.bus)
    demand = np.asarray(demand_mw, dtype=float)
    if demand.shape != (n,):
        raise ValueError(f"demand_mw must have shape ({n},) (one value per bus), "
                         f"got {demand.shape}")
    if customers is not None and np.shape(customers) != (n,):
        raise ValueError(f"customers must have shape ({n},), got {np.shape(customers)}")
    one = Plan(n_stages=1, closed_lines=[plan.closed_lines[stage - 1]],
               closed_trafos=[plan.closed_trafos[stage - 1]],
               new_lines=_in_stage_one(plan.new_lines, stage), sop=plan.sop_terminals(stage))
    one.sop["stage"] = 1
    got = reliability_arrays(grid, PlanBatch.of(grid, [one]), demand[None, None, :],
                             customers, switching_time_h)
    out = {k: float(v[0, 0]) for k, v in got.items()}
    if ecost_per_mwh is not None:
        out["ecost"] = out["eens_mwh"] * float(ecost_per_mwh)
    return out


def _in_stage_one(new_lines: np.ndarray, stage: int) -> np.ndarray:
    """The lines built by ``stage``, as built in stage 1 of a one-stage plan."""
    built = new_lines[new_lines["stage"] <= stage].copy()
    built["stage"] = 1
    return built


@dataclass(frozen=True)
class _Sections:
    """Line sections of a topology: rates, repair times and pre-order intervals."""

    rate: np.ndarray
    repair: np.ndarray
    down: tuple  # (lo, hi) of every section's downstream buses in the pre-order
    feeder: tuple  # (lo, hi) of its feeder

    @classmethod
    def of(cls, topo: StageTopology, line_data: tuple[np.ndarray, np.ndarray]) -> "_Sections":
        """``line_data``: failure rate and repair time of every ``net.line`` row (NaN if none)."""
        br, st, pre = topo.branches, topo.structure, topo.preorder
        child = st.order[~br.is_trafo[st.parent_branch[st.order]]]
        k = st.parent_branch[child]  # lines come first: branch position = net.line row
        rate, repair = line_data[0][k], line_data[1][k]
        if not (np.isfinite(rate).all() and np.isfinite(repair).all()):
            bad = br.element[k][~(np.isfinite(rate) & np.isfinite(repair))][0]
            raise ValueError(f"line {bad} has no failure_rate_per_year/repair_time_h")
        head = pre.head[child]
        lo_d, lo_f = pre.position[child], pre.position[head]
        return cls(rate=rate, repair=repair, down=(lo_d, lo_d + pre.size[child]),
                   feeder=(lo_f, lo_f + pre.size[head]))


def _line_data(line) -> tuple[np.ndarray, np.ndarray]:
    """Failure rate (1/yr) and repair time (h) of every ``net.line`` row, NaN where missing."""
    return tuple(line[c].to_numpy(float) if c in line else np.full(len(line), np.nan)
                 for c in ("failure_rate_per_year", "repair_time_h"))


def _indices(line_data, topo: StageTopology, demand: np.ndarray, cust: np.ndarray, links,
             t_switch_h: float) -> dict[str, np.ndarray]:
    """The indices of rows (plans x stages) sharing ``topo``: demand, customers (G, n_bus)."""
    sec = topo.derived("reliability sections", lambda t: _Sections.of(t, line_data))
    st = topo.structure
    supplied = st.supplied
    demand = np.where(supplied, demand, 0.0)
    cust = np.where(supplied, cust, 0.0)
    n_customers = cust.sum(axis=1)
    # prefix sums over the pre-order: subtree(c) = order[pos[c] : pos[c] + size[c]]
    zeros = np.zeros((demand.shape[0], 1))
    cum_l = np.concatenate([zeros, np.cumsum(demand[:, st.order], axis=1)], axis=1)
    cum_n = np.concatenate([zeros, np.cumsum(cust[:, st.order], axis=1)], axis=1)
    (lo_d, hi_d), (lo_f, hi_f) = sec.down, sec.feeder
    load_down, load_feeder = cum_l[:, hi_d] - cum_l[:, lo_d], cum_l[:, hi_f] - cum_l[:, lo_f]
    cust_down, cust_feeder = cum_n[:, hi_d] - cum_n[:, lo_d], cum_n[:, hi_f] - cum_n[:, lo_f]

    alternative = _has_alternative(topo, links, lo_d, hi_d, demand.shape[0])
    t_switch = np.minimum(t_switch_h, sec.repair)
    t_down = np.where(alternative, t_switch, sec.repair)
    rate = sec.rate
    eens = np.sum(rate * ((load_feeder - load_down) * t_switch + load_down * t_down), axis=1)
    served = n_customers > 0
    per = np.where(served, n_customers, 1.0)
    saifi = np.where(served, np.sum(rate * cust_feeder, axis=1) / per, 0.0)
    saidi = np.where(served, np.sum(rate * ((cust_feeder - cust_down) * t_switch
                                            + cust_down * t_down), axis=1) / per, 0.0)
    return {"eens_mwh": eens, "saifi": saifi, "saidi": saidi, "customers": n_customers}


def _has_alternative(topo: StageTopology, links, lo, hi, n_rows: int) -> np.ndarray:
    """Per row and section: a tie/SOP link with exactly one end downstream of it."""
    rows, a, b = links
    out = np.zeros((n_rows, lo.size), dtype=bool)
    if rows.size == 0:
        return out
    pos = topo.preorder.position
    pa, pb = pos[a][:, None], pos[b][:, None]
    in_a = (pa >= lo) & (pa < hi)  # pos = -1 (roots) is never inside a subtree
    in_b = (pb >= lo) & (pb < hi)
    crossing = np.zeros((n_rows, lo.size), dtype=np.int64)
    np.add.at(crossing, rows, (in_a ^ in_b).astype(np.int64))
    return crossing > 0
