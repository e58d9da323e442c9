"""Pareto filters on a results folder: ``filtered.csv`` from ``pareto.csv``.

``fdnmoo filter RESULTS_DIR --weakening [M] --deviation DMAX [--comprehensive]`` and a
spec's ``filter:`` section (applied after the run) both call :func:`filter_results`.
The filters are :mod:`fdnmoo.operators.filters`: dominance weakening on the objective
values (under interval methods the interval midpoints), then the deviation distance over
the solutions the weakening kept (the paper's order: the weakened front, then its
deviation filter). Maximised objectives are negated first; distances do not depend on it.

``filtered.csv`` holds every row of ``pareto.csv`` (its columns unchanged) followed by

* with weakening: ``weakening_kept``; ``strongest_rival`` (the ``solution`` beating it on
  the most objectives, -1 for a front of one); ``n_nondominated`` and ``nondominated_on`` (the objectives that
  rival does not beat it on, names joined by ``", "``) and one bool column
  ``nondominated_on_<objective>`` per objective;
* with a deviation filter: ``deviation_distance [-]`` (``comprehensive_deviation_distance
  [-]``), empty for rows the weakening removed, and ``deviation_kept``;
* ``kept``: the row passed every filter asked for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from typing import Any

from ..objectives import OBJECTIVES
from ..operators.filters import default_m, deviation_filter, weakening_filter
from .checking import Checker
from .schema import section_keys

__all__ = ["FILTERED_CSV", "FilterError", "FilterReport", "FilterSettings", "ParetoFront",
           "filter_front", "filter_results", "read_front"]

#: File written into the results folder.
FILTERED_CSV = "filtered.csv"

_COLUMN = re.compile(r"^(?P<name>[^ \[]+)(?: \[(?P<unit>.*)\])?$")


class FilterError(ValueError):
    """A filter setting or a results folder the filters cannot use; ``key`` names the
    setting (``weakening``, ``deviation``, ``comprehensive``) or is empty."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class FilterSettings:
    """Which filters to run (the spec's ``filter:`` section).

    Parameters
    ----------
    weakening : int or True, optional
        Dominance weakening with this m (1..N; ``True``: floor(N/2) + 1).
    deviation : float, optional
        The deviation filter's D_max (> 0).
    comprehensive : bool
        The comprehensive deviation distance (deterministic objectives too).
    """

    weakening: int | bool | None = None
    deviation: float | None = None
    comprehensive: bool = False

    @classmethod
    def parse(cls, check: Checker, data: Any) -> "FilterSettings | None":
        """The ``filter:`` section (None when absent); what depends on the problem (m <= N,
        interval objectives for the deviation filter) is checked by the caller."""
        if data is None:
            return None
        data = check.mapping(data, "filter", section_keys("filter"))
        weakening = data.get("weakening")
        if weakening is False:
            weakening = None
        elif weakening is not None and weakening is not True:
            weakening = check.integer(weakening, "filter.weakening", minimum=1)
        deviation = data.get("deviation")
        if deviation is not None:
            deviation = check.typed(deviation, "filter.deviation", float)
            if deviation <= 0:
                raise check.fail("filter.deviation", f"D_max must be > 0, got {deviation}")
        comprehensive = check.typed(data.get("comprehensive", False), "filter.comprehensive",
                                    bool)
        return cls(weakening=weakening, deviation=deviation, comprehensive=comprehensive)

    def check(self, n_obj: int, has_bounds: bool) -> None:
        """Refuse settings that cannot apply to ``n_obj`` objectives with (or without)
        lower/upper objective values.

        Raises
        ------
        FilterError
        """
        w = self.weakening
        if self.comprehensive and self.deviation is None:
            raise FilterError("comprehensive", "applies to the deviation filter: give "
                                               "deviation (D_max) too")
        if w is None and self.deviation is None:
            raise FilterError("", "no filter asked for: give weakening and/or deviation")
        if w is not None and w is not True and (isinstance(w, bool) or not 1 <= w <= n_obj):
            raise FilterError("weakening", f"m must be in 1..{n_obj} (the number of "
                              f"objectives) or true (floor(N/2) + 1 = {default_m(n_obj)}), "
                              f"got {w!r}")
        d = self.deviation
        if d is not None and (isinstance(d, bool) or not np.isfinite(d) or d <= 0):
            raise FilterError("deviation", f"D_max must be a number > 0, got {d!r}")
        if d is not None and not has_bounds and not self.comprehensive:
            raise FilterError("deviation", "needs interval objectives (lower and upper "
                              "values: uncertainty.method interval or affine); the "
                              "comprehensive distance also takes deterministic objectives")

    def as_dict(self) -> dict:
        return {"weakening": self.weakening, "deviation": self.deviation,
                "comprehensive": self.comprehensive}


