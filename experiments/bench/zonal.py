"""Cluster vs centralised zonal planning: the same study with and without the clusters.

Usage::

    python experiments/bench/zonal.py                 # tpc84 and a 1,000-bus synthetic feeder
    python experiments/bench/zonal.py --quick         # tpc84 only, a smaller budget
    python experiments/bench/zonal.py --json results/bench_zonal.json

The study is ``experiments/s003_zonal.yaml`` (preset ``zonal``: lines joining clusters,
PV/ESS per candidate bus, cluster penetration, robust box with budget 2, EENS/ECOST with
islanding), run twice per case with the same NSGA-II budget, seed and serial evaluation:

* **cluster**: the GA-SA partition of the spec (``partition:``), so only the lines and ties
  between clusters are genes and every cluster's penetration is capped;
* **centralised**: ``partition: {single: true}``, one cluster: no decomposition, every line
  of the case is a gene and the penetration is the system's.

Printed per case and mode: genes, the optimisation's wall time (``run.json`` ``wall_time_s``,
without the partitioning, whose time is printed apart), evaluations, feasible Pareto
solutions and the best feasible value of each objective (over all solutions if none is
feasible, marked ``*``); then the time ratio centralised / cluster beside the paper's
55.62 s / 32.41 s = 1.72 (Shi et al., Processes 13(2) 354, 2025, Table "calculation time",
on its own network), and pandapower's ``runpp`` median on tpc84 as the machine's yardstick
(:func:`fdnmoo.bench.peers.runpp_median_ms`). The times are those of one shared machine;
compare the ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any, Sequence

SPEC = Path(__file__).resolve().parents[1] / "s003_zonal.yaml"
PAPER_SECONDS = {"cluster": 32.41, "centralised": 55.62}  # Shi et al. 2025, calculation time
OBJECTIVES = ("total_cost", "eens_mwh", "ecost")


def cases(quick: bool = False) -> dict[str, tuple[tuple[str, ...], tuple[int, int]]]:
    """Label -> (spec settings, NSGA-II population and generations). The synthetic feeder
    has no economics: it takes tpc84's (``case_overrides``); its GA-SA has a smaller budget
    (its Q-V sensitivity and 1,000-gene chromosomes cost about a minute already)."""
    if quick:
        return {"tpc84": ((), (8, 3))}
    from fdnmoo.cases import load_case

    e = load_case("tpc84").economics
    economics = {"economics": {"currency": e.currency, "discount_rate": e.discount_rate,
                               "lifetimes_years": e.lifetimes_years,
                               "unit_costs": e.unit_costs, "prices": e.prices}}
    synthetic = ("case=synthetic", "case_params={n_bus: 1000, seed: 1}",
                 "case_overrides=" + json.dumps(economics),
                 "partition.pop_size=20", "partition.n_generations=3")
    return {"tpc84": ((), (20, 10)), "synthetic-1000": (synthetic, (8, 3))}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tpc84 only, 8 x 3 NSGA-II budget")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--out", metavar="DIR", help="keep the results folders here")
    return p.parse_args(argv)


def run_mode(settings: tuple[str, ...], mode: str, out: Path) -> dict[str, Any]:
    """One run of the study in ``mode`` (``cluster`` / ``centralised``); its figures."""
    import pandas as pd

    from fdnmoo.experiment import load_spec, run_experiment

    extra = ("partition={single: true}",) if mode == "centralised" else ()
    spec = load_spec(SPEC, settings=settings + extra)
    folder = run_experiment(spec, out_dir=out / mode, progress=False)
    run = json.loads((folder / "run.json").read_text())
    pareto = pd.read_csv(folder / "pareto.csv")
    feasible = pareto[pareto.feasible.astype(bool)]
    pool = feasible if len(feasible) else pareto
    best = {}
    for name in OBJECTIVES:
        column = next(c for c in pareto.columns if c.split(" [")[0] == name)
        best[name] = float(pool[column].min())
    return {"mode": mode, "n_var": run["n_var"], "n_evals": run["n_evals"],
            "wall_time_s": run["wall_time_s"], "n_clusters": run["partition"]["n_clusters"],
            "partition_s": run["partition"]["seconds"], "n_feasible": len(feasible),
            "best": best, "best_over": "feasible" if len(feasible) else "all"}


def measure(studies: dict, out: Path) -> dict[str, Any]:
    from fdnmoo.bench.peers import runpp_median_ms

    result: dict[str, Any] = {"runpp_tpc84_ms": runpp_median_ms("tpc84"), "cases": {}}
    for label, (settings, (pop, gens)) in studies.items():
        budget = (f"algorithm.pop_size={pop}", f"algorithm.n_gen={gens}",
                  "evaluation.backend=serial", "evaluation.workers=1")
        modes = [run_mode(tuple(settings) + budget, m, out / label)
                 for m in ("cluster", "centralised")]
        result["cases"][label] = {"budget": {"pop_size": pop, "n_gen": gens}, "modes": modes,
                                  "time_ratio": modes[1]["wall_time_s"] / modes[0]["wall_time_s"]}
    result["paper_time_ratio"] = PAPER_SECONDS["centralised"] / PAPER_SECONDS["cluster"]
    return result


def format_report(result: dict[str, Any]) -> str:
    rows = [f"pandapower runpp on tpc84: {result['runpp_tpc84_ms']:.2f} ms (median)"]
    for label, case in result["cases"].items():
        b = case["budget"]
        rows.append(f"\n{label}: NSGA-II {b['pop_size']} x {b['n_gen']} generations, serial")
        rows.append(f"{'mode':<12} {'clusters':>8} {'genes':>6} {'evals':>6} {'time s':>8} "
                    f"{'feasible':>8} " + " ".join(f"{n:>14}" for n in OBJECTIVES))
        for m in case["modes"]:
            mark = "" if m["best_over"] == "feasible" else "*"
            rows.append(f"{m['mode']:<12} {m['n_clusters']:>8} {m['n_var']:>6} {m['n_evals']:>6} "
                        f"{m['wall_time_s']:>8.2f} {m['n_feasible']:>8} "
                        + " ".join(f"{m['best'][n]:>13.6g}{mark or ' '}" for n in OBJECTIVES))
        rows.append(f"GA-SA partitioning (cluster mode, not in its time): "
                    f"{case['modes'][0]['partition_s']:.1f} s")
        rows.append(f"time centralised / cluster: {case['time_ratio']:.2f} "
                    f"(paper: {result['paper_time_ratio']:.2f} = 55.62 s / 32.41 s)")
    rows.append("* no feasible solution: the best over all Pareto solutions")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        result = measure(cases(args.quick), out)
    print(format_report(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
