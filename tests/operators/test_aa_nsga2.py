"""AA-NSGA-II (fdnmoo.operators.aa_nsga2, fdnmoo.operators.interval_dominance).

References: pymoo's NSGA-II (with zero widths the run must be the same, generation by
generation), pymoo's Pareto dominance (``Dominator``) and hand computations of the
possibility degree P(A <= B) = clip((b_hi - a_lo) / (w_A + w_B), 0, 1) written beside each case.
"""

from __future__ import annotations

import cloudpickle
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.population import Population
from pymoo.core.problem import Problem
from pymoo.problems import get_problem
from pymoo.util.dominator import Dominator

from fdnmoo.operators import AANSGA2, IntervalDominance, IntervalRankAndCrowding, genome_operators
from fdnmoo.operators.aa_nsga2 import build, interval_binary_tournament
from fdnmoo.operators.interval_dominance import (difference_possibility, dominates,
                                                 dominance_fronts, possibility_degree)
from fdnmoo.problems.planning import ProblemConfig


class ZDT1Variant(Problem):
    """pymoo's ZDT1 (6 variables), optionally with a constraint, integer-valued objectives
    (ties and duplicate objective vectors) and interval ends ``F -+ half_width * x_1``."""

    def __init__(self, constrained=False, integer=False, half_width=0.0, ends=True):
        self.zdt1 = get_problem("zdt1", n_var=6)
        self.constrained, self.integer = constrained, integer
        self.half_width, self.ends = half_width, ends
        super().__init__(n_var=6, n_obj=2, n_ieq_constr=int(constrained), xl=0.0, xu=1.0)

    def _evaluate(self, X, out, *args, **kwargs):
        F = self.zdt1.evaluate(X)
        if self.integer:
            F = np.floor(3 * F)
        out["F"] = F
        if self.constrained:
            out["G"] = (F.sum(axis=1) - 3.5)[:, None]  # cuts the random start in two
        if self.ends:
            w = self.half_width * X[:, [1]]
            out["F_lo"], out["F_hi"] = F - w, F + w


class AffineToy(Problem):
    """Two objectives sharing three noise symbols across the population: the same sources
    move every individual's objectives (f_k = F_k + sum_s F_aff[k, s] eps_s +- F_rad)."""

    affine_objectives = True

    def __init__(self):
        super().__init__(n_var=3, n_obj=2, xl=0.0, xu=1.0)

    def _evaluate(self, X, out, *args, **kwargs):
        F = np.column_stack([X[:, 0], 1 - X[:, 0] ** 0.5 + X[:, 1]])
        aff = np.zeros((len(X), 2, 3))
        aff[:, 0, 0] = 0.2 * X[:, 2]
        aff[:, 1, 1] = 0.1
        aff[:, 1, 2] = 0.1 * X[:, 1]
        out["F"], out["F_aff"], out["F_rad"] = F, aff, np.full_like(F, 0.01)
        r = np.abs(aff).sum(axis=-1) + 0.01
        out["F_lo"], out["F_hi"] = F - r, F + r


def population(F, lo=None, hi=None, **keys):
    pop = Population.new(X=np.zeros((len(F), 1)), F=np.asarray(F, float))
    if lo is not None:
        pop.set("F_lo", np.asarray(lo, float), "F_hi", np.asarray(hi, float))
    for key, value in keys.items():
        pop.set(key, np.asarray(value, float))
    return pop


def run(algorithm, problem, n_gen, seed=1):
    """(X, F, rank) of the population after every generation."""
    algorithm.setup(problem, termination=("n_gen", n_gen), seed=seed, verbose=False)
    history = []
    while algorithm.has_next():
        algorithm.next()
        history.append(algorithm.pop.get("X", "F", "rank"))
    return history


# ---------------------------------------------------------------- zero widths: pymoo's NSGA-II


@pytest.mark.parametrize("ends", [False, True], ids=["no-ends", "zero-width-ends"])
@pytest.mark.parametrize("variant", [{}, {"constrained": True}, {"integer": True}],
                         ids=["zdt1", "constrained", "integer-ties"])
