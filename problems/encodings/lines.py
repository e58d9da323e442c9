"""Line genes: which candidate lines to build, when, and how every stage is switched.

Gene layout of :class:`LineBlock` (C = candidate corridors, S = stages,
L = switchable lines, i.e. ``grid.switchable_lines``)::

    [conductor_0 .. conductor_{C-1}]   0 = not built, j = j-th candidate line of the
                                       corridor (``grid.candidate_lines``, by conductor type)
    [stage_0 .. stage_{C-1}]           build stage 1..S (ignored while the conductor is 0)
    [switch_{1,0} .. switch_{1,L-1}]   stage 1: 0 = open, 1 = closed
    ...
    [switch_{S,0} .. switch_{S,L-1}]   stage S

The corridor genes exist if ``build`` and the case has corridors, the switch
genes if ``reconfigure``.

Repair, per stage (the operating topology of every stage is radial with each
substation a root, and every load bus supplied where the network allows it):

1. Weights for a minimum spanning forest (:func:`fdnmoo.topology.spanning_forest`,
   substations merged into one root) over all branches of the planning grid, in
   tiers: closed transformers (context) first; then built candidate lines, in a
   fixed order, so that a new line conducts unless it closes a loop with other
   new lines; then switchable lines whose gene is closed, then those whose gene
   is open, both with rng noise so that ties are broken at random.
   Unavailable branches get ``inf``: open transformers, unbuilt candidates,
   existing lines replaced by a candidate built on their corridor by that
   stage, and lines the SOP block forces open.
2. If a load bus stays unsupplied and corridors exist, unbuilt corridors join
   as a last tier weighted by their investment (conductor gene if chosen, else
   the corridor's first conductor); forced lines that end up supplying no load
   bus are dropped again, the others are built in this stage (genes updated).
3. The realised open/closed states are written back into the switch genes.

Decoding recomputes step 1 without noise, which gives back exactly the repaired
topology, so ``decode(repair(x))`` is the repaired plan and repair is
idempotent. Without switch genes the base topology plays their role (base
closed = closed gene), deterministically.

Load buses of a stage are the buses of ``net.load`` plus, if the case has a
``stage_demand`` table, the buses with positive demand in that stage.

Reinforcement (``reinforce``; seed 000's Case IV, R. Wang et al., Nature
Communications 15 (2024): "the maximum capacity of the expanded line is 1.5
times that of the original line, and the cost of expanding the line per unit
length is thrice that of line construction"): the block plans over a
``reinforcement`` corridor per chosen line of the case (candidate override
``corridors``, the case's other corridors kept), whose one candidate is a copy
of the line with ``reinforce_capacity`` x its current limit and
``reinforce_impedance`` x its impedance, priced at ``reinforce_cost`` x
``unit_costs.line_per_km`` of the build stage (:func:`fdnmoo.planning.planning_grid`).
A built reinforcement replaces its line from its stage on. With
``reinforce_transformer`` the feeder of a reinforced line also pays for expanding
its transformer (the paper: "the transformer capacity of the reinforced feeder needs to
be expanded as well"; :mod:`fdnmoo.metrics.feeder_transformers`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from typing import Literal, Sequence

from fdnmoo.branches import branch_table
from fdnmoo.parameters import ParameterError
from fdnmoo.planning import plan_table
from fdnmoo.topology import radial_structure, spanning_forest

from .base import (CLOSED_TRAFOS, FORCED_OPEN_LINES, GeneBlock, as_genes, context_rows,
                   register_block)

__all__ = ["LineBlock", "load_buses"]

# weight tiers of the spanning forest (lower conducts first)
_W_TRAFO, _W_BUILT, _W_CLOSED, _W_OPEN, _W_FORCED = -3.0, -2.0, 0.0, 1.0, 10.0
_NOISE = 0.5  # random part of the closed/open tiers: stays inside the tier


def load_buses(grid, stage: int) -> np.ndarray:
    """Bus labels that must be supplied in ``stage`` (see module docstring)."""
    buses = set(int(b) for b in grid.net.load.bus)
    demand = grid.case.candidates.get("stage_demand")
    if demand is not None and len(demand):
        rows = demand[(demand.stage == stage) & (demand.p_mw > 0)]
        buses |= set(int(b) for b in rows.bus)
    return np.array(sorted(buses), dtype=np.int64)


def _positions(index: pd.Index, labels, what: str) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    pos = index.get_indexer(labels)
    if (pos < 0).any():
        raise KeyError(f"unknown {what} {labels[pos < 0][0]} in the gene context")
    return pos.astype(np.int64)


@register_block("lines")
class LineBlock(GeneBlock):
    """Candidate-line construction and per-stage switching (see module docstring).

    Parameters
    ----------
    reconfigure : bool
        Per-stage open/closed genes for the case's own lines and ties.
    build : bool
        Conductor and build-stage genes per candidate corridor (if the case has
        corridors).
    reinforce : bool, "all" or list of int
        Reinforcement corridors (module docstring): ``True``/``"all"`` for every
        in-service line of the base topology, or these ``net.line`` labels.
    reinforce_capacity, reinforce_impedance, reinforce_cost : float
        Current limit, impedance and price (x ``line_per_km``) of a reinforced line.
    reinforce_transformer : float, optional
        With a reinforcement, the feeder's transformer is expanded to this x the
        feeder's head capacity (seed 000's Case IV: 1.5) and priced at
        ``transformer_per_mva`` (:mod:`fdnmoo.metrics.feeder_transformers`; a price,
        no rating the power flow sees). None: no transformer expansion.
    """

    name = "lines"
    repair_rank = 30

    def __init__(self, reconfigure: bool = True, build: bool = True,
                 reinforce: bool | Literal["all"] | Sequence[int] = False,
                 reinforce_capacity: float = 1.5, reinforce_impedance: float = 1.0,
                 reinforce_cost: float = 3.0, reinforce_transformer: float | None = None):
        self.reconfigure = reconfigure
        self.build = build
        self.reinforce = reinforce
        self.reinforce_capacity = reinforce_capacity
        self.reinforce_impedance = reinforce_impedance
        self.reinforce_cost = reinforce_cost
        self.reinforce_transformer = reinforce_transformer

    def candidate_tables(self, case) -> dict[str, pd.DataFrame]:
        """``{"corridors": table}`` with one reinforcement corridor per chosen line (the
        case's other corridors kept); ``{}`` without ``reinforce``."""
        if self.reinforce is False or self.reinforce is None:
            return {}
        for key in ("reinforce_capacity", "reinforce_impedance"):
            if not float(getattr(self, key)) > 0:
                raise ParameterError(key, f"must be > 0, got {getattr(self, key)}")
        if not float(self.reinforce_cost) >= 0:
            raise ParameterError("reinforce_cost", f"must be >= 0, got {self.reinforce_cost}")
        expand = self.reinforce_transformer
        if expand is not None and not float(expand) >= 1:
            raise ParameterError("reinforce_transformer", f"must be >= 1 (x the feeder's head "
                                                          f"capacity) or null, got {expand}")
        line = case.net.line
        if self.reinforce is True or self.reinforce == "all":
            labels = line.index[line.in_service.astype(bool)].to_numpy(np.int64)
        elif isinstance(self.reinforce, str):
            raise ParameterError("reinforce", f"expected true, 'all' or a list of net.line "
                                              f"labels, got {self.reinforce!r}")
        else:
            labels = np.array([int(k) for k in self.reinforce], dtype=np.int64)
            unknown = np.setdiff1d(labels, line.index.to_numpy(np.int64))
            if len(unknown) or not len(labels) or len(set(labels.tolist())) != len(labels):
                raise ParameterError("reinforce", f"expected distinct net.line labels of case "
                                                  f"{case.name!r}; {unknown.tolist() or labels.tolist()} "
                                                  f"is not")
        new = pd.DataFrame({
            "from_bus": line.from_bus.loc[labels].to_numpy(np.int64),
            "to_bus": line.to_bus.loc[labels].to_numpy(np.int64),
            "length_km": line.length_km.loc[labels].to_numpy(float), "kind": "reinforcement",
            "line": labels, "capacity_factor": float(self.reinforce_capacity),
            "impedance_factor": float(self.reinforce_impedance),
            "cost_factor": float(self.reinforce_cost),
            **({} if expand is None else {"transformer_factor": float(expand)})})
        have = case.candidates.get("corridors")
        if have is not None and len(have):
            have = have[have.kind != "reinforcement"]
            new = pd.concat([have, new], ignore_index=True)
        return {"corridors": new.reset_index(drop=True)}

    # ------------------------------------------------------------------ setup
    def _setup(self, grid, n_stages: int) -> None:
        self._check_candidates(grid.case)
        bt = branch_table(grid.net)
        self._n_bus, self._n_line = bt.n_bus, bt.n_line
        self._n_branch = len(bt.from_pos)
        self._from, self._to, self._roots = bt.from_pos, bt.to_pos, bt.root_pos
        self._line_labels = bt.element[:bt.n_line]
        self._line_index = pd.Index(self._line_labels)  # label -> branch position
        self._trafo_index = pd.Index(bt.element[bt.n_line:])  # label -> position - n_line
        self._base_trafos = _positions(self._trafo_index, grid.base_closed_trafos,
                                       "trafo") + bt.n_line

        cand = grid.candidate_lines
        corridors = sorted(int(c) for c in cand.corridor.unique()) if self.build else []
        self._corridors = np.array(corridors, dtype=np.int64)
        n_corr = len(corridors)
        k_max = max((int((cand.corridor == c).sum()) for c in corridors), default=0)
        self._options = np.full((n_corr, max(k_max, 1)), -1, dtype=np.int64)  # branch positions
        self._option_cost = np.zeros((n_corr, max(k_max, 1)))
        self._n_options = np.zeros(n_corr, dtype=np.int64)
        self._replaced = np.full(n_corr, -1, dtype=np.int64)
        conductors = grid.case.candidates.get("conductors")
        cost_per_km = {} if conductors is None else dict(zip(conductors.type.astype(int),
                                                             conductors.investment_per_km))
        for i, c in enumerate(corridors):
            rows = cand[cand.corridor == c].sort_values("conductor")
            self._n_options[i] = len(rows)
            self._options[i, :len(rows)] = bt.line_position(rows.index.to_numpy())
            self._option_cost[i, :len(rows)] = rows.length_km.to_numpy(float) * np.array(
                [cost_per_km.get(int(t), 1.0) for t in rows.conductor])
            rep = int(rows.replaces.iloc[0])
            self._replaced[i] = bt.line_position(rep)[0] if rep >= 0 else -1

        self._switch = bt.line_position(grid.switchable_lines) if len(grid.switchable_lines) \
            else np.zeros(0, np.int64)
        self._base_state = np.isin(self._line_labels[self._switch], grid.base_closed_lines)
        self._n_corr = n_corr

        bus_index = pd.Index(bt.bus_labels)
        self._load_mask = np.zeros((n_stages, self._n_bus), dtype=bool)
        for s in range(n_stages):
            self._load_mask[s, bus_index.get_indexer(load_buses(grid, s + 1))] = True
        self._set_layout(n_stages)

    def _set_layout(self, n_stages: int) -> None:
        """Gene count, bounds and groups from the corridors and ``self._switch``."""
        n_corr = self._n_corr
        n_sw = len(self._switch) if self.reconfigure else 0
        self._n_sw = n_sw
        self.n_var = 2 * n_corr + n_stages * n_sw
        self.xl = np.concatenate([np.zeros(n_corr), np.ones(n_corr),
                                  np.zeros(n_stages * n_sw)]).astype(np.int64)
        self.xu = np.concatenate([self._n_options, np.full(n_corr, n_stages),
                                  np.ones(n_stages * n_sw)]).astype(np.int64)
        self.groups = np.concatenate([np.arange(n_corr), np.arange(n_corr),
                                      n_corr + np.arange(n_stages * n_sw)]).astype(np.int64)
        self.ordinal = np.concatenate([np.zeros(n_corr, bool), np.ones(n_corr, bool),
                                       np.zeros(n_stages * n_sw, bool)])

    # ---------------------------------------------------------------- helpers
    def _split(self, x: np.ndarray):
        """Views (conductor, stage, switch[S, L]) of one gene vector."""
        c = self._n_corr
        return x[:c], x[c:2 * c], x[2 * c:].reshape(self.n_stages, self._n_sw)

    def _trafo_positions(self, row: dict, s: int) -> np.ndarray:
        """Branch positions of the transformers closed in stage ``s`` (0-based)."""
        closed = row.get(CLOSED_TRAFOS)
        if closed is None:
            return self._base_trafos
        return _positions(self._trafo_index, closed[s], "trafo") + self._n_line

    def _forced_open(self, row: dict, s: int) -> np.ndarray:
        forced = row.get(FORCED_OPEN_LINES)
        if forced is None:
            return np.zeros(0, np.int64)
        return _positions(self._line_index, forced[s], "line")

    def _weights(self, x: np.ndarray, s: int, row: dict, rng) -> np.ndarray:
        """Spanning-forest weights of stage ``s`` (0-based), tiers as in the module docstring."""
        cond, stage, switch = self._split(x)
        w = np.full(self._n_branch, np.inf)
        w[self._trafo_positions(row, s)] = _W_TRAFO
        # a deterministic rank inside a tier (< 1e-4, far below the gaps between tiers)
        rank = np.arange(self._n_branch) / (self._n_branch * 1e4)
        state = switch[s].astype(bool) if self.reconfigure else self._base_state
        noise = rng.random(len(self._switch)) * _NOISE if rng is not None and self.reconfigure \
            else rank[self._switch]
        w[self._switch] = np.where(state, _W_CLOSED, _W_OPEN) + noise
        built = (cond > 0) & (stage <= s + 1)
        if built.any():
            idx = np.flatnonzero(built)
            pos = self._options[idx, cond[idx] - 1]
            w[pos] = _W_BUILT + rank[pos]
            rep = self._replaced[idx]
            w[rep[rep >= 0]] = np.inf
        w[self._forced_open(row, s)] = np.inf
        return w

    def _forest(self, w: np.ndarray) -> np.ndarray:
        return spanning_forest(self._n_bus, self._from, self._to, w, self._roots)

    def _structure(self, closed: np.ndarray):
        return radial_structure(self._n_bus, self._from, self._to, closed, self._roots)

    def _supply_gaps(self, x: np.ndarray, s: int, w: np.ndarray, closed: np.ndarray):
        """Build unbuilt corridors where load buses of stage ``s`` are unsupplied.

        Updates the corridor genes of ``x`` in place; returns the new closed mask.
        """
        cond, stage, _ = self._split(x)
        built = (cond > 0) & (stage <= s + 1)
        replaced_ok = np.array([r < 0 or np.isfinite(w[r]) for r in self._replaced], dtype=bool)
        # a replaceable corridor whose line still conducts adds no connection
        extra = np.flatnonzero(~built & ((self._replaced < 0) | ~replaced_ok))
        if len(extra) == 0:
            return closed
        choice = np.where(cond[extra] > 0, cond[extra], 1) - 1
        pos = self._options[extra, choice]
        cost = self._option_cost[extra, choice]
        w2 = w.copy()
        w2[pos] = _W_FORCED + cost / max(cost.max(), 1e-12)
        closed2 = self._forest(w2)
        rs = self._structure(closed2)
        # keep a forced line only if the subtree it feeds holds a load bus
        load_below = self._load_mask[s].astype(np.int64)
        for bus in rs.order[::-1]:
            load_below[rs.parent[bus]] += load_below[bus]
        child = np.full(self._n_branch, -1, dtype=np.int64)
        child[rs.parent_branch[rs.order]] = rs.order
        for i, p in zip(extra, pos):
            if not closed2[p]:
                continue
            if child[p] >= 0 and load_below[child[p]] > 0:
                cond[i] = cond[i] if cond[i] > 0 else 1
                stage[i] = s + 1
            else:
                closed2[p] = False
        return closed2

    def _repair_row(self, x: np.ndarray, row: dict, rng) -> None:
        _, _, switch = self._split(x)
        for s in range(self.n_stages):
            w = self._weights(x, s, row, rng)
            closed = self._forest(w)
            if self._n_corr:
                supplied = self._structure(closed).supplied
                if (self._load_mask[s] & ~supplied).any():
                    closed = self._supply_gaps(x, s, w, closed)
            if self._n_sw:
                switch[s] = closed[self._switch]

    # -------------------------------------------------------------- operators
    def repair(self, X: np.ndarray, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Feasible copy of ``X``: radial stages, load buses supplied (see module docstring)."""
        self._check_bound()
        Y = as_genes(X, self.xl, self.xu)
        rows = context_rows(context, len(Y))
        for x, row in zip(Y, rows):
            self._repair_row(x, row, rng)
        return Y

    def sample(self, n: int, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Random plans near the base case, repaired.

        Each individual builds every corridor with its own probability in
        [0, 0.5) and flips each base switch state with its own probability in
        [0, 0.5), so the population spans from the base topology to random
        spanning trees.
        """
        self._check_bound()
        X = np.zeros((n, self.n_var), dtype=np.int64)
        c = self._n_corr
        for i in range(n):
            if c:
                p_build = rng.random() * 0.5
                chosen = rng.integers(1, self._n_options + 1)
                X[i, :c] = np.where(rng.random(c) < p_build, chosen, 0)
                X[i, c:2 * c] = rng.integers(1, self.n_stages + 1, size=c)
            if self._n_sw:
                flip = rng.random((self.n_stages, self._n_sw)) < rng.random() * 0.5
                X[i, 2 * c:] = (self._base_state[None, :] ^ flip).ravel()
        return self.repair(X, rng, context)

    # --------------------------------------------------------------- decoding
    def closed_branches(self, x: np.ndarray, stage: int, context_row: dict | None = None
                        ) -> np.ndarray:
        """Closed-branch mask (positions of ``branch_table(grid.net)``) of a 1-based stage."""
        self._check_bound()
        x = np.asarray(x, dtype=np.int64)
        return self._forest(self._weights(x, stage - 1, context_row or {}, None))

    def decode(self, x: np.ndarray, parts: dict) -> None:
        """``closed_lines`` per stage and the ``new_lines`` table."""
        self._check_bound()
        x = np.asarray(x, dtype=np.int64)
        row = parts.get("context", {})
        parts["closed_lines"] = [
            self._line_labels[self.closed_branches(x, s, row)[:self._n_line]]
            for s in range(1, self.n_stages + 1)]
        cond, stage, _ = self._split(x)
        built = np.flatnonzero(cond > 0)
        labels = self._line_labels[self._options[built, cond[built] - 1]]
        parts["new_lines"] = plan_table(
            "new_lines", line=labels, corridor=self._corridors[built],
            conductor=self.grid.candidate_lines.conductor.to_numpy(np.int64)[
                self.grid.candidate_lines.index.get_indexer(labels)],
            stage=stage[built])
