"""HV, IGD+, reference fronts and attainment on one normalisation (fdnmoo.experiment.indicators)."""

from __future__ import annotations

import moocore
import numpy as np
import pytest

from fdnmoo.experiment.indicators import (HV_REFERENCE, Normalisation, attainment,
                                          attainment_difference, feasible,
                                          generation_fronts, hypervolume, igd_plus,
                                          indicator_table, reference_front)

# raw objectives (cost, loss) whose front normalises to (0, 1), (0.5, 0.5), (1, 0)
RAW = np.array([[100.0, 20.0], [200.0, 15.0], [300.0, 10.0]])
UNIT = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])


@pytest.fixture
def norm():
    return Normalisation.of_front(RAW)


def test_normalisation_of_front(norm):
    np.testing.assert_array_equal(norm.ideal, [100.0, 10.0])
    np.testing.assert_array_equal(norm.nadir, [300.0, 20.0])
    np.testing.assert_allclose(norm.apply(RAW), UNIT)
    # a flat objective is only shifted, not divided by zero
    flat = Normalisation.of_front(np.array([[1.0, 5.0], [2.0, 5.0]]))
    np.testing.assert_allclose(flat.apply([[1.5, 6.0]]), [[0.5, 1.0]])


def test_hypervolume_by_hand(norm):
    # normalised points (0,1), (0.5,0.5), (1,0), reference (1.1, 1.1); slices along f1:
    #   f1 in [0, 0.5]:   height 1.1 - 1   = 0.1  -> 0.05
    #   f1 in [0.5, 1]:   height 1.1 - 0.5 = 0.6  -> 0.30
    #   f1 in [1, 1.1]:   height 1.1 - 0   = 1.1  -> 0.11          total 0.46
    assert hypervolume(RAW, norm) == pytest.approx(0.46)
    # one point (0.5, 0.5): (1.1 - 0.5)^2 = 0.36; a point beyond the reference adds nothing
    assert hypervolume(np.array([[200.0, 15.0], [400.0, 5.0]]), norm) == pytest.approx(0.36)
    assert hypervolume(np.empty((0, 2)), norm) == 0.0
    assert HV_REFERENCE == 1.1


def test_igd_plus_by_hand(norm):
    # IGD+ = mean over reference points z of min over solutions a of
    #        sqrt(sum_k max(a_k - z_k, 0)^2); one solution a = (0.5, 1) (raw (200, 20)):
    #   z = (0, 1):     (0.5, 0) -> 0.5
    #   z = (0.5, 0.5): (0, 0.5) -> 0.5
    #   z = (1, 0):     (0, 1)   -> 1          mean 2/3
    assert igd_plus(np.array([[200.0, 20.0]]), RAW, norm) == pytest.approx(2 / 3)
    assert igd_plus(RAW, RAW, norm) == 0.0
    assert igd_plus(np.empty((0, 2)), RAW, norm) == float("inf")


def test_against_moocore_directly_in_three_objectives():
    rng = np.random.default_rng(7)
    runs = [rng.uniform(0, 10, size=(15, 3)) * [1, 100, 0.01] for _ in range(3)]
    front = reference_front(runs)
    norm = Normalisation.of_front(front)
    lo, hi = front.min(axis=0), front.max(axis=0)
    for F in runs:
        Z = (F - lo) / (hi - lo)
        assert hypervolume(F, norm) == pytest.approx(moocore.hypervolume(Z, ref=[1.1] * 3))
        assert igd_plus(F, front, norm) == pytest.approx(
            moocore.igd_plus(Z, ref=(front - lo) / (hi - lo)))


def test_reference_front_is_the_feasible_nondominated_union():
    a = np.array([[0.0, 1.0], [0.6, 0.6]])
    b = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])  # duplicate and dominated
    F = np.vstack([[-1.0, -1.0], [0.2, 0.9]])  # the first dominates all but is infeasible
    c = feasible(F, CV=np.array([[0.3], [0.0]]))
    np.testing.assert_array_equal(c, [[0.2, 0.9]])
    front = reference_front([a, b, c, np.empty((0, 2))])
    np.testing.assert_array_equal(front, [[0.0, 1.0], [0.2, 0.9], [0.5, 0.5], [1.0, 0.0]])
    assert len(feasible(np.array([[np.inf, 1.0], [1.0, 1.0]]))) == 1
    with pytest.raises(ValueError, match="no feasible point"):
        reference_front([np.empty((0, 2))])
    with pytest.raises(ValueError, match="numbers of objectives"):
        reference_front([a, np.ones((1, 3))])


