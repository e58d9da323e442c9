"""Entry point of the ``fdnmoo`` command."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ..cases import CaseError
from . import bench_cmd, case_cmd, cases_cmd, pf_cmd, run_cmd

__all__ = ["main", "build_parser"]

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fdnmoo",
        description="Evolutionary multi-objective planning of flexible distribution networks.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"fdnmoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (cases_cmd, case_cmd, pf_cmd, bench_cmd, run_cmd):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CaseError as exc:
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, KeyError) as exc:
        if getattr(args, "debug", False):
            raise
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
