"""AA-NSGA-II: NSGA-II whose non-dominated sorting compares interval objectives (seed 004).

The algorithm is pymoo's :class:`~pymoo.algorithms.moo.nsga2.NSGA2` with two
parts replaced: the survival's non-dominated sorting
(:class:`IntervalRankAndCrowding`) and the binary tournament's dominance test
(:func:`interval_binary_tournament`) use the possibility-degree relation of
:mod:`fdnmoo.operators.interval_dominance`. Everything else is pymoo's:
feasible members first and infeasible ones by constraint violation (pymoo's
:class:`~pymoo.core.survival.Survival`), crowding distance on the interval
centres ``F`` (pymoo's crowding function), the same random draws. With zero
widths and ``beta = 0.5`` it is pymoo's NSGA-II, generation by generation.

Protocol: what a problem's ``_evaluate(X, out)`` may write beside ``out["F"]``
(pymoo keeps every key on the population, ``pop.get("F_lo")``):

``F_lo``, ``F_hi`` : shape (n, n_obj)
    The ends of every objective's interval, as minimised, with
    ``F_lo <= F <= F_hi`` (``F`` the centre, on which crowding is computed).
    Both or neither; neither means zero widths (``F_lo = F_hi = F``).
    :class:`~fdnmoo.problems.planning.PlanningProblem` writes them under
    ``uncertainty.method`` interval or affine.
``F_aff`` : shape (n, n_obj, n_symbols)
    For ``affine_difference``: every objective's partial deviations over noise
    symbols shared by the whole population (column ``k`` is the same source in
    every evaluation: the same load or PV unit, the same scenario), so that the
    objective is ``F + sum_k F_aff[..., k] eps_k (+- F_rad)``, ``eps_k in [-1, 1]``.
    A problem announces it with a true attribute ``affine_objectives``.
    :class:`~fdnmoo.problems.planning.PlanningProblem` does under
    ``uncertainty.method`` affine: one symbol per PV candidate, with terms in
    ``pv_uneven_degree`` only so far (:mod:`fdnmoo.interval_objectives`).
``F_rad`` : shape (n, n_obj), optional (default 0)
    The radius of everything not expressed in shared symbols: symbols private
    to one evaluation (the new symbols of Chebyshev approximations, an
    individual's own sources) and rounding. Private terms of two individuals are
    unrelated, so in ``A - B`` their radii add: ``D`` has centre ``a0 - b0`` and
    radius ``sum_k |a_k - b_k| + r_A + r_B``, which encloses ``A - B`` whatever the
    private terms are. With ``affine_difference`` the intervals ``F_lo``/``F_hi``
    are not read (a problem may still write them, e.g. tighter enclosures).
"""

from __future__ import annotations

import numbers

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.sampling.rnd import FloatRandomSampling
from pymoo.operators.selection.tournament import TournamentSelection, compare
from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

from .interval_dominance import (difference_possibility, dominates, dominance_fronts,
                                 possibility_degree)
from .registry import register_algorithm

__all__ = ["AANSGA2", "IntervalDominance", "IntervalRankAndCrowding", "affine_objectives",
           "build", "interval_binary_tournament", "objective_ends"]

#: Largest number of elements of a ``(rows, n, n_obj, n_symbols)`` block of affine differences.
_AFFINE_BLOCK = 1 << 22