def test_indicator_table_per_generation(norm):
    table = indicator_table([(1, 12, RAW[:1]), (2, 24, RAW)], RAW, norm)
    assert table.columns.tolist() == ["generation", "evaluations", "hv", "igd_plus"]
    assert table.evaluations.tolist() == [12, 24]
    # generation 1: the point (0, 1) alone: HV (1.1 - 0) * (1.1 - 1) = 0.11;
    # IGD+: z = (0,1) -> 0, (0.5,0.5) -> 0.5, (1,0) -> 1: mean 0.5
    np.testing.assert_allclose(table.hv, [0.11, 0.46])
    np.testing.assert_allclose(table.igd_plus, [0.5, 0.0])
    assert indicator_table([], RAW).empty


def test_attainment_surfaces_by_hand():
    run1 = np.array([[0.0, 1.0], [1.0, 0.0]])
    run2 = np.array([[0.5, 0.5]])
    eaf = attainment([run1, run2])
    # 50 %: what either run attains, the non-dominated union of both;
    # 100 %: the corners max(a, b) attained by both: (0.5, 1) and (1, 0.5)
    half = eaf[eaf.percentile == 50][["f1", "f2"]].to_numpy()
    full = eaf[eaf.percentile == 100][["f1", "f2"]].to_numpy()
    np.testing.assert_array_equal(half, [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(full, [[0.5, 1.0], [1.0, 0.5]])
    # a third run without feasible points: levels are 1/3 and 2/3 of the runs, no 100 %
    third = attainment([run1, run2, np.empty((0, 2))])
    np.testing.assert_allclose(sorted(set(third.percentile)), [100 / 3, 200 / 3])
    asked = attainment([run1, run2, np.empty((0, 2))], percentiles=[50, 100])
    np.testing.assert_array_equal(asked[asked.percentile == 50][["f1", "f2"]], full)
    assert not (asked.percentile == 100).any()
    with pytest.raises(ValueError, match="2 objectives"):
        attainment([np.ones((2, 3))])


def test_attainment_difference_by_hand():
    a = [np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.5, 0.5]])]
    b = [np.array([[0.6, 0.6]]), np.array([[0.6, 0.6]])]
    diff = attainment_difference(a, b)
    # the box (0.6, 0.6)-(1, 1): both runs of b attain it, only a's second run: (1 - 2) / 2
    box = diff[(diff.f1_low == 0.6) & (diff.f2_low == 0.6)]
    assert box.difference.tolist() == [-0.5]
    # (0.5, 1)-(0.6, inf): both runs of a, none of b: +1
    corner = diff[(diff.f1_low == 0.5) & (diff.f2_low == 1.0)]
    assert corner.difference.tolist() == [1.0]


def test_fronts_of_a_run_give_its_indicators(tmp_path):
    """fronts.csv of a toy run: the last front is the final population's, HV agrees."""
    import pandas as pd

    from experiment_toy import ToyPlanning, toy_operators
    from fdnmoo.experiment import build_algorithm, optimise
    from fdnmoo.experiment.runner import FRONTS
    from fdnmoo.experiment.spec import AlgorithmSpec

    problem = ToyPlanning()
    algorithm = build_algorithm(AlgorithmSpec(name="nsga2", pop_size=12), problem,
                                operators=toy_operators())
    alg, _ = optimise(problem, algorithm, n_gen=3, seed=1, out_dir=tmp_path, progress=False)
    table = pd.read_csv(tmp_path / FRONTS)
    names = alg.callback.names
    history = pd.read_csv(tmp_path / "history.csv")
    gens = generation_fronts(table, names, zip(history.n_gen, history.n_eval))
    assert [(g, n) for g, n, _ in gens] == list(zip(history.n_gen, history.n_eval))
    final = feasible(alg.pop.get("F"), alg.pop.get("CV"))
    np.testing.assert_allclose(reference_front([gens[-1][2]]), reference_front([final]))
    front = reference_front([final])
    scores = indicator_table(gens, front)
    norm = Normalisation.of_front(front)
    assert scores.hv.iloc[-1] == pytest.approx(hypervolume(final, norm))
    assert scores.igd_plus.iloc[-1] == pytest.approx(0.0)  # the final front is the reference
    with pytest.raises(ValueError, match="lacks"):
        generation_fronts(table, ["nope"])
