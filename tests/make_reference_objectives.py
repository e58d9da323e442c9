"""Write ``reference_objectives.json``: F and G of seeded random populations of every preset.

The evaluation path was rewritten into arrays (issue "The evaluation hot path in
arrays"); this file holds what the path gave before, so that
``tests/test_reference_objectives.py`` can check the new one reproduces it. Run it
with the code whose numbers are to become the reference::

    python tests/make_reference_objectives.py [COMMIT-NAME]

It uses only the public API (ProblemConfig, GenomeSampling, evaluate_genomes), so
the same script runs on the old and the new code. The genomes are stored too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

#: (name, ProblemConfig keyword arguments, population size). "all" lists every registered
#: objective and constraint, so every entry of the registries is covered.
CONFIGS = [
    ("ieee33-reconfiguration", dict(case="ieee33", preset="reconfiguration"), 16),
    ("tpc84-reconfiguration", dict(case="tpc84", preset="reconfiguration"), 12),
    ("ieee33-dg_siting", dict(case="ieee33", preset="dg_siting", n_stages=2, n_days=1,
                              n_samples=2), 10),
    ("tpc84-sop_planning", dict(case="tpc84", preset="sop_planning", n_stages=2, n_days=1,
                                n_samples=2), 10),
    ("md24-expansion", dict(case="md24", preset="expansion"), 10),
    ("ieee33-joint", dict(case="ieee33", preset="joint", n_stages=3, n_days=1, n_samples=3), 16),
    ("ieee69-joint-all", dict(case="ieee69", preset="joint", n_stages=2, n_days=1, n_samples=2,
                              objectives="all", constraints="all"), 10),
    ("md24-expansion-all", dict(case="md24", preset="expansion", objectives="all",
                                constraints="all"), 8),
]


def build(kwargs: dict):
    from fdnmoo.objectives import CONSTRAINTS, OBJECTIVES
    from fdnmoo.problems.planning import ProblemConfig

    kwargs = dict(kwargs)
    if kwargs.get("objectives") == "all":
        kwargs["objectives"] = tuple(OBJECTIVES.names())
    if kwargs.get("constraints") == "all":
        kwargs["constraints"] = tuple(n for n in CONSTRAINTS.names() if n != "power_flow_converged")
    return ProblemConfig(**kwargs).build()


def main(label: str = "") -> None:
    from fdnmoo.operators import GenomeSampling

    out = {"made_with": label, "configs": {}}
    for name, kwargs, n in CONFIGS:
        problem = build(kwargs)
        X = GenomeSampling()._do(problem, n, random_state=np.random.default_rng(7))
        F, G = problem.evaluate_genomes(X)
        out["configs"][name] = {"kwargs": kwargs, "objectives": problem.objective_names,
                                "constraints": problem.constraint_names, "X": X.tolist(),
                                "F": F.tolist(), "G": G.tolist()}
        print(name, F.shape, G.shape, flush=True)
    path = Path(__file__).parent / "data" / "reference_objectives.json"
    path.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
