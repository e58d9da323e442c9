"""Write tests/metrics/data/cost_reference.npz: cost tables of random populations.

Run once (``python tests/metrics/make_cost_reference.py``) with the per-plan
pricing of fdnmoo before the vectorised cost table (commit 299dfbc, where
``cost_breakdown`` built one ``investment_items`` DataFrame per plan); the
numbers it stored are the reference of ``test_cost_table.py``, which checks the
vectorised :func:`fdnmoo.metrics.economics.cost_table` against them to 1e-9
relative now that the old code is gone.

For every preset of :data:`fdnmoo.problems.presets.PRESETS` on every case it
builds on, a population is drawn with ``GenomeSampling`` (seeded) and
evaluated (power flows on a small scenario batch); the file keeps the plans
(their tables, DER capacities and closed elements), the operation metrics the
cost terms read, and the old ``cost_breakdown`` (both conventions, with and
without operation metrics), ``investment_per_stage`` and ``investment_items`` of every
plan.
Populations are stored rather than re-drawn so that the reference does not
depend on the encodings staying the same.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np

from fdnmoo.cases import load_case
from fdnmoo.metrics import OperationMetrics
from fdnmoo.metrics.economics import (BREAKDOWN_COLUMNS, ITEM_COLUMNS, cost_breakdown,
                                      investment_items, investment_per_stage)
from fdnmoo.operators import GenomeSampling
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.problems.planning import ProblemConfig
from fdnmoo.problems.presets import PRESETS

CASES = ("ieee33", "tpc84", "md24")
N_PLANS = 12
OPS_FIELDS = ("energy_loss_mwh", "pv_energy_mwh", "unserved_energy_mwh", "violation_energy_mwh",
              "slot_loss_mwh", "dg_energy_mwh")
OUT = Path(__file__).parent / "data" / "cost_reference.npz"


def population(case: str, preset: str, seed: int):
    """Problem, plans and operation metrics of a random population."""
    try:
        problem = ProblemConfig(case=case, preset=preset, n_samples=2, n_days=1, seed=seed).build()
    except ValueError:  # profiles with their own days (md24's load levels)
        problem = ProblemConfig(case=case, preset=preset, n_samples=2, seed=seed).build()
    X = GenomeSampling()._do(problem, N_PLANS, random_state=np.random.default_rng(seed))
    evs = problem.evaluated(X)
    return problem, [ev.plan for ev in evs], [ev.ops for ev in evs]


def staged_ieee33():
    """ieee33 with prices per stage (falling equipment, rising energy prices): the terms of
    every DER kind (ESS energy, EVCS sites) and SOP pricing at per-stage prices."""
    case = copy.deepcopy(load_case("ieee33"))
    u, prices = case.economics.unit_costs, case.economics.prices
    for key in ("sop_per_mva", "sop_site_per_site", "pv_per_mw", "ess_per_mw", "ess_per_mwh",
                "evcs_site_per_site", "line_om_per_km_year", "sop_om_per_mva_year"):
        u[key] = [u[key] * f for f in (1.0, 0.8, 0.6)]
    prices["energy_per_mwh"] = [350.0, 380.0, 410.0]
    prices["pv_feed_in_per_mwh"] = [300.0, 250.0, 200.0]
    return planning_grid(case)


def staged_population(seed: int):
    """The SOP schemes of an ieee33 sop_planning population, random capacities of every DER
    kind (non-decreasing, some zero), random yearly energies (some zero)."""
    grid = staged_ieee33()
    _, plans, _ = population("ieee33", "sop_planning", seed)
    rng = np.random.default_rng(seed)
    n_stages = plans[0].n_stages
    out = []
    for plan in plans:
        der = {}
        for kind in ("pv", "svc", "ess", "evcs"):
            n = len(grid.case.candidates[kind])
            steps = rng.choice([0.0, 0.0, 0.25, 0.5], size=(n_stages, n))
            der[kind] = np.cumsum(steps, axis=0)
        out.append(Plan(n_stages=n_stages, closed_lines=plan.closed_lines,
                        closed_trafos=plan.closed_trafos, sop=plan.sop, der=der))
    ops = []
    for _ in plans:
        e = lambda: rng.uniform(0, 500, n_stages) * (rng.random(n_stages) > 0.2)
        z = np.zeros(n_stages)
        ops.append(OperationMetrics(
            energy_loss_mwh=e(), sop_loss_mwh=z, demand_mwh=z, pv_energy_mwh=e(),
            unserved_energy_mwh=e(), violation_energy_mwh=e(), peak_loss_kw=z,
            peak_vmin_pu=z, peak_vmax_pu=z, vmin_pu=z, vmax_pu=z, i_max_ka=z, i_limit_ka=z,
            voltage_deviation_pu=z, voltage_violation_probability=z,
            current_violation_probability=z, substation_peak_mva=z, converged_share=1.0,
            slot_loss_mwh=rng.uniform(0, 20, (n_stages, 4)), dg_energy_mwh=np.zeros((n_stages, 0))))
    return grid, out, ops


def records(prefix: str, grid, plans, ops) -> dict[str, np.ndarray]:
    """The arrays of one population (keys ``<prefix>/<name>``)."""
    out = {}
    for name in ("new_lines", "substations", "sop"):
        tables = [getattr(p, name) for p in plans]
        rows = np.concatenate(tables) if tables else np.zeros(0)
        for field in rows.dtype.names:
            out[f"{name}.{field}"] = rows[field]
        out[f"{name}.plan"] = np.repeat(np.arange(len(plans)), [len(t) for t in tables])
    for kind in sorted({k for p in plans for k in p.der}):
        out[f"der.{kind}"] = np.stack([p.der[kind] for p in plans])
        out[f"der_has.{kind}"] = np.array([kind in p.der for p in plans])
    for field in OPS_FIELDS:
        out[f"ops.{field}"] = np.stack([getattr(o, field) for o in ops])
    for kind, labels in (("lines", grid.net.line.index), ("trafos", grid.net.trafo.index)):
        out[f"closed_{kind}"] = np.stack([
            np.stack([np.isin(labels, getattr(p, f"closed_{kind}")[s]) for s in range(p.n_stages)])
            for p in plans])
    for tag, kw in (("horizon", {}), ("lifetime", {"convention": "lifetime"})):
        with_ops = [cost_breakdown(grid, p, o, unpriced="nan", **kw) for p, o in zip(plans, ops)]
        bare = [cost_breakdown(grid, p, **kw) for p in plans]
        out[f"costs.{tag}"] = np.stack([c[BREAKDOWN_COLUMNS].to_numpy() for c in with_ops])
        out[f"costs_bare.{tag}"] = np.stack([c[BREAKDOWN_COLUMNS].to_numpy() for c in bare])
    out["investment_per_stage"] = np.stack([investment_per_stage(grid, p) for p in plans])
    items = [investment_items(grid, p) for p in plans]
    out["items.plan"] = np.repeat(np.arange(len(plans)), [len(t) for t in items])
    for col in ITEM_COLUMNS:
        values = np.concatenate([t[col].to_numpy() for t in items])
        out[f"items.{col}"] = values.astype(str) if values.dtype == object else values
    return {f"{prefix}/{k}": np.asarray(v) for k, v in out.items()}


def main() -> None:
    arrays, skipped = {}, []
    for c, case in enumerate(CASES):
        for p, preset in enumerate(PRESETS):
            try:
                problem, plans, ops = population(case, preset, seed=100 * c + p)
            except Exception as exc:  # a preset that does not apply to the case
                skipped.append(f"{case}/{preset}: {type(exc).__name__}: {exc}")
                continue
            arrays.update(records(f"{case}/{preset}", problem.grid, plans, ops))
            print(f"{case}/{preset}: {len(plans)} plans, n_stages {plans[0].n_stages}")
    grid, plans, ops = staged_population(seed=7)
    arrays.update(records("ieee33_staged/sop_der", grid, plans, ops))
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print("\n".join(["skipped:"] + skipped) if skipped else "no preset skipped", file=sys.stderr)


if __name__ == "__main__":
    main()
