"""Entry point of the ``fdnmoo`` command.

Every command module imports its heavy dependencies (pandapower, numba,
pymoo, matplotlib, dask) inside its handler, so that ``fdnmoo --help`` and
``fdnmoo cases`` start in about the time of ``import numpy, pandas``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from ..cases.errors import CaseError
from . import (bench_cmd, case_cmd, cases_cmd, compare_cmd, filter_cmd, partition_cmd, pf_cmd,
               run_cmd, study_cmd)
from .logs import configure_logging

__all__ = ["main", "build_parser"]

EXIT_USAGE = 2
logger = logging.getLogger(__name__)


def _add_verbosity(parser: argparse.ArgumentParser, default) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="show debug messages (and the traceback of an error)")
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="no progress bars and no info messages (warnings and errors only)")


class _SubcommandsWithVerbosity:
    """``sub.add_parser`` that gives every (sub)command the -v/--quiet flags too."""

    def __init__(self, sub) -> None:
        self._sub = sub

    def add_parser(self, *args, **kwargs) -> argparse.ArgumentParser:
        parser = self._sub.add_parser(*args, **kwargs)
        # SUPPRESS: a flag given after the command must not be reset by the command's default
        _add_verbosity(parser, argparse.SUPPRESS)
        return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fdnmoo",
        description="Evolutionary multi-objective planning of flexible distribution networks.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"fdnmoo {__version__}")
    _add_verbosity(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (cases_cmd, case_cmd, pf_cmd, bench_cmd, run_cmd, study_cmd, filter_cmd,
                   partition_cmd, compare_cmd):
        module.register(_SubcommandsWithVerbosity(sub))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose and args.quiet:
        parser.error("-v/--verbose and -q/--quiet exclude each other")
    configure_logging(verbose=args.verbose, quiet=args.quiet)
    try:
        return int(args.handler(args) or 0)
    except (CaseError, ValueError, KeyError) as exc:
        logger.debug("traceback of the error below", exc_info=True)
        print(f"fdnmoo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
