"""The contract of a gene block, and what blocks tell each other.

A :class:`GeneBlock` owns a contiguous run of integer genes of a planning
genome together with the operators that act on it: sampling, crossover,
mutation and a repair that makes any vector of its genes feasible. A
:class:`~fdnmoo.problems.genome.Genome` strings blocks together.

Blocks follow scikit-learn's habits: ``__init__`` stores its keyword arguments
unchanged and does no work; :meth:`GeneBlock.bind` computes everything that
depends on the planning grid and returns a bound copy (the original stays
unbound and reusable). Randomness comes only from the ``numpy.random.Generator``
passed to each method.

Context
-------
Blocks repair in a fixed order (substations, SOP, resources, lines; see
:attr:`GeneBlock.repair_rank`). After a block has repaired a population, its
:meth:`GeneBlock.provides` writes into one dict per individual what later
blocks need. The ``context`` argument of :meth:`GeneBlock.sample` and
:meth:`GeneBlock.repair` is ``{"rows": [row_0, row_1, ...]}`` with one such dict
per row of ``X``; a block used on its own gets ``{}`` and falls back to the
case's base state. The keys are the constants below.

Candidate overrides
-------------------
A block may plan over other candidates than the case's own tables (other
buses, other size caps). Such a block returns the tables it plans over from
:meth:`GeneBlock.candidate_tables`; :func:`with_candidate_tables` puts them
into a copy of the case before the planning grid is built, so every later
step (injections, costs, plots) sees the same candidates as the genes.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from abc import ABC, abstractmethod
from typing import Any, Sequence

import numpy as np
import pandas as pd

from fdnmoo.parameters import ParameterError

__all__ = ["GeneBlock", "BLOCKS", "register_block", "context_rows", "as_genes",
           "candidate_buses", "with_candidate_tables",
           "CLOSED_TRAFOS", "FORCED_OPEN_LINES", "SOP_TERMINALS", "DER_CAPACITY"]

#: Context key: per stage, ndarray of ``net.trafo`` labels that conduct (substations).
CLOSED_TRAFOS = "closed_trafos"
#: Context key: per stage, ndarray of ``net.line`` labels that must stay open
#: (tie lines reused as an SOP's line).
FORCED_OPEN_LINES = "forced_open_lines"
#: Context key: per stage, ndarray of bus labels hosting an SOP terminal.
SOP_TERMINALS = "sop_terminals"
#: Context key: dict kind -> installed capacity, shape (n_stages, n_candidates).
DER_CAPACITY = "der"

#: Ordinal genes with more values than this mutate by scaled steps (see GeneBlock.mutate).
WIDE_ORDINAL = 10

#: Registered block classes by name (see :func:`register_block`).
BLOCKS: dict[str, type["GeneBlock"]] = {}


def register_block(name: str):
    """Class decorator adding a block class to :data:`BLOCKS`; refuses a duplicate name.

    The class gets ``registry_name = name`` (how compositions name it); its
    defining module is ``cls.__module__``.
    """

    def decorate(cls: type[GeneBlock]) -> type[GeneBlock]:
        if name in BLOCKS:
            raise ValueError(f"a gene block named {name!r} is already registered "
                             f"(by {BLOCKS[name].__module__}.{BLOCKS[name].__qualname__})")
        BLOCKS[name] = cls
        cls.registry_name = name
        return cls

    return decorate


def with_candidate_tables(case, blocks: Sequence["GeneBlock"], keys: Sequence[str] | None = None):
    """A copy of ``case`` whose candidate tables are those the blocks plan over.

    Blocks without overrides leave the case's tables; ``case`` is not modified.

    Parameters
    ----------
    case : PlanningCase
    blocks : sequence of GeneBlock
    keys : sequence of str, optional
        Where each block is written, for messages (default ``blocks[i].<name>``).

    Raises
    ------
    fdnmoo.parameters.ParameterError
        Invalid override (its ``key`` is ``<block key>.<parameter>``), or two
        blocks replacing the same table.
    """
    tables: dict[str, pd.DataFrame] = {}
    owner: dict[str, str] = {}
    for i, block in enumerate(blocks):
        where = keys[i] if keys is not None else f"blocks[{i}].{block.registry_name}"
        try:
            mine = block.candidate_tables(case)
        except ParameterError as exc:
            raise ParameterError(f"{where}.{exc.key}" if exc.key else where, exc.message) from None
        for name, table in mine.items():
            if name in owner:
                raise ParameterError(where, f"candidate table {name!r} is already overridden "
                                            f"by {owner[name]}")
            owner[name] = where
            tables[name] = table.reset_index(drop=True)
    if not tables:
        return case
    return dataclasses.replace(case, candidates={**case.candidates, **tables})


def candidate_buses(case, buses, key: str = "buses") -> np.ndarray:
    """Bus labels of a ``buses`` override: a list of ``net.bus`` labels, or ``"all"``.

    ``"all"``: every in-service bus of the case's net except the substation
    (external-grid) buses, in label order.

    Raises
    ------
    fdnmoo.parameters.ParameterError
        A label that is not a bus of the case, a repeated label, an empty list.
    """
    net = case.net
    if isinstance(buses, str):
        if buses != "all":
            raise ParameterError(key, f"expected a list of bus labels or 'all', got {buses!r}")
        live = net.bus.index[net.bus.in_service.astype(bool)]
        return np.array(sorted(set(int(b) for b in live) - set(case.substation_buses)),
                        dtype=np.int64)
    labels = [int(b) for b in buses]
    if not labels:
        raise ParameterError(key, "expected at least one bus label")
    known = set(int(b) for b in net.bus.index)
    for b in labels:
        if b not in known:
            raise ParameterError(key, f"bus {b} is not a bus of case {case.name!r} (net.bus "
                                      f"labels are {min(known)}..{max(known)})")
    if len(set(labels)) != len(labels):
        raise ParameterError(key, f"bus labels repeat: {sorted(labels)}")
    return np.array(labels, dtype=np.int64)


def context_rows(context: dict | None, n: int) -> list[dict]:
    """The per-individual context dicts of ``context`` (empty dicts if none).

    Raises
    ------
    ValueError
        If the context holds a number of rows other than ``n``.
    """
    rows = (context or {}).get("rows")
    if rows is None:
        return [{} for _ in range(n)]
    if len(rows) != n:
        raise ValueError(f"context has {len(rows)} rows for {n} individuals")
    return rows


def as_genes(X: np.ndarray, xl: np.ndarray, xu: np.ndarray) -> np.ndarray:
    """Integer copy of ``X`` (2-D), rounded and clipped to the inclusive bounds."""
    X = np.atleast_2d(np.asarray(X))
    if X.shape[1] != len(xl):
        raise ValueError(f"expected {len(xl)} genes per row, got {X.shape[1]}")
    return np.clip(np.rint(X), xl, xu).astype(np.int64)


class GeneBlock(ABC):
    """A block of integer genes with operators that keep offspring feasible.

    Subclasses implement :meth:`_setup` (called by :meth:`bind` on a copy),
    :meth:`sample`, :meth:`repair`, :meth:`decode` and, if later blocks need
    something, :meth:`provides`. Crossover and mutation have generic defaults
    driven by two per-gene arrays set in ``_setup``:

    * ``groups``: genes with the same group id are inherited together by the
      uniform crossover (e.g. a corridor's conductor and build stage);
    * ``ordinal``: True where a mutation steps the gene by +/-1 (stages,
      size levels); elsewhere it redraws the gene uniformly (choices, switches).

    Attributes
    ----------
    n_var : int
        Number of genes (the attributes exist once :meth:`bind` has run).
    xl, xu : ndarray of int, shape (n_var,)
        Inclusive bounds.
    n_stages : int
    grid : PlanningGrid
    """

    #: Position in the genome's repair order (lower repairs first).
    repair_rank: int = 50
    #: Block name; unique within a genome.
    name: str = "block"
    #: Name in :data:`BLOCKS` (set by :func:`register_block`).
    registry_name: str = "block"

    # ------------------------------------------------------------------ binding
    def bind(self, grid, n_stages: int) -> "GeneBlock":
        """Compute candidate sets on ``grid``; returns a bound copy.

        Parameters
        ----------
        grid : PlanningGrid
        n_stages : int
            Number of planning stages (>= 1).
        """
        if int(n_stages) < 1:
            raise ValueError(f"n_stages must be >= 1, got {n_stages}")
        bound = copy.copy(self)
        bound.grid = grid
        bound.n_stages = int(n_stages)
        bound._setup(grid, int(n_stages))
        for attr in ("xl", "xu", "groups", "ordinal"):
            value = getattr(bound, attr, None)
            if value is None or len(value) != bound.n_var:
                raise AssertionError(f"{type(self).__name__}._setup must set {attr} "
                                     f"with n_var={bound.n_var} entries")
        bound._bound = True
        return bound

    @abstractmethod
    def _setup(self, grid, n_stages: int) -> None:
        """Set n_var, xl, xu, groups, ordinal and the block's own tables."""

    def _check_bound(self) -> None:
        if not getattr(self, "_bound", False):
            raise RuntimeError(f"{self!r} is not bound: call block = block.bind(grid, n_stages)")

    # --------------------------------------------------------------- operators
    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator, context: dict) -> np.ndarray:
        """``n`` feasible gene vectors, shape (n, n_var)."""

    @abstractmethod
    def repair(self, X: np.ndarray, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Feasible copy of ``X`` (shape (n, n_var)); never modifies ``X``.

        Feasible rows are returned unchanged (repair is idempotent).
        """

    def crossover(self, a: np.ndarray, b: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Uniform crossover over gene groups: two parents -> two offspring.

        Each group of genes (see class docstring) is swapped between the
        parents with probability 1/2, independently per mating. Offspring may
        be infeasible; the genome repairs them afterwards.

        Parameters
        ----------
        a, b : ndarray, shape (n_matings, n_var)
        rng : numpy.random.Generator
        """
        self._check_bound()
        a, b = np.atleast_2d(a), np.atleast_2d(b)
        c, d = a.copy(), b.copy()
        if self.n_var == 0:
            return c, d
        n_groups = int(self.groups.max()) + 1
        swap = (rng.random((len(a), n_groups)) < 0.5)[:, self.groups]
        c[swap], d[swap] = b[swap], a[swap]
        return c, d

    def mutate(self, X: np.ndarray, rng: np.random.Generator, prob: float) -> np.ndarray:
        """Mutated copy of ``X``: each gene changes with probability ``prob``.

        Ordinal genes step by +/-1 (turned inwards at a bound); the others are
        redrawn uniformly among their other values. Ordinal genes of more than
        :data:`WIDE_ORDINAL` values (fine size levels) step by
        ``max(1, round(|z| * span / 8))``, z standard normal, reflected at the
        bounds: +/-1 steps would take a run hundreds of generations to cross
        their range (the extra draws happen only where such genes exist).
        """
        self._check_bound()
        X = np.atleast_2d(X)
        Y = X.copy()
        if self.n_var == 0:
            return Y
        hit = rng.random(X.shape) < prob
        span = self.xu - self.xl
        hit &= span[None, :] > 0
        step = np.where(rng.random(X.shape) < 0.5, -1, 1)
        stepped = X + step
        stepped = np.where(stepped < self.xl, X + 1, stepped)
        stepped = np.where(stepped > self.xu, X - 1, stepped)
        # uniform among the other values: shift by 1..span modulo the range
        shift = np.floor(rng.random(X.shape) * np.maximum(span, 1)).astype(np.int64) + 1
        redrawn = self.xl + (X - self.xl + shift) % (span + 1)
        wide = self.ordinal & (span + 1 > WIDE_ORDINAL)
        if wide.any():
            size = np.maximum(1, np.rint(np.abs(rng.standard_normal(X.shape)) * span / 8.0))
            far = X + step * size.astype(np.int64)
            far = np.where(far > self.xu, 2 * self.xu - far, far)
            far = np.clip(np.where(far < self.xl, 2 * self.xl - far, far), self.xl, self.xu)
            stepped = np.where(wide[None, :], far, stepped)
        new = np.where(self.ordinal[None, :], stepped, redrawn)
        Y[hit] = new[hit]
        return Y

    # ----------------------------------------------------------------- decoding
    @abstractmethod
    def decode(self, x: np.ndarray, parts: dict) -> None:
        """Write this block's :class:`~fdnmoo.planning.Plan` fields into ``parts``.

        ``parts["context"]`` is the individual's context row (what blocks
        earlier in the repair order provided); the genome removes it before
        building the plan.
        """

    def provides(self, x: np.ndarray, context_row: dict) -> None:
        """Write what later blocks' repair needs into ``context_row`` (default: nothing)."""

    # ---------------------------------------------------------------- candidates
    def candidate_tables(self, case) -> dict[str, pd.DataFrame]:
        """Candidate tables this block plans over instead of the case's (default: none).

        Must be idempotent: applied to a case that already holds the returned
        tables, it returns equal tables.

        Raises
        ------
        fdnmoo.parameters.ParameterError
            An override that does not fit the case; ``key`` names the parameter.
        """
        return {}

    def _check_candidates(self, case) -> None:
        """Refuse binding to a case whose tables are not this block's overrides."""
        for name, table in self.candidate_tables(case).items():
            have = case.candidates.get(name)
            if have is None or not table.reset_index(drop=True).equals(have.reset_index(drop=True)):
                raise ValueError(f"{self!r} overrides candidates[{name!r}]: bind it to a case "
                                 f"from with_candidate_tables(case, blocks) (ProblemConfig "
                                 f"does this)")

    # -------------------------------------------------------------- parameters
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (scikit-learn style)."""
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
