"""``fdnmoo study SPEC.yaml``: run a study (bounds of fixed plans, or run specs beside a paper)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "study", help="run a study: bounds of fixed plans (affine, interval, Monte Carlo), "
                      "or run specs tabulated beside a paper (schemes, scenario_reduction, cases)",
        description="Solve fixed plans under uncertain demand in affine and interval arithmetic "
                    "and by Monte Carlo, and write the bounds (widths.csv), the width table "
                    "(widths_summary.csv), report.md and a plot of the |V| bounds per case. "
                    "The spec has 'study: uncertainty_bounds' (see "
                    "fdnmoo.experiment.bounds_spec); 'study: schemes', "
                    "'study: scenario_reduction' or 'study: cases' run the run specs it lists and write their "
                    "tables beside the paper's figures (fdnmoo.experiment.runs_study_spec).")
    p.add_argument("spec", help="YAML study spec")
    p.add_argument("--out", metavar="DIR", help="results folder (default: the spec's output)")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="change a key of the spec, e.g. --set samples=50 --set levels=[0.1] "
                        "(a dotted key and a YAML value; checked like the file; repeatable)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    p.set_defaults(handler=run)


def _kind(path: Path) -> str | None:
    """The spec's ``study`` key, or None (the loaders report unreadable files)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return data.get("study") if isinstance(data, dict) else None


def run(args) -> int:
    from ..experiment.runs_study_spec import RUNS_STUDY_KINDS

    if _kind(Path(args.spec)) in RUNS_STUDY_KINDS:
        return _run_runs_study(args)
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


def _run_runs_study(args) -> int:
    from ..experiment.checking import SpecError
    from ..experiment.case_study import run_case_study
    from ..experiment.reduction_study import run_reduction_study
    from ..experiment.runs_study_spec import load_runs_study
    from ..experiment.scheme_study import run_scheme_study

    try:
        spec = load_runs_study(Path(args.spec), settings=list(args.settings))
    except SpecError as exc:
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return 2
    runner, files = {"schemes": (run_scheme_study, "schemes.csv"),
                     "scenario_reduction": (run_reduction_study, "reduction.csv, costs.csv"),
                     "cases": (run_case_study, "plan.csv, stage_costs.csv, table2.csv, cases.csv "
                               "and gamma.csv / allocation.csv where they apply")}[spec.kind]
    logger.info("running %s (%d runs)", args.spec, len(spec.runs))
    try:  # a run spec the study names may be refused only when it is read
        out = runner(spec, out_dir=args.out, progress=args.progress and not args.quiet)
    except SpecError as exc:
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return 2
    print(f"results in {out} (report.md, {files}, runs/)")
    return 0
