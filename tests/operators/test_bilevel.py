"""The bi-level driver (issue 10) on a tiny ieee33 problem whose two levels can be enumerated.

Upper level: one two-terminal SOP between buses 18 and 33 (scheme 0/1, 1-2
converter modules per node: 8 genomes). Lower level: PV at buses 18 and 33
(levels 0-2) and an SVC at bus 18 (0-1): 18 genomes. Four objectives: total cost and
operational adaptability, and, for the lower level, PV hosting and investment (they
conflict, so every lower front has several members; on this feeder of one substation
the paper's pair, operational adaptability and PV uneven degree, does not: the uneven
degree is 0 for one supply area).
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import moocore
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize

from fdnmoo.evaluation import Evaluator
from fdnmoo.experiment.results import collect_outcome
from fdnmoo.experiment.runner import CHECKPOINT, load_checkpoint, optimise
from fdnmoo.operators import genome_operators
from fdnmoo.operators.bilevel import (BiLevel, LowerLevel, LowerProblem, SubGenome,
                                      build_bilevel, constrained_front, driver, front_ranks,
                                      lower_seed, optimise_lower, split_blocks, upper_fitness)
from fdnmoo.operators.bilevel.front import upper_order
from fdnmoo.parameters import ParameterError
from fdnmoo.problems.planning import ProblemConfig

LOWER = ("pv_hosting_mw", "investment")
CONFIG = ProblemConfig(
    case="ieee33", n_stages=1, profile="peak",
    blocks=(("sop", {"n_devices": 1, "max_terminals": 2, "max_modules": 2, "buses": [18, 33]}),
            ("der", {"kind": "pv", "levels": 2, "buses": [18, 33]}),
            ("der", {"kind": "svc", "levels": 1, "buses": [18]})),
    objectives=("total_cost", "operational_adaptability") + LOWER)


@pytest.fixture(scope="module")
def problem():
    return CONFIG.build()


@pytest.fixture
def fresh(problem):
    """The module's problem without an evaluator (tests that set one put it back)."""
    problem.evaluator = None
    yield problem
    problem.evaluator = None


def bilevel(**kwargs) -> BiLevel:
    options = dict(pop_size=4, lower_pop_size=6, lower_n_gen=3, lower_objectives=LOWER)
    return BiLevel(**{**options, **kwargs})


def run(problem, n_gen=3, seed=1, **kwargs) -> BiLevel:
    return minimize(problem, bilevel(**kwargs), ("n_gen", n_gen), seed=seed).algorithm


def enumerate_genes(genome) -> np.ndarray:
    return np.array(list(itertools.product(*[range(lo, hi + 1)
                                             for lo, hi in zip(genome.xl, genome.xu)])))


def same_rows(A, B) -> bool:
    return sorted(map(tuple, np.asarray(A).tolist())) == sorted(map(tuple, np.asarray(B).tolist()))


# ------------------------------------------------------------------------------ the split
def test_split_is_by_block_and_errors_name_the_option(problem):
    assert split_blocks(problem.genome) == (("sop",), ("der_pv", "der_svc"))
    assert split_blocks(problem.genome, ["der_pv"]) == (("sop", "der_svc"), ("der_pv",))
    with pytest.raises(ParameterError, match=r"lower_blocks: no gene block 'der_p' .*did you "
                                             r"mean 'der_pv'"):
        split_blocks(problem.genome, ["der_p"])
    with pytest.raises(ParameterError, match="the upper level needs genes"):
        split_blocks(problem.genome, ["sop", "der_pv", "der_svc"])


def test_unknown_lower_objective_is_refused_with_a_suggestion(fresh):
    with pytest.raises(ParameterError, match=r"lower_objectives: 'pv_hosting' is not an "
                                             r"objective of the problem \(did you mean "
                                             r"'pv_hosting_mw'"):
        bilevel(lower_objectives=("pv_hosting",)).setup(fresh, seed=0)


