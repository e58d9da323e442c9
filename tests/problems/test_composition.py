"""Problems composed from gene blocks with parameters and candidate overrides.

The single-DG study is checked against a brute force over every bus and size, run
through the batch power flow directly (no encoding, no objective code) and
spot-checked with pandapower's Newton-Raphson.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from pymoo.optimize import minimize

from encoding_checks import grid_of
from test_encodings import check_block

from fdnmoo.cases import load_case
from fdnmoo.experiment import load_spec
from fdnmoo.experiment.runner import build_algorithm
from fdnmoo.parameters import ParameterError, UnknownEntryError
from fdnmoo.planning import planning_grid
from fdnmoo.powerflow import BatchPowerFlow
from fdnmoo.problems.encodings import DerBlock, DgBlock, SopBlock
from fdnmoo.problems.encodings.base import with_candidate_tables
from fdnmoo.problems.planning import ProblemConfig

SPEC = Path(__file__).resolve().parents[2] / "experiments" / "dg_single_peak_loss.yaml"
BASE_LOSS_KW = 202.68  # Baran & Wu 33-bus base case losses (README table, pandapower)
SIZES_MW = np.arange(1, 81) * 0.05  # the spec's sizes: 80 levels up to 4 MVA


@pytest.fixture(scope="module")
def brute_force():
    """Peak losses (kW) of one unity-power-factor DG at every bus but the substation x size."""
    case = load_case("ieee33")
    pf = BatchPowerFlow(case.net)
    p, q = pf.base_demand()
    labels = case.net.bus.index.to_numpy()
    buses = [int(b) for b in labels if b not in case.substation_buses]
    P = np.repeat(p, len(buses) * len(SIZES_MW), axis=0)
    for i, b in enumerate(buses):
        P[i * len(SIZES_MW):(i + 1) * len(SIZES_MW), list(labels).index(b)] -= SIZES_MW
    res = pf.run(P, np.repeat(q, len(P), axis=0))
    assert res.converged.all()
    return buses, (res.loss_mw * 1e3).reshape(len(buses), len(SIZES_MW))


def test_brute_force_optimum_agrees_with_pandapower(brute_force):
    buses, loss = brute_force
    i, j = np.unravel_index(np.argmin(loss), loss.shape)
    # literature (Acharya et al. 2006, approximate loss formula): ~2.5-2.6 MW at bus 6; the
    # exact power flow here: 2.60 MW at bus 6, 103.97 kW
    assert buses[i] == 6 and SIZES_MW[j] == pytest.approx(2.6)
    net = load_case("ieee33").net
    pp.create_sgen(net, bus=6, p_mw=2.6, q_mvar=0.0)
    pp.runpp(net, init="flat", tolerance_mva=1e-10)
    assert loss[i, j] == pytest.approx(net.res_line.pl_mw.sum() * 1e3, rel=1e-6)
    assert loss[i, j] == pytest.approx(103.97, abs=0.01)


def test_dg_spec_problem_reproduces_the_brute_force(brute_force):
    buses, loss = brute_force
    problem = load_spec(SPEC).build_problem()
    assert problem.n_var == 2 * len(buses) and problem.objective_names == ["loss_kw"]
    X = np.zeros((3, problem.n_var), dtype=int)
    X[:, 1::2] = 1
    X[1, 2 * buses.index(6)] = 52  # 2.60 MW at bus 6
    X[2, 2 * buses.index(18)] = 17  # 0.85 MW at bus 18
    F, G = problem.evaluate_genomes(X)
    assert F[0, 0] == pytest.approx(BASE_LOSS_KW, abs=0.01)
    assert F[1, 0] == pytest.approx(loss[buses.index(6), 51], rel=1e-9)
    assert F[2, 0] == pytest.approx(loss[buses.index(18), 16], rel=1e-9)
    # two units would beat one; the block's repair keeps only the larger
    two = X[1].copy()
    two[2 * buses.index(30)] = 20
    repaired = problem.genome.repair(two[None, :], np.random.default_rng(0))[0]
    assert_allclose(repaired, X[1])


def test_short_dg_run_finds_the_brute_force_optimum(brute_force):
    _, loss = brute_force
    spec = load_spec(SPEC)
    problem = spec.build_problem()
    # the spec's algorithm (NSGA-II, its prob_var), shortened: 20 x 15 instead of 30 x 40
    algorithm = build_algorithm(replace(spec.algorithm, pop_size=20), problem)
    res = minimize(problem, algorithm, ("n_gen", 15), seed=spec.seed, verbose=False)
    F, X = np.atleast_2d(res.F), np.atleast_2d(res.X)
    best = float(F[:, 0].min())
    assert best < BASE_LOSS_KW * 0.6
    assert best <= loss.min() * 1.03  # within 3 % of the brute-force optimum (103.97 kW)
    plan = problem.decode(X[np.argmin(F[:, 0])])
    assert np.count_nonzero(plan.der["dg"][-1]) == 1


def test_preset_blocks_are_changed_by_name_and_others_kept():
    config = ProblemConfig(case="ieee33", preset="joint", n_days=1,
                           blocks=(("der", {"kind": "pv", "levels": 10, "max_buses": 2}),
                                   ("der", {"kind": "ess", "levels": 2}),
                                   ("der", {"kind": "evcs", "max_buses": 1})))
    blocks = config.gene_blocks(load_case("ieee33"))
    assert [b.name for b in blocks] == ["lines", "sop", "der_pv", "der_svc", "der_ess",
                                        "der_evcs"]
    pv = blocks[2].get_params()
    assert (pv["levels"], pv["max_buses"], pv["penetration"]) == (10, 2, False)
    assert blocks[3].get_params()["levels"] == 4  # the preset's svc block untouched
    problem = config.build()
    X = problem.genome.sample(4, np.random.default_rng(0))
    plans = [problem.decode(x) for x in X]
    assert all(set(p.der) == {"pv", "svc", "ess", "evcs"} for p in plans)
    assert all(np.count_nonzero(p.der["evcs"][-1]) <= 1 for p in plans)
    F, G = problem.evaluate_genomes(X)
    assert np.isfinite(F).all() and F.shape == (4, 4)


def test_composition_changes_the_config_key_and_survives_pickling():
    a = ProblemConfig(case="ieee33", preset="dg_siting")
    b = ProblemConfig(case="ieee33", preset="dg_siting", blocks=(("der", {"kind": "pv", "levels": 8}),))
    c = ProblemConfig(case="ieee33", preset="dg_siting",
                      constraints=(("voltage_band", {"vmin_pu": 0.9}),))
    d = ProblemConfig(case="ieee33", preset="dg_siting",
                      constraints=(("voltage_band", {"vmin_pu": 0.92}),))
    assert len({a.key, b.key, c.key, d.key}) == 4
    for config in (a, b, c, d):
        again = pickle.loads(pickle.dumps(config))
        assert again == config and again.key == config.key
    assert ProblemConfig(case="ieee33", preset="dg_siting", constraints=["voltage_band"]) \
        == ProblemConfig(case="ieee33", preset="dg_siting", constraints=("voltage_band",))


@pytest.mark.parametrize("kwargs, key, message", [
    ({"blocks": (("lnes", {}),)}, "blocks[0]", "unknown gene block 'lnes' (did you mean 'lines'?)"),
    ({"blocks": (("der", {"kind": "pv", "level": 3}),)}, "blocks[0].der.level",
     "unknown parameter of gene block 'der' (did you mean 'levels'?)"),
    ({"blocks": (("der", {"kind": "pv", "levels": "many"}),)}, "blocks[0].der.levels",
     "expected an integer"),
    ({"blocks": (("der", {"levels": 3}),)}, "blocks[0].der.kind", "needs parameter 'kind'"),
    ({"constraints": (("voltage_band", {"v_min": 0.9}),)}, "constraints[0].voltage_band.v_min",
     "did you mean 'vmin_pu'?"),
    ({"objectives": ("loss_kw", "los_kw")}, "objectives[1]", "did you mean 'loss_kw'?"),
    ({"options": (("w5", 1.0),)}, "options.w5", "unknown objective option 'w5'"),
    ({"options": (("w1", "heavy"),)}, "options.w1", "expected a number"),
    ({"preset": "jiont"}, "preset", "did you mean 'joint'?"),
    ({"preset": None, "objectives": ("loss_kw",)}, "preset", "give a preset, or blocks"),
])
def test_bad_compositions_are_named(kwargs, key, message):
    args = {"case": "ieee33", "preset": "joint", **kwargs}
    with pytest.raises(ParameterError) as err:
        ProblemConfig(**args)
    assert err.value.key == key and message in err.value.message


def test_unknown_names_are_also_key_errors():
    with pytest.raises(KeyError, match="unknown objective 'cheapness'"):
        ProblemConfig(case="ieee33", preset="joint", objectives=("cheapness",))
    with pytest.raises(UnknownEntryError):
        ProblemConfig(case="ieee33", blocks=("nothing",), objectives=("loss_kw",))


def test_candidate_overrides_set_buses_and_caps():
    case = load_case("ieee33")
    pv = DerBlock("pv", buses=[6, 18, 33], max_mw={18: 1.5}, levels=3)
    with pytest.raises(ParameterError, match="max_mw: bus 6 is not a pv candidate"):
        pv.candidate_tables(case)  # 6 and 33 are not in the case's PV table: they need a cap
    pv = DerBlock("pv", buses=[7, 18, 33], max_mw={33: 2.5}, levels=3)
    table = pv.candidate_tables(case)["pv"]
    assert table.bus.tolist() == [7, 18, 33]
    assert table.max_mw.tolist() == [1.0, 1.0, 2.5]  # 7, 18 keep the case's 1.0 MW
    grid = planning_grid(with_candidate_tables(case, [pv]))
    bound = pv.bind(grid, 2)
    assert bound.n_var == 2 * 3
    assert_allclose(bound.capacity([0, 3, 3, 1, 3, 3])[-1], [1 / 3, 1.0, 2.5])
    with pytest.raises(ValueError, match="bind it to a case from with_candidate_tables"):
        pv.bind(grid_of("ieee33"), 2)  # the overrides must not be silently ignored
    ess = DerBlock("ess", buses="all", max_mw=0.5, max_mwh=1.0).candidate_tables(case)["ess"]
    assert len(ess) == 32 and 1 not in set(ess.bus)  # every bus but the substation
    sop = SopBlock(buses=[18, 33, 22]).candidate_tables(case)["sop_nodes"]
    assert sop.feeder.tolist() == case.net.bus.feeder[[18, 33, 22]].astype(str).tolist()


@pytest.mark.parametrize("block, key, message", [
    (DerBlock("pv", buses=[6, 99], max_mw=1.0), "blocks[0].der.buses",
     "bus 99 is not a bus of case 'ieee33'"),
    (DerBlock("pv", buses=[6, 6], max_mw=1.0), "blocks[0].der.buses", "repeat"),
    (DerBlock("svc", max_mw=1.0), "blocks[0].der.max_mw", "capped by max_mvar"),
    (DerBlock("pv", max_mw={6: -1.0}), "blocks[0].der.max_mw", "finite and > 0"),
    (DgBlock(buses=[6], max_mva=2.0), "blocks[0].dg.levels", "go together"),
    (DgBlock(buses=[6], max_mva=2.0, levels=4, technology="wind"), "blocks[0].dg.technology",
     "conventional"),
])
def test_bad_overrides_name_block_key_and_value(block, key, message):
    with pytest.raises(ParameterError) as err:
        with_candidate_tables(load_case("ieee33"), [block])
    assert err.value.key == key and message in err.value.message


def test_override_blocks_keep_the_block_contract():
    case = load_case("ieee33")
    for block in (DerBlock("pv", buses=[6, 18, 33], max_mw={6: 2.0, 18: 1.0, 33: 0.5},
                           max_buses=2, levels=5),
                  DgBlock(buses="all", max_mva={6: 3.0, 30: 1.0}, levels=6, max_units=1),
                  SopBlock(buses=[18, 33, 22, 25], n_devices=1)):
        grid = planning_grid(with_candidate_tables(case, [block]))
        check_block(block, grid, 2)


@pytest.fixture(scope="module")
def dg_grid():
    block = DgBlock(buses="all", max_mva={6: 3.0, 18: 1.0}, levels=6, max_units=2)
    grid = planning_grid(with_candidate_tables(load_case("ieee33"), [block]))
    return block.bind(grid, 3)


@settings(max_examples=40, deadline=None)
@given(genes=st.lists(st.integers(0, 6), min_size=2, max_size=2), stages=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_dg_repair_keeps_the_largest_units(dg_grid, genes, stages, seed):
    block = dg_grid
    rng = np.random.default_rng(seed)
    x = rng.integers(block.xl, block.xu + 1)
    x[0::2][:2] = np.minimum(genes, block.xu[0::2][:2])
    y = block.repair(x[None, :], rng, {})[0]
    cap = block.capacity(y)[-1]
    assert np.count_nonzero(cap) <= 2
    before = block.capacity(np.clip(x, block.xl, block.xu))[-1]
    kept = np.sort(cap[cap > 0])
    assert_allclose(kept, np.sort(before)[::-1][:len(kept)][::-1])  # the largest survive
    assert len(kept) == min(2, np.count_nonzero(before))
    assert_allclose(block.repair(y[None, :], rng, {})[0], y)  # idempotent
    # per-bus caps: bus 6 up to 3.0 MVA, bus 18 up to 1.0 MVA, every size a multiple of 0.5
    buses = block.grid.case.candidates["dg"].bus.to_numpy()
    full = block.capacity(block.xu)[-1]
    assert full[buses == 6][0] == pytest.approx(3.0) and full[buses == 18][0] == pytest.approx(1.0)
    assert_allclose(np.mod(cap, 0.5), 0.0, atol=1e-12)


def test_every_block_parameter_is_settable_in_a_composition():
    """Every constructor parameter of every registered block passes the config's checks."""
    import inspect

    from fdnmoo.problems.encodings import BLOCKS

    required = {"kind": "pv"}
    for name, cls in BLOCKS.items():
        params = {p.name: required.get(p.name, p.default) for p in
                  list(inspect.signature(cls.__init__).parameters.values())[1:]}
        config = ProblemConfig(case="ieee33", blocks=((name, params),), objectives=("loss_kw",))
        block, = config.gene_blocks(load_case("ieee33"))
        assert block.get_params() == params


