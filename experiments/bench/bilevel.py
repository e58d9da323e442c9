"""Bi-level AA-NSGA-II against single-level AA-NSGA-II with the same evaluation budget.

    python experiments/bench/bilevel.py                 # ieee33, the s004 study's problem
    python experiments/bench/bilevel.py --case md24-aa --json

The problem is that of ``experiments/s004_bilevel.yaml`` (substations, lines and ties + PV +
SVC, the four objectives as affine intervals at +-10 %) with ``--stages`` stages. Both runs
use the same Evaluator (``--workers`` joblib workers) and the same seed:

1. ``bilevel``: upper population ``--upper-pop`` for ``--upper-gen`` generations, each upper
   genome's PV/SVC optimised by a lower AA-NSGA-II (``--lower-pop`` x ``--lower-gen``), its
   front kept with Pareto dominance (``weakening: N``: the front compared is a Pareto front,
   as is the single level's);
2. ``aa-nsga2`` over every gene at once, population ``--single-pop``, terminated after the
   bi-level run's number of evaluations.

Printed: wall time and evaluations of each, ``bilevel_over_single`` (wall-time ratio), and
the hypervolume (moocore) of each final feasible front with every objective (as minimised)
scaled to [0, 1] over the union of both fronts, reference point 1.1; pandapower's ``runpp``
on ieee33, measured in the same run, for the absolute scale.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import moocore
import numpy as np

from fdnmoo.bench.peers import runpp_median_ms
from fdnmoo.evaluation import Evaluator, remember_problem
from fdnmoo.experiment.spec import load_spec
from fdnmoo.operators import build_algorithm

SPEC = Path(__file__).resolve().parents[1] / "s004_bilevel.yaml"
HV_REFERENCE = 1.1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--case", default="ieee33")
    p.add_argument("--stages", type=int, default=1)
    p.add_argument("--upper-pop", type=int, default=8)
    p.add_argument("--upper-gen", type=int, default=4)
    p.add_argument("--lower-pop", type=int, default=10)
    p.add_argument("--lower-gen", type=int, default=4)
    p.add_argument("--single-pop", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--json", action="store_true", help="print one JSON object only")
    return p.parse_args(argv)


def _run(problem, algorithm, termination, seed: int) -> tuple[Any, float]:
    from pymoo.optimize import minimize

    t0 = time.perf_counter()
    res = minimize(problem, algorithm, termination, seed=seed)
    return res.algorithm, time.perf_counter() - t0


def _feasible_front(algorithm) -> np.ndarray:
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    pop = algorithm.opt if algorithm.opt is not None and len(algorithm.opt) else algorithm.pop
    F, CV = pop.get("F"), pop.get("CV").reshape(len(pop), -1)[:, 0]
    F = F[(CV <= 0) & np.all(np.isfinite(F), axis=1)]
    if len(F) == 0:
        return F
    return F[NonDominatedSorting().do(F, only_non_dominated_front=True)]


def hypervolumes(fronts: dict[str, np.ndarray]) -> dict[str, float]:
    """HV of each front, objectives scaled to [0, 1] over the union of the fronts."""
    union = np.vstack([F for F in fronts.values() if len(F)])
    lo, hi = union.min(axis=0), union.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    out = {}
    for name, F in fronts.items():
        Z = (F - lo) / span if len(F) else F
        out[name] = float(moocore.hypervolume(Z, ref=np.full(union.shape[1], HV_REFERENCE))) \
            if len(Z) else 0.0
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    spec = load_spec(SPEC, settings=(f"case={args.case}", f"problem.stages={args.stages}"))
    problem = spec.build_problem()
    remember_problem(problem)
    runpp_ms = runpp_median_ms("ieee33")
    with Evaluator("joblib", n_workers=args.workers) as evaluator:
        problem.evaluator = evaluator
        problem.evaluate(problem.genome.sample(2, np.random.default_rng(0)))  # compile, warm
        bilevel = build_algorithm("bilevel", problem, pop_size=args.upper_pop, options={
            "lower_pop_size": args.lower_pop, "lower_n_gen": args.lower_gen,
            "weakening": problem.n_obj})
        bilevel, bilevel_s = _run(problem, bilevel, ("n_gen", args.upper_gen), args.seed)
        n_eval = int(bilevel.evaluator.n_eval)
        single = build_algorithm("aa-nsga2", problem, pop_size=args.single_pop)
        single, single_s = _run(problem, single, ("n_eval", n_eval), args.seed)
    fronts = {"bilevel": _feasible_front(bilevel), "aa_nsga2": _feasible_front(single)}
    hv = hypervolumes(fronts)
    return {"case": args.case, "stages": args.stages, "workers": args.workers,
            "bilevel_s": bilevel_s, "bilevel_evals": n_eval,
            "bilevel_lower_runs": int(bilevel.n_lower_runs),
            "single_s": single_s, "single_evals": int(single.evaluator.n_eval),
            "bilevel_over_single": bilevel_s / single_s,
            "bilevel_front": len(fronts["bilevel"]), "single_front": len(fronts["aa_nsga2"]),
            "bilevel_hv": hv["bilevel"], "single_hv": hv["aa_nsga2"],
            "runpp_ms": runpp_ms}


def format_report(r: dict[str, Any]) -> str:
    return "\n".join([
        f"bi-level vs single-level AA-NSGA-II on {r['case']} ({r['stages']} stage(s)), "
        f"{r['workers']} joblib workers",
        f"  bilevel   {r['bilevel_s']:8.1f} s  {r['bilevel_evals']:6d} evaluations "
        f"({r['bilevel_lower_runs']} lower runs)  front {r['bilevel_front']:3d}  "
        f"HV {r['bilevel_hv']:.4f}",
        f"  aa-nsga2  {r['single_s']:8.1f} s  {r['single_evals']:6d} evaluations"
        f"{'':18s}front {r['single_front']:3d}  HV {r['single_hv']:.4f}",
        f"  bilevel_over_single (wall time)  {r['bilevel_over_single']:.2f}",
        f"  pandapower runpp on ieee33 (median, same run)  {r['runpp_ms']:.2f} ms"])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    r = run(args)
    print(json.dumps(r) if args.json else format_report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