def test_a_genome_without_resource_blocks_is_refused():
    reconf = ProblemConfig(case="ieee33", preset="reconfiguration").build()
    with pytest.raises(ParameterError, match="lower_blocks: the lower level needs genes"):
        BiLevel().setup(reconf, seed=0)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sub_genome_repair_is_the_full_repair_with_the_upper_genes_kept(problem, data):
    genome = problem.genome
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    fixed = genome.sample(1, rng)[0]
    sub = SubGenome(genome, ("der_pv", "der_svc"), fixed=fixed)
    X = np.array([[data.draw(st.integers(lo, hi)) for lo, hi in zip(sub.xl, sub.xu)]
                  for _ in range(3)])
    Y = sub.repair(X, np.random.default_rng(1))
    full = sub.compose(Y)
    np.testing.assert_array_equal(full[:, genome.slices["sop"]],
                                  np.tile(fixed[genome.slices["sop"]], (3, 1)))
    np.testing.assert_array_equal(genome.repair(full, np.random.default_rng(2)), full)
    np.testing.assert_array_equal(sub.repair(Y, np.random.default_rng(3)), Y)  # idempotent


def test_sub_genome_refuses_a_repair_that_moves_fixed_genes():
    # held genes the full repair would change (every switch closed is not radial) are an
    # error, not silently dropped: the levels would not be independent
    joint = ProblemConfig(case="ieee33", preset="joint", n_stages=1, profile="peak").build()
    g = joint.genome
    rng = np.random.default_rng(0)
    fixed = g.sample(1, rng)[0]
    fixed[g.slices["lines"]] = 1
    sub = SubGenome(g, ("sop",), fixed=fixed)
    with pytest.raises(RuntimeError, match=r"changed fixed genes of \['lines'\]"):
        sub.repair(fixed[g.slices["sop"]][None, :], rng)


# ------------------------------------------------------------------------- lower level
def test_a_lower_run_only_changes_resource_genes_and_returns_full_objectives(fresh):
    genome = fresh.genome
    fixed = genome.sample(1, np.random.default_rng(3))[0]
    level = LowerLevel(blocks=("der_pv", "der_svc"), objectives=(2, 3), pop_size=6, n_gen=3)
    front = optimise_lower(fresh, level, fixed, seed=11)
    assert len(front.X) >= 1
    np.testing.assert_array_equal(front.X[:, genome.slices["sop"]],
                                  np.tile(fixed[genome.slices["sop"]], (len(front.X), 1)))
    F, G = fresh.evaluate_genomes(front.X)  # the full vector of the combined genome
    np.testing.assert_array_equal(front.F, F)
    np.testing.assert_array_equal(front.G, G)
    assert moocore.is_nondominated(front.F[:, [2, 3]], keep_weakly=True).all()
    again = optimise_lower(fresh, level, fixed, seed=11)
    np.testing.assert_array_equal(again.X, front.X)


def test_lower_seed_depends_on_run_seed_and_upper_genes():
    a = np.array([1, 2, 1])
    assert lower_seed(1, a) == lower_seed(1, a.copy())
    assert len({lower_seed(1, a), lower_seed(2, a), lower_seed(1, np.array([1, 1, 2]))}) == 3


# ------------------------------------------------------------------------------ driver
def test_front_is_the_nondominated_set_of_every_lower_solution_seen(fresh):
    alg = run(fresh, n_gen=3)
    X, F = alg.pop.get("X"), alg.pop.get("F")
    assert len(X) >= 1 and X.shape[1] == fresh.n_var
    # reference: moocore over the union of all lower fronts the run produced
    union_X = np.concatenate([f.X for f in alg.cache.values()])
    union_F = np.concatenate([f.F for f in alg.cache.values()])
    union_G = np.concatenate([f.G for f in alg.cache.values()])
    feasible = (union_G <= 0).all(axis=1)
    assert feasible.any()
    ok = feasible.copy()
    ok[feasible] = moocore.is_nondominated(union_F[feasible], keep_weakly=True)
    _, first = np.unique(union_X[ok], axis=0, return_index=True)
    assert same_rows(X, union_X[ok][first])
    assert moocore.is_nondominated(F, keep_weakly=True).all()
    np.testing.assert_array_equal(F, fresh.evaluate_genomes(X)[0])
    # the front's upper genes are upper genomes the run optimised
    upper = {x[fresh.genome.slices["sop"]].tobytes() for x in X.astype(np.int64)}
    assert upper <= set(alg.cache)
    assert alg.opt is alg.pop and np.all(alg.pop.get("CV") <= 0)


