"""Planning cases: benchmark feeders with their candidate tables and economics.

>>> from fdnmoo.cases import load_case, available_cases
>>> case = load_case("ieee33")
>>> case.net.line.in_service.sum(), len(case.tie_lines)
(32, 5)

A user's own pandapower net becomes a case with :func:`from_pandapower`; a
SimBench grid with :func:`simbench_case`.
"""

from .errors import CaseError
from .pandapower_import import from_pandapower
from .io import read_case, write_case
from .model import Economics, Horizon, PlanningCase, Uncertainty
from .registry import available_cases, load_case
from .simbench_cases import SIMBENCH_CASES, simbench_case
from .validate import validate_case, validate_net

__all__ = ["CaseError", "Economics", "Horizon", "PlanningCase", "Uncertainty", "SIMBENCH_CASES",
           "available_cases", "from_pandapower", "load_case", "read_case", "simbench_case",
           "write_case", "validate_case", "validate_net"]
