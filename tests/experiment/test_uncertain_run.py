"""``fdnmoo run`` of a spec with ``uncertainty: {method: affine}``: interval columns in pareto.csv."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd

from fdnmoo.cli import main

TINY_AFFINE = """
case: ieee33
problem: {preset: joint, stages: 2, profile: peak, samples: 1}
uncertainty: {method: affine, level: 0.1}
algorithm: {name: nsga2, pop_size: 8, n_gen: 2}
seed: 11
evaluation: {backend: serial}
"""


def test_affine_run_writes_objective_bounds(tmp_path, capsys):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(textwrap.dedent(TINY_AFFINE))
    out = tmp_path / "out"
    assert main(["run", str(spec), "--out", str(out), "--no-progress"]) == 0
    pareto = pd.read_csv(out / "pareto.csv")
    objectives = [("total_cost", "CNY (NPV)"), ("operational_adaptability", "-"),
                  ("pv_uneven_degree", "MW"), ("structural_adaptability", "-")]
    expected = [f"{n}{end} [{u}]" for n, u in objectives for end in ("", "_lo", "_hi")]
    assert list(pareto.columns[1:13]) == expected and len(pareto) >= 1
    for name, unit in objectives:
        value, lo, hi = (pareto[f"{name}{end} [{unit}]"].to_numpy() for end in ("", "_lo", "_hi"))
        np.testing.assert_allclose(value, (lo + hi) / 2, rtol=1e-12)  # F is the midpoint
        assert np.all(lo <= value) and np.all(value <= hi)
        widths = hi - lo
        if name == "structural_adaptability":
            assert np.all(widths == 0)
        else:
            assert np.all(widths > 0)
    for k in pareto.solution:
        buses = pd.read_csv(out / "plans" / f"solution_{k}_bounds_buses.csv")
        assert list(buses.columns) == ["stage", "bus", "vm_min_pu", "vm_max_pu"]
        assert set(buses.stage) == {1, 2} and (buses.vm_min_pu <= buses.vm_max_pu).all()
        assert (out / "plans" / f"solution_{k}_bounds_lines.csv").is_file()
    run = json.loads((out / "run.json").read_text())
    unc = run["spec"]["uncertainty"]
    assert unc["method"] == "affine" and unc["level"] == {"load": 0.1, "pv": 0.1}
