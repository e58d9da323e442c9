"""One lower-level run: the resource genes optimised for a fixed upper genome.

:func:`optimise_lower` runs a pymoo algorithm (NSGA-II by default; AA-NSGA-II
for interval objectives once the driver is given it) over the lower blocks'
genes, the upper genes fixed (:class:`LowerProblem`), on the lower
objectives. Every candidate is evaluated through the planning problem itself,
so each lower non-dominated solution comes back with the *full* objective
vector of its combined genome (the upper objectives included) and its
constraints: :class:`LowerFront`.

A run's seed comes from the driver's seed and the upper genes
(:func:`lower_seed`), never from a shared generator, so a run gives the same
front in any process, in any order: :func:`lower_task` is what a worker of
:class:`fdnmoo.evaluation.Evaluator` runs (``Evaluator.map``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.algorithm import Algorithm
from pymoo.core.problem import Problem

from fdnmoo.evaluation import cached_problem

from ..composite import genome_operators
from .split import SubGenome

__all__ = ["LowerFront", "LowerLevel", "LowerProblem", "lower_seed", "lower_task", "nsga2",
           "optimise_lower"]


def nsga2(pop_size: int, **operators: Any) -> Algorithm:
    """pymoo's NSGA-II with the given operators: the default lower-level algorithm."""
    return NSGA2(pop_size=pop_size, **operators)


@dataclass(frozen=True)
class LowerLevel:
    """What every lower-level run needs; picklable (it travels to the workers).

    Parameters
    ----------
    blocks : tuple of str
        Names of the lower-level gene blocks.
    objectives : tuple of int
        Columns of the problem's ``F`` that the lower level minimises.
    pop_size, n_gen : int
        Lower-level population size and generations per run.
    algorithm : callable, optional
        ``algorithm(pop_size=..., **operators) -> pymoo Algorithm``, the
        operators being :func:`fdnmoo.operators.genome_operators` (default
        :func:`nsga2`); e.g. ``functools.partial(AANSGA2, beta=0.5)``.
    crossover_prob : float
    prob_var : float, optional
        Operator settings of the lower algorithm's genome operators.
    """

    blocks: tuple[str, ...]
    objectives: tuple[int, ...]
    pop_size: int
    n_gen: int
    algorithm: Callable[..., Algorithm] | None = None
    crossover_prob: float = 0.9
    prob_var: float | None = None


@dataclass
class LowerFront:
    """The non-dominated solutions of one lower-level run (full genomes and objectives).

    Attributes
    ----------
    X : ndarray of int, shape (k, n_var)
        Full genomes (the upper genes are the run's fixed ones).
    F : ndarray, shape (k, n_obj)
        Every objective of the problem, as minimised (interval centres).
    G : ndarray, shape (k, n_constr)
        The problem's constraints (no columns without constraints).
    F_lo, F_hi : ndarray, shape (k, n_obj)
        Interval ends (equal to ``F`` where objectives are numbers).
    n_eval : int
        Genomes the run evaluated.
    """

    X: np.ndarray
    F: np.ndarray
    G: np.ndarray
    F_lo: np.ndarray
    F_hi: np.ndarray
    n_eval: int

    @classmethod
    def empty(cls, problem) -> "LowerFront":
        """No solutions, shaped for ``problem``."""
        n_obj = problem.n_obj
        return cls(X=np.zeros((0, problem.n_var), dtype=np.int64), F=np.zeros((0, n_obj)),
                   G=np.zeros((0, problem.n_ieq_constr)), F_lo=np.zeros((0, n_obj)),
                   F_hi=np.zeros((0, n_obj)), n_eval=0)

    @classmethod
    def concat(cls, fronts: Sequence["LowerFront"]) -> "LowerFront":
        """The solutions of ``fronts`` one after the other (evaluations summed)."""
        return cls(*(np.concatenate([getattr(f, k) for f in fronts], axis=0)
                     for k in ("X", "F", "G", "F_lo", "F_hi")),
                   n_eval=sum(f.n_eval for f in fronts))

    def take(self, rows: np.ndarray) -> "LowerFront":
        """The solutions at ``rows``."""
        return LowerFront(self.X[rows], self.F[rows], self.G[rows], self.F_lo[rows],
                          self.F_hi[rows], n_eval=self.n_eval)


