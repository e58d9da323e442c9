"""``fdnmoo filter RESULTS_DIR``: filtered.csv of a synthetic results folder (values by hand)
and of a tiny affine run, and the errors of bad input."""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pandas as pd
import pytest

from fdnmoo.cli import main

# Minimised objectives of five plans (rows P, Q, R, S, X): every pair of P..S wins 2:2, X is
# best on total_cost only and beaten on the other three by each of P..S (3 wins each).
F_MIN = np.array([[1, 2, 3, 4], [2, 1, 4, 3], [3, 4, 1, 2], [4, 3, 2, 1], [0.5, 5, 5, 5]],
                 dtype=float)
OBJECTIVES = [("total_cost", "CNY (NPV)", "min"), ("structural_adaptability", "-", "max"),
              ("operational_adaptability", "-", "max"), ("pv_uneven_degree", "MW", "min")]
RADIUS = np.array([1.0, 0.0, 1.0, 1.0])  # structural adaptability is deterministic

# Deviation distance over the weakening's survivors P..S: mean centre 2.5, R = 1 on the three
# interval objectives (f1, f3, f4), the average box [1.5, 3.5] there, volume 8.
#   P: u = (-1.5, .5, 1.5), d = sqrt(4.75); common lengths .5, 1.5, .5 -> .375;
#      union 8 + 8 - .375 -> D = sqrt(4.75) (1 - .375/15.625) = 2.1271
#   Q: u = (-.5, 1.5, .5), d = sqrt(2.75); common 1.5 * .5 * 1.5 = 1.125
#      -> D = sqrt(2.75) (1 - 1.125/14.875) = 1.5329
#   R = Q and S = P by symmetry.
D_P = math.sqrt(4.75) * (1 - 0.375 / 15.625)
D_Q = math.sqrt(2.75) * (1 - 1.125 / 14.875)
# Comprehensive: structural adaptability (minimised 2, 1, 4, 3): mean 2.5, std sqrt(1.25);
# z^2 = .2 (P, S) and 1.8 (Q, R): 2.1736 and 2.0371.
DC_P, DC_Q = math.sqrt(D_P ** 2 + 0.2), math.sqrt(D_Q ** 2 + 1.8)


def write_results(folder, bounds=True, run_json=True):
    """A results folder with a pareto.csv in the layout of fdnmoo.experiment.results."""
    folder.mkdir()
    signs = np.array([1.0 if s == "min" else -1.0 for _, _, s in OBJECTIVES])
    table = {"solution": np.arange(1, 6)}
    for j, (name, unit, _) in enumerate(OBJECTIVES):
        own, lo, hi = F_MIN[:, j] * signs[j], F_MIN[:, j] - RADIUS[j], F_MIN[:, j] + RADIUS[j]
        table[f"{name} [{unit}]"] = own
        if bounds:  # own sign: a maximised objective's low end is minus the minimised high
            table[f"{name}_lo [{unit}]"] = lo if signs[j] > 0 else -hi
            table[f"{name}_hi [{unit}]"] = hi if signs[j] > 0 else -lo
    table.update({"g_line_current [-]": -1.0, "cv": 0.0, "feasible": True,
                  "chosen": [False, True, False, False, False], "group": np.arange(1, 6),
                  "n_genomes": 1, "plan_pv": "s1: bus 7 (1 MW)"})
    pd.DataFrame(table).to_csv(folder / "pareto.csv", index=False)
    if run_json:
        (folder / "run.json").write_text(json.dumps({"objectives": [
            {"name": n, "unit": u, "sense": s} for n, u, s in OBJECTIVES]}))
    return folder


@pytest.mark.parametrize("run_json", [True, False])  # senses from run.json, else the registry
def test_weakening_and_deviation(tmp_path, capsys, run_json):
    out = write_results(tmp_path / "run", run_json=run_json)
    assert main(["filter", str(out), "--weakening", "--deviation", "2.1"]) == 0
    printed = capsys.readouterr().out
    assert "5 solutions in pareto.csv; weakening (m = 3 of 4) kept 4; deviation " \
           "(D_max = 2.1, distances 1.53-2.13) kept 2: 2 of 5 kept" in printed
    table = pd.read_csv(out / "filtered.csv")
    assert list(table.columns[:3]) == ["solution", "total_cost [CNY (NPV)]",
                                       "total_cost_lo [CNY (NPV)]"]  # input columns first
    assert table.weakening_kept.tolist() == [True, True, True, True, False]
    assert table.n_nondominated.tolist() == [2, 2, 2, 2, 1]
    # X: P (its first strongest rival) beats it on all but total_cost
    assert table.nondominated_on[4] == "total_cost" and table.strongest_rival[4] == 1
    # P=(1,2,3,4): rivals Q, R, S win 2, X 1 -> Q, which beats P on f2 and f4
    assert table.nondominated_on[0] == "total_cost, operational_adaptability"
    # Q's first strongest rival P beats it on f1, f3; R's and S's (P) on f1, f2
    assert table.nondominated_on_structural_adaptability.tolist() == [False, True, False,
                                                                       False, False]
    distance = table["deviation_distance [-]"].to_numpy()
    np.testing.assert_allclose(distance[:4], [D_P, D_Q, D_Q, D_P], rtol=1e-9)
    assert np.isnan(distance[4])  # removed by the weakening: no distance
    assert table.kept.tolist() == [False, True, True, False, False]