def test_register_block_refuses_a_taken_name():
    from fdnmoo.problems.encodings import BLOCKS, register_block

    before = dict(BLOCKS)
    with pytest.raises(ValueError, match=r"'der' is already registered \(by "
                                         r"fdnmoo\.problems\.encodings\.der\.DerBlock\)"):
        @register_block("der")
        class Other(DerBlock):
            pass
    assert BLOCKS == before


def test_horizon_changes_reach_the_scenarios():
    """Stage demand is the case's loads grown to the stage's end: (1 + g) ** (stage * years)."""
    net = load_case("ieee33").net
    base_mw = float((net.load.p_mw * net.load.scaling).sum())  # 3.715 MW (Baran & Wu)
    for growth, years in [(0.0, 5.0), (0.03, 2.0)]:
        config = ProblemConfig(case="ieee33", preset="dg_siting", n_stages=2, profile="peak",
                               horizon=(("load_growth_per_year", growth),
                                        ("years_per_stage", years)))
        problem = config.build()
        total = problem.batch.load_p_mw[:, 0, 0, :].sum(axis=1)
        assert_allclose(total, base_mw * (1 + growth) ** (np.arange(1, 3) * years), rtol=1e-12)
        assert problem.composition["horizon"]["load_growth_per_year"] == growth
    assert config.key != ProblemConfig(case="ieee33", preset="dg_siting", n_stages=2,
                                       profile="peak").key
