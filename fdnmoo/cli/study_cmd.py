"""``fdnmoo study SPEC.yaml``: run a study of fixed plans (uncertainty bounds), write its folder."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "study", help="run a study of fixed plans (uncertainty bounds: affine, interval, "
                      "Monte Carlo)",
        description="Solve fixed plans under uncertain demand in affine and interval arithmetic "
                    "and by Monte Carlo, and write the bounds (widths.csv), the width table "
                    "(widths_summary.csv), report.md and a plot of the |V| bounds per case. "
                    "The spec has 'study: uncertainty_bounds' (see "
                    "fdnmoo.experiment.bounds_spec).")
    p.add_argument("spec", help="YAML study spec")
    p.add_argument("--out", metavar="DIR", help="results folder (default: the spec's output)")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="change a key of the spec, e.g. --set samples=50 --set levels=[0.1] "
                        "(a dotted key and a YAML value; checked like the file; repeatable)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..experiment.bounds_spec import SpecError, load_bounds_study
    from ..experiment.bounds_study import run_bounds_study

    try:
        spec = load_bounds_study(Path(args.spec), settings=list(args.settings))
    except SpecError as exc:
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return 2
    logger.info("running %s", args.spec)
    out = run_bounds_study(spec, out_dir=args.out, progress=args.progress and not args.quiet)
    print(f"results in {out} (report.md, widths.csv, widths_summary.csv, bounds_*.png)")
    return 0
