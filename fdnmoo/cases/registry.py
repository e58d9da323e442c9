"""Built-in cases: the JSON files shipped in ``fdnmoo/cases/data`` plus generators.

``simbench:CODE`` (any code of the ``simbench`` package, e.g. ``simbench:1-LV-rural1--0-sw``)
builds that SimBench grid as a case on load (:func:`fdnmoo.cases.simbench_case`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .errors import CaseError
from .io import read_case
from .model import PlanningCase

__all__ = ["DATA_DIR", "SIMBENCH_PREFIX", "available_cases", "load_case"]

DATA_DIR = Path(__file__).with_name("data")
SIMBENCH_PREFIX = "simbench:"


def _generators() -> dict[str, Callable[..., PlanningCase]]:
    from .synthetic import synthetic_case

    return {"synthetic": synthetic_case}


def available_cases() -> list[str]:
    """Names accepted by :func:`load_case` (shipped files and generators)."""
    files = sorted(p.stem for p in DATA_DIR.glob("*.json"))
    return files + sorted(_generators())


def load_case(name_or_path: str | Path, **params: Any) -> PlanningCase:
    """Load a built-in case by name, or a case file by path.

    Parameters
    ----------
    name_or_path : str or Path
        A built-in name (see :func:`available_cases`), ``simbench:CODE`` or a
        path to a JSON case file.
    **params
        Parameters of a generated case, e.g.
        ``load_case("synthetic", n_bus=1000, n_feeders=4, seed=1)``.

    Raises
    ------
    CaseError
        Unknown name (the message lists the available cases), unreadable
        file, or invalid content (the message names file, field and value).
    """
    text = str(name_or_path)
    if text.startswith(SIMBENCH_PREFIX):
        from .simbench_cases import simbench_case

        if params:
            raise CaseError(text, "parameters", sorted(params), "a SimBench case takes no parameters")
        return simbench_case(text[len(SIMBENCH_PREFIX):])
    generators = _generators()
    if text in generators:
        return generators[text](**params)
    if params:
        raise CaseError(text, "parameters", sorted(params),
                        "only generated cases take parameters "
                        f"({', '.join(sorted(generators))})")
    builtin = DATA_DIR / f"{text}.json"
    if builtin.is_file():
        return read_case(builtin)
    path = Path(text)
    if path.suffix.lower() == ".json" or path.exists():
        return read_case(path)
    raise CaseError(text, "case", text,
                    f"unknown case; available cases are {', '.join(available_cases())} "
                    "(or give the path of a .json case file, or simbench:CODE)")
