"""``fdnmoo case import NET.json|simbench:CODE --out CASE.json``: a pandapower net as a case file."""

from __future__ import annotations

from pathlib import Path

from ..cases.errors import CaseError


def register(sub) -> None:
    p = sub.add_parser("case", help="work with case files (import a pandapower net)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import", help="turn a pandapower net into a case file",
        description="Build a planning case from a pandapower JSON net or a SimBench grid "
                    "(fdnmoo.cases.from_pandapower): normalised topology, feeders, coordinates, "
                    "candidate tables by documented rules, assumed economics and reliability.")
    imp.add_argument("source", help="pandapower net file (pandapower.to_json) or simbench:CODE, "
                                    "e.g. simbench:1-MV-rural--0-sw")
    imp.add_argument("--out", required=True, type=Path, help="case file to write (.json)")
    imp.add_argument("--name", help="case name (default: the file stem or the SimBench code)")
    imp.set_defaults(handler=run_import)


def run_import(args) -> int:
    # imported here: the import machinery pulls in pandapower, which --help does not need
    from ..cases import from_pandapower, simbench_case, write_case
    from ..cases.registry import SIMBENCH_PREFIX

    source = str(args.source)
    if source.startswith(SIMBENCH_PREFIX):
        case = simbench_case(source[len(SIMBENCH_PREFIX):], name=args.name)
    else:
        case = from_pandapower(_read_net(Path(source)), name=args.name or Path(source).stem,
                               file=Path(source).name)
    path = write_case(case, args.out)
    pf = case.reference.get("pandapower", {})
    diff = f"; pandapower on the original vs the case: max |dV| {pf['max_abs_dv_pu']:.2e} p.u." \
        if "max_abs_dv_pu" in pf else ""
    print(f"wrote {path}: {len(case.net.bus)} buses, {int(case.net.line.in_service.sum())} lines, "
          f"{len(case.tie_lines)} ties, {len(case.feeders)} feeders{diff}")
    return 0


def _read_net(path: Path):
    import pandapower as pp

    if not path.is_file():
        raise CaseError(str(path), "file", str(path), "no such pandapower net file")
    try:
        return pp.from_json(str(path))
    except Exception as exc:  # pandapower raises many types for a bad file
        raise CaseError(path.name, "net", None, f"not a pandapower JSON net: {exc}") from None
