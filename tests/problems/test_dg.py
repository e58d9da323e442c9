"""Distributed generation (md24): DgBlock, DG injections, DG economics, the expansion preset.

The block contract itself runs in test_encodings.py (``EXAMPLES["dg"]``).
"""

from __future__ import annotations

import numpy as np
import pytest
from encoding_checks import check_dg, grid_of
from fdnmoo.problems.encodings import DgBlock
from fdnmoo.problems.genome import Genome
from fdnmoo.problems.planning import PRESETS, UNDEFINED, ProblemConfig
from numpy.testing import assert_allclose

from fdnmoo.metrics.economics import BREAKDOWN_COLUMNS, cost_breakdown, investment_items
from fdnmoo.pipeline import evaluate_plans
from fdnmoo.operation.injections import dg_share, net_demand
from fdnmoo.planning import Plan, dg_type_rows
from fdnmoo.scenarios import ScenarioBatch


@pytest.fixture(scope="module")
def md24():
    return grid_of("md24")


@pytest.fixture(scope="module")
def levels_batch(md24):
    return ScenarioBatch.build(md24, profile="levels")


def base_plan(grid, dg_cap: np.ndarray) -> Plan:
    return Plan.on_base_topology(grid, dg_cap.shape[0], der={"dg": dg_cap})


def row_of(grid, bus: int, tech: str) -> int:
    dg = grid.case.candidates["dg"]
    return int(np.flatnonzero((dg.bus == bus) & (dg.technology == tech))[0])


def test_block_genes_and_decoding(md24):
    block = DgBlock().bind(md24, 3)
    n = len(md24.case.candidates["dg"])
    assert block.n_var == 2 * n
    assert_allclose(block.xu[1::2], 3) and np.all(block.xl[1::2] == 1) and np.all(block.xu[::2] == 2)
    x = np.tile([0, 1], n)
    i, k = row_of(md24, 4, "wind"), row_of(md24, 2, "conventional")
    x[2 * i:2 * i + 2] = [2, 2]  # 2.05 MVA wind from stage 2
    x[2 * k:2 * k + 2] = [1, 1]  # 1 MVA conventional from stage 1
    cap = block.capacity(x)
    expected = np.zeros((3, n))
    expected[1:, i] = 2.05
    expected[:, k] = 1.0
    assert_allclose(cap, expected)
    plan = Genome([DgBlock()]).bind(md24, 3).decode(x)
    assert_allclose(plan.der["dg"], expected)
    check_dg(plan, md24)
    rows = dg_type_rows(md24.case, cap[-1])
    types = md24.case.candidates["dg_types"]
    assert (types.technology.iloc[rows[i]], int(types.alternative.iloc[rows[i]])) == ("wind", 2)
    assert (rows >= 0).sum() == 2
    # every vector within the bounds is feasible: repair only clips and rounds
    X = np.vstack([block.xl - 3, block.xu + 3, x + 0.2])
    R = block.repair(X, np.random.default_rng(0), {})
    assert np.array_equal(R, np.vstack([block.xl, block.xu, x]))


def test_dg_type_rows_refuses_unknown_capacity(md24):
    cap = np.zeros(len(md24.case.candidates["dg"]))
    cap[row_of(md24, 2, "conventional")] = 0.91  # a wind size at a conventional site
    with pytest.raises(ValueError, match="not an alternative"):
        dg_type_rows(md24.case, cap)


def test_derblock_refuses_dg(md24):
    from fdnmoo.problems.encodings import DerBlock

    with pytest.raises(ValueError, match="DgBlock"):
        DerBlock("dg").bind(md24, 3)


def test_wind_share_hand_computed(md24, levels_batch):
    share = dg_share(md24, levels_batch)  # (n_dg, n_types, n_levels)
    i = row_of(md24, 4, "wind")
    assert md24.net.bus.zone[4] == "A"
    types = md24.case.candidates["dg_types"]
    j = int(np.flatnonzero((types.technology == "wind") & (types.alternative == 1))[0])
    # zone A level 3: 10.04 m/s on the type-1 curve, between (10, 466) and (11, 600) kW,
    # rated 910 kW
    assert share[i, j, 2] == pytest.approx((466 + 0.04 * 134) / 910)
    assert share[i, j, 2] == pytest.approx(0.518, abs=5e-4)
    # zone C level 1: 4.13 m/s on the type-2 curve: (4, 82)..(5, 174) kW, rated 2050 kW
    c = row_of(md24, 19, "wind")
    assert md24.net.bus.zone[19] == "C"
    j2 = int(np.flatnonzero((types.technology == "wind") & (types.alternative == 2))[0])
    assert share[c, j2, 0] == pytest.approx((82 + 0.13 * 92) / 2050)
    assert share[c, j][0] == pytest.approx((20 + 0.13 * 30) / 910)  # type-1 curve, same wind
    # other profiles: the mean share over the levels in every slot
    peak = dg_share(md24, ScenarioBatch.build(md24, profile="peak"))
    assert_allclose(peak[i, j], share[i, j].mean())
    assert np.all(share <= 1 + 1e-12) and np.all(share >= 0)


