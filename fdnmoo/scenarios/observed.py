"""Observed days of hourly load and PV: the data a fitted Monte Carlo model learns from.

:func:`observed_days` returns one row per day, 24 hourly ``load_pu`` then 24 hourly
``pv_pu`` values (the layout of :func:`fdnmoo.uncertainty.daily.daily_matrix`), and the
name of its source, from the first that applies:

1. ``data`` (the spec's ``uncertainty.data``): a user's CSV of hourly rows with columns
   ``load_pu`` (demand per unit of the yearly peak) and ``pv_pu`` (PV output per unit of
   installed capacity); other columns are ignored. Row 1 is hour 0-1 of the first day,
   so the number of rows must be a multiple of 24 (at least :data:`MIN_DAYS` days).
   Values must be finite and >= 0.
2. A SimBench case's own profile year (:func:`~fdnmoo.scenarios.simbench_profiles.year_profile`:
   system load per unit of its maximum, mean PV profile; hourly means of the quarter-hours).
3. Otherwise the shipped public year ``data/public_year.csv`` (same CSV layout), written by
   ``experiments/scenarios/write_public_year.py`` from the profiles the ``simbench`` package
   ships for the grid ``1-MV-rural--0-sw`` (Meinecke et al. 2020, SimBench, profile year
   2016, 366 days): load = the summed active power of the grid's loads (SimBench profiles
   ``lv_rural1``/``2``/``3``, ``lv_semiurb4``, ``G0-A``, ``G0-M``, ``G3-A``, ``G3-M``,
   ``L0-A``, ``L2-M``, each load scaled by its rating) per unit of its yearly maximum;
   PV = the mean of the renewable profiles ``PV3`` and ``PV7``; both averaged per hour.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..uncertainty.daily import daily_matrix
from .simbench_profiles import year_profile

__all__ = ["observed_days", "read_hourly_csv", "hourly_table", "MIN_DAYS", "PUBLIC_YEAR_FILE",
           "PUBLIC_YEAR_CASE", "public_year_table",
           "COLUMNS"]

#: Fewest days a fit accepts (a 48-column model needs more than a handful of days).
MIN_DAYS = 10
PUBLIC_YEAR_FILE = "public_year.csv"
#: The built-in case whose SimBench profiles make the public year (``1-MV-rural--0-sw``).
PUBLIC_YEAR_CASE = "simbench-mv-rural"
COLUMNS = ("load_pu", "pv_pu")
_HOURS = 24


def observed_days(grid, data: str | Path | None = None) -> tuple[np.ndarray, str]:
    """Observed days ``(n_days, 48)`` and the name of their source (see the module docstring).

    Raises
    ------
    ValueError
        A bad CSV (naming file, column and row) or too few days (naming the source).
    """
    if data is not None:
        return read_hourly_csv(data), str(data)
    case = grid.case
    profiles = case.reference.get("profiles") if isinstance(case.reference, dict) else None
    if isinstance(profiles, dict) and profiles.get("source") == "simbench":
        source = f"the SimBench profile year of case {case.name!r} ({profiles.get('code')})"
        return _enough(daily_matrix(year_profile(grid).days), source), source
    with resources.files("fdnmoo.scenarios").joinpath("data", PUBLIC_YEAR_FILE).open("r") as fh:
        source = f"fdnmoo's public year (fdnmoo/scenarios/data/{PUBLIC_YEAR_FILE})"
        return _days_from_table(pd.read_csv(fh), source), source


def read_hourly_csv(path: str | Path) -> np.ndarray:
    """Days ``(n_days, 48)`` of a CSV of hourly ``load_pu``, ``pv_pu`` rows (module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"uncertainty.data: no file {str(path)!r}")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc})") from None
    return _days_from_table(table, str(path))


def hourly_table(days: np.ndarray) -> pd.DataFrame:
    """The CSV layout of ``days`` (n_days, 48): columns ``day, hour, load_pu, pv_pu``."""
    n = days.shape[0]
    return pd.DataFrame({"day": np.repeat(np.arange(1, n + 1), _HOURS), "hour": np.tile(np.arange(_HOURS), n),
                         "load_pu": days[:, :_HOURS].ravel(), "pv_pu": days[:, _HOURS:].ravel()})


def public_year_table() -> pd.DataFrame:
    """The public year recomputed from the ``simbench`` package (what ``public_year.csv`` holds)."""
    from ..cases import load_case
    from ..planning import planning_grid

    return hourly_table(daily_matrix(year_profile(planning_grid(load_case(PUBLIC_YEAR_CASE))).days))


def _days_from_table(table: pd.DataFrame, source: str) -> np.ndarray:
    import difflib

    columns = [str(c) for c in table.columns]
    values = []
    for name in COLUMNS:
        if name not in columns:
            close = difflib.get_close_matches(name, columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{source}: no column {name!r}{hint} (columns: {', '.join(columns)}; "
                             f"needed: {', '.join(COLUMNS)})")
        col = pd.to_numeric(table[name], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(col) | (col < 0))
        if bad.size:
            row = int(bad[0])
            raise ValueError(f"{source}: column {name!r}, row {row + 1} (line {row + 2} of the file): "
                             f"{table[name].iloc[row]!r} is not a finite number >= 0")
        values.append(col)
    n_rows = len(table)
    if n_rows % _HOURS:
        raise ValueError(f"{source}: {n_rows} rows are not whole days of {_HOURS} hourly rows")
    days = np.hstack([v.reshape(-1, _HOURS) for v in values])
    return _enough(days, source)


def _enough(days: np.ndarray, source: str) -> np.ndarray:
    if days.shape[0] < MIN_DAYS:
        raise ValueError(f"{source}: {days.shape[0]} days are too little data to fit a model "
                         f"(at least {MIN_DAYS} days of {_HOURS} hourly rows are needed)")
    return days
