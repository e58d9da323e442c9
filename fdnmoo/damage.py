"""Sector customer damage functions: interruption cost per kW by load class and duration.

Source of the table (:data:`RBTS_SECTOR_CDF`): R. N. Allan, R. Billinton,
I. Sjarief, L. Goel and K. S. So, "A reliability test system for educational
purposes - basic distribution system data and results", IEEE Trans. Power
Systems 6(2), 813-820, 1991, table of sector customer damage functions
(interruption cost in 1991 Canadian $/kW of average load for interruptions of
1 min, 20 min, 1 h, 4 h and 8 h; the same table is reproduced in Billinton &
Allan, *Reliability Evaluation of Power Systems*, 2nd ed., 1996).
The values were entered by hand and agree with the table as it is commonly reproduced; no
copy of the 1991 paper is in this repository to check them against, so check them there
before relying on an ECOST figure.

Interpolation (our choice, stated here once): **linear in duration** between the
tabulated points; below 1 min the cost is proportional to the duration (zero
cost for a zero-length interruption); above 8 h the last segment (4 h - 8 h) is
extended linearly. Durations are in hours.

The load class of a load is the column ``net.load.load_class`` (one of
:data:`LOAD_CLASSES`); a case without the column, or a row left empty, gets
:data:`DEFAULT_LOAD_CLASS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cases.errors import CaseError
from .demand import element_demand
from .parameters import did_you_mean

__all__ = ["RBTS_DURATIONS_H", "RBTS_SECTOR_CDF", "LOAD_CLASSES", "DEFAULT_LOAD_CLASS",
           "cost_per_kw", "load_class_shares"]

#: Durations of the table columns (h): 1 min, 20 min, 1 h, 4 h, 8 h.
RBTS_DURATIONS_H = np.array([1 / 60, 20 / 60, 1.0, 4.0, 8.0])

#: Sector customer damage functions ($/kW) of Allan et al. 1991 (module docstring).
RBTS_SECTOR_CDF: dict[str, tuple[float, ...]] = {
    "large_user": (1.005, 1.508, 2.225, 3.968, 8.240),
    "industrial": (1.625, 3.868, 9.085, 25.16, 55.81),
    "commercial": (0.381, 2.969, 8.552, 31.32, 83.01),
    "agricultural": (0.060, 0.343, 0.649, 2.064, 4.120),
    "residential": (0.001, 0.093, 0.482, 4.914, 15.69),
    "government": (0.044, 0.369, 1.492, 6.558, 26.04),
    "office": (4.778, 9.878, 21.06, 68.83, 119.2),
}

#: Load classes in the order of the rows of :func:`load_class_shares`.
LOAD_CLASSES: tuple[str, ...] = tuple(RBTS_SECTOR_CDF)

#: Class of a load whose case gives none (the most common class of feeder loads).
DEFAULT_LOAD_CLASS = "residential"


def cost_per_kw(duration_h: np.ndarray) -> np.ndarray:
    """Interruption cost ($/kW) of every load class for interruptions of ``duration_h``.

    Parameters
    ----------
    duration_h : array_like
        Interruption durations (h), >= 0.

    Returns
    -------
    ndarray, shape (len(LOAD_CLASSES),) + shape of ``duration_h``
        Row i is class ``LOAD_CLASSES[i]``, interpolated as the module docstring states.
    """
    t = np.asarray(duration_h, dtype=float)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError(f"interruption durations must be finite and >= 0 h, got "
                         f"{t[(t < 0) | ~np.isfinite(t)].ravel()[:3]}")
    x = np.concatenate([[0.0], RBTS_DURATIONS_H])
    out = np.empty((len(LOAD_CLASSES),) + t.shape)
    for i, name in enumerate(LOAD_CLASSES):
        y = np.concatenate([[0.0], RBTS_SECTOR_CDF[name]])
        slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
        out[i] = np.where(t <= x[-1], np.interp(t, x, y), y[-1] + slope * (t - x[-1]))
    return out


def load_class_shares(net, file: str = "<case>") -> np.ndarray:
    """Share of each bus's load demand in each load class.

    Parameters
    ----------
    net : pandapowerNet
        Loads with an optional ``load_class`` column (default :data:`DEFAULT_LOAD_CLASS`).
    file : str
        Case file named in errors.

    Returns
    -------
    ndarray, shape (len(LOAD_CLASSES), n_bus)
        Columns in ``net.bus`` row order; a column sums to 1 at a bus with load
        demand, to 0 elsewhere (only in-service loads with ``p_mw * scaling > 0`` count).

    Raises
    ------
    CaseError
        A ``load_class`` that is not one of :data:`LOAD_CLASSES`, naming the load
        row and the closest class.
    """
    load = net.load
    if "in_service" in load:
        load = load[load.in_service.astype(bool)]
    given = load["load_class"] if "load_class" in load else pd.Series(None, index=load.index)
    classes = given.where(given.notna() & (given.astype(str) != ""), DEFAULT_LOAD_CLASS)
    code = np.empty(len(load), dtype=np.int64)
    for j, (row, name) in enumerate(classes.items()):
        if name not in RBTS_SECTOR_CDF:
            raise CaseError(file, f"net.load[{row}].load_class", name,
                            f"unknown load class; known: {', '.join(LOAD_CLASSES)}"
                            + did_you_mean(str(name), LOAD_CLASSES))
        code[j] = LOAD_CLASSES.index(name)
    bus, p, _ = element_demand(net, "load")  # the same in-service rows, scaling applied
    pos = pd.Index(net.bus.index).get_indexer(bus)
    mw = np.zeros((len(LOAD_CLASSES), len(net.bus)))
    keep = p > 0
    np.add.at(mw, (code[keep], pos[keep]), p[keep])
    total = mw.sum(axis=0)
    return np.divide(mw, total, out=np.zeros_like(mw), where=total > 0)