def test_evaluations_are_counted_honestly(fresh, monkeypatch):
    rows = []
    original = type(fresh).evaluate_genomes

    def counting(self, X, *args, **kwargs):
        rows.append(len(X))
        return original(self, X, *args, **kwargs)

    monkeypatch.setattr(type(fresh), "evaluate_genomes", counting)
    alg = run(fresh, n_gen=3)
    assert alg.evaluator.n_eval == sum(rows) == sum(f.n_eval for f in alg.cache.values()) > 0
    assert alg.n_lower_runs == len(alg.cache)


def test_a_repeated_upper_genome_is_optimised_once(fresh, monkeypatch):
    calls = []

    def counting(problem, level, fixed, seed):
        calls.append(fixed.copy())
        return optimise_lower(problem, level, fixed, seed)

    monkeypatch.setattr(driver, "optimise_lower", counting)
    alg = bilevel()
    alg.setup(fresh, seed=0)
    upper = alg.upper_problem.genome
    X = upper.sample(2, np.random.default_rng(0))
    X = X[[0, 0, 1]] if (X[0] != X[1]).any() else np.array([X[0], X[0]])
    n_distinct = len(np.unique(X, axis=0))
    first = alg.lower_fronts(X)
    assert len(calls) == n_distinct and alg.n_lower_runs == n_distinct
    assert first[0] is first[1]
    assert alg.lower_fronts(X[:1])[0] is first[0]
    assert len(calls) == n_distinct and alg.n_lower_cached == len(X) - n_distinct + 1
    n_eval = alg.evaluator.n_eval
    alg.lower_fronts(X)
    assert alg.evaluator.n_eval == n_eval  # cached fronts cost no evaluations


def test_same_seed_same_result(fresh):
    a, b = run(fresh, seed=5), run(fresh, seed=5)
    np.testing.assert_array_equal(a.pop.get("X"), b.pop.get("X"))
    np.testing.assert_array_equal(a.pop.get("F"), b.pop.get("F"))
    np.testing.assert_array_equal(a.upper_pop.get("X"), b.upper_pop.get("X"))
    assert a.evaluator.n_eval == b.evaluator.n_eval


def test_identical_results_for_one_and_two_joblib_workers(problem):
    results = []
    try:
        problem.evaluator = None
        results.append(run(problem, n_gen=2, seed=3))
        for n in (1, 2):
            with Evaluator("joblib", n_workers=n) as ev:
                problem.evaluator = ev
                results.append(run(problem, n_gen=2, seed=3))
    finally:
        problem.evaluator = None
    ref = results[0]
    for other in results[1:]:
        np.testing.assert_array_equal(other.pop.get("X"), ref.pop.get("X"))
        np.testing.assert_array_equal(other.pop.get("F"), ref.pop.get("F"))
        np.testing.assert_array_equal(other.upper_pop.get("X"), ref.upper_pop.get("X"))
        assert other.evaluator.n_eval == ref.evaluator.n_eval


def test_checkpoint_round_trip_resumes_to_the_same_result(fresh, tmp_path):
    class Killed(Exception):
        pass

    def kill_after_two(algorithm):
        if algorithm.n_iter > 2:
            raise Killed

    whole, _ = optimise(fresh, bilevel(), n_gen=4, seed=2, out_dir=tmp_path / "whole",
                        progress=False)
    with pytest.raises(Killed):
        optimise(fresh, bilevel(), n_gen=4, seed=2, out_dir=tmp_path / "cut", progress=False,
                 after_generation=kill_after_two)
    saved = load_checkpoint(tmp_path / "cut" / CHECKPOINT, fresh, run_hash="")["algorithm"]
    assert saved.problem is fresh and saved._upper is None  # the bound genome is not saved
    assert saved.n_iter == 3 and len(saved.cache) == saved.n_lower_runs > 0
    resumed, run_info = optimise(fresh, bilevel(), n_gen=4, seed=2, out_dir=tmp_path / "cut",
                                 progress=False)
    assert run_info["resumed_at"] == [2]
    np.testing.assert_array_equal(resumed.pop.get("X"), whole.pop.get("X"))
    np.testing.assert_array_equal(resumed.pop.get("F"), whole.pop.get("F"))
    assert resumed.evaluator.n_eval == whole.evaluator.n_eval
    assert [r["n_eval"] for r in resumed.callback.rows] == \
        [r["n_eval"] for r in whole.callback.rows]


