"""The evaluation path gives the objectives and constraints it gave before it moved to arrays.

Reference: ``tests/data/reference_objectives.json``, written by
``tests/make_reference_objectives.py`` with the code of commit 135a5ce (the
per-plan pandas path, before :mod:`fdnmoo.pipeline`), on seeded random
populations of every preset, two of them with every registered objective and
constraint. The issue asks for identical results to 1e-9 relative.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from make_reference_objectives import build

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_objectives.json").read_text())


@pytest.mark.parametrize("name", sorted(REFERENCE["configs"]))
def test_objectives_and_constraints_match_the_per_plan_path(name):
    ref = REFERENCE["configs"][name]
    problem = build(ref["kwargs"])
    assert problem.objective_names == ref["objectives"]
    assert problem.constraint_names == ref["constraints"]
    F, G = problem.evaluate_genomes(np.array(ref["X"], dtype=np.int64))
    for got, want, names in ((F, ref["F"], ref["objectives"]), (G, ref["G"], ref["constraints"])):
        want = np.array(want)
        for k, entry in enumerate(names):
            np.testing.assert_allclose(got[:, k], want[:, k], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name}: {entry}")
