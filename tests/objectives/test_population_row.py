"""Population-level structural objectives (fdnmoo.objectives.population_row): the same values
as the per-plan functions, computed once per population, topologies kept by the problem."""

import numpy as np
import pytest

from fdnmoo.demand import bus_demand
from fdnmoo.metrics.adaptability import pv_uneven_degree, structural_adaptability
from fdnmoo.damage import load_class_shares
from fdnmoo.metrics.reliability import reliability_indices
from fdnmoo.objectives import OBJECTIVES, Evaluated
from fdnmoo.operators import GenomeSampling
from fdnmoo.problems.planning import ProblemConfig

NAMES = ("structural_adaptability", "pv_uneven_degree", "eens_mwh", "saifi", "saidi", "ecost")


@pytest.fixture(scope="module")
def problem():
    return ProblemConfig(case="ieee33", preset="joint", profile="peak", n_samples=1,
                         seed=0).build()


@pytest.fixture(scope="module")
def genomes(problem):
    X = GenomeSampling()._do(problem, 6, random_state=np.random.default_rng(4))
    return np.vstack([X, X[:2]])  # repeated plans share their topologies


def values(evs):
    return np.array([[OBJECTIVES[n](ev) for n in NAMES] for ev in evs])


def test_population_equals_one_plan_at_a_time_and_the_per_plan_functions(problem, genomes):
    evs = problem.evaluated(genomes)  # one population
    alone = [Evaluated(ev.grid, ev.plan, ev.ops, ev.options) for ev in evs]  # each its own
    together = values(evs)
    np.testing.assert_allclose(together, values(alone), rtol=1e-12, atol=0)
    base, _ = bus_demand(problem.grid.net, tables=(("load", 1.0),))
    for ev, row in zip(evs, together):
        stages = range(1, ev.plan.n_stages + 1)
        rel = [reliability_indices(problem.grid, ev.plan, s,
                                   base / base.sum() * ev.mean_demand_mw[s - 1],
                                   class_shares=load_class_shares(problem.grid.net))
               for s in stages]
        want = [structural_adaptability(problem.grid, ev.plan),
                pv_uneven_degree(problem.grid, ev.plan)] + \
            [np.mean([r[k] for r in rel]) for k in ("eens_mwh", "saifi", "saidi", "ecost")]
        np.testing.assert_allclose(row, want, rtol=1e-12, atol=0)
    population = evs[0].population
    assert all(ev.population is population for ev in evs)
    assert {"structure terms", "pv uneven degree", "reliability"} <= set(population._results)


def test_the_problem_keeps_topologies_across_generations(problem, genomes):
    cache = problem.topologies
    assert cache is problem.topologies and cache.branches is problem.engine.branches
    misses = [cache.misses]
    for _ in range(2):  # two generations of the same genomes
        evs = problem.evaluated(genomes)
        assert evs[0].population.topologies is cache
        values(evs)
        misses.append(cache.misses)
    distinct = {k for keys in evs[0].population.plans.topology_keys for k in keys}
    assert misses[1] - misses[0] <= len(distinct) and misses[2] == misses[1]
