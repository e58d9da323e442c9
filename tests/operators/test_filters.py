"""Pareto filters on constructed fronts whose outcomes are computed by hand (in the comments),
and weakened dominance with m = N against moocore's and pymoo's Pareto sorting."""

from __future__ import annotations

import math
import pickle

import moocore
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize
from pymoo.problems import get_problem
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from fdnmoo.operators.filters import (WeakenedDominanceSurvival, choose_compromise,
                                      default_m, deviation_distance, deviation_filter,
                                      weakened_dominance, weakened_fronts, weakening_filter)

# -- dominance weakening, N = 3 ------------------------------------------------------------
# wins[a, b] = objectives on which a is strictly better than b:
#   A=(1,2,3) B=(2,1,4) C=(3,3,1) D=(1,3,3) E=(4,4,0.5)
#   A-B 2:1, A-C 2:1, A-D 1:0 (tie on f1, f3), A-E 2:1, B-C 2:1, B-D 1:2, B-E 2:1,
#   C-D 1:1 (tie on f2), C-E 2:1, D-E 2:1
FRONT3 = np.array([[1, 2, 3], [2, 1, 4], [3, 3, 1], [1, 3, 3], [4, 4, 0.5]], dtype=float)


def test_weakening_n3_default_m2():
    # m* = floor(3/2) + 1 = 2. B by A (2 wins), C by A and B, D by B (2 wins) and by A
    # (Pareto: no worse anywhere, better on f2), E by A, B, C, D. A: no rival wins twice.
    assert default_m(3) == 2
    result = weakening_filter(FRONT3)
    assert result.m == 2
    assert result.keep.tolist() == [True, False, False, False, False]


def test_weakening_n3_m3_is_pareto_with_ties():
    # m = N: only D is dominated (by A, with two ties); the count rule alone (3 wins) would
    # keep it
    result = weakening_filter(FRONT3, m=3)
    assert result.keep.tolist() == [True, True, True, False, True]
    D = weakened_dominance(FRONT3, 3)
    assert np.argwhere(D).tolist() == [[0, 3]]


def test_nondominated_on_n3():
    # A: rivals win 1 (B: f2), 1 (C: f3), 0 (D), 1 (E: f3) -> strongest rival the first, B,
    #    which beats A on f2 -> A keeps f1, f3 (n = 3 - 1 = 2)
    # B=(2,1,4): A wins 2 (f1, f3), C 1 (f3), D 2 (f1, f3), E 1 -> rival A -> B keeps f2
    # C=(3,3,1): A wins 2 (f1, f2), B 2, D 1, E 1 (f3) -> rival A -> C keeps f3
    # D=(1,3,3): A wins 1 (f2), B 1 (f2), C 1 (f3), E 1 (f3) -> rival A -> D keeps f1, f3
    # E=(4,4,.5): A, B, C, D each win 2 (f1, f2) -> rival A -> E keeps f3
    result = weakening_filter(FRONT3, m=3)
    assert result.rival.tolist() == [1, 0, 0, 0, 0]
    assert result.n_nondominated.tolist() == [2, 1, 1, 2, 1]
    assert result.nondominated_on.tolist() == [[True, False, True], [False, True, False],
                                               [False, False, True], [True, False, True],
                                               [False, False, True]]
    table = result.to_frame(["cost", "sa", "oa"])
    assert table.nondominated_on.tolist() == ["cost, oa", "sa", "oa", "cost, oa", "oa"]
    assert table.nondominated_on_sa.tolist() == [False, True, False, False, False]
    assert table.kept.tolist() == [True, True, True, False, True]


def test_condorcet_cycle_has_no_survivors_and_one_front():
    # a=(1,2,3) b=(2,3,1) c=(3,1,2): a wins f1, f2 over b; b wins f1, f3 over c; c wins f2,
    # f3 over a -> with m = 2 each is dominated by one other: no survivor, the sort puts all
    # three (one dominator each) in one front; with m = 3 none dominates
    F = np.array([[1, 2, 3], [2, 3, 1], [3, 1, 2]], dtype=float)
    assert not weakening_filter(F, m=2).keep.any()
    assert [f.tolist() for f in weakened_fronts(F, 2)] == [[0, 1, 2]]
    assert weakening_filter(F, m=3).keep.all()