def test_filter_hooks_are_applied(fresh):
    calls = []

    def only_first(F, F_lo, F_hi):
        calls.append(F.shape)
        assert np.array_equal(F_lo, F) and np.array_equal(F_hi, F)  # no intervals here
        return np.array([int(np.argmin(F[:, 0]))])

    alg = run(fresh, n_gen=2, front_filter=only_first)
    assert len(calls) == 2 and len(alg.pop) == 1
    plain = run(fresh, n_gen=2)
    assert alg.pop.get("F")[0, 0] == plain.pop.get("F")[:, 0].min()

    def first_objective_only(F):
        return np.flatnonzero(F[:, 0] == F[:, 0].min())

    one = run(fresh, n_gen=2, dominance=first_objective_only)
    F = one.pop.get("F")
    assert np.all(F[:, 0] == F[0, 0])


def test_brute_force_front_of_the_enumerated_bilevel_problem(fresh):
    """With budgets covering both levels, the driver finds exactly the bi-level front.

    Reference, by enumeration: for every feasible upper genome the feasible lower
    genomes non-dominated on the lower objectives (moocore), then the
    non-dominated solutions of their union on all four objectives.
    """
    genome = fresh.genome
    X = enumerate_genes(genome)  # 8 x 18 raw genomes, all feasible here
    np.testing.assert_array_equal(genome.repair(X, np.random.default_rng(0)), X)
    F, G = fresh.evaluate_genomes(X)
    up = X[:, genome.slices["sop"]]
    chosen = []
    for u in np.unique(up, axis=0):
        rows = np.flatnonzero((up == u).all(axis=1) & (G <= 0).all(axis=1))
        chosen.extend(rows[moocore.is_nondominated(F[rows][:, [2, 3]], keep_weakly=True)])
    chosen = np.array(chosen)
    reference = chosen[moocore.is_nondominated(F[chosen], keep_weakly=True)]

    assert len(chosen) > len(np.unique(up, axis=0))  # lower fronts of several solutions

    # budgets below the spaces' sizes (4 of 8 upper, 10 of 18 lower genomes per generation)
    alg = run(fresh, n_gen=8, pop_size=4, lower_pop_size=10, lower_n_gen=10)
    assert len(alg.cache) == 8  # every upper genome was optimised
    assert same_rows(alg.pop.get("X"), X[reference])
    # on this instance the bi-level front is also inside the single-level enumerated front
    # (not so in general: the lower level keeps only its own non-dominated resource choices)
    single = moocore.is_nondominated(F, keep_weakly=True)
    assert single[reference].all() and single.sum() > len(reference)


# --------------------------------------------------------------------- interval objectives
@pytest.fixture(scope="module")
def affine_problem():
    return ProblemConfig(case="ieee33", n_stages=1, profile="peak", blocks=CONFIG.blocks,
                         objectives=CONFIG.objectives,
                         uncertainty={"method": "affine", "level": 0.1}).build()


def test_interval_ends_reach_the_lower_algorithm_and_the_front(affine_problem):
    built = []

    def recording_nsga2(pop_size, **operators):
        built.append((pop_size, sorted(operators)))
        return NSGA2(pop_size=pop_size, **operators)

    alg = run(affine_problem, n_gen=2, lower_algorithm=recording_nsga2)
    assert built and built[0] == (6, ["crossover", "eliminate_duplicates", "mutation",
                                      "repair", "sampling"])
    assert len(built) == alg.n_lower_runs
    X, F, lo, hi = alg.pop.get("X", "F", "F_lo", "F_hi")
    want = affine_problem.evaluate_genomes(X.astype(np.int64), bounds=True)
    for got, ref in zip((F, lo, hi), (want[0], want[2], want[3])):
        np.testing.assert_array_equal(got, ref)
    assert np.all(hi - lo >= 0) and np.any(hi - lo > 0)  # total cost is an interval


