"""Objective widths of fixed plans: affine vs interval vs Monte Carlo (fdnmoo.experiment.objective_widths).

ieee33, one stage of one 24-h day, PV siting only (no SVC or SOP: the uncertain stage holds
their dispatch at the forecast, a sampled point re-dispatches them), three plans with PV,
+-10 %. Expected (the AA joint-planning paper, S. Wang et al. 2022, Fig. 9): the Monte Carlo
range lies inside the affine interval, and the affine interval is no wider than the interval
one. The forecast column is checked against the deterministic problem evaluated on its own.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from fdnmoo.experiment.objective_widths import (METHODS, WIDTH_COLUMNS, box_points,
                                                objective_widths, summarise_widths)
from fdnmoo.problems.planning import ProblemConfig

OBJECTIVES = ("total_cost", "operational_adaptability", "pv_uneven_degree",
              "structural_adaptability")
CONFIG = ProblemConfig(case="ieee33", n_stages=1, profile="daily", n_days=1,
                       blocks=(("der", {"kind": "pv", "levels": 4}),), objectives=OBJECTIVES,
                       constraints=("voltage_band",), seed=2)
LEVEL = 0.1


@cache
def _genomes():
    p = CONFIG.build()
    X = p.genome.sample(40, np.random.default_rng(5))
    return np.array([x for x in X if p.decode(x).der["pv"].sum() > 0][:3])


@cache
def _widths():
    return objective_widths(CONFIG, _genomes(), level=LEVEL, samples=12, seed=0)


def _pivot(column):
    return _widths().pivot_table(index=["plan", "objective"], columns="method", values=column)


def test_one_row_per_plan_objective_and_method():
    w = _widths()
    assert list(w.columns) == WIDTH_COLUMNS
    assert len(w) == 3 * len(OBJECTIVES) * len(METHODS)
    assert set(w.method) == set(METHODS) and set(w.objective) == set(OBJECTIVES)
    np.testing.assert_allclose(w.width, w.hi - w.lo)
    assert (w[w.method == "montecarlo"].undefined == 0).all()


def test_monte_carlo_lies_inside_affine_and_affine_is_no_wider_than_interval():
    w = _widths()
    assert w[w.method == "montecarlo"].inside_affine.all()
    width = _pivot("width")
    assert (width["affine"] <= width["interval"] * (1 + 1e-9)).all()
    # affine strictly narrower where the power flow matters (losses, voltages, currents)
    for name in ("total_cost", "operational_adaptability"):
        assert (width.xs(name, level="objective")["affine"]
                < width.xs(name, level="objective")["interval"]).all()


def test_every_interval_holds_the_forecast_and_the_certain_objective_has_none():
    w = _widths()
    slack = 1e-9 * np.maximum(np.abs(w.lo), np.abs(w.hi))
    assert ((w.lo - slack <= w.forecast) & (w.forecast <= w.hi + slack)).all()
    assert (w[w.objective == "structural_adaptability"].width == 0).all()


def test_forecast_is_the_deterministic_problems_value():
    det = ProblemConfig(**{**{k: getattr(CONFIG, k) for k in (
        "case", "n_stages", "profile", "n_days", "blocks", "objectives", "constraints", "seed")},
        "uncertainty": {"method": "deterministic"}}).build()
    F, _ = det.evaluate_genomes(_genomes())
    sign = np.array([-1.0 if o.sense == "max" else 1.0 for o in det.objectives])
    fc = _pivot("forecast")["affine"].unstack("objective")[list(det.objective_names)]
    np.testing.assert_allclose(fc.to_numpy(), F * sign, rtol=1e-12)


def test_monte_carlo_spans_most_of_the_affine_interval_and_holds_the_vertices():
    width = _pivot("width")
    for name in ("total_cost", "operational_adaptability", "pv_uneven_degree"):
        w = width.xs(name, level="objective")
        assert (w["montecarlo"] > 0.5 * w["affine"]).all(), name  # observed 0.69-0.99
    # the uneven degree is a standard deviation, homogeneous of degree 1 in the capacities:
    # the vertices "every PV at +-10 %" give exactly 1.1 / 0.9 times the forecast, inside the
    # sampled range
    mc = _widths().query("method == 'montecarlo' and objective == 'pv_uneven_degree'")
    assert (mc.lo <= 0.9 * mc.forecast * (1 + 1e-12)).all()
    assert (mc.hi >= 1.1 * mc.forecast * (1 - 1e-12)).all()


def test_summary_per_objective_and_method():
    s = summarise_widths(_widths()).set_index(["objective", "method"])
    assert len(s) == len(OBJECTIVES) * len(METHODS)
    assert (s.xs("montecarlo", level="method").inside_affine_share == 1.0).all()
    ratio = s.xs("affine", level="method").over_interval.dropna()
    assert (ratio <= 1 + 1e-9).all() and len(ratio) == 3  # structural adaptability: no width
    assert (s.xs("interval", level="method").over_interval.dropna() == 1.0).all()


def test_box_points_end_with_the_four_vertices():
    u = box_points(3, 2, 5, np.random.default_rng(0))
    assert u.shape == (9, 5) and np.abs(u).max() <= 1
    np.testing.assert_array_equal(u[-4:], [[1, 1, 1, 1, 1], [-1, -1, -1, -1, -1],
                                           [1, 1, 1, -1, -1], [-1, -1, -1, 1, 1]])


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown method 'mc'"):
        objective_widths(CONFIG, _genomes(), methods=("affine", "mc"))
    with pytest.raises(ValueError, match="samples must be >= 1"):
        objective_widths(CONFIG, _genomes(), samples=0)


def test_widths_section_of_a_run(tmp_path):
    """``widths:`` after a run: every Pareto solution at every level; a wider box gives
    wider affine intervals (the sources' coefficients scale with the level)."""
    import pandas as pd

    from fdnmoo.experiment import parse_spec, run_experiment

    spec = parse_spec({
        "case": "ieee33", "seed": 3,
        "problem": {"blocks": [{"der": {"kind": "pv", "levels": 4}}], "stages": 1,
                    "profile": "daily", "days": 1, "objectives": list(OBJECTIVES[:3]),
                    "constraints": ["voltage_band"]},
        "uncertainty": {"method": "affine", "level": 0.1},
        "algorithm": {"name": "nsga2", "pop_size": 6, "n_gen": 1},
        "widths": {"levels": [0.05, 0.1], "samples": 4, "methods": ["affine", "montecarlo"]}})
    out = run_experiment(spec, out_dir=tmp_path, progress=False)
    widths = pd.read_csv(out / "widths.csv")
    n_pareto = len(pd.read_csv(out / "pareto.csv"))
    assert len(widths) == 2 * n_pareto * 3 * 2  # levels x solutions x objectives x methods
    assert set(widths.solution) == set(range(1, n_pareto + 1))
    aa = widths[widths.method == "affine"].pivot_table(index=["solution", "objective"],
                                                       columns="level", values="width")
    cost = aa.xs("total_cost", level="objective")
    assert (cost[0.1] > cost[0.05]).all()
    mc = widths[widths.method == "montecarlo"]
    assert mc.inside_affine.astype(bool).all()
    summary = pd.read_csv(out / "widths_summary.csv")
    assert set(summary.level) == {0.05, 0.1} and set(summary.method) == {"affine", "montecarlo"}


@pytest.mark.parametrize("section, key, message", [
    ({"levels": [0.1, 1.5]}, "widths.levels[1]", "a level is a half-width in (0, 1), got 1.5"),
    ({"methods": ["afine"]}, "widths.methods[0]", "afine"),
    ({"samples": 0}, "widths.samples", ">= 1"),
    ({"level": 0.1}, "widths.level", "levels"),
])
def test_widths_section_errors(section, key, message):
    from fdnmoo.experiment import SpecError, parse_spec

    with pytest.raises(SpecError) as err:
        parse_spec({"case": "ieee33", "widths": section}, source="w.yaml")
    assert key in str(err.value) and message in str(err.value)
