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
    ECOST = sum_k lambda_k sum_b L_b c_class(b)(duration of b for fault k)   $/yr
            (sector damage functions, :mod:`fdnmoo.damage`, when
            ``class_shares`` are given; :func:`reliability_indices` also takes a
            flat ``ecost_per_mwh`` x EENS)

Islanding (option ``islanding``, :class:`Islanding`): the buses carry cluster
labels (a partition, e.g. :mod:`fdnmoo.operators.partitioning`). For a fault on
k without an alternative supply, the buses of each cluster c downstream of k,
``S = D_k & C_c`` (connected when C_c is: two subtrees of a tree meet in a
subtree), run as an island during the repair if their island capacity covers
their average load, ``sum_S (PV_b x a + ESS_b) >= L(S) > 0`` (``a``: PV
availability factor): they are restored after ``min(t_s, r_k)``, like with a
tie. This stands for the cluster islanding of the zonal-planning paper (Shi et
al., Processes 13(2) 354, 2025, sec. 3.3, reliability layer computed within
clusters; its nomenclature has a probability ``alpha_k`` of cluster islanding
and PV failure rates): the probability becomes this 0/1 capacity rule; ESS
energy limits, PV failures and islanding-switch failures are not modelled.
SAIFI is unchanged (islanded customers see the breaker trip). The $ of ECOST
are those of the damage-function table (1991 Canadian $, :mod:`fdnmoo.damage`).

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

from ..damage import LOAD_CLASSES, cost_per_kw
from ..planning import Plan, PlanBatch, PlanningGrid
from ..topology_cache import StageTopology, TopologyCache
from .adaptability import plan_links

__all__ = ["Islanding", "island_capacity_mw", "plan_islanding", "reliability_arrays",
           "reliability_indices"]

#: Indices of :func:`reliability_arrays`, each of shape (n_plans, n_stages).
INDICES = ("eens_mwh", "saifi", "saidi", "customers")


@dataclass(frozen=True)
class Islanding:
    """Cluster islanding during repairs (module docstring).

    Attributes
    ----------
    labels : ndarray of int, shape (n_bus,)
        Cluster label of every bus of ``grid.net.bus`` (row order).
    capacity_mw : ndarray, shape (n_bus,) or (n_plans, n_stages, n_bus)
        Island supply capacity per bus, :func:`island_capacity_mw`.
    """

    labels: np.ndarray
    capacity_mw: np.ndarray


def island_capacity_mw(pv_mw, ess_mw, pv_availability: float = 1.0) -> np.ndarray:
    """Island supply capacity per bus: PV capacity x availability factor + ESS power (MW)."""
    if not 0.0 <= float(pv_availability) <= 1.0:
        raise ValueError(f"pv_availability must be in [0, 1], got {pv_availability}")
    return np.asarray(pv_mw, dtype=float) * float(pv_availability) + np.asarray(ess_mw, float)


def plan_islanding(grid: PlanningGrid, batch: PlanBatch, labels,
                   pv_availability: float = 1.0) -> Islanding:
    """:class:`Islanding` of a batch from the PV and ESS its plans install.

    Parameters
    ----------
    grid : PlanningGrid
    batch : PlanBatch
    labels : array_like of int, shape (n_bus,)
        Cluster of every bus of ``grid.net.bus`` (row order), e.g. a partition of
        :mod:`fdnmoo.operators.partitioning`.
    pv_availability : float
        Share of the installed PV capacity an island can count on, in [0, 1].

    Returns
    -------
    Islanding
        ``capacity_mw`` of shape (n_plans, n_stages, n_bus): planned PV x availability
        + planned ESS power at each bus (the case's existing generators are not counted).
    """
    n = len(grid.net.bus)
    per_bus = {}
    for kind in ("pv", "ess"):
        mw = np.zeros((len(batch), batch.n_stages, n))
        cap = batch.der.get(kind)
        if cap is not None and cap.size:
            pos = grid.net.bus.index.get_indexer(grid.case.candidates[kind].bus.to_numpy())
            np.add.at(mw, (slice(None), slice(None), pos), np.asarray(cap, dtype=float))
        per_bus[kind] = mw
    return Islanding(np.asarray(labels),
                     island_capacity_mw(per_bus["pv"], per_bus["ess"], pv_availability))


