"""Users' allocations (fdnmoo.experiment.user_allocation): a run's chosen blocks kept, the
others drawn by the evaluate_on problem's own sampling and repair.

Reference for the penetration check: the targets of :mod:`fdnmoo.penetration` (seed 000,
R. Wang et al., Nature Communications 15 (2024), eqs. (11c)-(12d), Fig. 3 caption shares),
computed here by hand from the case rather than read from the blocks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fdnmoo.experiment.checking import SpecError
from fdnmoo.experiment.runs_study_spec import parse_runs_study
from fdnmoo.experiment.spec import load_spec
from fdnmoo.experiment.user_allocation import (combined_genomes, draw_summary,
                                               representative_draw, shared_blocks)
from fdnmoo.penetration import ev_demand_mw, pv_rated_mw, pv_target_mw
from fdnmoo.problems.encodings import SopBlock
from fdnmoo.problems.genome import Genome

EXP = Path(__file__).parents[2] / "experiments"
FAST = ("problem.samples=2", "evaluation.backend=serial", "evaluation.workers=1")


@pytest.fixture(scope="module")
def problems():
    """Seed 000's Case VI step 1 (SOPs only) and Case I (SOPs, EVCS, PV) on tpc84."""
    planned = load_spec(EXP / "s000_case6.yaml", settings=FAST).build_problem()
    target = load_spec(EXP / "s000_case1.yaml", settings=FAST).build_problem()
    x = planned.genome.sample(1, np.random.default_rng(3))[0]
    return planned, target, x


def test_shared_genes_are_the_run_s_and_the_rest_is_drawn(problems):
    planned, target, x = problems
    assert shared_blocks(planned.genome, target.genome) == ["sop"]
    X = combined_genomes(planned.genome, target.genome, x, 4, seed=7)
    assert X.shape == (4, target.n_var)
    np.testing.assert_array_equal(X[:, target.genome.slices["sop"]],
                                  np.tile(x[planned.genome.slices["sop"]], (4, 1)))
    for name in ("der_evcs", "der_pv"):  # every pair of draws differs
        drawn = X[:, target.genome.slices[name]]
        assert len({row.tobytes() for row in drawn}) == 4
    # reproducible; draw i does not depend on how many are drawn; another seed differs
    np.testing.assert_array_equal(X, combined_genomes(planned.genome, target.genome, x, 4, 7))
    np.testing.assert_array_equal(X[:2], combined_genomes(planned.genome, target.genome, x, 2, 7))
    assert not np.array_equal(X, combined_genomes(planned.genome, target.genome, x, 4, 8))


def test_every_draw_meets_the_penetration_targets(problems):
    """EVCS: sum of capacities >= e/(1-e) x peak load; PV: sum pf x S >= p x (peak load + EV
    demand), the base of Case I's pv_penetration constraint; and the problem's own
    constraints agree."""
    planned, target, x = problems
    case, net = target.grid.case, target.grid.net
    ev = np.array([ev_demand_mw(case, s, net) for s in (1, 2, 3, 4)])
    pv = np.array([pv_target_mw(case, s, net, base="demand") for s in (1, 2, 3, 4)])
    assert ev[-1] > 0 and pv[-1] > pv_target_mw(case, 4, net)  # the demand base is larger
    for y in combined_genomes(planned.genome, target.genome, x, 5, seed=11):
        plan = target.decode(y)
        assert (plan.der["evcs"].sum(axis=1) >= ev - 1e-9).all()
        assert (pv_rated_mw(case, plan.der["pv"]) >= pv - 1e-9).all()
        g = target.plan_report(y)["constraints"]
        assert g["ev_penetration"] <= 0 and g["pv_penetration"] <= 0


def test_blocks_that_differ_are_refused(problems):
    planned, target, x = problems
    other = Genome([SopBlock(n_devices=3)]).bind(target.grid, 4)
    with pytest.raises(ValueError, match="block 'sop' is not the same in both problems"):
        shared_blocks(other, target.genome)
    with pytest.raises(ValueError, match="nothing for users to draw"):
        shared_blocks(target.genome, target.genome)
    evcs_only = Genome([target.genome.blocks[1]]).bind(target.grid, 4)
    with pytest.raises(ValueError, match="no block in common"):
        shared_blocks(evcs_only, planned.genome)


def test_summary_and_representative_draw():
    import pandas as pd

    draws = pd.DataFrame({"draw": [0, 1, 2, 3], "total": [4.0, 1.0, 3.0, 2.0]})
    summary = draw_summary(draws, ["total"]).iloc[0]
    assert summary["median"] == np.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert (summary["min"], summary["max"]) == (1.0, 4.0)
    assert representative_draw(draws) == 3  # 2.0 and 3.0 are equally near 2.5: the lower


def _study(alloc, kind="cases"):
    run = {"label": "vi", "spec": "s000_case6.yaml", "user_allocation": alloc}
    run.update({"cases": {"paper_case": "VI"}, "schemes": {"system": "a", "scheme": 1}}[kind])
    return {"study": kind, "runs": [run]}


@pytest.mark.parametrize("alloc, kind, message", [
    ({"evaluate_on": "s000_case1.yaml", "draw": 3}, "cases",
     r"runs\[0\]\.user_allocation\.draw: unknown key \(did you mean 'draws'\?\)"),
    ({"draws": 3}, "cases", r"runs\[0\]\.user_allocation\.evaluate_on: missing"),
    ({"evaluate_on": "nope.yaml"}, "cases", r"user_allocation\.evaluate_on: no such file"),
    ({"evaluate_on": "s000_case1.yaml", "draws": 0}, "cases",
     r"user_allocation\.draws: must be >= 1, got 0"),
    ({"evaluate_on": "s000_case1.yaml", "seed": -1}, "cases", r"user_allocation\.seed: must be >= 0"),
    ({"evaluate_on": "s000_case1.yaml"}, "schemes",
     r"runs\[0\]\.user_allocation: only a cases study takes this key")])
def test_bad_user_allocation_is_refused(alloc, kind, message):
    with pytest.raises(SpecError, match=message):
        parse_runs_study(_study(alloc, kind), source="s.yaml", base_dir=EXP)


def test_user_allocation_parses():
    run = parse_runs_study(_study({"evaluate_on": "s000_case1.yaml", "draws": 3, "seed": 7}),
                           source="s.yaml", base_dir=EXP).runs[0]
    assert run.user_allocation.draws == 3 and run.user_allocation.seed == 7
    assert Path(run.user_allocation.evaluate_on) == EXP / "s000_case1.yaml"
