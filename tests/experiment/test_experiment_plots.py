"""What the run figures draw: Pareto front (2-D scatter or matrix) and convergence panels.

The ``*_figure`` functions return the matplotlib figure; the tests count its
axes and artists (found by their ``gid``), check their data against the
outcome drawn and measure the rendered text (offset texts against axis
labels). The ``plot_*`` wrappers are checked to write that figure: a PNG of
the figure's size in pixels. Network maps: ``test_network_map.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_checks import assert_png_of, draw, offsets_on_labels

from fdnmoo.cases import load_case
from fdnmoo.experiment.figure_base import new_figure
from fdnmoo.experiment.plots import (convergence_figure, pareto_figure, plot_convergence,
                                     plot_pareto)
from fdnmoo.experiment.outcome import RunOutcome


def artists(ax, gid: str) -> list:
    return [a for a in (*ax.lines, *ax.collections) if a.get_gid() == gid]


def points(ax, gid: str) -> np.ndarray:
    """Offsets of every scatter with ``gid`` on ``ax``, stacked (n, 2)."""
    found = [a.get_offsets() for a in artists(ax, gid)]
    return np.vstack(found) if found else np.zeros((0, 2))


def toy_outcome(n_obj: int, n_pop: int = 12, n_front: int = 5, names=None,
                units=None, scale=None) -> RunOutcome:
    rng = np.random.default_rng(0)
    names = names or [f"f{j}" for j in range(n_obj)]
    pop_F = rng.random((n_pop, n_obj)) * (1.0 if scale is None else np.asarray(scale))
    history = pd.DataFrame({"n_gen": [1, 2, 3], "hypervolume": [0.1, 0.2, 0.3],
                            "feasible_share": [0.5, 0.9, 1.0]})
    for j, name in enumerate(names):
        for stat, v in (("best", 0.1), ("q25", 0.2), ("median", 0.3), ("q75", 0.4)):
            history[f"{name}_{stat}"] = [v + j, v + j, v + j]
    front = pop_F[:n_front]
    return RunOutcome(names, units or ["kW"] * n_obj, ["min"] * (n_obj - 1) + ["max"], [],
                      front[:, :1],
                      front, np.zeros(n_front), pop_F, np.zeros(n_pop), history)


def test_two_objectives_draw_one_scatter_of_population_front_and_chosen(tmp_path):
    outcome = toy_outcome(2)
    own = outcome.objectives  # own sign: the last objective is maximised, so negated
    np.testing.assert_allclose(own[:, -1], -outcome.F[:, -1])
    fig = pareto_figure(outcome, chosen=3)
    (ax,) = fig.axes
    assert fig._suptitle.get_text() == "5 Pareto solutions"
    np.testing.assert_allclose(points(ax, "population"), outcome.pop_F * outcome.signs)
    assert artists(ax, "population")[0].get_facecolor()[0][:3] == pytest.approx([0.75] * 3)
    np.testing.assert_allclose(points(ax, "pareto"), own)
    np.testing.assert_allclose(points(ax, "chosen"), own[[3]])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("f0 [kW]", "f1 [kW] (max)")
    assert not ax.patches  # no histogram
    assert [t.get_text() for t in fig.legends[0].get_texts()] == \
        ["final population", "Pareto set", "chosen"]
    assert_png_of(fig, plot_pareto(outcome, tmp_path / "p.png", chosen=3))
    assert not any(artists(ax, "chosen") for ax in pareto_figure(outcome).axes)


@pytest.mark.parametrize("n_obj", [3, 4])
def test_more_objectives_draw_a_scatter_matrix(tmp_path, n_obj):
    outcome = toy_outcome(n_obj)
    own = outcome.objectives
    fig = pareto_figure(outcome, chosen=3)
    grid_axes = list(fig.axes)
    assert len(grid_axes) == n_obj * n_obj
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
    # x labels on the bottom row; each row's y label once, on its first scatter panel
    # (row 0: column 1, as column 0 holds the histogram)
    labels = [f"f{j} [kW]" for j in range(n_obj - 1)] + [f"f{n_obj - 1} [kW] (max)"]
    visible_x = [ax.get_xlabel() for ax in grid_axes if ax.xaxis.label.get_visible()]
    visible_y = [ax.get_ylabel() for ax in grid_axes if ax.yaxis.label.get_visible()]
    assert visible_x == labels and visible_y == labels
    assert grid_axes[1].yaxis.label.get_visible() and grid_axes[n_obj].yaxis.label.get_visible()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == \
        ["final population", "Pareto set", "chosen"]
    assert_png_of(fig, plot_pareto(outcome, tmp_path / "p.png", chosen=3))


def test_one_objective_has_no_front_but_a_convergence_plot():
    outcome = toy_outcome(1)
    with pytest.raises(ValueError, match="convergence_figure"):
        pareto_figure(outcome)
    fig = convergence_figure(outcome.history, outcome.objective_names, outcome.units)
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_visible()][2:] == ["f0 [kW]"]


@pytest.fixture(scope="module")
def money_outcome():
    # a cost of ~1.5e7 (the size of a 20-year NPV in CNY) against a small adaptability index
    return toy_outcome(2, names=["total_cost", "structural_adaptability"],
                       units=["currency (NPV)", "-"], scale=[1.5e7, 0.8])


@pytest.mark.parametrize("case_name, currency", [("ieee69", "CNY"), ("md24", "USD")])
def test_money_axes_carry_the_case_currency_and_their_power_of_ten(money_outcome, case_name,
                                                                   currency):
    case = load_case(case_name)
    assert case.economics.currency == currency  # as the case files state
    fig = pareto_figure(money_outcome, chosen=0, case=case)
    (ax,) = fig.axes
    assert ax.get_xlabel() == f"total_cost [$10^{{6}}$ {currency} (NPV)]"
    assert ax.get_ylabel() == "structural_adaptability (max)"
    draw(fig)
    ticks = [float(t.get_text().replace("\u2212", "-")) for t in ax.get_xticklabels()
             if t.get_text()]
    assert max(ticks) < 100  # in millions: a tick reads 14, not 14000000
    assert offsets_on_labels(fig) == []
    assert not ax.xaxis.get_offset_text().get_visible()
    history = money_outcome.history.copy()
    for stat in ("best", "q25", "median", "q75"):
        history[f"total_cost_{stat}"] *= 1e7
    conv = convergence_figure(history, money_outcome.objective_names, money_outcome.units,
                              case=case)
    draw(conv)
    assert conv.axes[2].get_ylabel() == f"total_cost [$10^{{6}}$ {currency} (NPV)]"
    assert conv.axes[3].get_ylabel() == "structural_adaptability"
    assert offsets_on_labels(conv) == []


def test_without_a_case_the_unit_says_currency(money_outcome):
    fig = pareto_figure(money_outcome)
    assert fig.axes[0].get_xlabel() == "total_cost [$10^{6}$ currency (NPV)]"


def test_offset_check_finds_matplotlibs_default_offset_on_a_long_label():
    # the defect of issue 7: matplotlib's own "1e7" on a long label in a small panel
    fig = new_figure(figsize=(2.4, 2.4), layout="constrained")
    ax = fig.subplots()
    ax.plot([1.45e7, 1.46e7], [1, 2])
    ax.set_xlabel("total_cost [CNY (NPV)] of the plan")
    draw(fig)
    assert ax.xaxis.get_offset_text().get_text() == "1e7"
    assert offsets_on_labels(fig) == ["total_cost [CNY (NPV)] of the plan"]


@pytest.mark.parametrize("n_obj", [2, 4])
def test_convergence_panels_draw_the_history(tmp_path, n_obj):
    outcome = toy_outcome(n_obj)
    names, history = outcome.objective_names, outcome.history
    fig = convergence_figure(history, names, outcome.units)
    n_panels = 2 + n_obj
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == n_panels and len(fig.axes) == 2 * -(-n_panels // 2)
    hv, feasible, *objectives = visible
    np.testing.assert_allclose(np.column_stack(hv.lines[0].get_data()),
                               [[1, 0.1], [2, 0.2], [3, 0.3]])
    np.testing.assert_allclose(feasible.lines[0].get_ydata(), [50, 90, 100])
    for j, (ax, name) in enumerate(zip(objectives, names)):
        assert ax.get_ylabel() == f"{name} [kW]"
        median, best = ax.lines
        np.testing.assert_allclose(median.get_ydata(), 0.3 + j)
        np.testing.assert_allclose(best.get_ydata(), 0.1 + j)
        band = ax.collections[0].get_paths()[0].vertices[:, 1]  # IQR band between q25 and q75
        assert band.min() == pytest.approx(0.2 + j) and band.max() == pytest.approx(0.4 + j)
    assert [t.get_text() for t in objectives[0].get_legend().get_texts()] == \
        ["IQR", "median", "best"]
    assert_png_of(fig, plot_convergence(history, names, tmp_path / "c.png", outcome.units))


def test_results_folder_draws_money_in_the_grid_currency_and_no_front_for_one_objective(
        tmp_path, money_outcome, monkeypatch):
    from fdnmoo.experiment import plots
    from fdnmoo.experiment.results import write_results
    from fdnmoo.planning import planning_grid

    drawn = []
    real = plots.pareto_figure
    monkeypatch.setattr(plots, "pareto_figure",
                        lambda *a, **k: drawn.append(real(*a, **k)) or drawn[-1])
    grid = planning_grid(load_case("ieee33"))  # economics.currency: CNY
    written = write_results(tmp_path / "two", money_outcome, grid=grid)
    assert_png_of(drawn[0], written["pareto_plot"])
    assert drawn[0].axes[0].get_xlabel() == "total_cost [$10^{6}$ CNY (NPV)]"
    single = write_results(tmp_path / "one", toy_outcome(1))
    assert "pareto_plot" not in single and not (tmp_path / "one" / "pareto.png").exists()
    assert single["convergence_plot"].is_file()


def test_matrix_labels_stay_inside_the_figure():
    # long names with units and senses, as the AA paper's objectives have them
    outcome = toy_outcome(3, names=["total_cost", "operational_adaptability", "pv_uneven_degree"],
                          units=["currency (NPV)", "-", "MW"], scale=[1.5e7, 0.9, 2e-3])
    fig = pareto_figure(outcome, case=load_case("ieee33"))
    draw(fig)
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    labels = [axis.label for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
              if axis.label.get_visible() and axis.label.get_text()]
    assert "pv_uneven_degree\n[$10^{-3}$ MW] (max)" in [t.get_text() for t in labels]
    for text in labels:
        box = text.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0, text.get_text()
    assert offsets_on_labels(fig) == []


def test_interval_objectives_draw_their_boxes_in_own_sign():
    outcome = toy_outcome(2)
    half = np.array([0.05, 0.1])
    outcome.F_lo, outcome.F_hi = outcome.F - half, outcome.F + half
    lo, hi = outcome.objective_ranges()
    # the maximised second objective is negated: its minimised upper end is its lowest value
    np.testing.assert_allclose(lo[:, 1], -outcome.F_hi[:, 1])
    np.testing.assert_allclose(hi - lo, np.broadcast_to(2 * half, lo.shape))
    fig = pareto_figure(outcome)
    (ax,) = fig.axes
    (boxes,) = artists(ax, "intervals")
    extents = np.array([path.get_extents().get_points() for path in boxes.get_paths()])
    np.testing.assert_allclose(extents[:, 0], lo)   # lower-left corners
    np.testing.assert_allclose(extents[:, 1], hi)   # upper-right corners
    assert fig._suptitle.get_text() == "5 Pareto solutions with their interval boxes"
    x0, x1 = ax.get_xlim()
    assert x0 <= lo[:, 0].min() and x1 >= hi[:, 0].max()
