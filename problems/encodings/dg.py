"""Distributed-generation genes (md24): alternative and build stage per DG candidate.

Gene layout of :class:`DgBlock` (N = rows of ``case.candidates.dg``, each a bus
and a technology, ``conventional`` or ``wind``; S = stages)::

    [alt_0, stage_0, alt_1, stage_1, ..., alt_{N-1}, stage_{N-1}]
        alt_i   0 = none, 1..k_i = the k_i rows of ``candidates.dg_types`` of the
                candidate's technology, in the table's order (by ``alternative``)
        stage_i 1..S, the stage the unit is built in

Decoding: ``plan.der["dg"]`` (S, N) in MVA, the alternative's ``capacity_mva``
from its build stage on (0 before, and everywhere with alt 0). Only the
capacity is stored; the alternative is recovered from it with
:func:`fdnmoo.planning.dg_type_rows` (capacities are distinct within a
technology). A unit is built once and never resized.

Every vector within the bounds is feasible: the repair only rounds and clips to
the bounds (alt in 0..k_i, stage in 1..S). The stage gene of a candidate with
alt 0 is inert and left as it is.
"""

from __future__ import annotations

import numpy as np

from .base import DER_CAPACITY, GeneBlock, as_genes, context_rows, register_block

__all__ = ["DgBlock"]


@register_block("dg")
class DgBlock(GeneBlock):
    """Alternative and build stage per DG candidate (see module docstring).

    Parameters
    ----------
    max_units : int, optional
        Sampling only: most units in a sampled plan (default: all candidates).
        Not a constraint; the repair does not enforce it.
    """

    repair_rank = 20
    name = "dg"

    def __init__(self, max_units: int | None = None):
        self.max_units = max_units

    def _setup(self, grid, n_stages: int) -> None:
        case = grid.case
        table = case.candidates.get("dg")
        types = case.candidates.get("dg_types")
        if table is None or len(table) == 0:
            raise ValueError(f"case {case.name!r} has no 'dg' candidate table")
        if types is None or len(types) == 0:
            raise ValueError(f"case {case.name!r} has a 'dg' candidate table but no dg_types")
        types = types.sort_values(["technology", "alternative"], kind="stable")
        options = []  # per candidate: capacities of alternatives 1..k
        for tech in table.technology.astype(str):
            caps = types.capacity_mva[types.technology.astype(str) == tech].to_numpy(float)
            if len(caps) == 0:
                raise ValueError(f"case {case.name!r}: no dg_types rows for technology {tech!r}")
            if len(np.unique(caps)) != len(caps):
                raise ValueError(f"dg_types of {tech!r} repeat a capacity; the alternative "
                                 "would not be recoverable from the capacity")
            options.append(caps)
        n = len(options)
        k = max(len(c) for c in options)
        self._caps = np.zeros((n, k + 1))  # column 0: none
        for i, c in enumerate(options):
            self._caps[i, 1:len(c) + 1] = c
        self._n = n
        self.n_var = 2 * n
        self.xl = np.tile([0, 1], n).astype(np.int64)
        self.xu = np.column_stack([[len(c) for c in options], np.full(n, n_stages)]
                                  ).ravel().astype(np.int64)
        self.groups = np.repeat(np.arange(n), 2).astype(np.int64)  # a unit's size and stage
        self.ordinal = np.ones(self.n_var, dtype=bool)  # sizes grow with alt; stages are ordered

    def capacity(self, x: np.ndarray) -> np.ndarray:
        """Installed capacity per stage and candidate, shape (n_stages, N), MVA."""
        self._check_bound()
        g = np.asarray(x, dtype=np.int64).reshape(self._n, 2)
        cap = self._caps[np.arange(self._n), g[:, 0]]
        stages = np.arange(1, self.n_stages + 1)[:, None]
        return np.where(stages >= g[None, :, 1], cap[None, :], 0.0)

    def repair(self, X: np.ndarray, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Rounded copy of ``X`` clipped to the bounds (every such vector is feasible)."""
        self._check_bound()
        Y = as_genes(X, self.xl, self.xu)
        context_rows(context, len(Y))
        return Y

    def sample(self, n: int, rng: np.random.Generator, context: dict) -> np.ndarray:
        """A random number of units (0..max_units) at random candidates, each with a
        random alternative and build stage."""
        self._check_bound()
        X = np.zeros((n, self.n_var), dtype=np.int64)
        X[:, 1::2] = 1
        limit = self._n if self.max_units is None else min(self._n, int(self.max_units))
        for i in range(n):
            k = int(rng.integers(0, limit + 1))
            for c in rng.choice(self._n, size=k, replace=False):
                X[i, 2 * c] = rng.integers(1, self.xu[2 * c] + 1)
                X[i, 2 * c + 1] = rng.integers(1, self.n_stages + 1)
        return self.repair(X, rng, context)

    def provides(self, x: np.ndarray, context_row: dict) -> None:
        context_row.setdefault(DER_CAPACITY, {})["dg"] = self.capacity(x)

    def decode(self, x: np.ndarray, parts: dict) -> None:
        """``der["dg"]``: capacity per stage and candidate row, MVA."""
        parts.setdefault("der", {})["dg"] = self.capacity(x)