# -- dominance weakening, N = 4 ------------------------------------------------------------
# P=(1,2,3,4) Q=(2,1,4,3) R=(3,4,1,2) S=(4,3,2,1): every pair wins 2:2.
# X=(0.5,5,5,5) is best on f1 only; P, Q, R, S each beat it on f2, f3, f4 (3 wins).
FRONT4 = np.array([[1, 2, 3, 4], [2, 1, 4, 3], [3, 4, 1, 2], [4, 3, 2, 1], [0.5, 5, 5, 5]],
                  dtype=float)


@pytest.mark.parametrize("m, kept", [
    (4, [True] * 5),                   # Pareto: nobody is no worse than X on f1
    (3, [True, True, True, True, False]),  # default: X (non-dominated on f1 only) goes
    (2, [False] * 5),                  # every pair wins 2 both ways: mutual domination
])
def test_weakening_n4(m, kept):
    assert weakening_filter(FRONT4, m=m).keep.tolist() == kept


def test_weakening_n4_default_and_counts():
    # m* = floor(4/2) + 1 = 3; survivors keep 2 objectives against their strongest rival
    # (as in the paper's study: "all ... have two non-dominated objectives"), X keeps 1
    result = weakening_filter(FRONT4)
    assert result.m == 3 and result.keep.tolist() == [True, True, True, True, False]
    assert result.n_nondominated.tolist() == [2, 2, 2, 2, 1]
    # P's rivals: Q 2 (f2, f4), R 2, S 2, X 1 -> Q, which does not beat P on f1, f3
    assert result.rival[0] == 1 and result.nondominated_on[0].tolist() == [True, False,
                                                                          True, False]
    assert result.nondominated_on[4].tolist() == [True, False, False, False]
    assert (result.nondominated_on.sum(axis=1) == result.n_nondominated).all()


def test_weakening_rejects_bad_m_and_nan():
    with pytest.raises(ValueError, match=r"m must be in 1\.\.4"):
        weakening_filter(FRONT4, m=5)
    with pytest.raises(ValueError, match=r"m must be in 1\.\.4"):
        weakening_filter(FRONT4, m=0)
    with pytest.raises(ValueError, match="integer"):
        weakening_filter(FRONT4, m=2.5)
    with pytest.raises(ValueError, match=r"NaN objectives in rows \[1\]"):
        weakening_filter(np.array([[1.0, 2.0], [np.nan, 1.0]]))


def test_another_comparison_through_better():
    # "better" = better by more than 0.1: a=(1, 1), b=(1.05, .5). With <, each wins one
    # objective (no domination); with the tolerance a's 0.05 on f1 no longer counts and b,
    # better on f2 and no worse on f1, Pareto-dominates a.
    F = np.array([[1.0, 1.0], [1.05, 0.5]])
    assert not weakened_dominance(F, 2).any()
    better = F[:, None, :] < F[None, :, :] - 0.1
    assert np.argwhere(weakened_dominance(F, 2, better=better)).tolist() == [[1, 0]]
    assert weakening_filter(F, 2, better=better).keep.tolist() == [False, True]
    with pytest.raises(ValueError, match="better must have shape"):
        weakened_dominance(F, 2, better=better[:1])


def test_weakening_single_and_empty():
    one = weakening_filter(np.array([[1.0, 2.0, 3.0]]))
    assert one.keep.tolist() == [True] and one.nondominated_on.all()
    assert weakening_filter(np.zeros((0, 3))).keep.shape == (0,)
    assert weakened_fronts(np.zeros((0, 3))) == []


fronts_st = st.integers(2, 4).flatmap(lambda n_obj: st.integers(1, 25).flatmap(
    lambda n: arrays(np.float64, (n, n_obj), elements=st.integers(0, 4).map(float))))


