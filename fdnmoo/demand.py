"""Base demand per bus of a pandapower net: the one place that reads loads and generators.

pandapower's sign convention for the elements it models as constant power:

* ``net.load``: ``p_mw``/``q_mvar`` consumed;
* ``net.sgen``: ``p_mw``/``q_mvar`` generated (counted negative here);
* ``net.storage``: ``p_mw``/``q_mvar`` consumed (positive = charging).

Each element counts ``value * scaling`` if it is in service; the result is the
net demand per bus, positive for consumption, as the power flow takes it.
Elements at out-of-service buses are counted too: their bus is unsupplied, so
the power flow ignores them, as pandapower does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DEMAND_TABLES", "bus_demand", "element_demand", "profile_demand"]

#: (table, sign) of every element type read as constant P/Q demand.
DEMAND_TABLES: tuple[tuple[str, float], ...] = (("load", 1.0), ("sgen", -1.0), ("storage", 1.0))


def element_demand(net, table: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-service rows of one element table as ``(bus, p_mw, q_mvar)`` with scaling applied.

    Parameters
    ----------
    net : pandapowerNet
    table : str
        ``"load"``, ``"sgen"`` or ``"storage"``.

    Returns
    -------
    bus : ndarray of int
        Bus labels of the in-service elements.
    p_mw, q_mvar : ndarray
        ``p_mw * scaling`` and ``q_mvar * scaling``, in the table's own sign.
    """
    df = net[table] if table in net else None
    if df is None or len(df) == 0:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty
    df = df[df.in_service.astype(bool)] if "in_service" in df else df
    scale = df.scaling.to_numpy(float) if "scaling" in df else np.ones(len(df))
    return (df.bus.to_numpy(dtype=np.int64), df.p_mw.to_numpy(float) * scale,
            df.q_mvar.to_numpy(float) * scale)


def bus_demand(net, bus_labels=None, tables=DEMAND_TABLES) -> tuple[np.ndarray, np.ndarray]:
    """Net constant-power demand per bus (+ = consumption).

    Parameters
    ----------
    net : pandapowerNet
    bus_labels : array_like, optional
        Bus labels giving the output order (default ``net.bus.index``).
    tables : sequence of (str, float)
        Element tables and their signs (default: loads, static generators and
        storage; pass ``(("load", 1.0),)`` for the loads alone).

    Returns
    -------
    p_mw, q_mvar : ndarray, shape (n_bus,)

    Raises
    ------
    KeyError
        If an element sits at a bus that is not in ``bus_labels``, naming the
        table, the element and the bus.
    """
    labels = net.bus.index if bus_labels is None else pd.Index(np.asarray(bus_labels))
    lookup = pd.Index(labels)
    p = np.zeros(len(lookup))
    q = np.zeros(len(lookup))
    for table, sign in tables:
        bus, pe, qe = element_demand(net, table)
        if bus.size == 0:
            continue
        pos = lookup.get_indexer(bus)
        if (pos < 0).any():
            k = int(np.flatnonzero(pos < 0)[0])
            element = net[table][net[table].in_service.astype(bool)].index[k]
            raise KeyError(f"net.{table}[{element}] is at bus {bus[k]}, which is not a bus of the net")
        np.add.at(p, pos, sign * pe)
        np.add.at(q, pos, sign * qe)
    return p, q


def profile_demand(net, profiles, bus_labels=None,
                   tables=DEMAND_TABLES) -> tuple[np.ndarray, np.ndarray]:
    """Net demand per bus and time step from element time series.

    Parameters
    ----------
    net : pandapowerNet
    profiles : mapping
        ``{(table, column): DataFrame}`` with one row per time step and one
        column per element label, in the units of ``net[table][column]``
        (``p_mw``/``q_mvar``): the form of SimBench's
        ``get_absolute_values(net, profiles_instead_of_study_cases=True)``.
        Elements (or whole columns) without a series keep their value in the net.
    bus_labels : array_like, optional
        Output column order (default ``net.bus.index``).
    tables : sequence of (str, float)
        As in :func:`bus_demand`.

    Returns
    -------
    p_mw, q_mvar : ndarray, shape (n_steps, n_bus)
        ``scaling`` and ``in_service`` applied as in :func:`bus_demand`.

    Raises
    ------
    ValueError
        If the series have different numbers of steps, or hold a non-finite
        value (naming table, column, element and step).
    """
    lookup = pd.Index(net.bus.index if bus_labels is None else np.asarray(bus_labels))
    steps = {len(df) for key, df in profiles.items() if key[0] in dict(tables) and df.shape[1]}
    if len(steps) > 1:
        raise ValueError(f"profiles have different numbers of time steps: {sorted(steps)}")
    n_steps = steps.pop() if steps else 1
    out = {"p_mw": np.zeros((n_steps, len(lookup))), "q_mvar": np.zeros((n_steps, len(lookup)))}
    for table, sign in tables:
        df = net[table] if table in net else None
        if df is None or not len(df):
            continue
        df = df[df.in_service.astype(bool)] if "in_service" in df else df
        pos = lookup.get_indexer(df.bus.to_numpy())
        scale = df.scaling.to_numpy(float) if "scaling" in df else np.ones(len(df))
        for column, total in out.items():
            values = np.broadcast_to(df[column].to_numpy(float), (n_steps, len(df))).copy()
            series = profiles.get((table, column))
            if series is not None and series.shape[1]:
                cols = pd.Index(series.columns).get_indexer(df.index)
                have = cols >= 0
                values[:, have] = series.to_numpy(float)[:, cols[have]]
                bad = ~np.isfinite(values)
                if bad.any():
                    step, k = np.argwhere(bad)[0]
                    raise ValueError(f"profile ({table!r}, {column!r}) of element {df.index[k]} "
                                     f"is not finite at step {step}")
            np.add.at(total.T, pos, (sign * values * scale).T)
    return out["p_mw"], out["q_mvar"]