def _member_values(pop, key: str, shape: tuple[int, ...], required: bool) -> np.ndarray | None:
    """``pop.get(key)`` as floats of ``shape`` (None if no member has it and not required)."""
    values = [ind.get(key) for ind in pop]
    missing = [i for i, v in enumerate(values) if v is None]
    if len(missing) == len(values) and not required:
        return None
    if missing:
        what = "no member" if len(missing) == len(values) else f"members {missing[:5]}"
        raise ValueError(f"AA-NSGA-II: {what} of the population has out[{key!r}]; the problem's "
                         f"_evaluate must write {key!r} for every individual (see "
                         f"fdnmoo.operators.aa_nsga2)")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"AA-NSGA-II: out[{key!r}] must be numbers of shape {shape[1:]} per "
                         f"individual ({err})") from None
    if array.shape != shape:
        raise ValueError(f"AA-NSGA-II: out[{key!r}] has shape {array.shape[1:]} per individual, "
                         f"expected {shape[1:]}")
    bad = ~np.isfinite(array)
    if bad.any():
        i = np.argwhere(bad)[0]
        raise ValueError(f"AA-NSGA-II: out[{key!r}] of member {i[0]} is {array[tuple(i)]} at "
                         f"index {tuple(i[1:])}: feasible members need finite values")
    return array


def objective_ends(pop) -> tuple[np.ndarray, np.ndarray]:
    """``(F_lo, F_hi)`` of a population, ``(F, F)`` for a problem that writes neither."""
    F = _member_values(pop, "F", (len(pop), pop[0].F.size), required=True)
    lo = _member_values(pop, "F_lo", F.shape, required=False)
    hi = _member_values(pop, "F_hi", F.shape, required=False)
    if lo is None and hi is None:
        return F, F
    if lo is None or hi is None:
        given, absent = ("F_lo", "F_hi") if hi is None else ("F_hi", "F_lo")
        raise ValueError(f"AA-NSGA-II: the problem writes out[{given!r}] but not "
                         f"out[{absent!r}]; write both ends of the intervals or neither")
    outside = (lo > F) | (F > hi)
    if outside.any():
        i, k = np.argwhere(outside)[0]
        raise ValueError(f"AA-NSGA-II: member {i}, objective {k}: F = {F[i, k]} is not in "
                         f"[F_lo, F_hi] = [{lo[i, k]}, {hi[i, k]}]")
    return lo, hi


def affine_objectives(pop) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(F, F_aff, F_rad)`` of a population (``F_rad`` 0 where the problem writes none)."""
    F = _member_values(pop, "F", (len(pop), pop[0].F.size), required=True)
    first = pop[0].get("F_aff")
    n_symbols = np.shape(first)[-1] if first is not None and np.ndim(first) == 2 else 0
    deviations = _member_values(pop, "F_aff", F.shape + (n_symbols,), required=True)
    radius = _member_values(pop, "F_rad", F.shape, required=False)
    if radius is None:
        return F, deviations, np.zeros_like(F)
    if (radius < 0).any():
        i, k = np.argwhere(radius < 0)[0]
        raise ValueError(f"AA-NSGA-II: out['F_rad'] of member {i}, objective {k} is "
                         f"{radius[i, k]}; a radius is >= 0")
    return F, deviations, radius


class IntervalDominance:
    """The possibility-degree dominance relation of AA-NSGA-II on populations.

    Parameters
    ----------
    beta : float, default 0.5
        Confidence level, ``0 <= beta < 1``: ``a`` dominates ``b`` if
        ``P(f_a <= f_b) >= beta`` on every objective and ``> beta`` on one.
    affine_difference : bool, default False
        Compute ``P(f_a <= f_b)`` from the affine form of ``f_a - f_b``
        (``F``, ``F_aff``, ``F_rad``: module docstring) instead of from the
        intervals ``F_lo``/``F_hi``.
    """

    def __init__(self, beta: float = 0.5, affine_difference: bool = False):
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
            raise ValueError(f"AA-NSGA-II: beta = {beta!r}; the confidence level is a number "
                             f"with 0 <= beta < 1 (0.5: Pareto dominance for zero widths)")
        if not isinstance(affine_difference, (bool, np.bool_)):
            raise ValueError(f"AA-NSGA-II: affine_difference = {affine_difference!r}; "
                             f"it is true or false")
        self.beta = float(beta)
        self.affine_difference = bool(affine_difference)

    def objective_values(self, pop) -> tuple[np.ndarray, ...]:
        """What the degrees are computed from: ``(F_lo, F_hi)`` or ``(F, F_aff, F_rad)``."""
        return affine_objectives(pop) if self.affine_difference else objective_ends(pop)

    def degrees(self, values: tuple[np.ndarray, ...], i, j) -> np.ndarray:
        """``P(f_i <= f_j)`` per objective (last axis) for broadcast index arrays ``i``, ``j``."""
        if not self.affine_difference:
            lo, hi = values
            return possibility_degree(lo[i], hi[i], lo[j], hi[j])
        centre, deviations, radius = values
        spread = np.abs(deviations[i] - deviations[j]).sum(axis=-1)
        return difference_possibility(centre[i] - centre[j], spread + radius[i] + radius[j])

    def matrix(self, pop) -> np.ndarray:
        """``M[i, j]``: member ``i`` dominates member ``j`` (bool, shape (n, n), diagonal False)."""
        values = self.objective_values(pop)
        n = len(pop)
        every = np.arange(n)[None, :]
        per_row = n * values[0].shape[1] * (values[1].shape[-1] if self.affine_difference else 1)
        rows = max(1, _AFFINE_BLOCK // max(per_row, 1))
        M = np.zeros((n, n), dtype=bool)
        for start in range(0, n, rows):
            i = np.arange(start, min(n, start + rows))[:, None]
            M[i[:, 0]] = dominates(self.degrees(values, i, every), self.beta)
        np.fill_diagonal(M, False)
        return M

    def relation(self, pop, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per pair: 1 if ``pop[a]`` dominates ``pop[b]`` (and not the reverse), -1 for the
        reverse, 0 otherwise (pymoo's ``Dominator.get_relation`` convention)."""
        members, index = np.unique(np.concatenate([a, b]), return_inverse=True)
        values = self.objective_values(pop[members])  # only the members compared are read
        a, b = index[:len(a)], index[len(a):]
        a_wins = dominates(self.degrees(values, a, b), self.beta)
        b_wins = dominates(self.degrees(values, b, a), self.beta)
        return a_wins.astype(int) - b_wins.astype(int)

    def __repr__(self) -> str:
        return (f"IntervalDominance(beta={self.beta!r}, "
                f"affine_difference={self.affine_difference!r})")


