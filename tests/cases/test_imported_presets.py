"""Every preset builds and evaluates on imported cases (a user's net and a SimBench grid).

A short seeded NSGA-II run (6 individuals, 2 generations) per preset; every objective of
the evaluated random genomes is finite, and a plan report decodes.
"""

import numpy as np
import pandapower.networks as pn
import pytest
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize

from fdnmoo.cases import from_pandapower, load_case, write_case
from fdnmoo.operators import genome_operators
from fdnmoo.problems.planning import PRESETS, UNDEFINED, ProblemConfig


@pytest.fixture(scope="module")
def cigre_file(tmp_path_factory):
    case = from_pandapower(pn.create_cigre_network_mv(with_der="pv_wind"), name="cigre-mv")
    return str(write_case(case, tmp_path_factory.mktemp("cases") / "cigre-mv.json"))


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("which", ["cigre", "simbench-mv-rural"])
def test_preset_runs_on_an_imported_case(preset, which, cigre_file):
    case = cigre_file if which == "cigre" else which
    daily = preset not in ("reconfiguration", "expansion")  # those two default to one snapshot
    # zonal plans per cluster: the imported case's feeders
    clusters = tuple(load_case(case).net.bus.feeder.astype(str).factorize()[0]) \
        if preset == "zonal" else ()
    problem = ProblemConfig(case=case, preset=preset, n_days=1 if daily else None,
                            clusters=clusters).build()
    if preset == "no_planning":  # the base network as is: no genes, one plan
        assert problem.n_var == 0
        F, G = problem.evaluate_genomes(np.zeros((1, 0), dtype=np.int64))
        assert F.shape == (1, problem.n_obj) and (F < UNDEFINED).all() and np.isfinite(G).all()
        return
    assert problem.n_var > 0
    X = problem.genome.sample(4, np.random.default_rng(0))
    F, G = problem.evaluate_genomes(X)
    assert F.shape == (4, problem.n_obj) and (F < UNDEFINED).all() and np.isfinite(G).all()
    res = minimize(problem, NSGA2(pop_size=6, **genome_operators()), ("n_gen", 2), seed=1, verbose=False)
    assert len(res.pop) == 6
    report = problem.plan_report(res.pop.get("X")[0])
    assert set(report["objectives"]) == set(problem.objective_names)
