"""The evaluation pipeline: decode -> operation -> power flow -> metrics.

One population (genomes or plans) goes through four stages, each taking the
arrays of the stage before it:

1. **decode** (:func:`decode_population`): genomes -> a
   :class:`~fdnmoo.planning.PlanBatch` (closed-element masks, capacities, tables);
2. **operation** (:mod:`fdnmoo.operation`): per stage and topology group, the
   net demand of every plan's rows (plans x slots x samples: loads, EV, storage,
   PV, DG, SVC) and, for plans with SOPs, the SOP dispatch;
3. **power flow** (:class:`~fdnmoo.powerflow.BatchPowerFlow`): one batched run
   per group (split into chunks of plans when a group is large);
4. **metrics** (:class:`~fdnmoo.metrics.OperationReducer`): the rows reduced to
   per-plan :class:`~fdnmoo.metrics.OperationMetrics` (plan axis first);
5. **uncertainty** (only with an :class:`~fdnmoo.uncertain_pass.UncertainPass`,
   methods interval, affine, robust): the forecast rows as operated (SOP set-points
   included) bounded over the uncertain loads and PV, per chunk.

Objectives and constraints (:mod:`fdnmoo.objectives`) come after: they read the
batch one plan at a time, and population-level metrics once per batch.

``timings`` (a :class:`StageTimes`) records the seconds spent in each stage;
power-flow seconds are the engine's own (:attr:`BatchPowerFlow.stats`), SOP
dispatch sweeps included, and the other stages exclude them.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from .metrics.operation import OperationMetrics
from .metrics.reductions import OperationReducer, line_limits_ka
from .operation.controls import ControlContext, TappedEngine, apply_controls, run_tapped
from .operation.injections import DerLayout, FeederTree, net_demand
from .operation.settings import OperationSettings
from .operation.sop_dispatch import OperatingLimits, OperatingPoint, SopTerminals, dispatch_sop
from .planning import Plan, PlanBatch, PlanningGrid, label_positions
from .powerflow import BatchPowerFlow
from .scenarios.batch import ScenarioBatch
from .uncertain_pass import UncertainPass

__all__ = ["MAX_CELLS", "STAGES", "StageTimes", "decode_population", "evaluate_plans", "operate"]

#: Bus-array cells (rows x buses) evaluated together; bounds the memory of a chunk.
MAX_CELLS = 1 << 21

#: The stages a :class:`StageTimes` reports, in pipeline order.
STAGES = ("decode", "operation", "power_flow", "metrics", "uncertainty", "objectives")


@dataclass
class StageTimes:
    """Seconds spent per pipeline stage (see :data:`STAGES`), summed over calls."""

    seconds: dict = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @contextmanager
    def stage(self, name: str, engine: BatchPowerFlow | None = None) -> Iterator[None]:
        """Time the block as ``name``; with ``engine``, its power-flow seconds go to
        ``power_flow`` instead."""
        pf0 = engine.stats["seconds"] if engine is not None else 0.0
        t0 = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - t0
            if engine is not None:
                pf = engine.stats["seconds"] - pf0
                self.seconds["power_flow"] += pf
                spent -= pf
            self.seconds[name] += spent

    @property
    def total(self) -> float:
        return float(sum(self.seconds.values()))

    def as_dict(self) -> dict:
        return {**{k: float(v) for k, v in self.seconds.items()}, "total": self.total}


def decode_population(genome, X, timings: StageTimes | None = None) -> PlanBatch:
    """Decode every row of ``X`` (repaired genomes) into a :class:`PlanBatch` on the genome's grid."""
    timings = StageTimes() if timings is None else timings
    with timings.stage("decode"):
        plans = [genome.decode(x) for x in np.atleast_2d(np.asarray(X))]
        return PlanBatch.of(genome.grid, plans)


