"""``fdnmoo bench pf``: power-flow benchmark against pandapower and power-grid-model."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("bench", help="run a benchmark (pf: power flow)")
    p.add_argument("which", choices=("pf",), help="pf: batch power flow vs pandapower and power-grid-model")
    p.add_argument("options", nargs=argparse.REMAINDER, help="options passed to the benchmark (see --help)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..bench import powerflow

    return int(powerflow.main(args.options) or 0)