def test_zero_widths_run_exactly_as_pymoo_nsga2(variant, ends):
    problem = ZDT1Variant(**variant, ends=ends)
    ours = run(AANSGA2(pop_size=30), problem, 10)
    reference = run(NSGA2(pop_size=30), problem, 10)
    for gen, ((X, F, rank), (X0, F0, rank0)) in enumerate(zip(ours, reference)):
        np.testing.assert_array_equal(X, X0, err_msg=f"generation {gen}")
        np.testing.assert_array_equal(F, F0, err_msg=f"generation {gen}")
        np.testing.assert_array_equal(rank, rank0, err_msg=f"generation {gen}")
    F_all = np.vstack([F for _, F, _ in reference])
    if variant.get("integer"):  # the case exercises ties: repeated objective vectors
        assert len(np.unique(F_all, axis=0)) < len(F_all) / 2
    if variant.get("constrained"):  # and the constraint path: both kinds of member occur
        G = F_all.sum(axis=1) - 3.5
        assert (G > 0).any() and (G <= 0).any()


# ---------------------------------------------------------------- possibility degree


@pytest.mark.parametrize("a, b, expected", [
    ((0, 2), (1, 3), 0.75),   # (3 - 0) / (2 + 2)
    ((1, 3), (0, 2), 0.25),   # (2 - 1) / (2 + 2)
    ((0, 1), (2, 3), 1.0),    # (3 - 0) / (1 + 1) = 1.5, clipped
    ((2, 3), (0, 1), 0.0),    # (1 - 2) / 2 = -0.5, clipped
    ((1, 1), (0, 4), 0.75),   # a point: (4 - 1) / (0 + 4)
    ((0, 4), (1, 1), 0.25),   # (1 - 0) / (4 + 0)
    ((1, 3), (1, 3), 0.5),    # identical intervals: (3 - 1) / 4
    ((1, 1), (2, 2), 1.0),    # both points: tie convention, a < b
    ((2, 2), (1, 1), 0.0),    # a > b
    ((1, 1), (1, 1), 0.5),    # a == b
])
def test_possibility_degree_hand_values(a, b, expected):
    assert possibility_degree(a[0], a[1], b[0], b[1]) == expected


interval = st.tuples(st.integers(-10**6, 10**6), st.integers(0, 10**6)).map(
    lambda t: (float(t[0]), float(t[0] + t[1])))


@settings(max_examples=300, deadline=None)
@given(interval, interval)
def test_possibility_degrees_of_both_orders_add_up_to_one(a, b):
    p_ab = possibility_degree(*a, *b)
    p_ba = possibility_degree(*b, *a)
    assert 0 <= p_ab <= 1 and p_ab + p_ba == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(interval, interval, st.integers(0, 10**6))
def test_possibility_degree_is_monotone_in_shifts(a, b, s):
    p = possibility_degree(*a, *b)
    assert possibility_degree(*a, b[0] + s, b[1] + s) >= p  # B moved up: A <= B likelier
    assert possibility_degree(a[0] + s, a[1] + s, *b) <= p  # A moved up: less likely


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(interval, interval), min_size=2, max_size=6))
def test_beta_one_half_is_pareto_dominance_of_the_centres(members):
    """(b_hi - a_lo) / (w_A + w_B) >= 1/2 iff a_lo + a_hi <= b_lo + b_hi: with beta = 0.5
    the relation is pymoo's Pareto dominance of the interval centres."""
    ends = np.array(members)  # (n, n_obj, 2)
    pop = population(ends.mean(axis=-1), ends[..., 0], ends[..., 1])
    expected = Dominator.calc_domination_matrix(ends.mean(axis=-1)) == 1
    np.testing.assert_array_equal(IntervalDominance(0.5).matrix(pop), expected)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(interval, interval), min_size=3, max_size=7),
       st.sampled_from([0.6, 0.75, 0.9]), st.booleans())
def test_beta_above_one_half_gives_a_strict_partial_order(members, beta, affine):
    """The docstring's claim: for beta > 0.5 the relation is asymmetric and transitive (in the
    affine case too; here with one shared symbol moving every member's first objective)."""
    ends = np.array(members, float)
    F, r = ends.mean(axis=-1), (ends[..., 1] - ends[..., 0]) / 2
    aff = np.zeros(F.shape + (1,))
    aff[:, 0, 0] = r[:, 0] / 2  # half of the first objective's radius is shared
    pop = population(F, F - r, F + r, F_aff=aff, F_rad=r - np.abs(aff).sum(axis=-1))
    M = IntervalDominance(beta, affine).matrix(pop)
    assert not (M & M.T).any()
    implied = (M.astype(int) @ M.astype(int)) > 0  # i > k > j for some k
    assert not (implied & ~M).any()