class _FrontsOf:
    """A stand-in for pymoo's ``NonDominatedSorting`` that peels the fronts of one population's
    dominance matrix (:class:`IntervalRankAndCrowding` binds one per survival)."""

    def __init__(self, dominance: np.ndarray):
        self.dominance = dominance

    def do(self, F, n_stop_if_ranked=None, **kwargs) -> list[np.ndarray]:
        if len(F) != len(self.dominance):
            raise RuntimeError("AA-NSGA-II: sorting a population other than the one ranked")
        return dominance_fronts(self.dominance, n_stop_if_ranked)


class IntervalRankAndCrowding(RankAndCrowding):
    """pymoo's rank-and-crowding survival with fronts by :class:`IntervalDominance`.

    Parameters
    ----------
    dominance : IntervalDominance, optional
        The relation (default ``IntervalDominance()``).
    crowding_func : str or callable, default "cd"
        pymoo's crowding function, on the interval centres ``F``.
    """

    def __init__(self, dominance: IntervalDominance | None = None, crowding_func="cd"):
        super().__init__(crowding_func=crowding_func)
        self.dominance = IntervalDominance() if dominance is None else dominance
        self.nds = None  # bound to each population in _do

    def _do(self, problem, pop, *args, **kwargs):
        self.nds = _FrontsOf(self.dominance.matrix(pop))
        try:
            return super()._do(problem, pop, *args, **kwargs)
        finally:
            self.nds = None


