"""Planning cases: benchmark feeders with their candidate tables and economics.

>>> from fdnmoo.cases import load_case, available_cases
>>> case = load_case("ieee33")
>>> case.net.line.in_service.sum(), len(case.tie_lines)
(32, 5)

A user's own pandapower net becomes a case with :func:`from_pandapower`; a
SimBench grid with :func:`simbench_case`.

The names below are imported on first use (PEP 562), so that importing
``fdnmoo.cases.errors`` or listing the built-in cases does not import
pandapower.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> submodule that defines it
_EXPORTS = {
    "CaseError": "errors",
    "from_pandapower": "pandapower_import",
    "read_case": "io", "write_case": "io",
    "Economics": "model", "Horizon": "model", "PlanningCase": "model", "Uncertainty": "model",
    "available_cases": "registry", "load_case": "registry",
    "SIMBENCH_CASES": "simbench_cases", "simbench_case": "simbench_cases",
    "validate_case": "validate", "validate_net": "validate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