@dataclass
class ParetoFront:
    """The objectives of a ``pareto.csv``.

    Attributes
    ----------
    table : DataFrame
        The file as read.
    names : list of str
    senses : list of str
        ``"min"`` or ``"max"``.
    F : ndarray
        Objectives, minimised (maximised ones negated).
    lo, hi : ndarray or None
        Lower and upper values, minimised; None without ``<name>_lo``/``_hi`` columns.
    """

    table: pd.DataFrame
    names: list[str]
    senses: list[str]
    F: np.ndarray
    lo: np.ndarray | None
    hi: np.ndarray | None


def read_front(results_dir: str | Path) -> ParetoFront:
    """Read ``pareto.csv`` of a results folder.

    The objectives and their senses come from ``run.json`` when the folder has one, else
    from the columns before the constraints (``g_*``) and ``cv`` with the senses of the
    objective registry.

    Raises
    ------
    FilterError
        Missing folder or file, unknown objective, missing or partial bound columns.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise FilterError("", f"{folder}: no such results folder")
    path = folder / "pareto.csv"
    if not path.is_file():
        raise FilterError("", f"{path}: no pareto.csv (is {folder} the folder of a run?)")
    table = pd.read_csv(path)
    columns = {}
    for column in table.columns:
        match = _COLUMN.match(str(column))
        if match:
            columns.setdefault(match["name"], column)
    names, senses = _objectives(folder, table, columns, path)
    own = np.column_stack([table[columns[n]].to_numpy(float) for n in names]) \
        if len(table) else np.zeros((0, len(names)))
    signs = np.array([-1.0 if s == "max" else 1.0 for s in senses])
    with_bounds = [n for n in names if f"{n}_lo" in columns and f"{n}_hi" in columns]
    lo = hi = None
    if with_bounds and len(with_bounds) != len(names):
        missing = [n for n in names if n not in with_bounds]
        raise FilterError("", f"{path}: objectives {', '.join(missing)} have no _lo/_hi "
                              f"columns, the others have")
    if with_bounds:
        own_lo, own_hi = (np.column_stack([table[columns[f"{n}_{end}"]].to_numpy(float)
                                           for n in names]).reshape(len(table), len(names))
                          for end in ("lo", "hi"))
        lo = np.where(signs > 0, own_lo, -own_hi)
        hi = np.where(signs > 0, own_hi, -own_lo)
    bad = np.isnan(own).any(axis=1)
    if bad.any():
        raise FilterError("", f"{path}: empty objective values in rows "
                              f"{np.flatnonzero(bad)[:10].tolist()}")
    return ParetoFront(table, names, senses, own * signs, lo, hi)


def _objectives(folder: Path, table: pd.DataFrame, columns: dict[str, str], path: Path
                ) -> tuple[list[str], list[str]]:
    run = folder / "run.json"
    if run.is_file():
        stated = json.loads(run.read_text()).get("objectives") or []
        names = [o["name"] for o in stated]
        senses = [o["sense"] for o in stated]
    else:
        names = []
        for column in map(str, table.columns[1:]):
            match = _COLUMN.match(column)
            name = match["name"] if match else column
            if name == "cv" or name.startswith("g_"):
                break
            if not name.endswith(("_lo", "_hi")):
                names.append(name)
        unknown = [n for n in names if n not in OBJECTIVES]
        if unknown:
            raise FilterError("", f"{path}: objective {unknown[0]!r} is not registered and "
                                  f"there is no run.json stating its sense")
        senses = [OBJECTIVES[n].sense for n in names]
    missing = [n for n in names if n not in columns]
    if not names or missing:
        raise FilterError("", f"{path}: no column of objective "
                              f"{(missing or ['(none found)'])[0]!r}")
    return names, senses


def filter_front(front: ParetoFront, settings: FilterSettings) -> pd.DataFrame:
    """``pareto.csv`` with the filters' columns (see the module docstring)."""
    settings.check(len(front.names), front.lo is not None)
    table = front.table.copy()
    kept = np.ones(len(table), dtype=bool)
    solution = table["solution"].to_numpy() if "solution" in table else np.arange(len(table))
    if settings.weakening is not None:
        m = None if settings.weakening is True else int(settings.weakening)
        result = weakening_filter(front.F, m)
        part = result.to_frame(front.names)
        part["strongest_rival"] = np.where(result.rival >= 0, solution[result.rival], -1) \
            if len(table) else []
        part = part.rename(columns={"kept": "weakening_kept"})
        table = pd.concat([table, part.set_index(table.index)], axis=1)
        kept &= result.keep
    if settings.deviation is not None:
        comprehensive = settings.comprehensive
        lo = front.F if front.lo is None else front.lo
        hi = front.F if front.hi is None else front.hi
        distance = np.full(len(table), np.nan)
        within = np.zeros(len(table), dtype=bool)
        if kept.any():
            try:
                within[kept], distance[kept] = deviation_filter(
                    lo[kept], hi[kept], settings.deviation, comprehensive=comprehensive)
            except ValueError as exc:
                raise FilterError("deviation", str(exc)) from None
        table[_distance_column(comprehensive)] = distance
        table["deviation_kept"] = within
        kept &= within
    table["kept"] = kept
    return table


