"""Independent feasibility checks of decoded plans, shared by the encoding tests.

These checks read only the plan, the planning grid and the block parameters;
they do not reuse the repair code, so a repair bug cannot hide behind them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from fdnmoo.cases import load_case
from fdnmoo.planning import DER_KINDS, PLAN_TABLES, Plan, planning_grid
from fdnmoo.branches import branch_table
from fdnmoo.problems.encodings import DerBlock, DgBlock, SopBlock, load_buses, stage_peak_load_mw
from fdnmoo.topology import radial_structure


@lru_cache(maxsize=None)
def grid_of(name: str):
    """Planning grid of a built-in case (cached: tests never modify it)."""
    return planning_grid(load_case(name))


_BRANCHES: dict[int, tuple] = {}


def _branches(grid):
    hit = _BRANCHES.get(id(grid))
    if hit is None or hit[0] is not grid:  # keeps the grid alive, so ids stay unique
        hit = _BRANCHES[id(grid)] = (grid, branch_table(grid.net))
    return hit[1]


def check_topology(plan: Plan, grid, require_supplied: bool = True) -> None:
    """Every stage radial with substations as roots; load buses supplied; new lines valid."""
    bt = _branches(grid)
    case_lines = set(int(l) for l in grid.base_lines)
    new = pd.DataFrame(plan.new_lines)
    assert new.corridor.is_unique, "a corridor built twice"
    for _, r in new.iterrows():
        assert 1 <= int(r.stage) <= plan.n_stages
        cand = grid.candidate_lines.loc[int(r.line)]
        assert int(cand.corridor) == int(r.corridor) and int(cand.conductor) == int(r.conductor)
    for s in range(1, plan.n_stages + 1):
        lines = np.asarray(plan.closed_lines[s - 1], dtype=np.int64)
        trafos = np.asarray(plan.closed_trafos[s - 1], dtype=np.int64)
        assert len(set(lines.tolist())) == len(lines)
        built = new[new.stage <= s]
        replaced = {int(grid.candidate_lines.replaces[l]) for l in built.line} - {-1}
        allowed = (case_lines - replaced) | {int(l) for l in built.line}
        assert set(lines.tolist()) <= allowed, f"stage {s}: unbuilt or replaced line closed"
        closed = np.zeros(len(bt.from_pos), dtype=bool)
        if len(lines):
            closed[bt.line_position(lines)] = True
        if len(trafos):
            closed[bt.trafo_position(trafos)] = True
        # raises NonRadialError on a loop (or a path between two substations)
        rs = radial_structure(bt.n_bus, bt.from_pos, bt.to_pos, closed, bt.root_pos)
        if require_supplied:
            pos = bt.bus_position(load_buses(grid, s))
            missing = bt.bus_labels[pos[~rs.supplied[pos]]]
            assert len(missing) == 0, f"stage {s}: load buses {missing.tolist()} unsupplied"


def check_substations(plan: Plan, grid) -> None:
    """Built transformers conduct from their stage on, the base ones always."""
    subs = pd.DataFrame(plan.substations)
    assert subs.bus.is_unique
    for s in range(1, plan.n_stages + 1):
        expected = set(int(t) for t in grid.base_closed_trafos) | \
            set(int(t) for t in subs.trafo[subs.stage <= s])
        assert set(np.asarray(plan.closed_trafos[s - 1]).tolist()) == expected


def check_sop(plan: Plan, grid, block: SopBlock) -> None:
    """Scheme evolution rules of seed paper 000 and reused ties kept open."""
    nodes = grid.case.candidates["sop_nodes"]
    feeder = dict(zip(nodes.bus.astype(int), nodes.feeder.astype(str)))
    n_feeders = len(set(feeder.values()))
    m = min(n_feeders, block.max_terminals or 3)
    sop = pd.DataFrame(plan.sop)
    module, top = block.module_mva, block.max_modules * block.module_mva
    ties = grid.case.tie_lines
    prev: dict[int, dict[int, float]] = {}
    for s in range(1, plan.n_stages + 1):
        rows = sop[sop.stage == s]
        assert rows.bus.is_unique, f"stage {s}: a node in two SOPs"
        cur: dict[int, dict[int, float]] = {}
        for dev, t in rows.groupby("device"):
            buses = [int(b) for b in t.bus]
            assert 2 <= len(buses) <= m
            assert 0 <= int(dev) < block.n_devices
            assert len({feeder[b] for b in buses}) == len(buses), "two terminals in one feeder"
            caps = t.capacity_mva.to_numpy(float)
            assert np.all(caps >= module - 1e-12) and np.all(caps <= top + 1e-12)
            assert np.allclose(caps / module, np.round(caps / module))
            # seed 000 eq. (10e): the device's capacity (sum over its terminals) within its limits
            assert caps.sum() <= block.device_max_mva + 1e-9, "device above its capacity limit"
            if block.device_min_mva is not None:
                assert caps.sum() >= block.device_min_mva - 1e-9, "device below its minimum size"
            cur[int(dev)] = dict(zip(buses, caps))
            closed = set(np.asarray(plan.closed_lines[s - 1]).tolist())
            for label, a, b in zip(ties.index, ties.from_bus, ties.to_bus):
                if int(a) in buses and int(b) in buses:
                    assert int(label) not in closed, f"stage {s}: SOP tie {label} closed"
        for dev, old in prev.items():
            assert dev in cur and set(old) <= set(cur[dev]), "scheme shrank"
            for b, c in old.items():
                assert cur[dev][b] >= c - 1e-12, "terminal capacity decreased"
        prev = cur


def check_der(plan: Plan, grid, block: DerBlock) -> None:
    """Monotone capacities within per-bus, bus-count and total limits; targets met or maxed."""
    cap = plan.der[block.kind]
    table = grid.case.candidates[block.kind]
    top = table["max_mvar" if block.kind == "svc" else "max_mw"].to_numpy(float)
    assert cap.shape == (plan.n_stages, len(table))
    assert np.all(np.diff(cap, axis=0) >= -1e-12), "capacity decreased"
    assert np.all(cap >= 0) and np.all(cap <= top + 1e-12)
    levels = cap / top * block.levels
    assert np.allclose(levels, np.round(levels))
    if block.max_buses is not None:
        assert (cap[-1] > 0).sum() <= block.max_buses
    if block.total_max is not None:
        assert cap.sum(axis=1).max() <= block.total_max + 1e-9
    if block.penetration:
        lv = np.round(levels).astype(int)
        for s in range(plan.n_stages):
            target = grid.case.horizon.pv_penetration[s] * stage_peak_load_mw(grid.case, s + 1, grid.net)
            if cap[s].sum() >= target - 1e-9:
                continue
            # unreachable: no single-level increase (pushed to later stages) is allowed
            for i in range(len(top)):
                trial = lv.copy()
                trial[s:, i] = np.maximum(trial[s:, i], trial[s, i] + 1)
                cap_t = trial * top / block.levels
                ok = trial[s, i] <= block.levels
                ok &= block.max_buses is None or (cap_t[-1] > 0).sum() <= block.max_buses
                ok &= block.total_max is None or cap_t[-1].sum() <= block.total_max + 1e-9
                assert not ok, f"stage {s + 1}: PV target missed though bus {i} could grow"


def check_dg(plan: Plan, grid) -> None:
    """Each DG unit is one alternative of its technology, built once and never resized."""
    cap = plan.der["dg"]
    dg, types = grid.case.candidates["dg"], grid.case.candidates["dg_types"]
    assert cap.shape == (plan.n_stages, len(dg))
    for i, tech in enumerate(dg.technology):
        allowed = set(types.capacity_mva[types.technology == tech].round(9)) | {0.0}
        path = cap[:, i]
        assert set(path.round(9)) <= allowed
        built = path[path > 0]
        assert np.all(path[-len(built):] == built) if len(built) else True  # zeros, then one size
        assert len(set(built.tolist())) <= 1


def check_plan(plan: Plan, genome, require_supplied: bool = True) -> None:
    """All checks that apply to the genome's blocks."""
    grid = genome.grid
    assert isinstance(plan, Plan) and plan.n_stages == genome.n_stages
    for s in range(plan.n_stages):
        assert np.asarray(plan.closed_lines[s]).dtype.kind == "i"
        assert np.asarray(plan.closed_trafos[s]).dtype.kind == "i"
    for name, dtype in PLAN_TABLES.items():
        assert getattr(plan, name).dtype == dtype, name
    check_topology(plan, grid, require_supplied)
    check_substations(plan, grid)
    for block in genome.bound_blocks:
        if isinstance(block, SopBlock):
            check_sop(plan, grid, block)
        elif isinstance(block, DerBlock):
            check_der(plan, grid, block)
        elif isinstance(block, DgBlock):
            check_dg(plan, grid)
    assert set(plan.der) <= set(DER_KINDS)
