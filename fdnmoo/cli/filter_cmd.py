"""``fdnmoo filter RESULTS_DIR``: Pareto filters on a results folder, written to filtered.csv."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "filter", help="filter a run's Pareto set (dominance weakening, deviation distance)",
        description="Read RESULTS_DIR/pareto.csv, apply dominance weakening and/or the "
                    "deviation-distance filter (fdnmoo.operators.filters) and write "
                    "RESULTS_DIR/filtered.csv: every Pareto row with the non-dominated "
                    "objectives, the deviation distances and a 'kept' flag.")
    p.add_argument("results", metavar="RESULTS_DIR", help="results folder of a run")
    p.add_argument("--weakening", nargs="?", const=True, type=_positive_int, metavar="M",
                   help="dominance weakening: a solution dominates another when it is "
                        "better on at least M of the N objectives (default M: "
                        "floor(N/2) + 1; M = N is Pareto dominance)")
    p.add_argument("--deviation", type=float, metavar="DMAX",
                   help="drop the solutions whose deviation distance from the average "
                        "objective box exceeds DMAX (after the weakening)")
    p.add_argument("--comprehensive", action="store_true",
                   help="with --deviation: the comprehensive distance, which adds the "
                        "deterministic objectives (normalised by their standard deviation)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..experiment.filtering import FilterSettings, filter_results

    settings = FilterSettings(weakening=args.weakening, deviation=args.deviation,
                              comprehensive=args.comprehensive)
    print(filter_results(args.results, settings).summary)
    return 0


def _positive_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer M, got {text!r}") from None
