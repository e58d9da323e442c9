"""``fdnmoo run [SPEC.yaml]``: run an experiment spec and write its results folder."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

#: Spec run when none is given, relative to the repository root.
QUICKSTART = Path("experiments") / "quickstart.yaml"


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run an experiment spec (default: experiments/quickstart.yaml)",
        description="Optimise the problem of a YAML experiment spec and write the results "
                    "folder (Pareto set, plans, cost breakdowns, history, run.json, plots). "
                    "Started again on the same folder, a killed run resumes after its last "
                    "finished generation.")
    p.add_argument("spec", nargs="?", help="YAML experiment spec (default: the quickstart)")
    p.add_argument("--out", metavar="DIR", help="results folder (default: the spec's output)")
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help="worker processes (overrides evaluation.workers; N > 1 with a "
                        "serial spec and no --backend uses joblib)")
    p.add_argument("--backend", choices=("serial", "joblib", "dask"),
                   help="evaluation backend (overrides evaluation.backend)")
    p.add_argument("--seed", type=int, metavar="N",
                   help="seed of the algorithm (the same as --set seed=N)")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="change a key of the spec, e.g. --set problem.stages=2 --set "
                        "algorithm.pop_size=30 (a dotted key and a YAML value; checked like "
                        "the file; repeatable)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..experiment import SpecError, load_spec, run_experiment

    try:
        path = Path(args.spec) if args.spec else quickstart_path()
        seed = [] if args.seed is None else [f"seed={args.seed}"]
        spec = load_spec(path, settings=seed + list(args.settings))
    except (SpecError, FileNotFoundError) as exc:
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return 2
    backend = args.backend
    if backend is None and (args.workers or 1) > 1 and spec.evaluation.backend == "serial":
        backend = "joblib"
    logger.info("running %s", path)
    out = run_experiment(spec, out_dir=args.out, workers=args.workers, backend=backend,
                         progress=args.progress and not args.quiet)
    print(_summary(out))
    return 0


def _summary(out: Path) -> str:
    """A few lines on a finished run, from its ``run.json``."""
    import json

    run = json.loads((out / "run.json").read_text())
    lines = [f"{run['n_pareto']} Pareto solutions ({run['n_pareto_feasible']} feasible), "
             f"{run['n_evals']} evaluations in {run['wall_time_s']:.1f} s"]
    if run.get("chosen_solution"):
        k = run["chosen_solution"]
        files = [f for f in (f"plans/solution_{k}.csv", f"network_solution_{k}.png")
                 if (out / f).is_file()]  # a pymoo benchmark problem has no plans
        lines.append(f"compromise: solution {k}" + (f" ({', '.join(files)})" if files else ""))
    if (run.get("spec") or {}).get("filter"):
        lines.append("the spec's Pareto filters: filtered.csv (column kept)")
    if (run.get("spec") or {}).get("widths"):
        lines.append("objective widths by method and level: widths.csv, widths_summary.csv")
    lines.append(f"results in {out}")
    return "\n".join(lines)


def quickstart_path() -> Path:
    """The quickstart spec of the source tree fdnmoo is installed from (editable)."""
    import fdnmoo

    root = Path(fdnmoo.__file__).resolve().parent.parent
    path = root / QUICKSTART
    if not path.is_file():
        raise FileNotFoundError(f"no spec given and {QUICKSTART} not found next to the "
                                f"fdnmoo package (looked in {root}); pass a spec file")
    return path


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value