def _distance_column(comprehensive: bool) -> str:
    return ("comprehensive_" if comprehensive else "") + "deviation_distance [-]"


@dataclass
class FilterReport:
    """What :func:`filter_results` wrote."""

    path: Path
    table: pd.DataFrame
    summary: str


def filter_results(results_dir: str | Path, settings: FilterSettings) -> FilterReport:
    """Filter ``pareto.csv`` of a results folder and write ``filtered.csv`` beside it.

    Raises
    ------
    FilterError
        See :func:`read_front` and :meth:`FilterSettings.check`; the message names the file.
    """
    front = read_front(results_dir)
    try:
        table = filter_front(front, settings)
    except FilterError as exc:
        where = f"{Path(results_dir) / 'pareto.csv'}: "
        raise FilterError(exc.key, where + (f"{exc.key}: " if exc.key else "") +
                          exc.message) from None
    path = Path(results_dir) / FILTERED_CSV
    table.to_csv(path, index=False)
    parts = [f"{len(table)} solutions in pareto.csv"]
    if "weakening_kept" in table:
        n_obj = len(front.names)
        m = default_m(n_obj) if settings.weakening is True else settings.weakening
        parts.append(f"weakening (m = {m} of {n_obj}) kept {int(table.weakening_kept.sum())}")
    if "deviation_kept" in table:
        kind = "comprehensive deviation" if settings.comprehensive else "deviation"
        distance = table[_distance_column(settings.comprehensive)].dropna()
        spread = f", distances {distance.min():.3g}-{distance.max():.3g}" if len(distance) \
            else ""
        parts.append(f"{kind} (D_max = {settings.deviation:g}{spread}) kept "
                     f"{int(table.deviation_kept.sum())}")
    summary = "; ".join(parts) + f": {int(table.kept.sum())} of {len(table)} kept ({path})"
    return FilterReport(path, table, summary)
