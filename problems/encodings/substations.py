"""Substation genes: which transformer to build at each candidate site, and when.

Gene layout of :class:`SubstationBlock` (B = candidate substation buses, the
distinct ``bus`` values of ``grid.candidate_trafos``, sorted; S = stages)::

    [type_0 .. type_{B-1}]     0 = not built, j = j-th candidate transformer at the bus
                               (``grid.candidate_trafos`` rows of the bus, by type)
    [stage_0 .. stage_{B-1}]   build stage 1..S (ignored while the type is 0)

Every gene vector inside the bounds is feasible: one transformer per site,
conducting from its build stage on. Connecting the site to loads is the line
block's job (the lines repair runs after this block and sees the closed
transformers through the context).

Upgrades of existing substations. The planning grid adds transformers only at
candidate sites (md24: buses 23 and 24, types 2 and 3); md24's existing sites
21 and 22 have no candidate transformer, so they get no gene. If a grid's
``candidate_trafos`` carries a ``replaces`` column (``net.trafo`` label of an
existing transformer, -1 for none), building such a row takes the replaced
transformer out from that stage on — an upgrade modelled as a replacement,
which keeps the site radial (a parallel transformer would close a loop through
the common upstream grid).
"""

from __future__ import annotations

import numpy as np

from fdnmoo.planning import plan_table

from .base import CLOSED_TRAFOS, GeneBlock, as_genes, register_block

__all__ = ["SubstationBlock"]


@register_block("substations")
class SubstationBlock(GeneBlock):
    """Transformer type and build stage per candidate substation (see module docstring)."""

    name = "substations"
    repair_rank = 0

    def __init__(self):
        pass

    def _setup(self, grid, n_stages: int) -> None:
        ct = grid.candidate_trafos
        buses = sorted(int(b) for b in ct.bus.unique())
        self._buses = np.array(buses, dtype=np.int64)
        self._options: list[np.ndarray] = []  # net.trafo labels per site, by type
        self._replaces: list[np.ndarray] = []
        for b in buses:
            rows = ct[ct.bus == b].sort_values("type")
            self._options.append(rows.index.to_numpy(dtype=np.int64))
            rep = rows["replaces"].to_numpy(dtype=np.int64) if "replaces" in rows \
                else np.full(len(rows), -1, dtype=np.int64)
            self._replaces.append(rep)
        self._base = np.sort(np.asarray(grid.base_closed_trafos, dtype=np.int64))
        n = len(buses)
        self.n_var = 2 * n
        self.xl = np.concatenate([np.zeros(n), np.ones(n)]).astype(np.int64)
        self.xu = np.concatenate([[len(o) for o in self._options],
                                  np.full(n, n_stages)]).astype(np.int64)
        self.groups = np.concatenate([np.arange(n), np.arange(n)]).astype(np.int64)
        self.ordinal = np.concatenate([np.zeros(n, bool), np.ones(n, bool)])

    def _split(self, x):
        n = len(self._buses)
        return np.asarray(x[:n], dtype=np.int64), np.asarray(x[n:], dtype=np.int64)

    def repair(self, X: np.ndarray, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Integer copy inside the bounds (every such vector is feasible)."""
        self._check_bound()
        return as_genes(X, self.xl, self.xu)

    def sample(self, n: int, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Each site built with an individual probability in [0, 1), random type and stage."""
        self._check_bound()
        m = len(self._buses)
        X = np.zeros((n, self.n_var), dtype=np.int64)
        for i in range(n):
            chosen = rng.integers(1, self.xu[:m] + 1)
            X[i, :m] = np.where(rng.random(m) < rng.random(), chosen, 0)
            X[i, m:] = rng.integers(1, self.n_stages + 1, size=m)
        return X

    def closed_trafos(self, x: np.ndarray) -> list[np.ndarray]:
        """Per stage, the ``net.trafo`` labels that conduct (base plus built, minus replaced)."""
        self._check_bound()
        types, stages = self._split(x)
        out = []
        for s in range(1, self.n_stages + 1):
            closed = set(self._base.tolist())
            for i in np.flatnonzero((types > 0) & (stages <= s)):
                closed.add(int(self._options[i][types[i] - 1]))
                closed.discard(int(self._replaces[i][types[i] - 1]))
            out.append(np.array(sorted(closed), dtype=np.int64))
        return out

    def provides(self, x: np.ndarray, context_row: dict) -> None:
        context_row[CLOSED_TRAFOS] = self.closed_trafos(x)

    def decode(self, x: np.ndarray, parts: dict) -> None:
        """``closed_trafos`` per stage and the ``substations`` table."""
        types, stages = self._split(x)
        parts["closed_trafos"] = self.closed_trafos(x)
        built = np.flatnonzero(types > 0)
        trafos = np.array([self._options[i][types[i] - 1] for i in built], dtype=np.int64)
        ct = self.grid.candidate_trafos
        parts["substations"] = plan_table(
            "substations", bus=self._buses[built], trafo=trafos,
            type=ct.type.to_numpy(np.int64)[ct.index.get_indexer(trafos)], stage=stages[built])