def operate(grid: PlanningGrid, plans: PlanBatch, batch: ScenarioBatch,
            engine: BatchPowerFlow | None = None, *, violation_weight: float = 1.0,
            max_cells: int = MAX_CELLS, timings: StageTimes | None = None,
            uncertain: UncertainPass | None = None,
            operation: OperationSettings | None = None) -> OperationMetrics:
    """Operation metrics of every plan over the batch's stages, slots and samples.

    Parameters
    ----------
    grid : PlanningGrid
    plans : PlanBatch
        Plans on ``grid`` with ``batch.n_stages`` stages.
    batch : ScenarioBatch
        Built on ``grid``.
    engine : BatchPowerFlow, optional
        Engine on ``grid.net``; pass the same one across calls to reuse its
        cache of radial orders. Default: a new one.
    violation_weight : float
        MW of losses one MW of violating load is worth in the SOP choice.
    max_cells : int
        Rows x buses solved together (memory bound).
    timings : StageTimes, optional
        Adds the seconds of operation, power flow and metrics (and uncertainty).
    uncertain : UncertainPass, optional
        The uncertain stage, fed every chunk's forecast rows; read its bounds with
        ``uncertain.bounds()`` afterwards (:mod:`fdnmoo.uncertain_pass`).
    operation : OperationSettings, optional
        Operation options (OLTC, capacitor banks, PV reactive power and curtailment,
        :mod:`fdnmoo.operation.controls`); default: none.

    Returns
    -------
    OperationMetrics
        A batch, plan axis first in the order of ``plans``.
    """
    engine = BatchPowerFlow(grid.net) if engine is None else engine
    timings = StageTimes() if timings is None else timings
    if not np.array_equal(engine.bus_labels, batch.bus_labels):
        raise ValueError("the engine and the scenario batch were not built on the same grid")
    if len(plans) and plans.n_stages != batch.n_stages:
        raise ValueError(f"the plans have {plans.n_stages} stages, the batch {batch.n_stages}")
    unc = grid.case.uncertainty
    limits = OperatingLimits(unc.v_min_pu, unc.v_max_pu, line_limits_ka(grid.net))
    layout = DerLayout.of(grid, batch.bus_labels)
    ctx = ControlContext.of(operation, grid, batch.bus_labels, limits.i_limit_ka)
    if ctx is not None and ctx.settings.oltc is not None and uncertain is not None:
        raise ValueError("the OLTC option works with sampled scenarios only: the interval, "
                         "affine and robust power flows keep the substations at their set-points")
    reducer = OperationReducer.empty(len(plans), batch, engine, limits.i_limit_ka,
                                     layout.bus["dg"].size,
                                     curtailment=ctx is not None and ctx.settings.curtailment)
    sop = _sop_terminals(plans, batch)
    rows_per_plan = batch.n_slots * batch.n_samples
    per_chunk = max(1, max_cells // (rows_per_plan * batch.n_bus))
    line_labels = grid.net.line.index.to_numpy()
    trafo_labels = grid.net.trafo.index.to_numpy()
    for stage in range(1, batch.n_stages + 1):
        groups: dict[bytes, list[int]] = {}
        for i, keys in enumerate(plans.topology_keys):
            groups.setdefault(keys[stage - 1], []).append(i)
        for members in groups.values():
            first = members[0]
            with timings.stage("operation", engine):
                eng = engine.reconfigure(
                    closed_lines=line_labels[plans.closed_lines[first, stage - 1]],
                    closed_trafos=trafo_labels[plans.closed_trafos[first, stage - 1]])
                tree = eng.per_topology("feeder_tree", FeederTree.from_engine)
            for c in range(0, len(members), per_chunk):
                chunk = np.array(members[c:c + per_chunk])
                _operate_chunk(grid, plans, chunk, [sop[i][stage - 1] for i in chunk], batch,
                               stage, eng, tree, layout, limits, reducer, violation_weight,
                               timings, uncertain, ctx)
    return reducer.metrics()


def evaluate_plans(grid: PlanningGrid, plans: Sequence[Plan], batch: ScenarioBatch,
                   engine: BatchPowerFlow | None = None, **options) -> list[OperationMetrics]:
    """:func:`operate` on a list of plans, one :class:`OperationMetrics` per plan."""
    for i, plan in enumerate(plans):
        if plan.n_stages != batch.n_stages:
            raise ValueError(f"plan {i} has {plan.n_stages} stages, the batch {batch.n_stages}")
    ops = operate(grid, PlanBatch.of(grid, plans), batch, engine, **options)
    return [ops.take(i) for i in range(len(plans))]


def _sop_terminals(plans: PlanBatch, batch: ScenarioBatch) -> list[list[SopTerminals | None]]:
    """Every plan's SOP terminals per stage (None where it operates none)."""
    out = [[None] * plans.n_stages for _ in range(len(plans))]
    sop = plans.sop
    if not len(sop):
        return out
    try:
        pos = label_positions(batch.bus_labels, sop["bus"], "the grid's buses")
    except KeyError as exc:
        raise KeyError(f"SOP terminal at an unknown bus: {exc.args[0]}") from None
    key = sop["plan"] * (plans.n_stages + 1) + sop["stage"]
    order = np.argsort(key, kind="stable")
    starts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])
    for rows in np.split(order, starts[1:]):
        i, s = int(sop["plan"][rows[0]]), int(sop["stage"][rows[0]])
        out[i][s - 1] = SopTerminals.numbered(pos[rows], sop["device"][rows],
                                              sop["capacity_mva"][rows])
    return out


