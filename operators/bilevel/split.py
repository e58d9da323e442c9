"""The two levels of a planning genome: which blocks each varies, and a genome over some blocks.

The bi-level driver splits a problem's genome by block: the lower level varies
the distributed-resource blocks (PV and SVC by default,
:data:`DEFAULT_LOWER_BLOCKS`), the upper level every other block (substations,
lines and ties, SOPs). :class:`SubGenome` is a
:class:`~fdnmoo.problems.genome.Genome` over some blocks of a bound genome with
the other genes held fixed, so that the genome operators
(:func:`fdnmoo.operators.genome_operators`) vary one level only.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fdnmoo.parameters import ParameterError, did_you_mean
from fdnmoo.problems.encodings.base import as_genes
from fdnmoo.problems.genome import Genome, block_slices

__all__ = ["DEFAULT_LOWER_BLOCKS", "SubGenome", "split_blocks"]

#: Lower-level blocks when none are named: PV and SVC sizes (those the genome has).
DEFAULT_LOWER_BLOCKS: tuple[str, ...] = ("der_pv", "der_svc")


def split_blocks(genome: Genome, lower: Sequence[str] | None = None,
                 key: str = "lower_blocks") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names of the upper and the lower blocks of a bound genome, in layout order.

    Parameters
    ----------
    genome : Genome
        Bound.
    lower : sequence of str, optional
        Block names of the lower level (see :attr:`Genome.slices`); default:
        those of :data:`DEFAULT_LOWER_BLOCKS` the genome has.
    key : str
        Where ``lower`` was given, for messages.

    Raises
    ------
    fdnmoo.parameters.ParameterError
        A name that is not a block of the genome, or a level left without genes.
    """
    names = [b.name for b in genome.bound_blocks]
    if lower is None:
        chosen = [n for n in DEFAULT_LOWER_BLOCKS if n in names]
    else:
        chosen = [str(n) for n in lower]
        for n in chosen:
            if n not in names:
                raise ParameterError(key, f"no gene block {n!r} in the problem's genome"
                                          f"{did_you_mean(n, names)}; its blocks are "
                                          f"{', '.join(names)}")
    if not chosen:
        raise ParameterError(key, f"the lower level needs genes, and the genome has none of "
                                  f"{', '.join(DEFAULT_LOWER_BLOCKS)} (its blocks are "
                                  f"{', '.join(names)}): name its blocks in {key}")
    upper = tuple(n for n in names if n not in chosen)
    if not upper:
        raise ParameterError(key, f"the upper level needs genes, and {', '.join(chosen)} are "
                                  f"all the genome's blocks: a bi-level problem also needs "
                                  f"substations, lines or SOPs")
    return upper, tuple(n for n in names if n in chosen)


class SubGenome(Genome):
    """The genes of some blocks of a bound genome; the other genes stay as given.

    Crossover and mutation are the blocks' own (inherited from
    :class:`~fdnmoo.problems.genome.Genome`). Sampling and repair go through the
    full genome, so a block still reads what blocks of the other level provide
    (e.g. the closed transformers), and its genes come back in this
    sub-genome's layout.

    Parameters
    ----------
    genome : Genome
        A bound genome; it is not modified.
    free : sequence of str
        Names of the blocks this sub-genome varies.
    fixed : ndarray, shape (genome.n_var,), optional
        A full genome whose genes outside ``free`` are held: repair checks that
        they come back unchanged. Without it the other genes are filler (their
        lower bounds, repaired along and dropped), which is right only if the
        free blocks read nothing the others provide.

    Attributes
    ----------
    full : Genome
    index : ndarray of int
        Position in the full genome of each gene of this one.
    """

    def __init__(self, genome: Genome, free: Sequence[str], fixed: np.ndarray | None = None):
        genome._check_bound()
        names = [b.name for b in genome.bound_blocks]
        unknown = [n for n in free if n not in names]
        if unknown or not free:
            raise ValueError(f"sub-genome blocks {list(free)} must be some of {names}")
        self.full = genome
        self.free = tuple(free)
        self.blocks = [b for b in genome.blocks if b.name in self.free]
        self.bound_blocks = [b for b in genome.bound_blocks if b.name in self.free]
        self.grid, self.n_stages = genome.grid, genome.n_stages
        positions = np.arange(genome.n_var)
        self.index = np.concatenate([positions[genome.slices[b.name]]
                                     for b in self.bound_blocks]).astype(np.int64)
        self._other = np.setdiff1d(positions, self.index)
        self.slices, self.n_var = block_slices(self.bound_blocks)
        self.xl, self.xu = genome.xl[self.index], genome.xu[self.index]
        self._order = sorted(self.bound_blocks, key=lambda b: b.repair_rank)
        self.fixed = None
        if fixed is not None:
            fixed = np.asarray(fixed)
            if fixed.shape != (genome.n_var,):
                raise ValueError(f"fixed genes: expected shape ({genome.n_var},), got "
                                 f"{fixed.shape}")
            self.fixed = as_genes(fixed, genome.xl, genome.xu)[0]

    def __repr__(self) -> str:
        return f"SubGenome(free={list(self.free)}, n_var={self.n_var}, " \
               f"fixed={self.fixed is not None})"

    def bind(self, grid, n_stages: int | None = None) -> "SubGenome":
        raise TypeError("a SubGenome is bound through its full genome: SubGenome(genome.bind(...), "
                        "free)")

    def compose(self, X: np.ndarray) -> np.ndarray:
        """Full genomes, shape (n, full.n_var): ``X`` in the free genes, the fixed genes
        (or the full genome's lower bounds) elsewhere."""
        X = np.atleast_2d(np.asarray(X))
        if X.shape[1] != self.n_var:
            raise ValueError(f"expected {self.n_var} genes per row, got {X.shape[1]}")
        base = self.fixed if self.fixed is not None else self.full.xl
        full = np.tile(base, (len(X), 1)).astype(np.int64)
        full[:, self.index] = X
        return full

    def _held(self, full: np.ndarray) -> np.ndarray:
        """The free genes of repaired full genomes, checking the fixed genes were kept."""
        if self.fixed is not None:
            changed = np.flatnonzero((full[:, self._other] != self.fixed[self._other]).any(axis=0))
            if len(changed):
                owner = np.empty(self.full.n_var, dtype=object)
                for b in self.full.bound_blocks:
                    owner[self.full.slices[b.name]] = b.name
                where = sorted(set(owner[self._other[changed]]))
                raise RuntimeError(f"repairing blocks {list(self.free)} changed fixed genes of "
                                   f"{where}: those blocks depend on the free ones, so the "
                                   f"levels cannot be split this way")
        return full[:, self.index]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` feasible gene vectors of the free blocks, shape (n, n_var)."""
        full = self.full.sample(int(n), rng)
        if self.fixed is not None:
            full[:, self._other] = self.fixed[self._other]
            full = self.full.repair(full, rng)
        return self._held(full)

    def repair(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Feasible integer copy of ``X`` (free genes only); feasible rows come back unchanged."""
        Y = as_genes(X, self.xl, self.xu)
        return self._held(self.full.repair(self.compose(Y), rng))

    def context(self, x: np.ndarray) -> dict:
        return self.full.context(self.compose(x)[0])

    def decode(self, x: np.ndarray):
        """The plan of the full genome ``compose(x)`` (needs ``fixed``)."""
        if self.fixed is None:
            raise ValueError("a SubGenome without fixed genes is not a whole plan: decode "
                             "full genomes with its full genome")
        return self.full.decode(self.compose(x)[0])
