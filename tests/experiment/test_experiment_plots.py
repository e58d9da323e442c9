"""What the figures draw: network maps of plans on real planning grids, Pareto and convergence.

The ``*_figure`` functions return the matplotlib figure; the tests count its
axes and artists (found by their ``gid``) and check their data against the
plan or outcome drawn. The ``plot_*`` wrappers are checked to write that
figure: a PNG of the figure's size in pixels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_checks import assert_png_of

from fdnmoo.cases import load_case
from fdnmoo.experiment.plots import (convergence_figure, network_figure, pareto_figure,
                                     plot_convergence, plot_network, plot_pareto)
from fdnmoo.experiment.results import RunOutcome
from fdnmoo.planning import Plan, planning_grid


def artists(ax, gid: str) -> list:
    return [a for a in (*ax.lines, *ax.collections) if a.get_gid() == gid]


def points(ax, gid: str) -> np.ndarray:
    """Offsets of every scatter with ``gid`` on ``ax``, stacked (n, 2)."""
    found = [a.get_offsets() for a in artists(ax, gid)]
    return np.vstack(found) if found else np.zeros((0, 2))


def segments(ax, gid: str) -> set[frozenset]:
    """Plotted two-point lines with ``gid`` as sets of their end points."""
    return {frozenset(map(tuple, np.column_stack(a.get_data()).tolist()))
            for a in artists(ax, gid)}


def xy(grid, bus: int) -> tuple[float, float]:
    return float(grid.net.bus.x_km[bus]), float(grid.net.bus.y_km[bus])


@pytest.fixture(scope="module")
def ieee33():
    return planning_grid(load_case("ieee33"))


@pytest.fixture(scope="module")
def ieee33_plan(ieee33):
    grid = ieee33
    closed = grid.base_closed_lines
    # stage 2: close tie 33 (21-8) and open the section feeding bus 21 from bus 20
    section = int(grid.net.line.index[(grid.net.line.from_bus == 20)
                                      & (grid.net.line.to_bus == 21)][0])
    stage2 = np.append(closed[closed != section], 33)
    sop = pd.DataFrame({"stage": [2, 2, 3, 3, 3], "device": [0, 0, 0, 0, 0],
                        "bus": [12, 22, 12, 22, 18], "capacity_mva": [0.5, 0.5, 1, 1, 0.5]})
    pv = np.zeros((3, len(grid.case.candidates["pv"])))
    pv[1:, 0], pv[2, 3] = 0.4, 1.0  # candidates 0 and 3: buses 7 and 22
    svc = np.zeros((3, len(grid.case.candidates["svc"])))
    svc[:, 1] = 0.3  # candidate 1: bus 18
    return Plan(n_stages=3, closed_lines=[closed, stage2, stage2],
                closed_trafos=[grid.base_closed_trafos] * 3, sop=sop,
                der={"pv": pv, "svc": svc})


def test_ieee33_map_draws_every_line_sop_pv_and_svc_of_the_plan(ieee33, ieee33_plan, tmp_path):
    grid = ieee33
    fig = network_figure(grid, ieee33_plan, title="test plan")
    axes = [ax for ax in fig.axes if ax.get_title().startswith("stage")]
    assert [ax.get_title() for ax in axes] == ["stage 1", "stage 2", "stage 3"]
    assert fig._suptitle.get_text() == "ieee33: test plan"
    for ax in axes:
        # Baran & Wu: 32 sections closed, 5 ties open, 33 buses, one substation (bus 1)
        assert len(artists(ax, "closed_line")) == 32 and len(artists(ax, "open_line")) == 5
        assert len(points(ax, "bus")) == 33
        np.testing.assert_allclose(points(ax, "substation"), [xy(grid, 1)])
        assert not artists(ax, "new_line") and not artists(ax, "new_substation")
    s1, s2, s3 = axes
    tie_8_21 = frozenset({xy(grid, 8), xy(grid, 21)})
    section_20_21 = frozenset({xy(grid, 20), xy(grid, 21)})
    assert tie_8_21 in segments(s1, "open_line") and section_20_21 in segments(s1, "closed_line")
    assert tie_8_21 in segments(s2, "closed_line") and section_20_21 in segments(s2, "open_line")
    # SOP: no device in stage 1, two terminals in stage 2, three in stage 3, each linked to its hub
    assert [len(artists(ax, "sop_link")) for ax in axes] == [0, 2, 3]
    assert [len(points(ax, "sop_terminal")) for ax in axes] == [0, 2, 3]
    np.testing.assert_allclose(points(s3, "sop_terminal"), [xy(grid, b) for b in (12, 22, 18)])
    np.testing.assert_allclose(points(s3, "sop_hub"),
                               [np.mean([xy(grid, b) for b in (12, 22, 18)], axis=0)])
    # PV at bus 7 from stage 2 (0.4 MW), at bus 22 in stage 3 (1 MW); area 30 + 270 * cap / max
    assert len(points(s1, "pv")) == 0
    np.testing.assert_allclose(points(s2, "pv"), [xy(grid, 7)])
    np.testing.assert_allclose(points(s3, "pv"), [xy(grid, 7), xy(grid, 22)])
    np.testing.assert_allclose(artists(s3, "pv")[0].get_sizes(), [138.0, 300.0])
    for ax in axes:  # SVC 0.3 Mvar at bus 18 in every stage, the largest SVC: full size
        np.testing.assert_allclose(points(ax, "svc"), [xy(grid, 18)])
        np.testing.assert_allclose(artists(ax, "svc")[0].get_sizes(), [300.0])
    path = plot_network(grid, ieee33_plan, tmp_path / "map.png", title="test plan")
    assert_png_of(fig, path)


def test_md24_map_draws_new_lines_and_the_new_substation(tmp_path):
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
    fig = network_figure(grid, plan)
    s1, s2 = [ax for ax in fig.axes if ax.get_title().startswith("stage")]
    line = grid.net.line
    ends = {int(k): frozenset({xy(grid, int(line.from_bus[k])), xy(grid, int(line.to_bus[k]))})
            for k in built}
    # one line built in stage 1, three by stage 2 (two conductors share corridor 0)
    assert len(artists(s1, "new_line")) == 1 and segments(s1, "new_line") == {ends[built[0]]}
    assert len(artists(s2, "new_line")) == 3
    assert segments(s2, "new_line") == set(ends.values())
    n_base = len(grid.base_lines)
    for ax in (s1, s2):
        assert len(artists(ax, "closed_line")) + len(artists(ax, "open_line")) == n_base
    # substations 21 and 22 exist; candidate 23 is built in stage 2 (md24, Munoz-Delgado et al.)
    for ax in (s1, s2):
        np.testing.assert_allclose(points(ax, "substation"), [xy(grid, 21), xy(grid, 22)])
    assert len(points(s1, "new_substation")) == 0
    np.testing.assert_allclose(points(s2, "new_substation"), [xy(grid, 23)])
    assert_png_of(fig, plot_network(grid, plan, tmp_path / "md24.png"))


def toy_outcome(n_obj: int, n_pop: int = 12, n_front: int = 5) -> RunOutcome:
    rng = np.random.default_rng(0)
    names = [f"f{j}" for j in range(n_obj)]
    pop_F = rng.random((n_pop, n_obj))
    history = pd.DataFrame({"n_gen": [1, 2, 3], "hypervolume": [0.1, 0.2, 0.3],
                            "feasible_share": [0.5, 0.9, 1.0]})
    for j, name in enumerate(names):
        for stat, v in (("best", 0.1), ("q25", 0.2), ("median", 0.3), ("q75", 0.4)):
            history[f"{name}_{stat}"] = [v + j, v + j, v + j]
    front = pop_F[:n_front]
    return RunOutcome(names, ["kW"] * n_obj, ["min"] * (n_obj - 1) + ["max"], [], front[:, :1],
                      front, np.zeros(n_front), pop_F, np.zeros(n_pop), history)


@pytest.mark.parametrize("n_obj", [2, 4])
def test_pareto_matrix_draws_population_front_and_chosen_point(tmp_path, n_obj):
    outcome = toy_outcome(n_obj)
    own = outcome.objectives  # own sign: the last objective is maximised, so negated
    np.testing.assert_allclose(own[:, -1], -outcome.F[:, -1])
    fig = pareto_figure(outcome, chosen=3)
    grid_axes = [ax for ax in fig.axes]
    assert len(grid_axes) == n_obj * n_obj
    assert fig._suptitle.get_text() == "5 Pareto solutions"
    for k, ax in enumerate(grid_axes):
        i, j = divmod(k, n_obj)
        if i == j:  # histogram of the 5 Pareto values of objective j
            heights = [p.get_height() for p in ax.patches]
            assert len(heights) == 5 and sum(heights) == 5
            continue
        np.testing.assert_allclose(points(ax, "population"),
                                   (outcome.pop_F * outcome.signs)[:, [j, i]])
        np.testing.assert_allclose(points(ax, "pareto"), own[:, [j, i]])
        np.testing.assert_allclose(points(ax, "chosen"), own[[3]][:, [j, i]])
    assert grid_axes[-1].get_xlabel() == f"f{n_obj - 1} [kW] (max)"
    assert grid_axes[n_obj].get_ylabel() == "f1 [kW]" + (" (max)" if n_obj == 2 else "")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == \
        ["final population", "Pareto set", "chosen"]
    assert_png_of(fig, plot_pareto(outcome, tmp_path / "p.png", chosen=3))
    assert not any(artists(ax, "chosen") for ax in pareto_figure(outcome).axes)


@pytest.mark.parametrize("n_obj", [2, 4])
def test_convergence_panels_draw_the_history(tmp_path, n_obj):
    outcome = toy_outcome(n_obj)
    names, history = outcome.objective_names, outcome.history
    fig = convergence_figure(history, names)
    n_panels = 2 + n_obj
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == n_panels and len(fig.axes) == 2 * -(-n_panels // 2)
    hv, feasible, *objectives = visible
    np.testing.assert_allclose(np.column_stack(hv.lines[0].get_data()),
                               [[1, 0.1], [2, 0.2], [3, 0.3]])
    np.testing.assert_allclose(feasible.lines[0].get_ydata(), [50, 90, 100])
    for j, (ax, name) in enumerate(zip(objectives, names)):
        assert ax.get_ylabel() == name
        median, best = ax.lines
        np.testing.assert_allclose(median.get_ydata(), 0.3 + j)
        np.testing.assert_allclose(best.get_ydata(), 0.1 + j)
        band = ax.collections[0].get_paths()[0].vertices[:, 1]  # IQR band between q25 and q75
        assert band.min() == pytest.approx(0.2 + j) and band.max() == pytest.approx(0.4 + j)
    assert_png_of(fig, plot_convergence(history, names, tmp_path / "c.png"))