class LowerProblem(Problem):
    """The lower level as a pymoo problem: lower genes in, lower objectives out.

    ``_evaluate`` composes full genomes (upper genes fixed), evaluates them in
    this process (``problem.evaluate_genomes``: a lower run is one task of a
    worker; the problem's own evaluator is not used), turns the arrays into
    pymoo's outputs as the problem does (``problem.pymoo_outputs``: constraint
    penalty, interval ends) and keeps the full results beside the lower
    objectives (``F_full``, ``F_lo_full``, ``F_hi_full`` on the population).

    Parameters
    ----------
    problem : PlanningProblem
    level : LowerLevel
    fixed : ndarray, shape (problem.n_var,)
        A full genome carrying the upper genes.
    """

    def __init__(self, problem, level: LowerLevel, fixed: np.ndarray):
        self.problem = problem
        self.genome = SubGenome(problem.genome, level.blocks, fixed=fixed)
        self.columns = np.asarray(level.objectives, dtype=np.int64)
        super().__init__(n_var=self.genome.n_var, n_obj=len(self.columns),
                         n_ieq_constr=problem.n_ieq_constr, xl=self.genome.xl,
                         xu=self.genome.xu, vtype=int)

    @property
    def interval_objectives(self) -> bool:
        """Whether the objectives are intervals (``F_lo``/``F_hi`` beside ``F``)."""
        return bool(getattr(self.problem, "interval_objectives", False))

    @property
    def affine_objectives(self) -> bool:
        """Whether the objectives also come as affine forms (``F_aff``/``F_rad``), which
        AA-NSGA-II's ``affine_difference`` compares."""
        return bool(getattr(self.problem, "affine_objectives", False))

    @property
    def objective_names(self) -> list[str]:
        return [self.problem.objective_names[c] for c in self.columns]

    def _evaluate(self, X, out, *args, **kwargs):
        res = self.problem.pymoo_outputs(*self.problem.evaluate_genomes(
            self.genome.compose(X), **self.problem.bounds_request()))
        F = res["F"]
        lo, hi = (res["F_lo"], res["F_hi"]) if self.interval_objectives else (F, F)
        out["F"] = F[:, self.columns]
        if self.n_ieq_constr:
            out["G"] = res["G"]
        if self.interval_objectives:
            out["F_lo"], out["F_hi"] = lo[:, self.columns], hi[:, self.columns]
        if "F_aff" in res:
            out["F_aff"], out["F_rad"] = res["F_aff"][:, self.columns], res["F_rad"][:, self.columns]
        out["F_full"], out["F_lo_full"], out["F_hi_full"] = F, lo, hi


def lower_seed(seed: int, upper: np.ndarray) -> int:
    """Seed of the lower-level run of the upper genes ``upper`` in a run seeded ``seed``."""
    digest = hashlib.sha256(np.ascontiguousarray(upper, dtype=np.int64).tobytes()).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return int(np.random.SeedSequence([int(seed)] + words).generate_state(1)[0])


def optimise_lower(problem, level: LowerLevel, fixed: np.ndarray, seed: int) -> LowerFront:
    """Run the lower level for the upper genes of ``fixed``; its non-dominated solutions.

    The front is the lower algorithm's optimum (``algorithm.opt``: its feasible
    non-dominated solutions on the lower objectives, or the least infeasible).

    Parameters
    ----------
    problem : PlanningProblem
    level : LowerLevel
    fixed : ndarray, shape (problem.n_var,)
        Full genome carrying the upper genes (its lower genes are ignored).
    seed : int
        The run's seed (:func:`lower_seed`).
    """
    lower = LowerProblem(problem, level, fixed)
    build = level.algorithm if level.algorithm is not None else nsga2
    ops = genome_operators(None, crossover_prob=level.crossover_prob, prob_var=level.prob_var)
    algorithm = build(pop_size=int(level.pop_size), **ops)
    algorithm.setup(lower, termination=("n_gen", int(level.n_gen)), seed=int(seed),
                    verbose=False)
    while algorithm.has_next():
        algorithm.next()
    opt = algorithm.opt if algorithm.opt is not None and len(algorithm.opt) else algorithm.pop
    X = lower.genome.compose(np.asarray(opt.get("X")).astype(np.int64))
    F, lo, hi = (np.asarray(opt.get(k), dtype=float) for k in ("F_full", "F_lo_full",
                                                               "F_hi_full"))
    G = np.asarray(opt.get("G"), dtype=float).reshape(len(X), -1) if problem.n_ieq_constr \
        else np.zeros((len(X), 0))
    return LowerFront(X=X, F=F, G=G, F_lo=lo, F_hi=hi, n_eval=int(algorithm.evaluator.n_eval))


def lower_task(config: Any, task: tuple[LowerLevel, np.ndarray, int]) -> LowerFront:
    """:func:`optimise_lower` on the problem of ``config`` built in this process (a worker)."""
    level, fixed, seed = task
    return optimise_lower(cached_problem(config), level, fixed, seed)
