"""``fdnmoo compare SPEC.yaml``: run a grid of problems x algorithms x seeds and compare them."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "compare", help="run a problems x algorithms x seeds grid and rank the algorithms",
        description="Run every cell of a compare spec (each a normal results folder under "
                    "<output>/runs/<problem>/<algorithm>/seed_<s>, finished ones skipped, "
                    "killed ones resumed), then write HV/IGD+ tables (Parquet and CSV), "
                    "figures and report.md to the output folder.")
    p.add_argument("spec", help="YAML compare spec")
    p.add_argument("--out", metavar="DIR", help="output folder (default: the spec's output)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="runs in parallel on this machine (overrides grid.workers)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the cells on this Dask scheduler (overrides grid.scheduler)")
    p.add_argument("--json", action="store_true",
                   help="print the ranked HV table as JSON records")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..experiment.checking import SpecError
    from ..experiment.compare_report import write_comparison
    from ..experiment.compare_spec import load_compare_spec
    from ..experiment.comparison import compare_runs
    from ..experiment.grid import run_grid

    try:
        spec = load_compare_spec(args.spec, output=args.out)
    except SpecError as exc:
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"fdnmoo: error: --workers: expected a positive integer, got {args.workers}",
              file=sys.stderr)
        return 2
    logger.info("%d runs: %d problems x %d algorithms x %d seeds (+ %d direct pymoo runs)",
                len(spec.cells), len(spec.problems), len(spec.algorithms), len(spec.seeds),
                len(spec.references))
    if (args.workers or spec.workers) > 1 or args.scheduler or spec.scheduler:
        logger.info("cells run in parallel, each evaluating serially (their evaluation: "
                    "is overridden)")
    runs = run_grid(spec, workers=args.workers, scheduler=args.scheduler,
                    progress=args.progress and not args.quiet)
    result = compare_runs(runs)
    references = tuple(dict.fromkeys(c.algorithm for c in spec.references))
    report = write_comparison(result, spec.output, spec.description, runs=runs,
                              references=references)
    ranked = result.ranked("hv")
    if args.json:
        print(ranked.to_json(orient="records"))
    else:
        print(ranked.to_string(index=False))
        print(f"report in {report}")
    return 0
