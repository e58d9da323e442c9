"""Shared pieces of the run figures: an Agg-backed figure, saving, axis labels with units.

Axis labels carry the unit, with the word ``currency`` of a registry unit
(``"currency (NPV)"``) replaced by the case's currency (``case.economics``).
Values of 10^4 and more (or below 10^-2) are shown in a power of ten that is
part of the label (``total_cost [10^6 CNY (NPV)]``) instead of matplotlib's
offset text, which would sit on top of a long label in a small panel.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

__all__ = ["axis_label", "case_currency", "new_figure", "save_figure"]

_DPI = 120


def new_figure(**kwargs: Any) -> Figure:
    """A :class:`~matplotlib.figure.Figure` (dpi 120, ``kwargs`` passed on) on an Agg canvas."""
    fig = Figure(dpi=_DPI, **kwargs)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG at ``path``; returns the path."""
    path = Path(path)
    fig.savefig(path)
    return path


def case_currency(case: Any) -> str | None:
    """The currency of ``case.economics`` (None without a case)."""
    return None if case is None else str(case.economics.currency)


def axis_label(axis, name: str, unit: str = "", sense: str = "min", values: Any = (),
               currency: str | None = None, fontsize: float = 8, wrap_at: int = 0) -> None:
    """Label an x or y ``axis`` with name, unit and sense; large or small values scaled.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        ``ax.xaxis`` or ``ax.yaxis``.
    name, unit, sense : str
        Objective (or quantity) name, its unit (``"-"``: none) and ``"min"`` /
        ``"max"`` (``" (max)"`` is appended for maximised objectives).
    values : array_like
        The values drawn on the axis: if their largest magnitude is >= 1e4 or
        < 1e-2, ticks are in units of 10^k (k a multiple of 3) and ``10^k``
        leads the unit in the label; no offset text is drawn.
    currency : str, optional
        Replaces the word ``currency`` in ``unit``.
    fontsize : float
    wrap_at : int
        If > 0, a label longer than this many characters puts its unit and
        sense on a second line (for small panels).
    """
    if currency:
        unit = re.sub(r"\bcurrency\b", currency, unit)
    unit = "" if unit == "-" else unit
    power = _power_of_ten(values)
    formatter = ScalarFormatter(useOffset=False)
    if power:
        formatter.set_powerlimits((power, power))
        unit = f"$10^{{{power}}}$ {unit}".strip()
    axis.set_major_formatter(formatter)
    axis.get_offset_text().set_visible(False)
    text = name + (f" [{unit}]" if unit else "") + (" (max)" if sense == "max" else "")
    if wrap_at and len(text) > wrap_at and " " in text:  # unit and sense on a second line
        text = text.replace(" ", "\n", 1)
    axis.set_label_text(text, fontsize=fontsize)


def _power_of_ten(values: Any) -> int:
    v = np.asarray(values, dtype=float).ravel()
    v = np.abs(v[np.isfinite(v)])
    top = float(v.max()) if v.size else 0.0
    if top == 0.0 or 1e-2 <= top < 1e4:
        return 0
    return int(3 * np.floor(np.log10(top) / 3))
