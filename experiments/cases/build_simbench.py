"""Write the four SimBench MV grids as built-in case files.

Usage (from the repository root)::

    python experiments/cases/build_simbench.py           # writes fdnmoo/cases/data/simbench-mv-*.json
    python experiments/cases/build_simbench.py --check   # rebuilds in memory, fails if a file differs

The source is the ``simbench`` package (its data ship inside it; nothing is
downloaded); the conversion is :func:`fdnmoo.cases.simbench_case`, i.e.
:func:`fdnmoo.cases.from_pandapower` with its documented defaults. The files are
shipped rather than built on every load because reading one (~0.3 s, ~0.3 MB) is
about ten times faster than building it from the package, and ``fdnmoo cases``
loads every built-in case. The same package versions give byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from fdnmoo.cases import write_case
from fdnmoo.cases.registry import DATA_DIR
from fdnmoo.cases.simbench_cases import SIMBENCH_CASES, simbench_case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write the case files")
    parser.add_argument("--check", action="store_true",
                        help="compare a fresh build with the files in --out instead of writing")
    args = parser.parse_args(argv)
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, code in SIMBENCH_CASES.items():
            case = simbench_case(code, name=name)
            target = args.out / f"{name}.json"
            path = write_case(case, (Path(tmp) if args.check else args.out) / f"{name}.json")
            pf = case.reference["pandapower"]
            print(f"{name} ({code}): {len(case.net.bus)} buses, {len(case.tie_lines)} ties, "
                  f"{len(case.feeders)} feeders; pandapower on the original vs the case: "
                  f"max |dV| {pf['max_abs_dv_pu']:.2e} p.u., losses {pf['original']['losses_kw']:.2f} "
                  f"vs {pf['case']['losses_kw']:.2f} kW")
            if args.check and (not target.is_file() or target.read_bytes() != path.read_bytes()):
                failed.append(name)
    if failed:
        print(f"differs from the shipped file: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