def test_dominates_needs_beta_everywhere_and_more_than_beta_once():
    degrees = np.array([[0.5, 0.5], [0.5, 0.6], [0.4, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(dominates(degrees, 0.5), [False, True, False, True])
    np.testing.assert_array_equal(dominates(degrees, 0.0), [True, True, True, True])


# ---------------------------------------------------------------- fronts by hand


# Members (f1 interval, f2 interval) and their centres:
#   A = ([0, 2], [0, 2]) centre (1, 1)     B = ([1, 3], [1, 3]) centre (2, 2)
#   C = ([2, 4], [2, 4]) centre (3, 3)     D = ([0, 4], [3, 3]) centre (2, 3)
# Degrees P(row <= column) on (f1, f2), by (hi_col - lo_row) / (w_row + w_col) clipped:
#   A<=B (3/4, 3/4)   A<=C (1, 1)        A<=D (4/6, 3/2 -> 1)
#   B<=C (3/4, 3/4)   B<=D (3/6, 2/2)    C<=D (2/6, 1/2)   D<=C (4/6, 1/2)
#   B<=A (1/4, 1/4)   C<=A (0, 0)   D<=A (2/6, 0)   C<=B (1/4, 1/4)   D<=B (3/6, 0)
# beta = 0.5: A > B, C, D; B > C, D; D > C (4/6 >= .5, 1/2 >= .5, 4/6 > .5)
#   -> fronts {A}, {B}, {D}, {C}: ranks A 0, B 1, C 3, D 2
# beta = 0.8: only A > C (1 and 1); A > B fails (3/4 < 0.8), B > D, D > C fail
#   -> fronts {A, B, D}, {C}: ranks A 0, B 0, C 1, D 0
HAND_LO = [[0, 0], [1, 1], [2, 2], [0, 3]]
HAND_HI = [[2, 2], [3, 3], [4, 4], [4, 3]]


@pytest.mark.parametrize("beta, ranks", [(0.5, [0, 1, 3, 2]), (0.8, [0, 0, 1, 0])])
def test_hand_computed_ranks_and_beta_changes_them(beta, ranks):
    lo, hi = np.array(HAND_LO, float), np.array(HAND_HI, float)
    pop = population((lo + hi) / 2, lo, hi)
    problem = Problem(n_var=1, n_obj=2)
    survivors = IntervalRankAndCrowding(IntervalDominance(beta)).do(problem, pop, n_survive=4)
    assert len(survivors) == 4
    np.testing.assert_array_equal(pop.get("rank"), ranks)


def test_fronts_stay_defined_when_members_dominate_each_other():
    # beta = 0.3: X, Y identical ([0, 2] on both objectives): P = 1/2 >= 0.3 and > 0.3, so
    # each dominates the other; Z = ([5, 6], [5, 6]) is dominated by both (P(X <= Z) = 1).
    # Nobody is undominated: fronts by fewest remaining dominators, {X, Y} (one each), {Z}.
    lo = np.array([[0, 0], [0, 0], [5, 5]], float)
    hi = np.array([[2, 2], [2, 2], [6, 6]], float)
    M = IntervalDominance(0.3).matrix(population((lo + hi) / 2, lo, hi))
    np.testing.assert_array_equal(M, [[False, True, True], [True, False, True],
                                      [False, False, False]])
    assert [f.tolist() for f in dominance_fronts(M)] == [[0, 1], [2]]


def test_front_peeling_stops_once_enough_are_ranked():
    M = np.triu(np.ones((4, 4), bool), 1)  # a chain 0 > 1 > 2 > 3
    assert [f.tolist() for f in dominance_fronts(M)] == [[0], [1], [2], [3]]
    assert [f.tolist() for f in dominance_fronts(M, n_stop_if_ranked=2)] == [[0], [1]]


@pytest.mark.parametrize("beta, winner", [(0.5, 0), (0.8, 1)])
def test_tournament_uses_the_interval_relation_then_crowding(beta, winner):
    # A = ([0, 2], [0, 2]), B = ([1, 3], [1, 3]): P(A <= B) = 3/4 on both objectives, so
    # A dominates B at beta 0.5 and wins; at 0.8 neither dominates and B's larger crowding wins.
    lo, hi = np.array([[0, 0], [1, 1]], float), np.array([[2, 2], [3, 3]], float)
    pop = population((lo + hi) / 2, lo, hi, crowding=[0.1, 0.9], CV=[[0.0], [0.0]])
    algorithm = AANSGA2(beta=beta)
    algorithm.random_state = np.random.default_rng(0)
    assert interval_binary_tournament(pop, np.array([[0, 1]]), algorithm)[0, 0] == winner


# ---------------------------------------------------------------- affine difference


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(0, 2), st.floats(0, 1)),
                min_size=2, max_size=5))
