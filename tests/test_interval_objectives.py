"""Shared noise symbols of interval objectives (``F_aff``/``F_rad``, uncertainty method affine).

The reference is the deterministic path: ``pv_uneven_degree`` of the same plan with every PV
candidate's capacity moved to ``(1 + level u_c)`` of its own, ``u`` a point of the box (the
same ``u_c`` in every stage and every plan, which is what a shared symbol means). The value
minus the shared part ``F + F_aff @ u`` must stay within the private radius ``F_rad``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from fdnmoo.metrics.adaptability import pv_uneven_degree
from fdnmoo.operators.aa_nsga2 import AANSGA2
from fdnmoo.operators.composite import genome_operators
from fdnmoo.problems.planning import ProblemConfig

LEVEL = 0.1


@cache
def problem(method="affine"):
    """ieee33, two stages of the peak slot, PV siting (8 candidates: 8 shared symbols)."""
    return ProblemConfig(case="ieee33", n_stages=2, profile="peak",
                         blocks=(("der", {"kind": "pv", "levels": 4}),),
                         objectives=("total_cost", "pv_uneven_degree"), constraints=(),
                         seed=2, uncertainty={"method": method, "level": LEVEL}).build()


@pytest.fixture(scope="module")
def evaluated():
    p = problem()
    X = p.genome.sample(40, np.random.default_rng(5))
    X = np.array([x for x in X if p.decode(x).der["pv"].sum() > 0][:6])
    return X, p.evaluate_genomes(X, bounds="affine")


def box_points(n, rng):
    return np.vstack([rng.uniform(-1, 1, (40, n)), np.ones(n), -np.ones(n),
                      np.where(np.arange(n) % 2, 1.0, -1.0)])


def test_uneven_degree_is_its_shared_part_within_the_private_radius(evaluated):
    X, (F, _, lo, hi, aff, rad) = evaluated
    p = problem()
    k = p.objective_names.index("pv_uneven_degree")
    n_pv = len(p.grid.case.candidates["pv"])
    assert aff.shape == (len(X), 2, n_pv)
    rng = np.random.default_rng(0)
    for i, x in enumerate(X):
        plan = p.decode(x)
        for u in box_points(n_pv, rng):
            moved = replace(plan, der={**plan.der, "pv": plan.der["pv"] * (1 + LEVEL * u)})
            value = pv_uneven_degree(p.grid, moved)
            residual = value - (F[i, k] + aff[i, k] @ u)
            assert abs(residual) <= rad[i, k] * (1 + 1e-9) + 1e-12, (i, residual, rad[i, k])
    # every plan with PV has shared terms (here 0.43-0.95 of the radius; the rest is the
    # Chebyshev error of the square and the root, and the re-centring on the midpoint)
    assert np.all(np.abs(aff[:, k]).sum(axis=-1) > 0.3 * (np.abs(aff[:, k]).sum(-1) + rad[:, k]))


def test_objectives_without_shared_terms_are_their_interval(evaluated):
    X, (F, _, lo, hi, aff, rad) = evaluated
    k = problem().objective_names.index("total_cost")
    assert not aff[:, k].any()
    np.testing.assert_allclose(F[:, k] - rad[:, k], lo[:, k], rtol=1e-15)
    np.testing.assert_allclose(F[:, k] + rad[:, k], hi[:, k], rtol=1e-15)


def test_shared_symbols_narrow_the_difference_of_two_plans(evaluated):
    X, (F, _, lo, hi, aff, rad) = evaluated
    k = problem().objective_names.index("pv_uneven_degree")
    pair_affine = np.abs(aff[:, None, k] - aff[None, :, k]).sum(-1) + rad[:, None, k] \
        + rad[None, :, k]
    pair_interval = (hi[:, None, k] - lo[:, None, k] + hi[None, :, k] - lo[None, :, k]) / 2
    off = ~np.eye(len(X), dtype=bool)
    assert (pair_affine[off] < pair_interval[off]).any()


def test_only_the_affine_method_exposes_shared_terms():
    assert problem().affine_objectives and not problem("interval").affine_objectives
    X = problem().genome.sample(2, np.random.default_rng(1))
    out = problem("interval").evaluate(X, return_as_dictionary=True)
    assert "F_lo" in out and "F_aff" not in out
    out = problem().evaluate(X, return_as_dictionary=True)
    assert out["F_aff"].shape == (2, 2, 8) and out["F_rad"].shape == (2, 2)


def test_aa_nsga2_with_affine_difference_runs_on_the_planning_problem():
    p = problem()
    algorithm = AANSGA2(pop_size=8, beta=0.6, affine_difference=True,
                        **genome_operators(p.genome))
    algorithm.setup(p, termination=("n_gen", 2), seed=3, verbose=False)
    while algorithm.has_next():
        algorithm.next()
    assert algorithm.pop.get("F_aff").shape == (8, 2, 8) and algorithm.pop.get("rank").min() == 0
