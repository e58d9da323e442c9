"""Reading and writing case files (one JSON file per case).

File layout::

    {
      "format": "fdnmoo-case/1",
      "name": "ieee33",
      "citation": "...", "description": "...",
      "reference": {"losses_kw": 202.68, "vmin_pu": 0.9131, "vmin_bus": 18, "source": "..."},
      "net": { ...pandapower's own JSON of the net... },
      "candidates": {"pv": [{"bus": 18, "max_mw": 1.0}, ...], ...},
      "horizon": {...}, "economics": {...}, "uncertainty": {...}
    }

Unknown keys are refused; every problem is reported as a :class:`CaseError`
naming the file, the field and the value.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import CaseError
from .model import Economics, Horizon, PlanningCase, Uncertainty, record_field_names
from .schema import CANDIDATE_TABLES

__all__ = ["FORMAT", "read_case", "write_case", "case_to_dict", "case_from_dict"]

FORMAT = "fdnmoo-case/1"
_TOP_KEYS = {"format", "name", "citation", "description", "reference", "net",
             "candidates", "horizon", "economics", "uncertainty"}
_RECORDS = {"horizon": Horizon, "economics": Economics, "uncertainty": Uncertainty}


def read_case(path: str | Path) -> PlanningCase:
    """Read and validate a case file.

    Parameters
    ----------
    path : str or Path
        A ``.json`` case file.

    Raises
    ------
    CaseError
        If the file is missing, is not valid JSON, or its content is invalid.
    """
    from .validate import validate_case

    path = Path(path)
    if not path.is_file():
        raise CaseError(str(path), "file", str(path), "no such case file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CaseError(path.name, f"json (line {exc.lineno}, column {exc.colno})",
                        None, exc.msg) from None
    case = case_from_dict(doc, file=path.name)
    case.source_file = str(path)
    validate_case(case, file=path.name)
    return case


def write_case(case: PlanningCase, path: str | Path) -> Path:
    """Write a case to a JSON file (validated first)."""
    from .validate import validate_case

    path = Path(path)
    validate_case(case, file=path.name)
    path.write_text(json.dumps(case_to_dict(case), indent=1, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def case_to_dict(case: PlanningCase) -> dict[str, Any]:
    """The JSON document of a case."""
    import pandapower as pp

    return {
        "format": FORMAT,
        "name": case.name,
        "citation": case.citation,
        "description": case.description,
        "reference": case.reference,
        "net": json.loads(pp.to_json(case.net)),
        "candidates": {name: _records(df) for name, df in case.candidates.items()},
        "horizon": asdict(case.horizon),
        "economics": _economics(case.economics),
        "uncertainty": asdict(case.uncertainty),
    }


def case_from_dict(doc: Any, file: str = "<case>") -> PlanningCase:
    """Build a case from its JSON document, checking keys and types."""
    import pandapower as pp

    if not isinstance(doc, dict):
        raise CaseError(file, "<top level>", type(doc).__name__, "a case file holds a JSON object")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise CaseError(file, sorted(unknown)[0], None,
                        f"unknown key; allowed keys are {sorted(_TOP_KEYS)}")
    for key in ("format", "name", "net"):
        if key not in doc:
            raise CaseError(file, key, None, "required key is missing")
    if doc["format"] != FORMAT:
        raise CaseError(file, "format", doc["format"], f"expected {FORMAT!r}")
    if not isinstance(doc["name"], str) or not doc["name"]:
        raise CaseError(file, "name", doc["name"], "must be a non-empty string")
    try:
        net = pp.from_json_string(json.dumps(doc["net"]))
    except Exception as exc:  # pandapower raises many types for a bad net
        raise CaseError(file, "net", None, f"not a pandapower network: {exc}") from None

    candidates = {}
    for name, rows in (doc.get("candidates") or {}).items():
        if name not in CANDIDATE_TABLES:
            raise CaseError(file, f"candidates.{name}", None,
                            f"unknown table; known tables are {sorted(CANDIDATE_TABLES)}")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise CaseError(file, f"candidates.{name}", None, "must be a list of records (objects)")
        candidates[name] = pd.DataFrame.from_records(rows)

    records = {key: _record(cls, doc.get(key) or {}, file, key) for key, cls in _RECORDS.items()}
    return PlanningCase(name=doc["name"], net=net, citation=doc.get("citation", ""),
                        description=doc.get("description", ""), candidates=candidates,
                        reference=doc.get("reference") or {}, **records)


def _record(cls, values: Any, file: str, key: str):
    if not isinstance(values, dict):
        raise CaseError(file, key, None, "must be an object")
    allowed = record_field_names(cls)
    for name, value in values.items():
        if name not in allowed:
            raise CaseError(file, f"{key}.{name}", value, f"unknown key; allowed keys are {sorted(allowed)}")
    return cls(**values)


def _economics(economics: Economics) -> dict[str, Any]:
    """The economics record; ``inflation_rate`` and ``form`` only when not the default, so
    that files without them are written as they were before the fields existed."""
    doc = asdict(economics)
    if doc.get("inflation_rate") == 0:
        del doc["inflation_rate"]
    if doc.get("form") == "horizon":
        del doc["form"]
    return doc


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else _plain(v))
                    for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars for JSON."""
    return value.item() if hasattr(value, "item") else value