def interval_binary_tournament(pop, P, algorithm, random_state=None, **kwargs) -> np.ndarray:
    """pymoo's NSGA-II binary tournament with ``algorithm.dominance`` as the dominance test.

    A pair with an infeasible member goes to the smaller constraint violation;
    a feasible pair to the dominating member, else to the larger crowding
    distance; ties are drawn from ``algorithm.random_state`` in pymoo's order.
    """
    if P.shape[1] != 2:
        raise ValueError(f"AA-NSGA-II: a binary tournament takes pairs, got {P.shape[1]}")
    rng = algorithm.random_state
    cv = np.asarray(pop.get("CV"), dtype=float)[:, 0]
    crowding = pop.get("crowding")
    a, b = P[:, 0], P[:, 1]
    feasible = (cv[a] <= 0) & (cv[b] <= 0)
    relation = np.zeros(len(P), dtype=int)
    if feasible.any():
        relation[feasible] = algorithm.dominance.relation(pop, a[feasible], b[feasible])
    winners = np.empty(len(P), dtype=int)
    for t, (i, j) in enumerate(P):
        if not feasible[t]:
            winners[t] = compare(i, cv[i], j, cv[j], method="smaller_is_better",
                                 return_random_if_equal=True, random_state=rng)
        elif relation[t]:
            winners[t] = i if relation[t] > 0 else j
        else:
            winners[t] = compare(i, crowding[i], j, crowding[j], method="larger_is_better",
                                 return_random_if_equal=True, random_state=rng)
    return winners[:, None]


class AANSGA2(NSGA2):
    """NSGA-II over interval objectives by possibility degree (seed 004's AA-NSGA-II).

    Parameters
    ----------
    pop_size : int, default 100
    beta : float, default 0.5
        Confidence level of the dominance relation, ``0 <= beta < 1``
        (:class:`IntervalDominance`).
    affine_difference : bool, default False
        Compare objectives through the affine form of their difference, so that
        shared noise symbols cancel; the problem must declare
        ``affine_objectives`` and write ``out["F_aff"]`` (module docstring).
    sampling, crossover, mutation : pymoo operators, optional
        Default: NSGA-II's (random floats, SBX eta 15 p 0.9, PM eta 20), new instances.
    **kwargs
        Passed to pymoo's NSGA-II (``repair``, ``eliminate_duplicates``, ``n_offsprings``, ...).
    """

    def __init__(self, pop_size: int = 100, *, beta: float = 0.5,
                 affine_difference: bool = False, sampling=None, crossover=None, mutation=None,
                 **kwargs):
        for fixed in ("selection", "survival"):
            if fixed in kwargs:
                raise TypeError(f"AANSGA2 has its own {fixed}; it does not take {fixed}=")
        self.dominance = IntervalDominance(beta, affine_difference)
        super().__init__(
            pop_size=pop_size,
            sampling=FloatRandomSampling() if sampling is None else sampling,
            selection=TournamentSelection(func_comp=interval_binary_tournament),
            crossover=SBX(eta=15, prob=0.9) if crossover is None else crossover,
            mutation=PM(eta=20) if mutation is None else mutation,
            survival=IntervalRankAndCrowding(self.dominance),
            **kwargs)

    @property
    def beta(self) -> float:
        return self.dominance.beta

    @property
    def affine_difference(self) -> bool:
        return self.dominance.affine_difference

    def _setup(self, problem, **kwargs):
        if self.affine_difference and not getattr(problem, "affine_objectives", False):
            raise ValueError(
                f"AA-NSGA-II: affine_difference is set but the problem "
                f"({type(problem).__name__}) exposes no affine objective forms (it must have "
                f"affine_objectives = True and write out['F_aff']); set affine_difference: "
                f"false to compare the intervals F_lo/F_hi")
        super()._setup(problem, **kwargs)


@register_algorithm("aa-nsga2", options={"beta": float, "affine_difference": bool,
                                         "n_offsprings": int}, intervals=True,
                    description="AA-NSGA-II: NSGA-II with possibility-degree interval "
                                "dominance (seed 004)")
def build(request) -> AANSGA2:
    """The registry's builder: ``AANSGA2`` with the request's population size, genome
    operators and options (``beta``, ``affine_difference``)."""
    return AANSGA2(pop_size=request.pop_size, **request.operators, **request.options)