def reliability_arrays(grid: PlanningGrid, batch: PlanBatch, demand_mw: np.ndarray,
                       customers: np.ndarray | None = None, switching_time_h: float = 1.0,
                       cache: TopologyCache | None = None, class_shares: np.ndarray | None = None,
                       islanding: Islanding | None = None) -> dict[str, np.ndarray]:
    """EENS, SAIFI, SAIDI (and ECOST) of every plan and stage of a batch (module docstring).

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
    class_shares : ndarray, shape (n_class, n_bus), optional
        Share of each bus's demand per load class of :data:`fdnmoo.damage.LOAD_CLASSES`
        (:func:`~fdnmoo.damage.load_class_shares`); adds ``ecost`` ($/yr).
    islanding : Islanding, optional
        Cluster labels and island capacities; clusters that can island are
        restored after the switching time (module docstring).

    Returns
    -------
    dict of str to ndarray, shape (n_plans, n_stages)
        ``eens_mwh`` (MWh/yr), ``saifi`` (interruptions per customer and year),
        ``saidi`` (h per customer and year), ``customers`` (served customers) and
        ``ecost`` ($/yr) when ``class_shares`` are given.
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
    shares = _checked_shares(class_shares, n)
    groups, capacity = _checked_islanding(islanding, n, shape)
    index, topos = cache.of_batch(batch)
    links = plan_links(grid, batch, cache)
    link_topo = index[links.plan, links.stage]
    by_topo = np.argsort(link_topo, kind="stable")
    bounds = np.searchsorted(link_topo[by_topo], np.arange(len(topos) + 1))
    local = np.full(index.shape, -1, dtype=np.int64)  # row of a (plan, stage) in its group
    out = {k: np.zeros(index.shape) for k in INDICES + (("ecost",) if shares is not None else ())}
    line_data = _line_data(grid.net.line)
    for t, topo in enumerate(topos):
        plans, stages = np.nonzero(index == t)
        local[plans, stages] = np.arange(plans.size)
        mine = links.take(by_topo[bounds[t]:bounds[t + 1]])
        supplied = topo.structure.supplied
        mine = mine.take(supplied[mine.a] & supplied[mine.b])
        values = _indices(line_data, topo, demand[plans, stages], cust[plans, stages],
                          (local[mine.plan, mine.stage], mine.a, mine.b),
                          float(switching_time_h), shares, groups, capacity[plans, stages])
        for k, v in values.items():
            out[k][plans, stages] = v
    return out


def reliability_indices(grid: PlanningGrid, plan: Plan, stage: int, demand_mw: np.ndarray,
                        customers: np.ndarray | None = None, switching_time_h: float = 1.0,
                        ecost_per_mwh: float | None = None, class_shares: np.ndarray | None = None,
                        islanding: Islanding | None = None) -> dict[str, float]:
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
        Flat interruption cost per MWh; adds ``ecost`` = EENS x price (currency/yr).
    class_shares, islanding : optional
        As in :func:`reliability_arrays` (``class_shares`` adds the damage-function
        ``ecost``, $/yr; give it or ``ecost_per_mwh``, not both).

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
    if ecost_per_mwh is not None and class_shares is not None:
        raise ValueError("give ecost_per_mwh or class_shares, not both (two ECOST definitions)")
    one = Plan(n_stages=1, closed_lines=[plan.closed_lines[stage - 1]],
               closed_trafos=[plan.closed_trafos[stage - 1]],
               new_lines=_in_stage_one(plan.new_lines, stage), sop=plan.sop_terminals(stage))
    one.sop["stage"] = 1
    got = reliability_arrays(grid, PlanBatch.of(grid, [one]), demand[None, None, :],
                             customers, switching_time_h, class_shares=class_shares,
                             islanding=islanding)
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


def _checked_shares(class_shares, n: int) -> np.ndarray | None:
    if class_shares is None:
        return None
    shares = np.asarray(class_shares, dtype=float)
    if shares.shape != (len(LOAD_CLASSES), n):
        raise ValueError(f"class_shares must have shape ({len(LOAD_CLASSES)}, {n}) (one row "
                         f"per load class {LOAD_CLASSES}), got {shares.shape}")
    return shares


def _checked_islanding(islanding: Islanding | None, n: int, shape: tuple) -> tuple:
    """One-hot cluster masks (G, n_bus) and capacities broadcast to ``shape``."""
    if islanding is None:
        return np.ones((1, n), dtype=bool), np.broadcast_to(np.zeros(n), shape)
    labels = np.asarray(islanding.labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"islanding.labels must be {n} integer cluster labels (one per "
                         f"bus), got shape {labels.shape} dtype {labels.dtype}")
    cap = np.asarray(islanding.capacity_mw, dtype=float)
    if cap.shape not in ((n,), shape) or not np.all(np.isfinite(cap)) or np.any(cap < 0):
        raise ValueError(f"islanding.capacity_mw must be finite, >= 0, of shape ({n},) or "
                         f"{shape}, got shape {cap.shape}")
    return labels[None, :] == np.unique(labels)[:, None], np.broadcast_to(cap, shape)


def _indices(line_data, topo: StageTopology, demand: np.ndarray, cust: np.ndarray, links,
             t_switch_h: float, shares: np.ndarray | None, groups: np.ndarray,
             capacity: np.ndarray) -> dict[str, np.ndarray]:
    """The indices of rows (plans x stages) sharing ``topo``: demand, customers, capacity
    (G, n_bus); ``groups`` (n_cluster, n_bus) one-hot islanding clusters."""
    sec = topo.derived("reliability sections", lambda t: _Sections.of(t, line_data))
    st = topo.structure
    supplied = st.supplied
    demand = np.where(supplied, demand, 0.0)
    cust = np.where(supplied, cust, 0.0)
    n_customers = cust.sum(axis=1)
    (lo_d, hi_d), (lo_f, hi_f) = sec.down, sec.feeder

    # prefix sums over the pre-order: subtree(c) = order[pos[c] : pos[c] + size[c]]
    def feeder_and_down(x):
        """Sums of x (..., n_bus) over every section's feeder and over its downstream
        buses split by cluster: (..., K) and (..., K, G)."""
        x = x[..., st.order]
        cum = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
        per = x[..., None, :] * groups[:, st.order]  # (..., G, n)
        cum_g = np.concatenate([np.zeros(per.shape[:-1] + (1,)), np.cumsum(per, axis=-1)],
                               axis=-1)
        down = np.moveaxis(cum_g[..., hi_d] - cum_g[..., lo_d], -2, -1)
        return cum[..., hi_f] - cum[..., lo_f], down

    load_feeder, load_down = feeder_and_down(demand)
    cust_feeder, cust_down = feeder_and_down(cust)
    _, cap_down = feeder_and_down(capacity)

    alternative = _has_alternative(topo, links, lo_d, hi_d, demand.shape[0])
    islanded = (cap_down >= load_down) & (load_down > 0)  # (rows, K, G)
    t_switch = np.minimum(t_switch_h, sec.repair)  # (K,)
    t_down = np.where(alternative[:, :, None] | islanded, t_switch[:, None],
                      sec.repair[:, None])  # (rows, K, G)
    rate = sec.rate
    up = load_feeder - load_down.sum(axis=2)
    eens = np.sum(rate * (up * t_switch + np.sum(load_down * t_down, axis=2)), axis=1)
    served = n_customers > 0
    per = np.where(served, n_customers, 1.0)
    saifi = np.where(served, np.sum(rate * cust_feeder, axis=1) / per, 0.0)
    cust_up = cust_feeder - cust_down.sum(axis=2)
    saidi = np.where(served, np.sum(rate * (cust_up * t_switch
                                            + np.sum(cust_down * t_down, axis=2)), axis=1) / per,
                     0.0)
    out = {"eens_mwh": eens, "saifi": saifi, "saidi": saidi, "customers": n_customers}
    if shares is not None:
        out["ecost"] = _ecost(shares, demand, feeder_and_down, rate, t_switch, t_down)
    return out


def _ecost(shares, demand, feeder_and_down, rate, t_switch, t_down) -> np.ndarray:
    """Sum over sections, classes and interrupted buses of rate x kW x cost per kW ($/yr)."""
    active = np.flatnonzero(shares.any(axis=1))
    feeder, down = feeder_and_down(demand[:, None, :] * shares[active])  # (rows, C, K[, G])
    c_switch = cost_per_kw(t_switch)[active]  # (C, K)
    c_down = np.moveaxis(cost_per_kw(t_down)[active], 0, 1)  # (rows, C, K, G)
    up = feeder - down.sum(axis=3)
    per_section = up * c_switch + np.sum(down * c_down, axis=3)  # (rows, C, K)
    return 1e3 * np.sum(rate * per_section.sum(axis=1), axis=1)  # MW -> kW


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
