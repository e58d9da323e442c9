"""The DG penetration cap of seed 002 (Wang & Jing 2022, eq. (12)), by hand on md24.

Stage peaks: the sums of ``peak_demand_mva`` per stage in shared/data/munoz_delgado_24node.json
(the Muñoz-Delgado 24-node data), added by hand: 16.64, 27.58 and 46.85 MVA.
"""

import numpy as np
import pytest

from fdnmoo.cases import load_case
from fdnmoo.objectives import CONSTRAINTS, Evaluated, Population
from fdnmoo.operators import GenomeSampling
from fdnmoo.parameters import ParameterError
from fdnmoo.planning import Plan, PlanBatch, planning_grid
from fdnmoo.problems.planning import ProblemConfig

PEAK_MVA = np.array([16.64, 27.58, 46.85])  # per stage, summed by hand from the source data


@pytest.fixture(scope="module")
def grid():
    return planning_grid(load_case("md24"))


def _evaluated(grid, dg) -> Evaluated:
    plan = Plan.on_base_topology(grid, 3, der={"dg": dg})
    population = Population(grid, PlanBatch.of(grid, [plan]), ops=None)
    return Evaluated(grid, plan, None, _population=population)


def _cap(max_share: float):
    return CONSTRAINTS["dg_penetration"].with_params({"max_share": max_share})


def test_capacity_over_stage_peak_by_hand(grid):
    dg = np.zeros((3, len(grid.case.candidates["dg"])))
    dg[:, 0] = 2.0  # 2 MVA conventional at bus 2 from stage 1
    dg[2, 8] = 2.05  # 2.05 MVA wind (first wind candidate, bus 1) in stage 3
    ev = _evaluated(grid, dg)
    # shares: 2 / 16.64 = 0.12019, 2 / 27.58 = 0.07252, 4.05 / 46.85 = 0.08645: stage 1 binds
    assert _cap(0.10)(ev) == pytest.approx(2 / 16.64 - 0.10, abs=1e-9)
    assert _cap(0.25)(ev) == pytest.approx(2 / 16.64 - 0.25, abs=1e-9)
    assert _cap(0.25)(ev) < 0 < _cap(0.10)(ev)
    dg[:, 0] = 0.0  # only the stage-3 wind unit
    # 2.05 / 46.85 = 0.04376: within 5 %
    assert _cap(0.05)(_evaluated(grid, dg)) == pytest.approx(2.05 / 46.85 - 0.05, abs=1e-9)


def test_no_dg_is_feasible_even_at_zero_penetration(grid):
    ev = _evaluated(grid, np.zeros((3, len(grid.case.candidates["dg"]))))
    assert _cap(0.0)(ev) == 0.0
    assert _cap(0.2)(ev) == -0.2


def test_bad_parameters_are_refused(grid):
    ev = _evaluated(grid, np.zeros((3, len(grid.case.candidates["dg"]))))
    with pytest.raises(ValueError, match="max_share must be >= 0"):
        _cap(-0.1)(ev)
    with pytest.raises(ParameterError, match="needs parameter 'max_share'"):
        CONSTRAINTS["dg_penetration"].with_params({}, key="constraints[0].dg_penetration")


def test_in_a_problem_every_plan_gets_its_dg_share(grid):
    problem = ProblemConfig(case="md24", preset="expansion", objectives=("total_cost",),
                            constraints=(("dg_penetration", {"max_share": 0.1}),)).build()
    k = problem.constraint_names.index("dg_penetration")
    X = GenomeSampling()._do(problem, 6, random_state=np.random.default_rng(3))
    _, G = problem.evaluate_genomes(X)
    for x, g in zip(X, G[:, k]):
        dg = problem.decode(x).der["dg"]
        assert g == pytest.approx(np.max(dg.sum(axis=1) / PEAK_MVA) - 0.1, abs=1e-9)