def _operate_chunk(grid, plans, index, terminals, batch, stage, eng, tree, layout, limits,
                   reducer, weight, timings, uncertain=None, ctx=None) -> None:
    with timings.stage("operation", eng):
        nd = net_demand(grid, plans, batch, stage, tree, layout, index=index)
        n_p, n_t, n_s, n_b = nd.p_mw.shape
        flat = (n_p * n_t * n_s, n_b)
        scale = None
        if ctx is not None:
            scale = apply_controls(ctx, nd, layout.capacities(plans, "pv", stage, index), tree,
                                   eng.structure.root_of, eng.branches.root_pos, layout).root_scale
    with timings.stage("power_flow"):
        if scale is None:
            point = OperatingPoint.from_result(eng.run(nd.p_mw.reshape(flat),
                                                       nd.q_mvar.reshape(flat)))
        else:
            point = run_tapped(eng, nd.p_mw.reshape(flat), nd.q_mvar.reshape(flat), scale)
    conv_loss = np.zeros(flat[0])
    with_sop = [i for i, t in enumerate(terminals) if t is not None and t.bus.size]
    d = None
    if with_sop:
        with timings.stage("operation", eng):
            terms = [terminals[i] for i in with_sop]
            rows = (np.asarray(with_sop)[:, None] * (n_t * n_s) + np.arange(n_t * n_s)).ravel()
            everything = len(with_sop) == n_p
            sel = slice(None) if everything else with_sop
            shape = (len(with_sop), n_t * n_s, n_b)
            sop_eng = eng if scale is None else TappedEngine(eng, scale[rows])
            d = dispatch_sop(sop_eng, tree, terms, nd.p_mw[sel].reshape(shape),
                             nd.q_mvar[sel].reshape(shape), nd.demand_mw[sel].reshape(shape),
                             limits, eta=grid.case.uncertainty.sop_loss_coefficient,
                             idle=point if everything else point.take(rows),
                             violation_weight=weight)
            if everything:
                point = d.point
            else:
                point.put(rows, d.point)
            conv_loss[rows] = d.converter_loss_mw
    with timings.stage("metrics", eng):
        reducer.add(stage, index, nd, point, conv_loss, tree, limits, batch)
    if uncertain is not None:
        with timings.stage("uncertainty"):
            k = batch.forecast_sample
            p_f, q_f = nd.p_mw[:, :, k].copy(), nd.q_mvar[:, :, k].copy()
            for j, i in enumerate(with_sop):  # the set-points as dispatch_sop applied them
                bus = terminals[i].bus  # the dispatch pads every plan to the widest: cut
                np.subtract.at(p_f[i], (slice(None), bus),
                               d.p_mw[j].reshape(n_t, n_s, -1)[:, k, :bus.size])
                np.subtract.at(q_f[i], (slice(None), bus),
                               d.q_mvar[j].reshape(n_t, n_s, -1)[:, k, :bus.size])
            uncertain.add(stage, index, nd, p_f, q_f,
                          point.converged.reshape(n_p, n_t, n_s)[:, :, k],
                          conv_loss.reshape(n_p, n_t, n_s)[:, :, k], eng, tree, limits, batch)
