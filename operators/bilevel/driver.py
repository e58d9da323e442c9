"""The bi-level driver: upper-level genes evolved over lower-level fronts of resource genes.

One generation of :class:`BiLevel`:

1. **Upper offspring.** The upper population holds the genes of the upper
   blocks only (substations, lines and ties, SOPs: every block but the lower
   ones, :func:`~fdnmoo.operators.bilevel.split.split_blocks`). Offspring come
   from pymoo's binary tournament on (upper rank, crowding) and the upper
   blocks' own crossover, mutation and repair, duplicates eliminated. The
   first generation samples the upper population instead.
2. **Lower runs.** For every new upper genome a lower-level algorithm (NSGA-II,
   or the one given) optimises the lower blocks' genes (PV, SVC) with the upper
   genes fixed, on the lower objectives; each lower non-dominated solution is
   evaluated through the planning problem, so it carries every objective
   (upper ones included). Runs go to the workers of ``problem.evaluator``
   (:meth:`fdnmoo.evaluation.Evaluator.map`), each seeded from the run seed and
   its upper genes: the same result for any backend and worker count. Fronts
   are cached per upper genome; a genome seen before is not optimised again.
3. **Upper survival.** Over the union of the lower fronts of parents and
   offspring, every solution gets a front rank (dominance peeling, feasible
   first) and a crowding distance; an upper individual's fitness is the best
   rank of its solutions and the largest crowding among those of that rank
   (:func:`~fdnmoo.operators.bilevel.front.upper_fitness`). The ``pop_size``
   best by (rank, larger crowding) survive.
4. **Front.** The archive is the first front (``dominance``, default Pareto) of
   the previous archive and the new lower fronts: with Pareto dominance, the
   non-dominated set of every lower solution seen so far. ``front_filter``
   (default: none) then selects the reported solutions, and ``algorithm.pop``
   (and ``algorithm.opt``) is that AA front: full genomes with ``F``, ``G``,
   ``F_lo`` and ``F_hi``.

``algorithm.evaluator.n_eval`` counts every genome the lower runs evaluated
(the only evaluations there are; cached fronts count once).

>>> algorithm = BiLevel(pop_size=10, lower_pop_size=12, lower_n_gen=8)   # doctest: +SKIP
>>> res = pymoo.optimize.minimize(problem, algorithm, ("n_gen", 5), seed=1)
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable, Sequence

import numpy as np
from pymoo.algorithms.moo.nsga2 import binary_tournament
from pymoo.core.algorithm import Algorithm
from pymoo.core.duplicate import DefaultDuplicateElimination
from pymoo.core.individual import calc_cv
from pymoo.core.initialization import Initialization
from pymoo.core.mating import Mating
from pymoo.core.population import Population
from pymoo.core.problem import Problem
from pymoo.operators.selection.tournament import TournamentSelection

from fdnmoo.evaluation import remember_problem
from fdnmoo.parameters import ParameterError, did_you_mean

from ..composite import GenomeCrossover, GenomeMutation, GenomeRepair, GenomeSampling
from .front import Dominance, constrained_front, front_ranks, pareto_survivors, upper_fitness, \
    upper_order
from .lower import LowerFront, LowerLevel, lower_seed, lower_task, optimise_lower
from .split import SubGenome, split_blocks

__all__ = ["BiLevel", "DEFAULT_LOWER_OBJECTIVES", "UpperProblem"]

logger = logging.getLogger(__name__)

#: Lower-level objectives when none are named (the AA joint-planning paper's).
DEFAULT_LOWER_OBJECTIVES: tuple[str, ...] = ("operational_adaptability", "pv_uneven_degree")

#: ``front_filter(F, F_lo, F_hi) -> indices of the rows kept`` (objectives as minimised).
FrontFilter = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class UpperProblem(Problem):
    """The upper genes as a pymoo problem, for the upper operators (never evaluated).

    Parameters
    ----------
    problem : PlanningProblem
    blocks : sequence of str
        The upper blocks.
    """

    def __init__(self, problem, blocks: Sequence[str]):
        self.genome = SubGenome(problem.genome, blocks)
        super().__init__(n_var=self.genome.n_var, n_obj=problem.n_obj, xl=self.genome.xl,
                         xu=self.genome.xu, vtype=int)

    def _evaluate(self, X, out, *args, **kwargs):
        raise NotImplementedError("upper individuals are evaluated by their lower-level runs")


class BiLevel(Algorithm):
    """Bi-level evolutionary planning (see module docstring).

    Parameters
    ----------
    pop_size : int
        Upper population size (and offspring per generation). The upper
        generations are the run's termination (``("n_gen", N)``).
    lower_pop_size, lower_n_gen : int
        Population size and generations of every lower-level run.
    lower_objectives : sequence of str
        Objectives (names among the problem's) the lower level optimises;
        every objective of the problem is in the front.
    lower_blocks : sequence of str, optional
        Gene blocks of the lower level; default those of ``der_pv``,
        ``der_svc`` the genome has. The upper level varies all others.
    lower_algorithm : callable, optional
        ``lower_algorithm(pop_size=..., **operators) -> pymoo Algorithm``
        (default pymoo NSGA-II); must be picklable to reach the workers.
    dominance : callable, optional
        ``dominance(F) -> indices`` of the non-dominated rows (default
        :func:`~fdnmoo.operators.bilevel.front.pareto_survivors`); used for the
        archive and the upper ranks.
    front_filter : callable, optional
        ``front_filter(F, F_lo, F_hi) -> indices`` of the archive's solutions to
        report as ``pop`` (default: all).
    crossover_prob : float
    prob_var : float, optional
        Genome-operator settings, for both levels.
    **kwargs
        pymoo ``Algorithm`` arguments (``output``, ``verbose``, ...).

    Attributes
    ----------
    upper_pop : pymoo Population
        Upper genes of the current upper population, with ``rank``, ``crowding``
        and ``CV`` (the least of its lower front's).
    cache : dict
        Lower front (:class:`~fdnmoo.operators.bilevel.lower.LowerFront`) per upper
        genome (its bytes).
    n_lower_runs, n_lower_cached : int
        Lower runs done, and requested upper genomes answered without a run (seen before, or
        repeated in the request).
    """

    def __init__(self, pop_size: int = 20, lower_pop_size: int = 20, lower_n_gen: int = 10,
                 lower_objectives: Sequence[str] = DEFAULT_LOWER_OBJECTIVES,
                 lower_blocks: Sequence[str] | None = None,
                 lower_algorithm: Callable[..., Algorithm] | None = None,
                 dominance: Dominance | None = None, front_filter: FrontFilter | None = None,
                 crossover_prob: float = 0.9, prob_var: float | None = None, **kwargs: Any):
        _check_algorithm_kwargs(kwargs)
        super().__init__(**kwargs)
        self.pop_size = pop_size
        self.lower_pop_size = lower_pop_size
        self.lower_n_gen = lower_n_gen
        self.lower_objectives = lower_objectives
        self.lower_blocks = lower_blocks
        self.lower_algorithm = lower_algorithm
        self.dominance = dominance
        self.front_filter = front_filter
        self.crossover_prob = crossover_prob
        self.prob_var = prob_var
        self.tournament_type = "comp_by_rank_and_crowding"  # read by pymoo's binary_tournament
        self.upper_pop: Population | None = None
        self.cache: dict[bytes, LowerFront] = {}
        self.n_lower_runs = 0
        self.n_lower_cached = 0
        self._upper: UpperProblem | None = None

    # ------------------------------------------------------------------ setup
    def _setup(self, problem, **kwargs) -> None:
        for name in ("pop_size", "lower_pop_size", "lower_n_gen"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(name, f"must be >= 1, got {getattr(self, name)}")
        if not hasattr(problem, "genome"):
            raise TypeError(f"the bi-level driver needs a planning problem (with a genome), "
                            f"got {type(problem).__name__}")
        self._upper_blocks, lower_blocks = split_blocks(problem.genome, self.lower_blocks)
        self.level = LowerLevel(blocks=lower_blocks,
                                objectives=_columns(problem, self.lower_objectives),
                                pop_size=int(self.lower_pop_size), n_gen=int(self.lower_n_gen),
                                algorithm=self.lower_algorithm,
                                crossover_prob=float(self.crossover_prob), prob_var=self.prob_var)
        # lower runs draw nothing from the shared generator: their seeds derive from this one
        self.lower_base_seed = int(self.seed) if self.seed is not None \
            else int(self.random_state.integers(2 ** 31))
        duplicates = DefaultDuplicateElimination()
        repair = GenomeRepair()
        self.initialization = Initialization(GenomeSampling(), repair=repair,
                                             eliminate_duplicates=duplicates)
        self.mating = Mating(TournamentSelection(func_comp=binary_tournament),
                             GenomeCrossover(prob=float(self.crossover_prob)),
                             GenomeMutation(prob_var=self.prob_var), repair=repair,
                             eliminate_duplicates=duplicates, n_max_iterations=100)
        self._archive = LowerFront.empty(problem)

    @property
    def upper_problem(self) -> UpperProblem:
        """The upper genes' problem (rebuilt from ``problem`` after unpickling)."""
        if self._upper is None:
            self._upper = UpperProblem(self.problem, self._upper_blocks)
        return self._upper

    def __getstate__(self) -> dict[str, Any]:
        # the upper problem holds the bound genome (grid, case): rebuilt, not checkpointed
        state = dict(self.__dict__)
        state["_upper"] = None
        return state

    # -------------------------------------------------------------- iteration
    def _initialize_infill(self) -> None:
        return None  # the generation's work (lower runs included) happens in the advance

    def _infill(self) -> None:
        return None

    def _initialize_advance(self, infills=None, **kwargs) -> None:
        upper = self.upper_problem
        pop = self.initialization.do(upper, int(self.pop_size), algorithm=self,
                                     random_state=self.random_state)
        self._generation(Population.empty(), pop)

    def _advance(self, infills=None, **kwargs) -> None:
        off = self.mating.do(self.upper_problem, self.upper_pop, int(self.pop_size),
                             algorithm=self, random_state=self.random_state)
        if len(off) == 0:  # every offspring was a duplicate: the upper space is exhausted
            self.termination.force_termination = True
            logger.info("bi-level generation %d: no new upper genomes; stopping", self.n_iter)
        self._generation(self.upper_pop, off)

    def _set_optimum(self) -> None:
        self.opt = self.pop

    def _generation(self, parents: Population, off: Population) -> None:
        """Lower runs of the offspring, upper survival, archive and reported front."""
        runs_before, cached_before = self.n_lower_runs, self.n_lower_cached
        merged = Population.merge(parents, off) if len(parents) else off
        fronts = [self.cache[_key(x)] for x in _genes(parents)] + \
            self.lower_fronts(_genes(off))
        union = LowerFront.concat(fronts)
        owner = np.repeat(np.arange(len(fronts)), [len(f.X) for f in fronts])
        cv = _cv(union.G)
        rank, crowding = front_ranks(union.F, cv, self._dominance)
        up_rank, up_crowding = upper_fitness(owner, len(fronts), rank, crowding)
        up_cv = np.full(len(fronts), np.inf)
        np.minimum.at(up_cv, owner, cv)
        merged.set("rank", up_rank, "crowding", up_crowding, "CV", up_cv[:, None])
        self.upper_pop = merged[upper_order(up_rank, up_crowding)[:int(self.pop_size)]]
        candidates = LowerFront.concat([self._archive, union])
        candidates = candidates.take(_unique_rows(candidates.X))
        self._archive = candidates.take(constrained_front(candidates.F, _cv(candidates.G),
                                                          self._dominance))
        self.pop = self._front_population()
        logger.info("bi-level generation %d: %d lower runs (%d cached), %d evaluations, "
                    "front of %d", self.n_iter, self.n_lower_runs - runs_before,
                    self.n_lower_cached - cached_before, self.evaluator.n_eval, len(self.pop))

    @property
    def _dominance(self) -> Dominance:
        return self.dominance if self.dominance is not None else pareto_survivors

    def _front_population(self) -> Population:
        a = self._archive
        keep = np.arange(len(a.X))
        if self.front_filter is not None and len(keep):
            kept = np.unique(np.asarray(self.front_filter(a.F, a.F_lo, a.F_hi), dtype=np.int64))
            if len(kept) and (kept[0] < 0 or kept[-1] >= len(keep)):
                raise ValueError(f"front_filter {self.front_filter!r} returned indices "
                                 f"{kept.tolist()} for {len(keep)} solutions")
            if len(kept):
                keep = kept
            else:  # an empty population would stop the run's bookkeeping
                logger.warning("front_filter %r kept none of the %d front solutions; the "
                               "unfiltered front is reported", self.front_filter, len(keep))
        pop = Population.new(X=a.X[keep], F=a.F[keep], F_lo=a.F_lo[keep], F_hi=a.F_hi[keep])
        if self.problem.n_ieq_constr:
            pop.set("G", a.G[keep])
        pop.apply(lambda ind: ind.evaluated.update({"F", "G", "H"}))
        return pop

    # ---------------------------------------------------------------- lower
    def lower_fronts(self, X_upper: np.ndarray) -> list[LowerFront]:
        """The lower front of every upper genome (rows of ``X_upper``), from the cache or
        from new lower runs (each distinct genome once), in row order."""
        upper = self.upper_problem.genome
        keys = [_key(x) for x in X_upper]
        todo: dict[bytes, np.ndarray] = {}
        for key, x in zip(keys, X_upper):
            if key not in self.cache and key not in todo:
                todo[key] = x
        self.n_lower_cached += len(keys) - len(todo)
        tasks = [(self.level, upper.compose(x)[0], lower_seed(self.lower_base_seed, x))
                 for x in todo.values()]
        for key, front in zip(todo, self._run_lower(tasks)):
            self.cache[key] = front
            self.evaluator.n_eval += front.n_eval
        self.n_lower_runs += len(tasks)
        return [self.cache[k] for k in keys]

    def _run_lower(self, tasks: list) -> list[LowerFront]:
        evaluator = getattr(self.problem, "evaluator", None)
        if evaluator is None or not tasks:
            return [optimise_lower(self.problem, *task) for task in tasks]
        remember_problem(self.problem)  # the serial backend then reuses this process's problem
        return evaluator.map(lower_task, self.problem.config, tasks)


def _check_algorithm_kwargs(kwargs: dict) -> None:
    """Refuse keyword arguments that neither BiLevel nor pymoo's ``Algorithm`` takes (pymoo
    would swallow a typo silently)."""
    known = [p for p in inspect.signature(Algorithm.__init__).parameters
             if p not in ("self", "kwargs")]
    ours = [p for p in inspect.signature(BiLevel.__init__).parameters
            if p not in ("self", "kwargs")]
    for name in kwargs:
        if name not in known:
            raise TypeError(f"BiLevel got an unexpected keyword argument {name!r}"
                            f"{did_you_mean(name, ours + known)}")


def _genes(pop: Population) -> np.ndarray:
    return np.asarray(pop.get("X")).astype(np.int64) if len(pop) else np.zeros((0, 0), np.int64)


def _key(x: np.ndarray) -> bytes:
    """Cache key of upper genes."""
    return np.ascontiguousarray(x, dtype=np.int64).tobytes()


def _columns(problem, names: Sequence[str]) -> tuple[int, ...]:
    """Positions of the lower objectives among the problem's objectives."""
    if isinstance(names, str):
        names = (names,)
    known = list(getattr(problem, "objective_names", []))
    if not names:
        raise ParameterError("lower_objectives", "the lower level needs at least one objective")
    for name in names:
        if name not in known:
            raise ParameterError("lower_objectives", f"{name!r} is not an objective of the "
                                 f"problem{did_you_mean(name, known)}; its objectives are "
                                 f"{', '.join(known)}")
    if len(set(names)) != len(names):
        raise ParameterError("lower_objectives", f"objectives repeat: {list(names)}")
    return tuple(known.index(n) for n in names)


def _cv(G: np.ndarray) -> np.ndarray:
    """pymoo's constraint violation of each row of ``G`` (what ``pop.get("CV")`` gives)."""
    G = np.asarray(G, dtype=float)
    return np.asarray(calc_cv(G=G), dtype=float).reshape(len(G))


def _unique_rows(X: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of every distinct row, in order."""
    if len(X) == 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(X, axis=0, return_index=True)
    return np.sort(first)