def test_the_lower_problem_exposes_its_intervals(affine_problem):
    fixed = affine_problem.genome.sample(1, np.random.default_rng(0))[0]
    level = LowerLevel(blocks=("der_pv", "der_svc"), objectives=(0, 3), pop_size=4, n_gen=1)
    lower = LowerProblem(affine_problem, level, fixed)
    assert lower.interval_objectives and lower.objective_names == ["total_cost", "investment"]
    X = lower.genome.sample(3, np.random.default_rng(1))
    out = lower.evaluate(X, return_values_of=["F", "F_lo", "F_hi"], return_as_dictionary=True)
    F, G, lo, hi = affine_problem.evaluate_genomes(lower.genome.compose(X), bounds=True)
    np.testing.assert_array_equal(out["F_lo"], lo[:, [0, 3]])
    np.testing.assert_array_equal(out["F_hi"], hi[:, [0, 3]])


# ---------------------------------------------------------------------------- dask
@pytest.mark.slow
def test_dask_gives_the_serial_result(problem):
    """Slow (a LocalCluster starts); the fast variant is the joblib test above."""
    try:
        problem.evaluator = None
        ref = run(problem, n_gen=2, seed=3)
        with Evaluator("dask", n_workers=2) as ev:
            problem.evaluator = ev
            got = run(problem, n_gen=2, seed=3)
    finally:
        problem.evaluator = None
    np.testing.assert_array_equal(got.pop.get("X"), ref.pop.get("X"))
    np.testing.assert_array_equal(got.pop.get("F"), ref.pop.get("F"))


# ------------------------------------------------------------------- registry request
def test_build_bilevel_from_a_registry_request(fresh):
    request = SimpleNamespace(problem=fresh, pop_size=6, ref_dirs=None,
                              operators=genome_operators(fresh.genome, crossover_prob=0.7,
                                                         prob_var=0.2),
                              options={"lower_pop_size": 5, "lower_n_gen": 2,
                                       "lower_objectives": list(LOWER)})
    alg = build_bilevel(request)
    assert (alg.pop_size, alg.lower_pop_size, alg.lower_n_gen) == (6, 5, 2)
    assert alg.lower_objectives == LOWER and (alg.crossover_prob, alg.prob_var) == (0.7, 0.2)
    request.options = {"lower_pop": 5}
    with pytest.raises(ParameterError, match=r"algorithm.lower_pop: unknown option of bilevel "
                                             r"\(did you mean 'lower_pop_size'"):
        build_bilevel(request)


# --------------------------------------------------------------- ranks and upper fitness
def test_ranks_crowding_and_upper_order_by_hand():
    F = np.array([[1, 3], [2, 2], [3, 1], [3, 3], [4, 4]], dtype=float)
    CV = np.array([0, 0, 0, 0, 0.5])
    rank, crowding = front_ranks(F, CV)
    # [2, 2] dominates [3, 3]; the infeasible row ranks after every feasible one
    np.testing.assert_array_equal(rank, [0, 0, 0, 1, 2])
    # pymoo's crowding: extremes inf, the middle of the first front (|3-1|/2 + |3-1|/2) / 2
    np.testing.assert_array_equal(crowding, [np.inf, 1.0, np.inf, np.inf, np.inf])
    owner = np.array([0, 1, 2, 1, 3])
    up_rank, up_crowding = upper_fitness(owner, 4, rank, crowding)
    np.testing.assert_array_equal(up_rank, [0, 0, 0, 2])
    np.testing.assert_array_equal(up_crowding, [np.inf, 1.0, np.inf, np.inf])
    np.testing.assert_array_equal(upper_order(up_rank, up_crowding), [0, 2, 1, 3])
    np.testing.assert_array_equal(constrained_front(F, CV), [0, 1, 2])
    # none feasible: the non-dominated ones among the least infeasible
    CV = np.array([1, 1, 2, 1, 1])
    np.testing.assert_array_equal(constrained_front(F, CV), [0, 1])


def test_a_dominance_that_keeps_nothing_falls_back_to_pareto(caplog):
    F = np.array([[1, 3], [2, 2], [3, 3]], dtype=float)
    with caplog.at_level("WARNING", logger="fdnmoo"):
        np.testing.assert_array_equal(constrained_front(F, np.zeros(3), lambda F: []), [0, 1])
    assert "kept none of 3 solutions" in caplog.text
    with pytest.raises(ValueError, match=r"returned indices \[5\] for 3 solutions"):
        constrained_front(F, np.zeros(3), lambda F: [5])


