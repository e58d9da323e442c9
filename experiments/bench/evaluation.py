"""Population-evaluation benchmark: one generation of ``joint`` candidates on ieee33.

Usage::

    python experiments/bench/evaluation.py                 # 100 x 3 x 24 x 100 (720,000 PFs)
    python experiments/bench/evaluation.py --quick         # 20 candidates, 10 samples
    python experiments/bench/evaluation.py --json                  # + one JSON object on stdout
    python experiments/bench/evaluation.py --json results/bench_evaluation.json
    python experiments/bench/evaluation.py --main-job              # + fdnmoo run vs runpp

The default profile is one averaged typical day (``--days 1``: 24 hourly
slots); ``--days 4`` gives the full daily profile of four seasonal days (96
slots).

What one run measures, in this order:

1. building the problem (case, planning grid, scenario batch) in the main process;
2. worker start-up: ``Evaluator.prepare`` (every worker builds the problem
   from the config) and a first call on a few other candidates (numba
   kernels loaded or compiled); reported, not part of the generation time;
3. the generation: ``Evaluator.evaluate(config, X)`` on ``--candidates``
   seeded feasible genomes (``GenomeSampling``), ``--repeat`` times with new
   candidates each time (best and median reported: the figures of a shared
   machine vary from run to run), i.e. decode, batched power
   flows of every stage x slot x sample grouped by topology, SOP dispatch,
   metrics and the four objectives. "Power flows" counts the scenarios,
   candidates x stages x slots x samples; the SOP dispatch solves further
   sweeps of the candidates with SOPs that are not counted;
4. pandapower's ``runpp`` (Newton-Raphson, default options) on a random
   subsample of the same scenarios of the first candidate: its topology per
   stage, one load per bus set to the candidate's net demand (PV, SVC, EV,
   storage included; SOPs idle) before each call; only ``runpp`` is timed
   (median over the calls, after one untimed call per topology).
   The batch engine solves the same subsample and the largest voltage
   difference is printed, so the two timings compare equal results.

The ratio is pandapower's seconds per power flow over ours (wall time of the
generation / power flows): the speed-up of a whole evaluation, objectives and
SOP dispatch included, over bare pandapower power flows.

5. the breakdown per stage of the evaluation pipeline (:mod:`fdnmoo.pipeline`:
   decode, operation/dispatch, power flow, metrics, objectives), serial in the
   main process, for the generation above and for the main job's problem
   (``experiments/quickstart.yaml``: ieee33 ``joint``, 3 stages, 4 typical days x
   24 h, 10 samples, 40 candidates); ``all_in_over_pf`` is the total divided by
   the power-flow seconds (SOP dispatch sweeps included). Best of ``--repeat``.
6. with ``--main-job``: ``fdnmoo run`` of the quickstart spec (into a temporary
   folder), its wall time divided by the median ``runpp`` on the ieee33 base case
   measured in the same run (``main_job_over_runpp``).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--case", default="ieee33")
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument("--stages", type=int, default=3)
    p.add_argument("--days", type=int, default=1,
                   help="typical days of the daily profile (default 1: 24 slots)")
    p.add_argument("--samples", type=int, default=100, help="samples per slot (default 100)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--backend", default="joblib", choices=("serial", "joblib", "dask"))
    p.add_argument("--pp-subsample", type=int, default=60,
                   help="scenarios solved by pandapower (default 60)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="generations timed (default 3)")
    p.add_argument("--quick", action="store_true", help="20 candidates, 10 samples")
    p.add_argument("--main-job", action="store_true",
                   help="also time `fdnmoo run` of the quickstart spec against runpp")
    p.add_argument("--json", metavar="PATH", nargs="?", const="-",
                   help="also the figures as one JSON object: to stdout, or written to PATH")
    args = p.parse_args(argv)
    if args.quick:
        args.candidates, args.samples, args.pp_subsample = 20, 10, 20
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    from fdnmoo.evaluation import Evaluator, remember_problem
    from fdnmoo.operators import GenomeSampling
    from fdnmoo.problems.planning import ProblemConfig

    config = ProblemConfig(case=args.case, preset="joint", n_stages=args.stages,
                           profile="daily", n_days=args.days, n_samples=args.samples,
                           seed=args.seed)
    t0 = time.perf_counter()
    problem = config.build()
    remember_problem(problem)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(args.seed)
    populations = [GenomeSampling()._do(problem, args.candidates, random_state=rng)
                   for _ in range(args.repeat)]
    warm_X = GenomeSampling()._do(problem, 2 * args.workers, random_state=rng)
    batch = problem.batch
    n_pf = args.candidates * args.stages * batch.n_slots * batch.n_samples

    with Evaluator(args.backend, n_workers=args.workers) as evaluator:
        t0 = time.perf_counter()
        evaluator.prepare(config)
        evaluator.chunk_size = 1
        evaluator.evaluate(config, warm_X)
        evaluator.chunk_size = None
        startup_s = time.perf_counter() - t0
        times = []
        for X in populations:
            t0 = time.perf_counter()
            F, _ = evaluator.evaluate(config, X)
            times.append(time.perf_counter() - t0)
    generation_s = min(times)
    ours_s_per_pf = generation_s / n_pf
    pp = pandapower_subsample(problem, populations[0][0], args.pp_subsample, rng)
    generation_stages = stage_breakdown(problem, populations)
    main_config = ProblemConfig(case="ieee33", preset="joint", n_stages=3, profile="daily",
                                n_samples=10, seed=args.seed)
    main_problem = main_config.build()
    main_X = [GenomeSampling()._do(main_problem, 40, random_state=rng) for _ in range(args.repeat)]
    main_stages = stage_breakdown(main_problem, main_X)
    extra = main_job_ratio() if args.main_job else {}
    return {
        "pipeline": {"generation": generation_stages, "main_problem": main_stages},
        "all_in_over_pf": {"generation": generation_stages["all_in_over_pf"],
                           "main_problem": main_stages["all_in_over_pf"]},
        **extra,
        "case": args.case, "preset": "joint", "candidates": args.candidates,
        "stages": args.stages, "slots": int(batch.n_slots), "samples": int(batch.n_samples),
        "power_flows": n_pf, "backend": args.backend, "workers": args.workers,
        "problem_build_s": build_s, "worker_startup_s": startup_s,
        "generation_s": generation_s, "generation_median_s": float(np.median(times)),
        "generation_times_s": times, "power_flows_per_s": n_pf / generation_s,
        "ms_per_candidate": 1e3 * generation_s / args.candidates,
        "finite_objectives": bool(np.isfinite(F).all()),
        "pandapower_ms_per_pf": 1e3 * pp["s_per_pf"], "pandapower_subsample": pp["n"],
        "pandapower_max_dv_pu": pp["max_dv_pu"],
        "ours_us_per_pf": 1e6 * ours_s_per_pf,
        "speedup_vs_pandapower": pp["s_per_pf"] / ours_s_per_pf,
        "python": platform.python_version(), "machine": platform.machine(),
    }


def stage_breakdown(problem, populations) -> dict[str, float]:
    """Seconds per pipeline stage of ``problem.evaluate_genomes`` (serial), best total of the
    populations, with ``all_in_over_pf`` = total / power-flow seconds."""
    from fdnmoo.pipeline import StageTimes

    problem.evaluate_genomes(populations[0][:2])  # kernels compiled, caches warm
    best = None
    for X in populations:
        times = StageTimes()
        problem.evaluate_genomes(X, times)
        if best is None or times.total < best.total:
            best = times
    out = best.as_dict()
    out["all_in_over_pf"] = out["total"] / out["power_flow"]
    out["candidates"] = len(populations[0])
    return out


def main_job_ratio(repeat: int = 20) -> dict[str, float]:
    """Wall time of ``fdnmoo run`` (quickstart spec) over the median ``runpp`` on ieee33."""
    import subprocess
    import tempfile

    from fdnmoo.bench.peers import runpp_median_ms

    ms = runpp_median_ms("ieee33", repeat)
    spec = Path(__file__).resolve().parents[1] / "quickstart.yaml"
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys; from fdnmoo.cli import main; "
                        "sys.exit(main(sys.argv[1:]))", "run", "-q", str(spec), "--out", out],
                       check=True)
        wall = time.perf_counter() - t0
    return {"main_job_s": wall, "main_job_runpp_ms": ms, "main_job_over_runpp": wall / ms * 1e3}


def pandapower_subsample(problem, x: np.ndarray, n: int, rng: np.random.Generator
                         ) -> dict[str, float]:
    """Time ``pandapower.runpp`` on ``n`` random scenarios of one candidate.

    Returns seconds per call, the number solved, and the largest voltage
    difference from the batch engine on the same scenarios.
    """
    import pandapower as pp

    from fdnmoo.operation.injections import FeederTree, net_demand

    grid, batch, plan = problem.grid, problem.batch, problem.decode(x)
    stages = rng.integers(1, plan.n_stages + 1, size=n)
    slots = rng.integers(0, batch.n_slots, size=n)
    samples = rng.integers(0, batch.n_samples, size=n)
    times, max_dv = [], 0.0
    for stage in np.unique(stages):
        pick = np.flatnonzero(stages == stage)
        closed_l, closed_t = plan.closed_lines[stage - 1], plan.closed_trafos[stage - 1]
        engine = problem.engine.reconfigure(closed_lines=closed_l, closed_trafos=closed_t)
        nd = net_demand(grid, [plan], batch, int(stage), FeederTree.from_engine(engine))
        P = nd.p_mw[0, slots[pick], samples[pick]]
        Q = nd.q_mvar[0, slots[pick], samples[pick]]
        ours = engine.run(P, Q).vm_pu
        net = copy.deepcopy(grid.net)
        net.line["in_service"] = net.line.index.isin(closed_l)
        net.trafo["in_service"] = net.trafo.index.isin(closed_t)
        for table in ("load", "sgen", "storage"):
            net[table] = net[table].iloc[0:0]
        for bus in net.bus.index:
            pp.create_load(net, bus, p_mw=0.0, q_mvar=0.0)
        pp.runpp(net)  # untimed: pandapower's own first-call set-up
        for k in range(len(pick)):
            net.load["p_mw"] = P[k]
            net.load["q_mvar"] = Q[k]
            t0 = time.perf_counter()
            pp.runpp(net)
            times.append(time.perf_counter() - t0)
            vm = net.res_bus.vm_pu.reindex(batch.bus_labels).to_numpy(float)
            supplied = np.isfinite(ours[k]) & np.isfinite(vm)
            max_dv = max(max_dv, float(np.max(np.abs(vm[supplied] - ours[k][supplied]))))
    return {"s_per_pf": float(np.median(times)), "n": len(times), "max_dv_pu": max_dv}


def format_report(r: dict[str, Any]) -> str:
    return "\n".join([
        f"evaluation benchmark: {r['case']} {r['preset']}, {r['candidates']} candidates x "
        f"{r['stages']} stages x {r['slots']} slots x {r['samples']} samples = "
        f"{r['power_flows']:,} power flows; {r['backend']} with {r['workers']} workers",
        f"  problem build (main process)     {r['problem_build_s']:8.2f} s",
        f"  worker start-up (build + jit)    {r['worker_startup_s']:8.2f} s",
        f"  one generation (best of {len(r['generation_times_s'])})       {r['generation_s']:8.2f} s "
        f"({r['ms_per_candidate']:.0f} ms per candidate; median {r['generation_median_s']:.2f} s)",
        f"  power flows per second           {r['power_flows_per_s']:11,.0f} "
        f"({r['ours_us_per_pf']:.1f} us per power flow, everything included)",
        f"  pandapower runpp (median)        {r['pandapower_ms_per_pf']:8.2f} ms per power flow "
        f"({r['pandapower_subsample']} scenarios; max |dV| vs ours "
        f"{r['pandapower_max_dv_pu']:.1e} p.u.)",
        f"  ratio pandapower / ours          {r['speedup_vs_pandapower']:8.0f} x",
        *[line for name, title in (("generation", "this generation"),
                                   ("main_problem", "main job's problem (40 candidates)"))
          for line in _stage_lines(r["pipeline"][name], title)],
        *([f"  main job (fdnmoo run quickstart) {r['main_job_s']:8.2f} s = "
           f"{r['main_job_over_runpp']:,.0f} x runpp on ieee33 ({r['main_job_runpp_ms']:.2f} ms)"]
          if "main_job_s" in r else []),
    ])


def _stage_lines(st: dict, title: str) -> list[str]:
    from fdnmoo.pipeline import STAGES

    parts = ", ".join(f"{k} {st[k]:.3f}" for k in STAGES)
    return [f"  pipeline, serial, {title}: {st['total']:.3f} s = {parts} s; "
            f"all_in_over_pf {st['all_in_over_pf']:.2f}"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    print(format_report(report))
    if args.json == "-":
        print(json.dumps(report))
    elif args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1) + "\n")
    return 0 if report["finite_objectives"] else 1


if __name__ == "__main__":
    sys.exit(main())
