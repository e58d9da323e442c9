"""Network maps of plans on real planning grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.experiment.plots import plot_network
from fdnmoo.planning import Plan, planning_grid

PNG = b"\x89PNG\r\n\x1a\n"


def test_ieee33_map_with_sop_pv_svc(tmp_path):
    grid = planning_grid(load_case("ieee33"))
    closed = grid.base_closed_lines
    # stage 2: close tie 33 (21-8) and open the section feeding bus 21 from bus 20
    section = int(grid.net.line.index[(grid.net.line.from_bus == 20)
                                      & (grid.net.line.to_bus == 21)][0])
    stage2 = np.append(closed[closed != section], 33)
    sop = pd.DataFrame({"stage": [2, 2, 3, 3, 3], "device": [0, 0, 0, 0, 0],
                        "bus": [12, 22, 12, 22, 18], "capacity_mva": [0.5, 0.5, 1, 1, 0.5]})
    pv = np.zeros((3, len(grid.case.candidates["pv"])))
    pv[1:, 0], pv[2, 3] = 0.4, 1.0
    svc = np.zeros((3, len(grid.case.candidates["svc"])))
    svc[:, 1] = 0.3
    plan = Plan(n_stages=3, closed_lines=[closed, stage2, stage2],
                closed_trafos=[grid.base_closed_trafos] * 3, sop=sop,
                der={"pv": pv, "svc": svc})
    path = plot_network(grid, plan, tmp_path / "map.png", title="test plan")
    assert path.read_bytes()[:8] == PNG


def test_md24_map_with_new_lines_and_substation(tmp_path):
    grid = planning_grid(load_case("md24"))
    built = grid.candidate_lines.index[:3].to_numpy()
    trafo = int(grid.candidate_trafos.index[0])
    new_lines = pd.DataFrame({"line": built, "corridor": grid.candidate_lines.corridor[built],
                              "conductor": grid.candidate_lines.conductor[built],
                              "stage": [1, 2, 2]})
    subs = pd.DataFrame({"bus": [int(grid.candidate_trafos.bus[trafo])], "trafo": [trafo],
                         "type": [int(grid.candidate_trafos.type[trafo])], "stage": [2]})
    base = grid.base_closed_lines
    plan = Plan(n_stages=2, closed_lines=[np.append(base, built[:1]), np.append(base, built)],
                closed_trafos=[grid.base_closed_trafos, np.append(grid.base_closed_trafos, trafo)],
                new_lines=new_lines, substations=subs)
    path = plot_network(grid, plan, tmp_path / "md24.png")
    assert path.read_bytes()[:8] == PNG


@pytest.mark.parametrize("n_obj", [2, 4])
def test_pareto_and_convergence_pngs(tmp_path, n_obj):
    from fdnmoo.experiment.plots import plot_convergence, plot_pareto
    from fdnmoo.experiment.results import RunOutcome

    rng = np.random.default_rng(0)
    names = [f"f{j}" for j in range(n_obj)]
    F = rng.random((12, n_obj))
    history = pd.DataFrame({"n_gen": [1, 2, 3], "hypervolume": [0.1, 0.2, 0.3],
                            "feasible_share": [0.5, 0.9, 1.0]})
    for name in names:
        for stat, v in (("best", 0.1), ("q25", 0.2), ("median", 0.3), ("q75", 0.4)):
            history[f"{name}_{stat}"] = [v, v, v]
    outcome = RunOutcome(names, ["kW"] * n_obj, ["min"] * (n_obj - 1) + ["max"], [], F[:, :1],
                         F, np.zeros(12), F, np.zeros(12), history)
    assert plot_pareto(outcome, tmp_path / "p.png", chosen=3).read_bytes()[:8] == PNG
    assert plot_convergence(history, names, tmp_path / "c.png").read_bytes()[:8] == PNG
