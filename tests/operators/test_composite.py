"""``genome_operators`` and the genome operators check what they are given (issue 7)."""

import numpy as np
import pytest
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize

from fdnmoo.operators import GenomeSampling, genome_operators
from fdnmoo.problems.planning import ProblemConfig


@pytest.fixture(scope="module")
def problem():
    return ProblemConfig(case="ieee33", preset="reconfiguration").build()


def test_passing_the_problem_is_a_type_error_that_says_what_to_pass(problem):
    with pytest.raises(TypeError, match=r"genome_operators\(\) takes genome=None or a "
                                        r"fdnmoo.problems.genome.Genome, got PlanningProblem "
                                        r"\(a problem: pass problem.genome"):
        genome_operators(problem)


@pytest.mark.parametrize("wrong", ["lines", 3, np.zeros(4)])
def test_other_wrong_arguments_are_type_errors(wrong):
    with pytest.raises(TypeError, match=type(wrong).__name__):
        genome_operators(wrong)


def test_operator_given_a_wrong_genome_fails_at_first_use_with_a_type_error(problem):
    with pytest.raises(TypeError, match="GenomeSampling takes genome=None or"):
        GenomeSampling(problem).do(problem, 2, random_state=np.random.default_rng(0))


@pytest.mark.parametrize("genome", ["none", "explicit"])
def test_genome_or_none_run(problem, genome):
    ops = genome_operators(None if genome == "none" else problem.genome)
    res = minimize(problem, NSGA2(pop_size=6, **ops), ("n_gen", 2), seed=1, verbose=False)
    assert res.X is not None and np.all(res.pop.get("X") >= problem.xl)
