"""Population-level structural adaptability, PV uneven degree and reliability against the
numbers of the former per-plan implementation (tests/metrics/data/structure_reference.json,
written by make_structure_reference.py at commit 299dfbc, before the rewrite of issue 8), on
random populations of every preset on ieee33, tpc84 and md24.

Tolerance 1e-9 relative (issue 8: "results must be identical to today's, to 1e-9 relative");
the rewrite sums in another order, which moves the last bits only (measured: <= 7e-16).
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from fdnmoo.metrics.adaptability import pv_uneven_degrees, structure_terms
from fdnmoo.metrics.reliability import reliability_arrays
from fdnmoo.planning import PlanBatch
from fdnmoo.topology_cache import TopologyCache

DATA = Path(__file__).with_name("data")
sys.path.insert(0, str(DATA))
import make_structure_reference as ref  # noqa: E402  (the reference's own helpers)

REFERENCE = json.loads((DATA / "structure_reference.json").read_text())
PROBLEMS = {f"{p['case']}-{p['preset']}": p for p in REFERENCE["problems"]}
REL = 1e-9


def test_every_preset_of_every_case_is_covered():
    from fdnmoo.problems.planning import PRESETS

    # md24 has no PV/SVC candidates (no dg_siting genes) and no SOP nodes (sop_planning, joint)
    # seed 000's comparison presets (ess_planning, reinforcement, no_planning) have no reference
    # populations yet: make_structure_reference.py has not been rerun for them
    comparison = {f"{c}-{p}" for c in ref.CASES for p in ("ess_planning", "reinforcement",
                                                          "no_planning")}
    # zonal came after the reference and needs cluster labels; its line and PV/ESS genes are
    # those of the other presets (tests/problems/test_zonal_preset.py checks it)
    expected = {f"{c}-{p}" for c in ref.CASES for p in PRESETS if p != "zonal"} - {
        "md24-dg_siting", "md24-sop_planning", "md24-joint"} - comparison
    assert set(PROBLEMS) == expected


@pytest.fixture(scope="module", params=sorted(PROBLEMS))
def population(request):
    want = PROBLEMS[request.param]
    problem = ref.problem_config(want["case"], want["preset"]).build()
    plans = [problem.decode(np.array(x)) for x in want["genomes"]]
    # the plans are those the reference was computed on (else the decoder changed, not the metrics)
    assert [ref.decision_digest(p) for p in plans] == [r["decision"] for r in want["plans"]]
    return problem.grid, PlanBatch.of(problem.grid, plans), want["plans"]


def column(rows, key):
    return np.array([r[key] for r in rows], dtype=float)


def test_structure_terms(population):
    grid, batch, rows = population
    terms = structure_terms(grid, batch, TopologyCache(grid))
    np.testing.assert_allclose(terms.tcd, column(rows, "tcd"), rtol=REL, atol=0)
    np.testing.assert_allclose(terms.ncd, column(rows, "ncd"), rtol=REL, atol=0)


def test_pv_uneven_degrees(population):
    grid, batch, rows = population
    got = pv_uneven_degrees(grid, batch, TopologyCache(grid))
    np.testing.assert_allclose(got, column(rows, "pv_uneven_degree"), rtol=REL, atol=0)


def test_reliability_arrays(population):
    grid, batch, rows = population
    demand = ref.reference_demand(grid, batch.n_stages)
    got = reliability_arrays(grid, batch, np.broadcast_to(demand, (len(batch),) + demand.shape),
                             cache=TopologyCache(grid))
    for key in ("eens_mwh", "saifi", "saidi", "customers"):
        np.testing.assert_allclose(got[key], column(rows, key), rtol=REL, atol=0, err_msg=key)
