"""Genetic algorithm with simulated-annealing acceptance for cluster partitioning (DEAP).

The zonal-planning seed paper's procedure, as we implement it:

1. Initial population: ``pop_size`` random connected partitions
   (:func:`.repair.seed_partition`, between 2 and ``max_clusters`` seeds).
2. At each temperature ``T`` (from ``t_start``), for ``n_generations`` generations:

   * partitions with fewer than ``min_clusters`` clusters never replace one
     with enough (the index may favour one big cluster otherwise);
   * **step 1 (reactive filter)**: individuals with a cluster whose
     ``Q_sup < Q_need`` are removed from the mating pool, unless no individual
     passes (then all stay and the result is flagged, ``reactive_filter_met``);
   * **step 2 (selection)**: DEAP tournament on the index
     (:func:`.index.partition_index`);
   * **step 3 (variation and SA acceptance)**: DEAP two-point crossover and
     uniform-integer mutation on the label chromosomes, a boundary move
     (:func:`mut_boundary`), the connectivity repair; then each child replaces its
     parent if it is no worse, or else with probability ``exp(Δ / T)``
     (``Δ`` = child index − parent index < 0); a child failing the reactive
     filter never replaces a parent that passes it. The ``n_elite`` best ever are
     put back in the population.

3. Cool ``T ← cooling · T`` and repeat while ``T ≥ t_end``.

DEAP draws from Python's global :mod:`random`; the run seeds it from the
partitioner's generator inside :func:`fdnmoo.operators.deap_adapter.deap_random`,
so the same ``random_state`` gives the same partition.
"""

from __future__ import annotations

import inspect
import math
import random
from dataclasses import dataclass, field

import numpy as np
from deap import base, tools

from fdnmoo.operators.deap_adapter import deap_random
from fdnmoo.parameters import did_you_mean

from .index import DEFAULT_WEIGHTS, PartitionData, index_terms, reactive_deficit
from .repair import connect_clusters, seed_partition

__all__ = ["GASAPartitioner", "PartitionResult", "mut_boundary"]


class _Fitness(base.Fitness):
    weights = (1.0,)


class _Chromosome(list):
    """A label per bus; ``fitness`` is the index, ``feasible`` the reactive filter."""

    def __init__(self, labels):
        super().__init__(int(x) for x in labels)
        self.fitness = _Fitness()
        self.feasible = True
        self.n_clusters = 0


def mut_boundary(individual: list, edges: np.ndarray, indpb: float) -> tuple[list]:
    """Move boundary buses: each edge between two clusters, with probability
    ``indpb``, gives one of its ends (chosen at random) the other's label.

    DEAP-style mutation (in place, returns a 1-tuple); draws from :mod:`random`.
    """
    for u, v in edges:
        if individual[u] != individual[v] and random.random() < indpb:
            if random.random() < 0.5:
                u, v = v, u
            individual[v] = individual[u]
    return (individual,)


@dataclass(frozen=True)
class PartitionResult:
    """Best partition found.

    Attributes
    ----------
    bus_labels : ndarray, shape (n,)
    cluster : ndarray of int, shape (n,)
        Cluster per bus, numbered 0.. in order of first appearance.
    index : float
        The weighted index of ``cluster``.
    terms : dict
        Its four terms (:func:`.index.index_terms`).
    reactive_deficient : ndarray of bool, shape (K,)
        Clusters with ``Q_sup < Q_need``.
    reactive_filter_met : bool
        Whether the reactive filter could be applied (some individual passed it).
    n_levels, n_evaluations : int
    best_per_level : list of float
        Best index after each temperature level.
    """

    bus_labels: np.ndarray
    cluster: np.ndarray
    index: float
    terms: dict
    reactive_deficient: np.ndarray
    reactive_filter_met: bool
    n_levels: int
    n_evaluations: int
    best_per_level: list = field(default_factory=list)