@settings(max_examples=150, deadline=None)
@given(fronts_st)
def test_m_equal_n_is_pareto_dominance(F):
    """Small integers make ties and duplicates common: the m = N survivors are moocore's
    non-dominated points (duplicates kept) and the fronts are pymoo's."""
    n_obj = F.shape[1]
    keep = weakening_filter(F, m=n_obj).keep
    assert keep.tolist() == moocore.is_nondominated(F, keep_weakly=True).tolist()
    ours = weakened_fronts(F, n_obj)
    theirs = NonDominatedSorting().do(F)
    assert [f.tolist() for f in ours] == [f.tolist() for f in theirs]


@settings(max_examples=100, deadline=None)
@given(fronts_st)
def test_weakening_is_nested_and_asymmetric_above_half(F):
    n_obj = F.shape[1]
    survivors = [weakening_filter(F, m=m).keep for m in range(1, n_obj + 1)]
    for smaller, larger in zip(survivors, survivors[1:]):
        assert not (smaller & ~larger).any()  # a smaller m only removes more
    for m in range(n_obj // 2 + 1, n_obj + 1):
        D = weakened_dominance(F, m)
        assert not (D & D.T).any()


# -- survival ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dtlz2", "zdt1"])
def test_survival_with_m_equal_n_is_rank_and_crowding(name):
    problem = get_problem(name, n_var=8, n_obj=3) if name == "dtlz2" else get_problem(name)
    runs = [minimize(problem, NSGA2(pop_size=20, **survival), ("n_gen", 8), seed=3)
            for survival in ({}, {"survival": WeakenedDominanceSurvival(m=problem.n_obj)})]
    ours, pymoo_own = runs[1].algorithm.pop, runs[0].algorithm.pop
    pickle.loads(pickle.dumps(runs[1].algorithm))  # checkpoints pickle the algorithm
    np.testing.assert_array_equal(ours.get("X"), pymoo_own.get("X"))
    np.testing.assert_array_equal(ours.get("rank"), pymoo_own.get("rank"))


def test_survival_ranks_by_weakened_dominance():
    # survivors of rank 0 were m-dominated by no one of the merged population, which holds
    # the final population
    problem = get_problem("dtlz2", n_var=8, n_obj=4)
    res = minimize(problem, NSGA2(pop_size=24, survival=WeakenedDominanceSurvival()),
                   ("n_gen", 6), seed=5)
    pop = res.algorithm.pop
    F, rank = pop.get("F"), pop.get("rank")
    D = weakened_dominance(F, 3)
    assert (rank == 0).any()
    assert not D[:, rank == 0].any()


# -- deviation distance --------------------------------------------------------------------
# Four boxes (centre, radius) in two interval objectives; mean centre (0, 0), mean radius
# R = ((1+1+.5+1.5)/4, (1+1+1.5+.5)/4) = (1, 1); the average box is [-1, 1]^2 (volume 4).
#   B1 c=(-1, 0) r=(1, 1):    d = 1; common [-1,0]x[-1,1] = 1*2 = 2, union 4+4-2 = 6,
#                             D = 1 * (1 - 2/6) = 2/3
#   B2 c=(1, 0) r=(1, 1):     mirror image, D = 2/3
#   B3 c=(0, 1) r=(.5, 1.5):  d = 1; common [-.5,.5]x[-.5,1] = 1*1.5, box 1*3 = 3,
#                             union 3+4-1.5 = 5.5, D = 1 - 1.5/5.5 = 8/11
#   B4 c=(0, -1) r=(1.5, .5): d = 1; common [-1,1]x[-1,-.5] = 2*.5 = 1, box 3*1,
#                             union 3+4-1 = 6, D = 1 - 1/6 = 5/6
CENTRES = np.array([[-1, 0], [1, 0], [0, 1], [0, -1]], dtype=float)
RADII = np.array([[1, 1], [1, 1], [0.5, 1.5], [1.5, 0.5]])


def test_deviation_distance_with_overlap_by_hand():
    D = deviation_distance(CENTRES - RADII, CENTRES + RADII)
    np.testing.assert_allclose(D, [2 / 3, 2 / 3, 8 / 11, 5 / 6], rtol=1e-12)


def test_deviation_distance_is_scale_free_and_shift_free():
    # objectives in their units: scaling an objective scales its centres and R alike
    scale, shift = np.array([1e6, 0.01]), np.array([3e7, -2.0])
    lo, hi = (CENTRES - RADII) * scale + shift, (CENTRES + RADII) * scale + shift
    np.testing.assert_allclose(deviation_distance(lo, hi), [2 / 3, 2 / 3, 8 / 11, 5 / 6])
    # negating an objective (a maximised one as minimised) swaps its ends: same distance
    np.testing.assert_allclose(deviation_distance(-hi, -lo), [2 / 3, 2 / 3, 8 / 11, 5 / 6])


# Far box: centres (0,0), (2,0), (0,2), (6,6), all radii 1: mean centre (2, 2), R = (1, 1).
#   (0,0): u = (-2,-2), boxes disjoint, D = sqrt(8); (2,0) and (0,2): u has a -2, the boxes
#   only touch (common length 0), D = 2; (6,6): u = (4, 4), D = sqrt(32).
FAR = np.array([[0, 0], [2, 0], [0, 2], [6, 6]], dtype=float)


@pytest.mark.parametrize("d_max, kept", [(3.5, [True, True, True, False]),
                                         (2.0, [False, True, True, False]),
                                         (6.0, [True] * 4)])
def test_deviation_filter_drops_beyond_d_max(d_max, kept):
    keep, D = deviation_filter(FAR - 1, FAR + 1, d_max)
    np.testing.assert_allclose(D, [math.sqrt(8), 2, 2, math.sqrt(32)], rtol=1e-12)
    assert keep.tolist() == kept


def test_comprehensive_adds_deterministic_objectives_by_spread():
    # a third, deterministic objective 10, 10, 10, 14: mean 11, std sqrt((1+1+1+9)/4) =
    # sqrt(3), z = (-1, -1, -1, 3)/sqrt(3); D_c = sqrt(D^2 + z^2):
    #   B1, B2: sqrt(4/9 + 1/3) = sqrt(7/9); B3: sqrt(64/121 + 1/3); B4: sqrt(25/36 + 3)
    f = np.array([[10.0], [10.0], [10.0], [14.0]])
    lo, hi = np.hstack([CENTRES - RADII, f]), np.hstack([CENTRES + RADII, f])
    Dc = deviation_distance(lo, hi, comprehensive=True)
    np.testing.assert_allclose(Dc, np.sqrt([7 / 9, 7 / 9, 64 / 121 + 1 / 3, 25 / 36 + 3]),
                               rtol=1e-12)
    # the plain distance ignores the deterministic objective
    np.testing.assert_allclose(deviation_distance(lo, hi), [2 / 3, 2 / 3, 8 / 11, 5 / 6])


def test_comprehensive_on_points_and_zero_spread():
    # points only (every width zero): z-scores; a constant objective adds nothing
    # f1 = 0, 0, 3, 3 -> mean 1.5, std 1.5, z = -1, -1, 1, 1; f2 constant
    F = np.array([[0.0, 7.0], [0.0, 7.0], [3.0, 7.0], [3.0, 7.0]])
    np.testing.assert_allclose(deviation_distance(F, comprehensive=True), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="no interval objective"):
        deviation_distance(F)


def test_deviation_edge_cases():
    assert deviation_distance(np.array([[1.0, 2.0]]), np.array([[2.0, 3.0]])).tolist() == [0]
    with pytest.raises(ValueError, match=r"hi < lo for solution row 0, objective 1"):
        deviation_distance(np.array([[0.0, 2.0]]), np.array([[1.0, 1.0]]))
    with pytest.raises(ValueError, match="d_max"):
        deviation_filter(FAR - 1, FAR + 1, 0.0)


# -- compromise ----------------------------------------------------------------------------
def test_choose_compromise_nearest_ideal():
    # scaled to [0, 1]: (0, 1), (.4, .4), (1, 0), (.6, .6) -> row 1 is nearest to (0, 0)
    F = np.array([[0.0, 10.0], [4.0, 4.0], [10.0, 0.0], [6.0, 6.0]])
    assert choose_compromise(F) == 1
    with pytest.raises(ValueError, match="no solutions"):
        choose_compromise(np.zeros((0, 2)))
