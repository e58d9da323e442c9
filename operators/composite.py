"""pymoo operators that delegate to a planning genome's block operators.

Each operator takes the genome explicitly or, by default, uses
``problem.genome`` (what :class:`fdnmoo.problems.planning.PlanningProblem`
exposes). Randomness is pymoo's ``random_state`` generator, so a seeded
algorithm gives the same offspring on every run.

>>> from pymoo.algorithms.moo.nsga2 import NSGA2
>>> algorithm = NSGA2(pop_size=40, **genome_operators())   # doctest: +SKIP

Crossover and mutation return unrepaired offspring; pass :class:`GenomeRepair`
as the algorithm's ``repair`` so that pymoo repairs them (and the initial
population) before evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymoo.core.crossover import Crossover
from pymoo.core.mutation import Mutation
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling

from fdnmoo.problems.genome import Genome

__all__ = ["GenomeSampling", "SeededSampling", "GenomeCrossover", "GenomeMutation", "GenomeRepair",
           "genome_operators"]


def check_genome(genome: Any, where: str) -> None:
    """Raise TypeError unless ``genome`` is a :class:`~fdnmoo.problems.genome.Genome` or None.

    A common slip is passing the problem itself; the message says what to pass.
    """
    if genome is None or isinstance(genome, Genome):
        return
    hint = (" (a problem: pass problem.genome, or nothing to use problem.genome when the "
            "algorithm runs)" if isinstance(getattr(genome, "genome", None), Genome) else "")
    raise TypeError(f"{where} takes genome=None or a fdnmoo.problems.genome.Genome, got "
                    f"{type(genome).__name__}{hint}")


def _genome_of(operator, problem):
    check_genome(operator.genome, type(operator).__name__)
    genome = operator.genome if operator.genome is not None else getattr(problem, "genome", None)
    if genome is None:
        raise AttributeError(f"{type(operator).__name__} needs a genome: pass genome=... or "
                             f"give the problem a 'genome' attribute")
    if genome.n_var != problem.n_var:
        raise ValueError(f"genome has {genome.n_var} genes, problem has n_var={problem.n_var}")
    return genome


class GenomeSampling(Sampling):
    """Feasible initial genomes from :meth:`Genome.sample`.

    Parameters
    ----------
    genome : Genome, optional
        Default: ``problem.genome``.
    """

    def __init__(self, genome=None):
        super().__init__()
        self.genome = genome

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        return _genome_of(self, problem).sample(n_samples, random_state)


class SeededSampling(GenomeSampling):
    """Given genomes first, the rest of the ``n_samples`` from :meth:`Genome.sample`.

    Seeds an initial population with known solutions (an earlier run's, see
    :mod:`fdnmoo.experiment.initial_population`); pymoo repairs the whole population after
    sampling, so the rows should be feasible already to arrive unchanged.

    Parameters
    ----------
    X : array of int, shape (k, n_var)
        The rows that come first; when ``k >= n_samples`` the first ``n_samples`` of them.
    genome : Genome, optional
        Default: ``problem.genome``.
    """

    def __init__(self, X, genome=None):
        super().__init__(genome)
        self.X = X

    def _do(self, problem, n_samples, *args, random_state=None, **kwargs):
        genome = _genome_of(self, problem)
        X = np.asarray(self.X, dtype=np.int64)
        if X.ndim != 2 or X.shape[1] != genome.n_var:
            raise ValueError(f"SeededSampling: X has shape {X.shape}, expected (k, "
                             f"{genome.n_var})")
        X = X[:n_samples]
        rest = genome.sample(n_samples - len(X), random_state) if n_samples > len(X) else \
            np.zeros((0, genome.n_var), dtype=np.int64)
        return np.concatenate([X, rest])


class GenomeCrossover(Crossover):
    """Two parents -> two offspring by the blocks' group-uniform crossovers.

    Parameters
    ----------
    genome : Genome, optional
        Default: ``problem.genome``.
    prob : float
        Probability that a mating recombines (else the parents are copied).
    """

    def __init__(self, genome=None, prob: float = 0.9):
        super().__init__(n_parents=2, n_offsprings=2, prob=prob)
        self.genome = genome

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        # X: (n_parents=2, n_matings, n_var) -> (n_offsprings=2, n_matings, n_var)
        a, b = _genome_of(self, problem).crossover(X[0], X[1], random_state)
        return np.stack([a, b]).astype(X.dtype, copy=False)


class GenomeMutation(Mutation):
    """Block mutations; each gene mutates with probability ``prob_var``.

    Parameters
    ----------
    genome : Genome, optional
        Default: ``problem.genome``.
    prob : float
        Probability that an individual is mutated at all (pymoo's ``prob``).
    prob_var : float, optional
        Per-gene probability (default pymoo's ``min(0.5, 1 / n_var)``).
    """

    def __init__(self, genome=None, prob: float = 1.0, prob_var: float | None = None):
        super().__init__(prob=prob, prob_var=prob_var)
        self.genome = genome

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        prob_var = float(self.get_prob_var(problem))
        return _genome_of(self, problem).mutate(X, random_state, prob_var).astype(X.dtype,
                                                                                  copy=False)


class GenomeRepair(Repair):
    """Feasible copies by :meth:`Genome.repair` (feasible genomes are left unchanged).

    Parameters
    ----------
    genome : Genome, optional
        Default: ``problem.genome``.
    """

    def __init__(self, genome=None):
        super().__init__()
        self.genome = genome

    def _do(self, problem, X, random_state=None, **kwargs):
        if random_state is None:  # pymoo passes the algorithm's generator; stand-alone use
            random_state = np.random.default_rng()
        return _genome_of(self, problem).repair(X, random_state)


def genome_operators(genome=None, crossover_prob: float = 0.9,
                     prob_var: float | None = None) -> dict[str, Any]:
    """Keyword arguments for a pymoo genetic algorithm: sampling, crossover, mutation, repair.

    Duplicates are eliminated (``eliminate_duplicates=True``) since repaired
    offspring often coincide.

    Parameters
    ----------
    genome : Genome, optional
        The genome whose block operators are used; default: the ``genome``
        attribute of the problem the algorithm solves.
    crossover_prob : float
        Probability that a mating recombines.
    prob_var : float, optional
        Per-gene mutation probability.

    Raises
    ------
    TypeError
        If ``genome`` is neither None nor a Genome (e.g. the problem itself).
    """
    check_genome(genome, "genome_operators()")
    return {"sampling": GenomeSampling(genome),
            "crossover": GenomeCrossover(genome, crossover_prob),
            "mutation": GenomeMutation(genome, prob_var=prob_var), "repair": GenomeRepair(genome),
            "eliminate_duplicates": True}
