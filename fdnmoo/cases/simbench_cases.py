"""SimBench medium-voltage grids as planning cases.

The four SimBench MV grids (rural, semi-urban, urban, commercial; switching
state "0-sw", the "today" scenario) ship inside the ``simbench`` package. They
become the built-in cases ``simbench-mv-rural``, ``simbench-mv-semiurb``,
``simbench-mv-urban`` and ``simbench-mv-comm`` through
:func:`~fdnmoo.cases.from_pandapower` (the case files in ``fdnmoo/cases/data``
are written by ``experiments/cases/build_simbench.py``). Each case records its
SimBench code in ``reference.profiles``, from which
:mod:`fdnmoo.scenarios.simbench_profiles` reads the year of 15-minute load and
generation profiles (``profile: year``).
"""

from __future__ import annotations

from typing import Any

from .errors import CaseError
from .pandapower_import import from_pandapower
from .model import PlanningCase

__all__ = ["SIMBENCH_CASES", "SIMBENCH_CITATION", "simbench_case", "simbench_net"]

#: Built-in case name -> SimBench code.
SIMBENCH_CASES: dict[str, str] = {
    "simbench-mv-rural": "1-MV-rural--0-sw",
    "simbench-mv-semiurb": "1-MV-semiurb--0-sw",
    "simbench-mv-urban": "1-MV-urban--0-sw",
    "simbench-mv-comm": "1-MV-comm--0-sw",
}
SIMBENCH_CITATION = (
    "S. Meinecke, D. Sarajlic, S. R. Drauz, A. Klettke, L.-P. Lauven, C. Rehtanz, A. Moser and "
    "M. Braun, 'SimBench - a benchmark dataset of electric power systems to compare innovative "
    "solutions based on power flow analysis', Energies 13(12), 3290, 2020, doi:10.3390/en13123290; "
    "data from the simbench Python package")


def simbench_net(code: str, file: str = "simbench"):
    """The SimBench net of ``code`` from the ``simbench`` package (CaseError if unknown)."""
    import simbench

    known = simbench.collect_all_simbench_codes()
    if code not in known:
        import difflib

        close = difflib.get_close_matches(code, known, n=3)
        raise CaseError(file, "simbench code", code,
                        "unknown SimBench code" + (f"; did you mean {', '.join(close)}?" if close else ""))
    net = simbench.get_simbench_net(code)
    net.name = code
    return net


def simbench_case(code: str, name: str | None = None, **overrides: Any) -> PlanningCase:
    """A SimBench grid as a planning case (see the module docstring).

    Parameters
    ----------
    code : str
        SimBench code, e.g. ``"1-MV-rural--0-sw"``.
    name : str, optional
        Case name (default: the code).
    **overrides
        Passed to :func:`~fdnmoo.cases.from_pandapower`.
    """
    import simbench

    net = simbench_net(code, file=f"simbench:{code}")
    overrides.setdefault("citation", SIMBENCH_CITATION)
    overrides.setdefault("description", (
        f"SimBench grid {code} (simbench {simbench.__version__}); loads and static generators at "
        "their SimBench rated values (the base case is a heavy-load snapshot; the year of "
        "15-minute profiles is the scenario source 'profile: year')."))
    case = from_pandapower(net, name=name or code, file=f"simbench:{code}", **overrides)
    case.reference["profiles"] = {"source": "simbench", "code": code,
                                  "resolution_min": 15, "note": (
                                      "read from the simbench package by "
                                      "fdnmoo.scenarios.simbench_profiles; load and sgen indices "
                                      "of the case net are SimBench's")}
    return case
