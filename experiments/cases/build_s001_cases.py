"""Case files of the copula-scenario study (seed paper 001): ieee33 and tpc84 with line corridors.

Usage (from the repository root)::

    python experiments/cases/build_s001_cases.py      # writes experiments/cases/s001_*.json

The paper plans PV, storage and network expansion on a 25-bus and a 54-bus system whose
data are not public; the study runs on the built-in ``ieee33`` and ``tpc84`` instead. Those
cases have PV and ESS candidates but no candidate lines, so this script adds them: the
``corridors`` and ``conductors`` tables of :func:`fdnmoo.cases.candidate_rules.default_candidates`
(the rule of imported nets: a new line from every feeder's far end to the nearest bus of a
feeder it has no tie with, the net's most common conductor, priced at
``economics.unit_costs.line_per_km``). Everything else is the built-in case, unchanged.
Rebuilding gives byte-identical files (``tests/experiment/test_s001_copula.py`` checks).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fdnmoo.cases import load_case, write_case
from fdnmoo.cases.candidate_rules import RULE_PARAMETERS, default_candidates
from fdnmoo.cases.net_layout import path_length_km

HERE = Path(__file__).resolve().parent
CASES = ("ieee33", "tpc84")
_TABLES = ("corridors", "conductors")


def with_corridors(name: str):
    """The built-in case ``name`` with the rule-made corridor and conductor tables added."""
    case = load_case(name)
    rules = default_candidates(case.net, path_length_km(case.net), case.economics,
                               RULE_PARAMETERS)
    case.candidates.update({t: rules[t] for t in _TABLES})
    case.name = f"s001-{name}"
    case.description = (
        f"The built-in case {name!r} with candidate lines for the copula-scenario study "
        "(seed paper 001, whose 25/54-bus systems are not public): corridors and conductors "
        "by fdnmoo.cases.candidate_rules (written by experiments/cases/build_s001_cases.py). "
        + case.description)
    case.reference = {**case.reference,
                      "assumed": ["candidates.corridors", "candidates.conductors"]}
    return case


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder of the case files")
    args = parser.parse_args(argv)
    for name in CASES:
        path = write_case(with_corridors(name), args.out / f"s001_{name}.json")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
