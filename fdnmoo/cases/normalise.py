"""Normalise a pandapower net into the form a case file holds.

A case net has no switches: its base topology is given by ``in_service`` alone,
which is what reconfiguration and the planning grid change. :func:`normalise_net`
turns any radial-operated pandapower net into that form, following pandapower's
semantics where the case model can express them and refusing the rest:

* elements the planning engine does not model, if in service (``gen``,
  ``trafo3w``, ``impedance``, ``ward``, ``xward``, ``dcline``, ZIP loads, closed
  bus-bus switches with ``z_ohm > 0``, ...), raise :class:`CaseError` naming
  table, index and reason; out-of-service rows are dropped (with out-of-service
  buses and everything connected to them);
* buses joined by closed bus-bus switches are fused into the lowest label of
  the group (``pandapower.toolbox.fuse_buses``); open bus-bus switches are
  dropped (a zero-impedance coupler cannot be a tie line);
* a line with an open switch at either end becomes an open tie
  (``in_service=False``); a transformer with an open switch is taken out of
  service; then every switch is removed;
* identical branches in parallel (the two transformers of a substation whose
  busbars were fused) become one branch with ``parallel`` = their count;
* buses no substation supplies in the normalised base topology (pandapower
  gives them NaN) are dropped with their elements.

What changes physically is written to the notes: a line open at one end carries
its charging current in pandapower and none as an open tie.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from ..branches import SUPPORTED_TABLES, UnsupportedNetError, check_supported, element_tables
from .errors import CaseError

__all__ = ["NormalisedNet", "normalise_net"]

_PARALLEL_KEYS = {
    "line": ("length_km", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "g_us_per_km", "max_i_ka"),
    "trafo": ("sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent", "pfe_kw", "i0_percent",
              "shift_degree", "tap_pos", "tap_neutral", "tap_step_percent", "tap_side"),
}
_TIME_SERIES_KEYS = ("profiles", "loadcases")
_ENDS = {"line": ("from_bus", "to_bus"), "trafo": ("hv_bus", "lv_bus")}


@dataclass
class NormalisedNet:
    """Result of :func:`normalise_net`.

    Attributes
    ----------
    net : pandapowerNet
        The normalised copy (the input is not changed).
    bus_map : dict of int to int or None
        Original bus label -> bus label in ``net`` (None: dropped).
    notes : list of str
        What was changed, one sentence each.
    open_at_one_end : list of int
        Lines that pandapower energised from one end and that are now open ties.
    """

    net: object
    bus_map: dict[int, int | None]
    notes: list[str] = field(default_factory=list)
    open_at_one_end: list[int] = field(default_factory=list)


def normalise_net(net, file: str = "<net>") -> NormalisedNet:
    """Normalise a copy of ``net`` (see the module docstring).

    Parameters
    ----------
    net : pandapowerNet
    file : str
        Name used in error messages.

    Raises
    ------
    CaseError
        An in-service element the planning engine does not model, a closed
        bus-bus switch with impedance, or two substations fused onto one bus.
    """
    import pandapower.toolbox as tb

    net = copy.deepcopy(net)
    tb.clear_result_tables(net)
    out = NormalisedNet(net=net, bus_map={int(b): int(b) for b in net.bus.index})
    _drop_time_series(net, out)
    _refuse_unsupported(net, file)
    _drop_out_of_service(net, out)
    _fuse_closed_bus_switches(net, out, file)
    _open_switched_branches(net, out)
    for table in ("line", "trafo"):
        _merge_parallel(net, table, out)
    _drop_unsupplied(net, out)
    _canonical_columns(net)
    return out


def _drop_time_series(net, out: NormalisedNet) -> None:
    """Profiles and study cases are scenario data, not network: a case file does not hold them."""
    for key in _TIME_SERIES_KEYS:
        value = net.get(key)
        if isinstance(value, dict) and any(len(v) for v in value.values() if hasattr(v, "__len__")) \
                or isinstance(value, pd.DataFrame) and len(value):
            out.notes.append(f"net.{key} (time series / study cases) was left out of the case net.")
        if key in net:
            net[key] = type(value)() if isinstance(value, (dict, pd.DataFrame)) else value


def _refuse_unsupported(net, file: str) -> None:
    """What the power flow does not model (:func:`fdnmoo.branches.check_supported`), and
    what it does but a case net cannot hold: impedances and impedance switches."""
    try:
        check_supported(net)
    except UnsupportedNetError as exc:
        raise CaseError(file, exc.field, exc.value, exc.reason) from None
    imp = net.impedance if "impedance" in net else pd.DataFrame()
    active = imp.index[_in_service(imp)] if len(imp) else imp.index
    if len(active):
        raise CaseError(file, f"net.impedance[{active[0]}]", None,
                        "impedance branches are not supported in a case net (the planning "
                        "layer plans lines and transformers; pandapower.toolbox."
                        "replace_impedance_by_line turns one into a line)")
    sw = net.switch
    if len(sw) and "z_ohm" in sw:
        bad = sw.index[(sw.et == "b") & sw.closed.astype(bool) & (sw.z_ohm.fillna(0.0) > 0)]
        if len(bad):
            raise CaseError(file, f"net.switch[{bad[0]}].z_ohm", float(sw.z_ohm[bad[0]]),
                            "closed bus-bus switches with impedance are not supported in a "
                            "case net (model the impedance as a line)")


def _in_service(df: pd.DataFrame) -> np.ndarray:
    return df.in_service.fillna(True).astype(bool).to_numpy() if "in_service" in df \
        else np.ones(len(df), bool)


def _drop_out_of_service(net, out: NormalisedNet) -> None:
    import pandapower.toolbox as tb

    dead = net.bus.index[~_in_service(net.bus)]
    if len(dead):
        tb.drop_buses(net, dead, drop_elements=True)
        for b in dead:
            out.bus_map[int(b)] = None
        out.notes.append(f"Out-of-service buses {_short(dead)} were dropped with their elements.")
    unmodelled = [t for t in element_tables(net) if t not in SUPPORTED_TABLES] + ["impedance"]
    for table in ("load", "sgen", "storage", "shunt", "ext_grid", *unmodelled):
        df = net[table] if table in net else None
        if isinstance(df, pd.DataFrame) and len(df):
            idx = df.index[~_in_service(df)]
            if len(idx):
                tb.drop_elements(net, table, idx)
                out.notes.append(f"Out-of-service {table} rows {_short(idx)} were dropped.")


def _fuse_closed_bus_switches(net, out: NormalisedNet, file: str) -> None:
    import pandapower.toolbox as tb

    sw = net.switch
    bb = sw[sw.et == "b"]
    closed = bb[bb.closed.astype(bool)]
    graph = nx.Graph()
    graph.add_edges_from(zip(closed.bus.astype(int), closed.element.astype(int)))
    for group in sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0]):
        keep, others = group[0], group[1:]
        slack_buses = set(net.ext_grid.bus.astype(int)) & set(group)
        if len(net.ext_grid[net.ext_grid.bus.isin(group)]) > 1:
            raise CaseError(file, "net.switch", sorted(slack_buses),
                            "closed bus-bus switches join two ext_grids onto one bus")
        tb.fuse_buses(net, keep, others)
        for b in others:
            out.bus_map[b] = keep
        for orig, now in out.bus_map.items():  # buses fused earlier into a bus now fused
            if now in others:
                out.bus_map[orig] = keep
        out.notes.append(f"Buses {group} (joined by closed bus-bus switches) were fused into bus {keep}.")
    sw = net.switch
    bb = sw.index[sw.et == "b"]
    opened = [int(i) for i in bb if not bool(sw.closed[i]) and int(sw.bus[i]) != int(sw.element[i])]
    if opened:
        out.notes.append(f"Open bus-bus switches {_short(opened)} were dropped (a zero-impedance "
                         "coupler cannot be a tie line; closing one would parallel two supplies).")
    net.switch.drop(bb, inplace=True)


def _open_switched_branches(net, out: NormalisedNet) -> None:
    sw = net.switch
    for et, table in (("l", "line"), ("t", "trafo")):
        rows = sw[(sw.et == et) & ~sw.closed.astype(bool)]
        rows = rows[rows.element.isin(net[table].index)]
        elements = sorted(set(int(e) for e in rows.element))
        live = [e for e in elements if bool(net[table].in_service[e])]
        if not live:
            continue
        if table == "line":
            opened_at = rows.groupby("element").bus.nunique()
            out.open_at_one_end = [e for e in live if opened_at[e] == 1]
        net[table].loc[live, "in_service"] = False
        lost = "" if table == "line" else (" (pandapower keeps a transformer open on one side "
                                           "energised from the other: its no-load losses are lost)")
        out.notes.append(
            f"{table.capitalize()}s {_short(live)} had an open switch and are open "
            f"({'ties' if table == 'line' else 'out of service'}) in the case{lost}.")
    if out.open_at_one_end:
        out.notes.append(
            f"Lines {_short(out.open_at_one_end)} were open at one end only: pandapower energises "
            "such a line from its closed end (its charging current flows); as an open tie it carries "
            "nothing, which is the difference in losses and voltages against pandapower's run of the "
            "original net given in reference.pandapower.")
    if len(sw):
        net.switch.drop(sw.index, inplace=True)
        out.notes.append("All switches were removed: the base topology is line/trafo in_service.")


def _merge_parallel(net, table: str, out: NormalisedNet) -> None:
    df = net[table]
    live = df[_in_service(df)]
    if len(live) < 2:
        return
    a, b = _ENDS[table]
    ends = pd.Series([tuple(sorted(p)) for p in zip(live[a].astype(int), live[b].astype(int))],
                     index=live.index)
    keys = [k for k in _PARALLEL_KEYS[table] if k in df]
    for _, idx in ends.groupby(ends).groups.items():
        if len(idx) < 2:
            continue
        rows = live.loc[idx]
        same_direction = rows[a].nunique() == 1
        identical = all(rows[k].astype(str).nunique() == 1 for k in keys)
        if not (same_direction and identical):
            continue  # a real loop: the validator names it
        first = int(idx[0])
        net[table].loc[first, "parallel"] = int(rows.parallel.sum())
        net[table].drop(idx[1:], inplace=True)
        out.notes.append(f"Identical parallel {table}s {list(map(int, idx))} were merged into {table} "
                         f"{first} with parallel = {int(rows.parallel.sum())}.")


def _drop_unsupplied(net, out: NormalisedNet) -> None:
    import pandapower.toolbox as tb
    import pandapower.topology as top

    dead = sorted(int(b) for b in top.unsupplied_buses(net))
    if not dead:
        return
    loads = net.load[net.load.bus.isin(dead)]
    tb.drop_buses(net, dead, drop_elements=True)
    for orig, now in out.bus_map.items():
        if now in dead:
            out.bus_map[orig] = None
    what = f" (with {len(loads)} loads, {loads.p_mw.sum():.3f} MW, unsupplied in pandapower too)" \
        if len(loads) else ""
    out.notes.append(f"Buses {_short(dead)} that no substation supplies were dropped{what}.")


def _canonical_columns(net) -> None:
    """pandapower's own columns in its order, then extra columns by name (files independent of
    the column order the source happened to build)."""
    import pandapower as pp

    empty = pp.create_empty_network()
    for key in list(net.keys()):
        df = net[key]
        if not isinstance(df, pd.DataFrame) or key.startswith("_"):
            continue
        own = list(empty[key].columns) if isinstance(empty.get(key), pd.DataFrame) else []
        first = [c for c in own if c in df.columns]
        net[key] = df[first + sorted((c for c in df.columns if c not in first), key=str)]


def _short(labels, limit: int = 12) -> str:
    labels = [int(x) for x in labels]
    text = ", ".join(map(str, labels[:limit]))
    return f"[{text}{', ...' if len(labels) > limit else ''}] ({len(labels)})" if len(labels) > limit \
        else f"[{text}]"