def test_affine_difference_without_shared_symbols_is_the_interval_formula(members):
    """Each member has its own symbol (column i only for member i) and a private radius:
    nothing cancels and P(A - B <= 0) is the interval formula on F -+ (|dev| + rad)."""
    F = np.array([[c, -c] for c, _, _ in members])
    n = len(members)
    aff = np.zeros((n, 2, n))
    for i, (_, dev, _) in enumerate(members):
        aff[i, :, i] = [dev, -dev]
    rad = np.array([[r, 2 * r] for *_, r in members])
    radius = np.abs(aff).sum(axis=-1) + rad
    pop = population(F, F - radius, F + radius, F_aff=aff, F_rad=rad)
    affine, interval = IntervalDominance(0.7, True), IntervalDominance(0.7, False)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    np.testing.assert_allclose(affine.degrees(affine.objective_values(pop), i, j),
                               interval.degrees(interval.objective_values(pop), i, j),
                               rtol=0, atol=1e-12)


def test_shared_symbols_cancel_and_change_the_outcome():
    # f1: A = 1 + 1 eps, B = 1.5 + 1 eps (the same source eps), f2: points 0 and 1.
    # Intervals: A = [0, 2], B = [0.5, 2.5]: P(A <= B) = (2.5 - 0) / 4 = 0.625 < beta = 0.7,
    #   so A does not dominate B.
    # Affine: A - B = -0.5 + 0 eps, radius 0: P = 1 (tie convention); f2: P = 1: A dominates B.
    F = np.array([[1.0, 0.0], [1.5, 1.0]])
    aff = np.array([[[1.0], [0.0]], [[1.0], [0.0]]])
    pop = population(F, F - [[1, 0], [1, 0]], F + [[1, 0], [1, 0]], F_aff=aff)
    assert possibility_degree(0, 2, 0.5, 2.5) == 0.625
    assert difference_possibility(-0.5, 0.0) == 1.0
    np.testing.assert_array_equal(IntervalDominance(0.7).matrix(pop), np.zeros((2, 2), bool))
    np.testing.assert_array_equal(IntervalDominance(0.7, affine_difference=True).matrix(pop),
                                  [[False, True], [False, False]])


def test_affine_difference_runs_on_a_problem_with_shared_symbols():
    history = run(AANSGA2(pop_size=20, beta=0.7, affine_difference=True), AffineToy(), 4)
    X, F, rank = history[-1]
    assert X.shape == (20, 3) and rank.min() == 0


def test_affine_difference_without_affine_forms_is_refused_at_setup():
    with pytest.raises(ValueError, match=r"affine_difference is set but the problem "
                                         r"\(ZDT1Variant\) exposes no affine objective forms"):
        AANSGA2(pop_size=10, affine_difference=True).setup(ZDT1Variant(), seed=1)


def test_declared_affine_forms_that_are_missing_are_named():
    problem = ZDT1Variant()
    problem.affine_objectives = True
    algorithm = AANSGA2(pop_size=10, affine_difference=True)
    with pytest.raises(ValueError, match=r"no member of the population has out\['F_aff'\]"):
        run(algorithm, problem, 1)


# ---------------------------------------------------------------- options and bad input


@pytest.mark.parametrize("beta", [-0.1, 1.0, 1.5, "0.5", True, None])
def test_beta_outside_0_1_is_refused(beta):
    with pytest.raises(ValueError, match=r"beta = .*0 <= beta < 1"):
        AANSGA2(beta=beta)


def test_own_selection_and_survival_cannot_be_replaced():
    with pytest.raises(TypeError, match="AANSGA2 has its own survival"):
        AANSGA2(survival=None)


class OneEnd(ZDT1Variant):
    def _evaluate(self, X, out, *args, **kwargs):
        super()._evaluate(X, out)
        del out["F_hi"]


