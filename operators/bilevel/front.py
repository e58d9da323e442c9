"""Fronts over the union of lower-level solutions, and the upper-level fitness drawn from them.

A *dominance* is a callable ``dominance(F) -> indices`` giving the rows of a
matrix of minimised objectives that no other row dominates. The default,
:func:`pareto_survivors`, is ordinary Pareto dominance (pymoo's
``NonDominatedSorting``); weakened dominance plugs in the same way.

A dominance that keeps none of a non-empty set (a cycle of weakened dominance)
is replaced by Pareto dominance for that set, with a warning.

Constraints come first everywhere: feasible solutions (``CV <= 0``) are
compared by the dominance; infeasible ones rank after every feasible one, by
their constraint violation.

Upper-level fitness (:func:`upper_fitness`): the union of the lower fronts of
all upper individuals is peeled into fronts with the dominance
(:func:`front_ranks`); an upper individual's rank is the best rank among its
lower solutions, its crowding the largest crowding distance (pymoo's, on the
objectives as minimised, within that front) among its solutions of that rank.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
from pymoo.operators.survival.rank_and_crowding.metrics import get_crowding_function
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

__all__ = ["Dominance", "constrained_front", "front_ranks", "pareto_survivors",
           "upper_fitness", "upper_order"]

logger = logging.getLogger(__name__)
#: pymoo NSGA-II's crowding distance (inf for fronts of one or two)
_CROWDING = get_crowding_function("cd")

#: ``dominance(F) -> indices of the non-dominated rows of F`` (objectives as minimised).
Dominance = Callable[[np.ndarray], np.ndarray]


def pareto_survivors(F: np.ndarray) -> np.ndarray:
    """Rows of ``F`` (minimised) that no other row Pareto-dominates, in row order."""
    F = np.asarray(F, dtype=float)
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(NonDominatedSorting().do(F, only_non_dominated_front=True)).astype(np.int64)


def _survivors(dominance: Dominance, F: np.ndarray) -> np.ndarray:
    """``dominance(F)`` checked; if it keeps nothing of a non-empty set (weakened dominance
    can be cyclic: a beats b beats c beats a), the Pareto survivors, with a warning."""
    kept = np.unique(np.asarray(dominance(F), dtype=np.int64))
    if len(kept) and (kept[0] < 0 or kept[-1] >= len(F)):
        raise ValueError(f"dominance {dominance!r} returned indices {kept.tolist()} for "
                         f"{len(F)} solutions")
    if len(F) and not len(kept):
        logger.warning("dominance %r kept none of %d solutions (a dominance cycle); they are "
                       "compared by Pareto dominance instead", dominance, len(F))
        return pareto_survivors(F)
    return kept


def constrained_front(F: np.ndarray, CV: np.ndarray,
                      dominance: Dominance = pareto_survivors) -> np.ndarray:
    """Rows of the first front: the feasible non-dominated ones, or, if none is feasible,
    the non-dominated ones among the least infeasible."""
    CV = np.asarray(CV, dtype=float).reshape(len(F))
    if len(F) == 0:
        return np.zeros(0, dtype=np.int64)
    feasible = CV <= 0
    rows = np.flatnonzero(feasible) if feasible.any() else np.flatnonzero(CV == CV.min())
    return rows[_survivors(dominance, np.asarray(F, dtype=float)[rows])]


def front_ranks(F: np.ndarray, CV: np.ndarray,
                dominance: Dominance = pareto_survivors) -> tuple[np.ndarray, np.ndarray]:
    """Front rank (0 best) and crowding distance of every row.

    Feasible rows are peeled front by front with ``dominance``; infeasible
    rows follow, one front per level of constraint violation (smallest first).

    Returns
    -------
    rank : ndarray of int, shape (n,)
    crowding : ndarray, shape (n,)
        pymoo NSGA-II's crowding distance within the row's front (inf at the extremes
        and in fronts of one or two).
    """
    F = np.asarray(F, dtype=float)
    CV = np.asarray(CV, dtype=float).reshape(len(F))
    rank = np.full(len(F), -1, dtype=np.int64)
    crowding = np.zeros(len(F))
    r = 0
    rest = np.flatnonzero(CV <= 0)
    while len(rest):
        front = rest[_survivors(dominance, F[rest])]
        rank[front], crowding[front] = r, _CROWDING.do(F[front])
        rest = np.setdiff1d(rest, front)
        r += 1
    infeasible = np.flatnonzero(CV > 0)
    for level in np.unique(CV[infeasible]):
        front = infeasible[CV[infeasible] == level]
        rank[front], crowding[front] = r, _CROWDING.do(F[front])
        r += 1
    return rank, crowding


def upper_fitness(owner: np.ndarray, n_upper: int, rank: np.ndarray, crowding: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Rank and crowding of each upper individual from those of its lower solutions.

    Parameters
    ----------
    owner : ndarray of int, shape (n,)
        Upper individual (0..n_upper-1) of each solution of the union.
    n_upper : int
    rank, crowding : ndarray, shape (n,)
        Of the solutions (:func:`front_ranks`).

    Returns
    -------
    rank : ndarray of int, shape (n_upper,)
        Best rank of the individual's solutions.
    crowding : ndarray, shape (n_upper,)
        Largest crowding among its solutions of that rank.
    """
    best = np.full(n_upper, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, owner, rank)
    crowd = np.full(n_upper, -np.inf)
    top = rank == best[owner]
    np.maximum.at(crowd, owner[top], crowding[top])
    return best, crowd


def upper_order(rank: np.ndarray, crowding: np.ndarray) -> np.ndarray:
    """Upper individuals from best to worst: by rank, then by larger crowding, then by
    position (stable)."""
    return np.lexsort((np.arange(len(rank)), -np.asarray(crowding), np.asarray(rank)))
