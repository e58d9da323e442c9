"""Write structure_reference.json: structural adaptability terms, PV uneven degree and
reliability indices of random populations of every preset on ieee33, tpc84 and md24.

The numbers are those of the per-plan implementation of fdnmoo.metrics.adaptability and
fdnmoo.metrics.reliability as of commit 299dfbc (before the population-level rewrite of
issue 8); tests/metrics/test_structure_reference.py checks the current code against them.

    python tests/metrics/data/make_structure_reference.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from fdnmoo.demand import bus_demand
from fdnmoo.metrics.adaptability import (network_cohesion_degree, pv_uneven_degree,
                                         tie_connection_degree)
from fdnmoo.metrics.reliability import reliability_indices
from fdnmoo.operators import GenomeSampling
from fdnmoo.problems.planning import PRESETS, ProblemConfig

CASES = ("ieee33", "tpc84", "md24")
N_PLANS = 12
SEED = 20261201
OUT = Path(__file__).with_name("structure_reference.json")


def reference_demand(grid, n_stages: int) -> np.ndarray:
    """(n_stages, n_bus) demand of the reliability reference: every load bus at its share
    of the base load times the base total grown by 20 % per stage (as Evaluated.reliability
    does with the stage's mean demand)."""
    base, _ = bus_demand(grid.net, tables=(("load", 1.0),))
    return np.stack([base * (1.0 + 0.2 * s) for s in range(n_stages)])


def decision_digest(plan) -> str:
    return hashlib.sha1(plan.decision_key()).hexdigest()


def problem_config(case: str, preset: str) -> ProblemConfig:
    # the profile does not change the genome or the plans; "peak" builds fastest
    return ProblemConfig(case=case, preset=preset, profile="peak", n_samples=1, seed=0)


def main() -> None:
    out = {"source": "fdnmoo per-plan metrics at commit 299dfbc (issue 8 reference)",
           "n_plans": N_PLANS, "seed": SEED, "problems": []}
    for case in CASES:
        for preset in PRESETS:
            try:
                problem = problem_config(case, preset).build()
            except ValueError as exc:  # a preset with no genes on this case
                print(f"skip {case}/{preset}: {exc}")
                continue
            rng = np.random.default_rng([SEED, CASES.index(case), list(PRESETS).index(preset)])
            X = GenomeSampling()._do(problem, N_PLANS, random_state=rng)
            grid = problem.grid
            plans = [problem.decode(x) for x in X]
            n_stages = plans[0].n_stages
            demand = reference_demand(grid, n_stages)
            rows = []
            for plan in plans:
                stages = range(1, n_stages + 1)
                rel = [reliability_indices(grid, plan, s, demand[s - 1]) for s in stages]
                rows.append({
                    "decision": decision_digest(plan),
                    "tcd": [tie_connection_degree(grid, plan, s) for s in stages],
                    "ncd": [network_cohesion_degree(grid, plan, s) for s in stages],
                    "pv_uneven_degree": pv_uneven_degree(grid, plan),
                    **{k: [r[k] for r in rel] for k in ("eens_mwh", "saifi", "saidi",
                                                        "customers")},
                })
            out["problems"].append({"case": case, "preset": preset,
                                    "genomes": X.astype(int).tolist(), "plans": rows})
            print(f"{case}/{preset}: {len(plans)} plans, {n_stages} stages")
    OUT.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
