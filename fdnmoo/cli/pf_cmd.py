"""``fdnmoo pf CASE``: base-case power flow of a case."""

from __future__ import annotations

import json
import logging
import time

logger = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("pf", help="run the base-case power flow of a case",
                       description="Base-case power flow: losses, voltage extremes, convergence.")
    p.add_argument("case", help="built-in case name (see 'fdnmoo cases') or path to a case file")
    p.add_argument("--engine", choices=("batch", "pandapower"), default="batch",
                   help="batch: our backward/forward sweep (default); pandapower: runpp")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--set", dest="params", action="append", default=[], metavar="KEY=VALUE",
                   help="parameter of a generated case, e.g. --set n_bus=1000 (repeatable)")
    p.set_defaults(handler=run)


def run(args) -> int:
    # imported here: the other commands (and --help) need neither numba nor pandapower
    from ..cases import load_case
    from ..powerflow import BatchPowerFlow, run_pandapower

    start = time.perf_counter()
    case = load_case(args.case, **_parse_params(args.params))
    logger.debug("loaded case %s (%s) in %.3f s", case.name, case.source_file or "generated",
                 time.perf_counter() - start)
    start = time.perf_counter()
    if args.engine == "batch":
        pf = BatchPowerFlow(case.net)
        result = pf.run(*pf.base_demand())
    else:
        result = run_pandapower(case.net)
    logger.debug("%s power flow in %.3f s", args.engine, time.perf_counter() - start)
    summary = result.summary()
    if args.json:
        print(json.dumps(summary))
    elif summary["converged"]:
        print(f"case {case.name} ({args.engine}): losses {summary['losses_kw']:.2f} kW, "
              f"Vmin {summary['vmin_pu']:.4f} p.u. at bus {summary['vmin_bus']}, "
              f"Vmax {summary['vmax_pu']:.4f} p.u. at bus {summary['vmax_bus']}, converged"
              + (f", {summary['unsupplied_buses']} bus(es) unsupplied"
                 if summary["unsupplied_buses"] else ""))
    else:
        print(f"case {case.name} ({args.engine}): power flow did not converge")
    return 0 if summary["converged"] else 1


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params