def test_comprehensive_and_pareto_weakening(tmp_path, capsys):
    out = write_results(tmp_path / "run")
    assert main(["filter", str(out), "--weakening", "4", "--deviation", "2.3",
                 "--comprehensive"]) == 0
    table = pd.read_csv(out / "filtered.csv")
    assert table.weakening_kept.all()  # m = N: all five are Pareto-optimal
    assert "comprehensive deviation (D_max = 2.3, distances" in capsys.readouterr().out
    assert main(["filter", str(out), "--weakening", "--deviation", "2.1",
                 "--comprehensive"]) == 0
    table = pd.read_csv(out / "filtered.csv")
    np.testing.assert_allclose(table["comprehensive_deviation_distance [-]"][:4],
                               [DC_P, DC_Q, DC_Q, DC_P], rtol=1e-9)
    assert table.kept.tolist() == [False, True, True, False, False]
    # the deterministic objective moves Q and R beyond 2.0; the plain distance keeps them
    for extra, kept in (([], [False, True, True, False, False]), (["--comprehensive"], [])):
        assert main(["filter", str(out), "--weakening", "--deviation", "2.0", *extra]) == 0
        assert np.flatnonzero(pd.read_csv(out / "filtered.csv").kept).tolist() == \
            np.flatnonzero(kept).tolist()


def test_weakening_only_and_deterministic_front(tmp_path, capsys):
    out = write_results(tmp_path / "run", bounds=False)
    assert main(["filter", str(out), "--weakening", "3"]) == 0
    table = pd.read_csv(out / "filtered.csv")
    assert table.kept.tolist() == [True, True, True, True, False]
    assert "deviation_kept" not in table
    # no bounds: only the comprehensive distance applies (every objective deterministic)
    assert main(["filter", str(out), "--deviation", "1.0"]) == 2
    assert "pareto.csv: deviation: needs interval objectives" in capsys.readouterr().err
    assert main(["filter", str(out), "--deviation", "10", "--comprehensive"]) == 0
    table = pd.read_csv(out / "filtered.csv")
    assert table.kept.all() and "weakening_kept" not in table


@pytest.mark.parametrize("argv, message", [
    (["--weakening", "5"], "weakening: m must be in 1..4"),
    (["--weakening", "0"], "weakening: m must be in 1..4"),
    (["--deviation", "0"], "deviation: D_max must be a number > 0, got 0.0"),
    (["--deviation", "-1"], "D_max must be a number > 0"),
    ([], "no filter asked for"),
    (["--comprehensive"], "comprehensive: applies to the deviation filter"),
])
def test_bad_settings(tmp_path, capsys, argv, message):
    out = write_results(tmp_path / "run")
    assert main(["filter", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and str(out / "pareto.csv") in err
    assert not (out / "filtered.csv").exists()


def test_missing_folder_and_file(tmp_path, capsys):
    assert main(["filter", str(tmp_path / "nowhere"), "--weakening"]) == 2
    assert "nowhere: no such results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["filter", str(tmp_path / "empty"), "--weakening"]) == 2
    assert "no pareto.csv" in capsys.readouterr().err


def test_unregistered_objective_without_run_json(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    pd.DataFrame({"solution": [1, 2], "my_objective [-]": [1.0, 2.0], "cv": 0.0}).to_csv(
        out / "pareto.csv", index=False)
    assert main(["filter", str(out), "--weakening"]) == 2
    assert "'my_objective' is not registered and there is no run.json" in \
        capsys.readouterr().err


TINY = """
case: ieee33
problem: {preset: joint, stages: 1, profile: peak, samples: 1}
uncertainty: {method: deterministic}
algorithm: {name: nsga2, pop_size: 6, n_gen: 1}
seed: 11
evaluation: {backend: serial}
filter: {weakening: true, deviation: 3.0, comprehensive: true}
"""


def _run_tiny(tmp_path, capsys, text):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(textwrap.dedent(text))
    out = tmp_path / "out"
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert "the spec's Pareto filters: filtered.csv" in capsys.readouterr().out
    pareto, filtered = pd.read_csv(out / "pareto.csv"), pd.read_csv(out / "filtered.csv")
    pd.testing.assert_frame_equal(filtered[pareto.columns], pareto)
    # 4 objectives: m* = 3; the survivors keep at least N - m* + 1 = 2 objectives
    kept = filtered[filtered.weakening_kept]
    assert len(kept) >= 1 and (kept.n_nondominated >= 2).all()
    assert (filtered[~filtered.weakening_kept].n_nondominated <= 1).all()
    return out, filtered


def test_spec_filter_on_a_tiny_run(tmp_path, capsys):
    out, filtered = _run_tiny(tmp_path, capsys, TINY)
    distance = filtered["comprehensive_deviation_distance [-]"]
    assert (distance[filtered.weakening_kept] >= 0).all()
    assert filtered.kept.tolist() == (filtered.weakening_kept & (distance <= 3.0)).tolist()
    # the command on the same folder writes the same table
    assert main(["filter", str(out), "--weakening", "--deviation", "3", "--comprehensive"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "filtered.csv"), filtered)


def test_spec_filter_on_a_tiny_affine_run(tmp_path, capsys):
    text = TINY.replace("method: deterministic", "method: affine, level: 0.1").replace(
        "comprehensive: true", "comprehensive: false")
    out, filtered = _run_tiny(tmp_path, capsys, text)
    assert "total_cost_lo [CNY (NPV)]" in filtered
    assert (filtered["deviation_distance [-]"][filtered.weakening_kept] >= 0).all()