class CentreOutside(ZDT1Variant):
    def _evaluate(self, X, out, *args, **kwargs):
        super()._evaluate(X, out)
        out["F_lo"] = out["F"] + 1.0


@pytest.mark.parametrize("problem, message", [
    (OneEnd(), r"writes out\['F_lo'\] but not out\['F_hi'\]"),
    (CentreOutside(), r"member 0, objective 0: F = .* is not in \[F_lo, F_hi\]"),
])
def test_inconsistent_intervals_are_named(problem, message):
    with pytest.raises(ValueError, match=message):
        run(AANSGA2(pop_size=10), problem, 1)


# ---------------------------------------------------------------- intervals on any problem


def test_runs_on_a_non_planning_problem_with_intervals_and_differs_from_nsga2():
    problem = ZDT1Variant(half_width=0.3)
    algorithm = AANSGA2(pop_size=30, beta=0.8)
    X, F, rank = run(algorithm, problem, 8)[-1]
    pop = algorithm.pop
    assert np.all(pop.get("F_hi") - pop.get("F_lo") >= 0) and np.ptp(pop.get("F_hi") - F) > 0
    # rank 0 are exactly the members no other member dominates by the interval relation
    M = IntervalDominance(0.8).matrix(pop)
    np.testing.assert_array_equal(rank == 0, ~M.any(axis=0))
    X0, _, _ = run(NSGA2(pop_size=30), problem, 8)[-1]
    assert not np.array_equal(X, X0)  # the widths matter at beta 0.8


def test_same_seed_same_run_and_a_pickled_algorithm_resumes_identically():
    problem = ZDT1Variant(half_width=0.2, constrained=True)
    whole = run(AANSGA2(pop_size=20, beta=0.6), problem, 6)[-1]
    algorithm = AANSGA2(pop_size=20, beta=0.6)
    algorithm.setup(problem, termination=("n_gen", 6), seed=1, verbose=False)
    for _ in range(3):
        algorithm.next()
    resumed = cloudpickle.loads(cloudpickle.dumps(algorithm))
    while resumed.has_next():
        resumed.next()
    for got, want in zip(resumed.pop.get("X", "F"), whole[:2]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(run(AANSGA2(pop_size=20, beta=0.6), problem, 6)[-1][0],
                                  whole[0])


def test_builder_passes_population_operators_and_options():
    class Request:
        pop_size = 12
        operators = {"eliminate_duplicates": False}
        options = {"beta": 0.75, "affine_difference": False}

    algorithm = build(Request())
    assert isinstance(algorithm, AANSGA2)
    assert (algorithm.pop_size, algorithm.beta, algorithm.affine_difference) == (12, 0.75, False)


@pytest.fixture(scope="module")
def interval_planning_problem():
    """ieee33, one stage of the peak slot, PV siting: interval objectives (F_lo < F_hi)."""
    return ProblemConfig(case="ieee33", n_stages=1, profile="peak",
                         blocks=(("der", {"kind": "pv", "levels": 4}),),
                         objectives=("total_cost", "pv_uneven_degree"),
                         constraints=(), seed=2,
                         uncertainty={"method": "interval", "level": 0.1}).build()


def test_runs_on_a_planning_problem_with_interval_objectives(interval_planning_problem):
    problem = interval_planning_problem
    # total_cost's interval (~1e7 CNY wide) dwarfs the population's spread of centres (~2e6):
    # already at beta = 0.55 no member dominates another; 0.52 still ranks some below others
    algorithm = AANSGA2(pop_size=8, beta=0.52, **genome_operators(problem.genome))
    X, F, rank = run(algorithm, problem, 2)[-1]
    pop = algorithm.pop
    lo, hi = pop.get("F_lo"), pop.get("F_hi")
    assert np.all(lo <= F) and np.all(F <= hi) and np.any(hi > lo)
    assert np.all(X >= problem.xl) and np.all(X <= problem.xu)
    feasible = pop.get("FEAS")[:, 0]  # power_flow_converged is the only constraint
    assert feasible.sum() >= 4
    M = IntervalDominance(0.52).matrix(pop[feasible])  # feasible members ranked by the relation
    np.testing.assert_array_equal(rank[feasible] == 0, ~M.any(axis=0))
    assert (rank[feasible] > 0).any()
