"""Shared objects of the operation tests: ieee33's planning grid and small helpers."""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pandapower as pp
import pandas as pd

from fdnmoo.cases import load_case
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.powerflow import BatchPowerFlow


@cache
def ieee33_grid():
    return planning_grid(load_case("ieee33"))


def engine_for(grid, closed_lines=None) -> BatchPowerFlow:
    """Engine of ``closed_lines`` (default: the base topology) on the planning grid."""
    pf = BatchPowerFlow(grid.net)
    pf.bus_labels  # noqa: B018 - per-unit data first
    return pf.reconfigure(closed_lines=grid.base_closed_lines if closed_lines is None else closed_lines,
                          closed_trafos=grid.base_closed_trafos)


def line_between(grid, a: int, b: int) -> int:
    line = grid.net.line
    ends = line[["from_bus", "to_bus"]].to_numpy()
    hit = line.index[(ends == [a, b]).all(axis=1) | (ends == [b, a]).all(axis=1)]
    return int(hit[0])


def sop_table(rows: list[tuple[int, int, int, float]]) -> pd.DataFrame:
    """(stage, device, bus, capacity_mva) rows."""
    return pd.DataFrame(rows, columns=["stage", "device", "bus", "capacity_mva"])


def plan_on(grid, n_stages: int, closed_lines=None, sop=None, der=None) -> Plan:
    lines = grid.base_closed_lines if closed_lines is None else np.asarray(closed_lines)
    return Plan(n_stages=n_stages, closed_lines=[lines] * n_stages,
                closed_trafos=[grid.base_closed_trafos] * n_stages,
                sop=sop_table([]) if sop is None else sop, der=der or {})


def pandapower_run(grid, closed_lines, p_mw, q_mvar, sgen_bus=(), sgen_p=(), sgen_q=()):
    """NR on the grid net with the given topology, one load per bus and sgens (+ = injection)."""
    net = copy.deepcopy(grid.net)
    net.line["in_service"] = net.line.index.isin(np.asarray(closed_lines))
    net.load.drop(net.load.index, inplace=True)
    net.sgen.drop(net.sgen.index, inplace=True)
    for bus, p, q in zip(net.bus.index, p_mw, q_mvar):
        if p != 0 or q != 0:
            pp.create_load(net, bus, p_mw=p, q_mvar=q)
    for bus, p, q in zip(sgen_bus, sgen_p, sgen_q):
        pp.create_sgen(net, int(bus), p_mw=float(p), q_mvar=float(q))
    pp.runpp(net, tolerance_mva=1e-10, numba=False)
    return net
