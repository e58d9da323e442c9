"""``fdnmoo cases``: table of the built-in cases."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("cases", help="list the built-in cases")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(handler=run)


def run(args) -> int:
    # imported here, not at the top: `fdnmoo --help` does not need pandas
    import pandas as pd

    from ..cases.listing import case_summaries

    rows = case_summaries()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    table = pd.DataFrame(rows).set_index("name")
    with pd.option_context("display.max_colwidth", 70, "display.width", 200):
        print(table.to_string())
    return 0