def test_injections_respect_capacity(md24, levels_batch):
    n = len(md24.case.candidates["dg"])
    cap = np.zeros((3, n))
    k, w = row_of(md24, 2, "conventional"), row_of(md24, 5, "wind")
    cap[:, k] = 2.0
    cap[:, w] = 0.91
    plan = base_plan(md24, cap)
    bare = base_plan(md24, np.zeros((3, n)))
    nd = net_demand(md24, [plan, bare], levels_batch, 1)
    lf = md24.case.candidates["load_levels"].sort_values("level").load_factor.to_numpy()
    assert_allclose(nd.dg_mw[0, :, k], 2.0 * lf)  # conventional follows the load factor
    assert np.all(nd.dg_mw[0] <= cap[0] + 1e-12)  # never above the rating (unity pf)
    assert_allclose(nd.dg_mw[0, 2, w], 0.91 * (466 + 0.04 * 134) / 910)
    assert_allclose(nd.dg_mw[1], 0.0)
    # the injection lowers the net demand at the DG buses by exactly the output
    pos = nd.dg_bus
    diff = nd.p_mw[1] - nd.p_mw[0]  # (T, S, B)
    assert_allclose(diff[:, 0, pos[k]], nd.dg_mw[0, :, k])
    assert_allclose(nd.q_mvar[0], nd.q_mvar[1])


def test_economics_of_a_conventional_unit(md24, levels_batch):
    n = len(md24.case.candidates["dg"])
    cap = np.zeros((3, n))
    k = row_of(md24, 2, "conventional")
    cap[:, k] = 1.0
    plan = base_plan(md24, cap)
    items = investment_items(md24, plan)
    dg = items[items.kind == "dg"]
    assert len(dg) == 1 and int(dg.stage.iloc[0]) == 1
    assert dg.cost.iloc[0] == pytest.approx(500_000.0)  # 1 MVA x 500,000 USD/MVA (md24)
    assert dg.lifetime_years.iloc[0] == 20.0
    ops = evaluate_plans(md24, [plan, base_plan(md24, np.zeros((3, n)))], levels_batch)
    e = ops[0].dg_energy_mwh
    assert e.shape == (3, n) and np.all(e[:, np.arange(n) != k] == 0)
    levels = md24.case.candidates["load_levels"]
    assert_allclose(e[:, k], (levels.load_factor * levels.duration_h).sum())  # bus 2 supplied
    assert np.all(ops[1].dg_energy_mwh == 0)
    costs = cost_breakdown(md24, plan, ops[0])
    assert list(costs.columns) == BREAKDOWN_COLUMNS
    # 47 USD/MWh against a grid price of about 70 USD/MWh: the unit saves money
    assert (costs.dg_energy < 0).all()
    assert (cost_breakdown(md24, base_plan(md24, np.zeros((3, n))), ops[1]).dg_energy == 0).all()


def test_expansion_preset_builds_dg_on_md24():
    config = ProblemConfig(case="md24", preset="expansion")
    problem = config.build()
    assert [b.name for b in problem.genome.bound_blocks] == ["substations", "lines", "dg"]
    assert problem.batch.n_slots == 3  # profile "levels"
    assert PRESETS["expansion"].profile_for(grid_of("ieee33").case) == "peak"
    assert not any(isinstance(b, DgBlock) for b in PRESETS["expansion"].blocks(grid_of("ieee33").case))


def _run(problem, seed=1, pop_size=16, n_gen=6):
    from fdnmoo.operators import genome_operators
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize

    return minimize(problem, NSGA2(pop_size=pop_size, **genome_operators()), ("n_gen", n_gen),
                    seed=seed, verbose=False)


def _assert_feasible_plans_with_dg(problem, res):
    assert res.X is not None and len(res.F) > 0
    assert np.all(res.F < UNDEFINED)
    with_dg = 0
    for x in np.atleast_2d(res.X):
        report = problem.plan_report(x)
        assert report["constraints"]["budget"] <= 0
        assert report["constraints"]["unserved_energy"] <= 1e-9
        with_dg += bool((report["plan"].item == "dg").any())
    assert with_dg > 0


@pytest.mark.slow
def test_expansion_md24_run_builds_dg():
    problem = ProblemConfig(case="md24", preset="expansion").build()
    _assert_feasible_plans_with_dg(problem, _run(problem))


def test_expansion_md24_first_stage_run_builds_dg():
    problem = ProblemConfig(case="md24", preset="expansion", n_stages=1).build()
    _assert_feasible_plans_with_dg(problem, _run(problem, pop_size=12, n_gen=4))
