"""A planning genome: gene blocks side by side, repaired in dependency order.

>>> from fdnmoo.cases import load_case
>>> from fdnmoo.planning import planning_grid
>>> from fdnmoo.problems.encodings import LineBlock, SopBlock
>>> grid = planning_grid(load_case("ieee33"))
>>> genome = Genome([LineBlock(), SopBlock()]).bind(grid, n_stages=3)
>>> rng = np.random.default_rng(0)
>>> X = genome.sample(4, rng)            # feasible by construction
>>> plan = genome.decode(X[0])           # a fdnmoo.planning.Plan

The genes are laid out in the order the blocks are given (:attr:`Genome.slices`).
Repair, sampling and decoding visit the blocks in their ``repair_rank`` order —
substations, SOP, resources, lines — and each block's
:meth:`~fdnmoo.problems.encodings.GeneBlock.provides` fills a per-individual
context the later blocks read: the closed transformers per stage (lines need
them as roots), the tie lines an SOP reuses (lines must keep them open).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fdnmoo.planning import Plan

from .encodings.base import GeneBlock, as_genes

__all__ = ["Genome", "block_slices"]


def block_slices(blocks) -> tuple[dict[str, slice], int]:
    """Each bound block's genes as a slice of the genome, in block order, and the total."""
    slices: dict[str, slice] = {}
    start = 0
    for b in blocks:
        slices[b.name] = slice(start, start + b.n_var)
        start += b.n_var
    return slices, start


class Genome:
    """Gene blocks forming one integer decision vector.

    Parameters
    ----------
    blocks : sequence of GeneBlock
        Unbound blocks with distinct names; they are not modified (binding
        works on copies).

    Attributes
    ----------
    bound_blocks : list of GeneBlock or None
        Bound copies, in layout order (None until :meth:`bind`); the other
        attributes below exist once :meth:`bind` has run.
    slices : dict of str to slice
        Genes of each block in the decision vector.
    n_var : int
    xl, xu : ndarray of int
        Inclusive bounds.
    n_stages : int
    grid : PlanningGrid
    """

    def __init__(self, blocks: Sequence[GeneBlock]):
        self.blocks = list(blocks)
        names = [b.name for b in self.blocks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"gene block names must be unique in a genome, repeated: {dupes}")
        if not self.blocks:
            raise ValueError("a genome needs at least one gene block")
        self.bound_blocks: list[GeneBlock] | None = None

    def __repr__(self) -> str:
        return f"Genome({self.blocks!r})"

    # ---------------------------------------------------------------- binding
    def bind(self, grid, n_stages: int | None = None) -> "Genome":
        """Bind every block to ``grid`` (default stages: the case horizon); returns self."""
        n_stages = int(n_stages or grid.case.horizon.n_stages)
        self.grid, self.n_stages = grid, n_stages
        self.bound_blocks = [b.bind(grid, n_stages) for b in self.blocks]
        self.slices, self.n_var = block_slices(self.bound_blocks)
        self.xl = np.concatenate([b.xl for b in self.bound_blocks]).astype(np.int64)
        self.xu = np.concatenate([b.xu for b in self.bound_blocks]).astype(np.int64)
        # stable: blocks of equal rank keep their layout order
        self._order = sorted(self.bound_blocks, key=lambda b: b.repair_rank)
        return self

    def _check_bound(self) -> None:
        if self.bound_blocks is None:
            raise RuntimeError("genome is not bound: call genome.bind(grid, n_stages)")

    def block(self, name: str) -> GeneBlock:
        """The bound block called ``name``."""
        self._check_bound()
        for b in self.bound_blocks:
            if b.name == name:
                return b
        raise KeyError(f"no block {name!r}; blocks: {[b.name for b in self.bound_blocks]}")

    # -------------------------------------------------------------- operators
    def _run(self, X: np.ndarray | None, n: int, rng, sampling: bool) -> np.ndarray:
        Y = np.zeros((n, self.n_var), dtype=np.int64) if X is None else X
        rows: list[dict] = [{} for _ in range(n)]
        context = {"rows": rows}
        for b in self._order:
            sl = self.slices[b.name]
            Yb = b.sample(n, rng, context) if sampling else b.repair(Y[:, sl], rng, context)
            Y[:, sl] = Yb
            for x, row in zip(Yb, rows):
                b.provides(x, row)
        return Y

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` feasible genomes, shape (n, n_var), int."""
        self._check_bound()
        return self._run(None, int(n), rng, sampling=True)

    def repair(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Feasible integer copy of ``X`` (shape (n, n_var)); ``X`` is not modified.

        Feasible rows come back unchanged.
        """
        self._check_bound()
        Y = as_genes(X, self.xl, self.xu)
        return self._run(Y, len(Y), rng, sampling=False)

    def crossover(self, A: np.ndarray, B: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Two offspring arrays from parent arrays of shape (n_matings, n_var), block by block.

        Offspring are not repaired (apply :meth:`repair`).
        """
        self._check_bound()
        A, B = np.atleast_2d(np.asarray(A)), np.atleast_2d(np.asarray(B))
        C, D = A.copy(), B.copy()
        for b in self.bound_blocks:
            sl = self.slices[b.name]
            C[:, sl], D[:, sl] = b.crossover(A[:, sl], B[:, sl], rng)
        return C, D

    def mutate(self, X: np.ndarray, rng: np.random.Generator, prob: float) -> np.ndarray:
        """Mutated copy of ``X``; every gene mutates with probability ``prob``.

        The result is not repaired (apply :meth:`repair`).
        """
        self._check_bound()
        X = np.atleast_2d(np.asarray(X))
        Y = X.copy()
        for b in self.bound_blocks:
            sl = self.slices[b.name]
            Y[:, sl] = b.mutate(X[:, sl], rng, prob)
        return Y

    # --------------------------------------------------------------- decoding
    def context(self, x: np.ndarray) -> dict:
        """The context row of one genome (what every block provides)."""
        self._check_bound()
        x = np.asarray(x)
        row: dict = {}
        for b in self._order:
            b.provides(x[self.slices[b.name]], row)
        return row

    def decode(self, x: np.ndarray) -> Plan:
        """The plan of one (repaired) genome.

        Plan fields no block provides get the case's base values: closed lines
        and transformers of the base topology in every stage, nothing built.
        """
        return self._decode(x, self.grid, self.n_stages)

    def _decode(self, x: np.ndarray, grid, n_stages: int) -> Plan:
        """:meth:`decode` with the base topology of ``grid`` over ``n_stages`` stages."""
        self._check_bound()
        x = np.asarray(x).astype(np.int64)
        if x.shape != (self.n_var,):
            raise ValueError(f"expected a genome of {self.n_var} genes, got shape {x.shape}")
        parts: dict = {"context": {}}
        for b in self._order:
            xb = x[self.slices[b.name]]
            b.decode(xb, parts)
            b.provides(xb, parts["context"])
        parts.pop("context")
        base = Plan.on_base_topology(grid, n_stages)
        parts.setdefault("closed_lines", base.closed_lines)
        parts.setdefault("closed_trafos", base.closed_trafos)
        return Plan(n_stages=n_stages, **parts)