class GASAPartitioner:
    """GA–SA cluster partitioning (scikit-learn style: the constructor only stores).

    Parameters
    ----------
    max_clusters : int
        Largest number of clusters (labels 0..max_clusters-1).
    min_clusters : int
        Smallest admissible number of clusters (default 2).
    weights : tuple of 4 float
        ``(w1, w2, w3, w4)`` of modularity, active balance, reactive balance,
        affiliation.
    pop_size : int
    n_generations : int
        Generations per temperature level (the paper's N).
    cx_prob, mut_prob : float
        Probability of crossing a pair and of mutating a child.
    mut_indpb : float
        Per-gene probability of DEAP's ``mutUniformInt`` (opens new clusters).
    boundary_indpb : float
        Per-edge probability of :func:`mut_boundary`.
    tournament_size : int
    t_start, cooling, t_end : float
        SA temperature ``T_0``, factor ``r`` (``T_{l+1} = r T_l``) and stop ``T_end``.
    n_elite : int
    reactive_filter : bool
        Apply step 1 (drop individuals with a reactive-deficient cluster).
    random_state : int or numpy.random.Generator, optional
    """

    def __init__(self, *, max_clusters: int = 8, min_clusters: int = 2, weights=DEFAULT_WEIGHTS, pop_size: int = 40,
                 n_generations: int = 5, cx_prob: float = 0.6, mut_prob: float = 0.6,
                 mut_indpb: float = 0.01, boundary_indpb: float = 0.1, tournament_size: int = 3,
                 t_start: float = 0.05, cooling: float = 0.9, t_end: float = 1e-3,
                 n_elite: int = 1, reactive_filter: bool = True, random_state=None):
        self.max_clusters = max_clusters
        self.min_clusters = min_clusters
        self.weights = weights
        self.pop_size = pop_size
        self.n_generations = n_generations
        self.cx_prob = cx_prob
        self.mut_prob = mut_prob
        self.mut_indpb = mut_indpb
        self.boundary_indpb = boundary_indpb
        self.tournament_size = tournament_size
        self.t_start = t_start
        self.cooling = cooling
        self.t_end = t_end
        self.n_elite = n_elite
        self.reactive_filter = reactive_filter
        self.random_state = random_state

    @classmethod
    def parameter_names(cls) -> list[str]:
        """Names of the constructor's keyword parameters."""
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self) -> dict:
        """The constructor's parameters and their current values."""
        return {name: getattr(self, name) for name in self.parameter_names()}

    def set_params(self, **params) -> "GASAPartitioner":
        """Set parameters by name (scikit-learn's ``set_params``); unknown names raise.

        Raises
        ------
        KeyError
            Naming the unknown parameter, the closest known one and all known ones.
        """
        known = self.parameter_names()
        for name, value in params.items():
            if name not in known:
                raise KeyError(f"GASAPartitioner has no parameter {name!r}{did_you_mean(name, known)}; "
                               f"known: {', '.join(known)}")
            setattr(self, name, value)
        return self

    def _check(self) -> None:
        ints = {"max_clusters": 1, "min_clusters": 1, "pop_size": 2, "n_generations": 1, "tournament_size": 1,
                "n_elite": 0}
        for name, low in ints.items():
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"GASAPartitioner: {name} must be an integer >= {low}, got {value!r}")
        for name in ("cx_prob", "mut_prob", "mut_indpb", "boundary_indpb"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"GASAPartitioner: {name} must be in [0, 1], got {value!r}")
        if not (self.t_start > 0 and self.t_end > 0 and 0 < self.cooling < 1):
            raise ValueError("GASAPartitioner: need t_start > 0, t_end > 0 and 0 < cooling < 1, got "
                             f"t_start={self.t_start!r}, t_end={self.t_end!r}, cooling={self.cooling!r}")
        if len(self.weights) != 4:
            raise ValueError(f"GASAPartitioner: weights must be 4 numbers (w1..w4), got {self.weights!r}")
        if self.min_clusters > self.max_clusters:
            raise ValueError(f"GASAPartitioner: min_clusters={self.min_clusters} exceeds "
                             f"max_clusters={self.max_clusters}")
        if self.n_elite > self.pop_size:
            raise ValueError(f"GASAPartitioner: n_elite={self.n_elite} exceeds pop_size={self.pop_size}")

    def fit(self, data: PartitionData) -> PartitionResult:
        """Partition ``data``'s network; returns the best partition found."""
        self._check()
        rng = np.random.default_rng(self.random_state)
        with deap_random(rng):
            return self._run(data, rng)

    def _evaluate(self, data: PartitionData, ind: _Chromosome) -> None:
        terms = index_terms(data, ind)
        ind.fitness.values = (float(np.dot(self.weights, list(terms.values()))),)
        ind.feasible = not (reactive_deficit(data, ind) > 0).any()
        ind.n_clusters = len(set(ind))

    def _rank(self, ind: _Chromosome, use_filter: bool) -> tuple[bool, bool]:
        return (ind.n_clusters >= self.min_clusters, ind.feasible or not use_filter)

    def _key(self, ind: _Chromosome, use_filter: bool) -> tuple:
        return (*self._rank(ind, use_filter), ind.fitness.values[0])

    def _run(self, data: PartitionData, rng: np.random.Generator) -> PartitionResult:
        edges, n = data.edges, data.n_bus
        k_max = min(self.max_clusters, n)
        toolbox = base.Toolbox()
        toolbox.register("select", tools.selTournament, tournsize=self.tournament_size)
        toolbox.register("mate", tools.cxTwoPoint)
        toolbox.register("mutate", tools.mutUniformInt, low=0, up=k_max - 1, indpb=self.mut_indpb)
        toolbox.register("move", mut_boundary, edges=edges, indpb=self.boundary_indpb)

        def repaired(labels) -> _Chromosome:
            ind = _Chromosome(connect_clusters(edges, np.asarray(labels)))
            self._evaluate(data, ind)
            return ind

        k_min = min(self.min_clusters, k_max)
        pop = [repaired(seed_partition(edges, n, int(rng.integers(k_min, k_max + 1)), rng))
               for _ in range(self.pop_size)]
        n_eval = len(pop)
        elite = tools.HallOfFame(max(self.n_elite, 1))
        t, levels, best_per_level = self.t_start, 0, []
        filter_met = any(ind.feasible for ind in pop)
        while t >= self.t_end:
            for _ in range(self.n_generations):
                use_filter = self.reactive_filter and any(ind.feasible for ind in pop)
                filter_met = filter_met or use_filter
                pool = [ind for ind in pop if ind.feasible] if use_filter else pop
                parents = toolbox.select(pool, len(pop))
                children = [_Chromosome(p) for p in parents]
                for a, b in zip(children[::2], children[1::2]):
                    if random.random() < self.cx_prob:
                        toolbox.mate(a, b)
                for child in children:
                    if random.random() < self.mut_prob:
                        toolbox.mutate(child)
                        toolbox.move(child)
                children = [repaired(c) for c in children]
                n_eval += len(children)
                pop = [self._accept(c, p, t, use_filter, rng) for c, p in zip(children, parents)]
                elite.update(pop)
                if self.n_elite:
                    pop.sort(key=lambda ind: self._key(ind, use_filter))
                    pop[:self.n_elite] = [_copy(ind) for ind in elite[:self.n_elite]]
            levels += 1
            best_per_level.append(max(ind.fitness.values[0] for ind in pop))
            t *= self.cooling
        use_filter = self.reactive_filter and filter_met
        best = max(list(elite) + pop, key=lambda ind: self._key(ind, use_filter))
        return self._result(data, best, filter_met, levels, n_eval, best_per_level)

    def _accept(self, child, parent, t: float, use_filter: bool, rng) -> _Chromosome:
        rank_child, rank_parent = self._rank(child, use_filter), self._rank(parent, use_filter)
        if rank_child != rank_parent:
            return child if rank_child > rank_parent else parent
        delta = child.fitness.values[0] - parent.fitness.values[0]
        if delta >= 0:
            return child
        return child if rng.random() < math.exp(delta / t) else parent

    def _result(self, data, best, filter_met, levels, n_eval, history) -> PartitionResult:
        labels = np.asarray(best, dtype=np.int64)
        _, first = np.unique(labels, return_index=True)
        order = np.argsort(first)
        renumber = np.empty(labels.max() + 1, dtype=np.int64)
        renumber[np.unique(labels)[order]] = np.arange(len(order))
        cluster = renumber[labels]
        terms = index_terms(data, cluster)
        return PartitionResult(data.bus_labels.copy(), cluster, best.fitness.values[0], terms,
                               reactive_deficit(data, cluster) > 0, bool(filter_met), levels,
                               n_eval, history)


def _copy(ind: _Chromosome) -> _Chromosome:
    out = _Chromosome(ind)
    out.fitness.values = ind.fitness.values
    out.feasible = ind.feasible
    out.n_clusters = ind.n_clusters
    return out