def test_a_misspelt_keyword_is_refused():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'lower_popsize' \(did "
                                        r"you mean 'lower_pop_size'"):
        BiLevel(lower_popsize=4)
    assert BiLevel(verbose=False).verbose is False  # pymoo's own arguments pass


def test_an_empty_front_filter_reports_the_unfiltered_front(fresh, caplog):
    with caplog.at_level("WARNING", logger="fdnmoo"):
        alg = run(fresh, n_gen=1, front_filter=lambda F, lo, hi: [])
    assert len(alg.pop) == len(alg._archive.X) > 0
    assert "kept none of the" in caplog.text


def test_the_runner_reads_the_front_as_results(fresh, tmp_path):
    alg, _ = optimise(fresh, bilevel(), n_gen=2, seed=4, out_dir=tmp_path, progress=False)
    outcome = collect_outcome(fresh, alg)
    assert outcome.objective_names == list(CONFIG.objectives)
    assert sum(outcome.n_genomes) == len(alg.pop)  # genomes of one plan are merged
    for x, f, report in zip(outcome.X, outcome.F, outcome.reports):
        own = [report["objectives"][n] for n in outcome.objective_names]
        signs = np.array([1, -1, -1, 1])  # cost and investment minimised, the others maximised
        np.testing.assert_allclose(f * signs, own, rtol=1e-12)
    history = alg.callback.table()
    assert list(history.n_gen) == [1, 2] and history.n_eval.iloc[-1] == alg.evaluator.n_eval


# ------------------------------------------------------------------ the registered entry
def test_registered_entry_wires_aa_nsga2_weakening_and_the_deviation_filter(affine_problem):
    from fdnmoo.operators import AANSGA2, build_algorithm, weakening_filter
    from fdnmoo.operators.bilevel.entry import DeviationFront, WeakenedSurvivors

    alg = build_algorithm("bilevel", affine_problem, pop_size=4,
                          options={"lower_pop_size": 6, "lower_n_gen": 2,
                                   "lower_objectives": list(LOWER), "beta": 0.6,
                                   "affine_difference": True, "deviation": 50.0})
    assert alg.lower_algorithm.func is AANSGA2
    assert alg.lower_algorithm.keywords == {"beta": 0.6, "affine_difference": True}
    assert alg.dominance == WeakenedSurvivors(None)
    assert alg.front_filter == DeviationFront(50.0)
    alg = minimize(affine_problem, alg, ("n_gen", 2), seed=3).algorithm
    F = alg.opt.get("F")
    # the archive is not weakly m-dominated (m = floor(4/2) + 1 = 3) within itself
    assert weakening_filter(F).keep.all()
    # the lower problem hands AA-NSGA-II the affine forms it compares (affine_difference)
    fixed = affine_problem.genome.sample(1, np.random.default_rng(0))[0]
    level = LowerLevel(blocks=("der_pv", "der_svc"), objectives=(2, 3), pop_size=4, n_gen=1)
    lower = LowerProblem(affine_problem, level, fixed)
    assert lower.affine_objectives
    out = lower.evaluate(lower.genome.sample(3, np.random.default_rng(1)),
                         return_values_of=["F", "F_aff", "F_rad"], return_as_dictionary=True)
    assert out["F_aff"].shape[:2] == (3, 2) and out["F_rad"].shape == (3, 2)


@pytest.mark.parametrize("options, message", [
    ({"weakening": 7}, "weakening m = 7 exceeds the 4 objectives"),
    ({"weakening": "most"}, "weakening is true or an integer"),
])
def test_registered_entry_refuses_bad_filter_options(problem, options, message):
    from fdnmoo.operators import build_algorithm

    with pytest.raises(ValueError, match=message):
        build_algorithm("bilevel", problem, pop_size=4, options=options)


def test_deviation_filter_needs_interval_objectives(problem):
    from fdnmoo.operators import build_algorithm

    with pytest.raises(ValueError, match="compares interval boxes"):
        build_algorithm("bilevel", problem, pop_size=4, options={"deviation": 3.5})
