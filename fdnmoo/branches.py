"""Per-unit branch data of a pandapower net, computed once per network.

:func:`branch_table` turns the branch elements of a net into arrays in the
per-unit system pandapower uses (``net.sn_mva`` and every bus's ``vn_kv``),
with pandapower's branch models (:mod:`fdnmoo.branch_models`). Branches are
stored in this order: every ``net.line`` row (in service or not: tie lines are
reconfiguration candidates), every ``net.trafo`` row (out-of-service ones are
open, so a planner can switch candidate transformers in), every
``net.impedance`` row, then every closed bus-bus switch of ``net.switch``.

Each branch is a series impedance ``z`` between its ``from`` and ``to`` bus,
shunt admittances at its two ends and a complex ratio ``t`` on its ``from``
(HV) side. The base state follows pandapower's semantics:

* a closed bus-bus switch joins its buses with ``z_ohm`` (0: the buses are
  fused, a zero-impedance branch for the sweep; > 0: an impedance with
  pandapower's ``switch_rx_ratio`` of 2); an open one is absent. Closed
  zero-impedance switches that close a loop among themselves only (parallel
  couplers) are dropped, since they carry no voltage difference;
* a line or transformer with an open switch at one end (a line also with an
  out-of-service bus at one end) stays energised from the other end: it is a
  *half-open* branch, whose input admittance loads its live bus
  (:attr:`BranchTable.live_end`);
* out-of-service buses, lines and trafos are open; out-of-service ext_grids
  and ext_grids at out-of-service buses are not roots.

Elements the batch engine does not model are refused by
:func:`check_supported` with :class:`UnsupportedNetError` naming the table, the
index and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import numpy as np
import pandas as pd

import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .branch_models import impedance_pu, line_pu, parallel_pi, switch_pu, trafo_pu
from .topology import RadialStructure, radial_structure

__all__ = ["BranchTable", "EffectiveBranches", "UnsupportedNetError", "branch_table",
           "check_supported", "element_tables", "merge_parallel", "SUPPORTED_TABLES",
           "LIVE_NONE", "LIVE_FROM", "LIVE_TO"]

#: Values of :attr:`BranchTable.live_end`.
LIVE_NONE, LIVE_FROM, LIVE_TO = 0, 1, 2

#: Element tables the engine reads; ``controller`` rows act only in pandapower's run_control.
SUPPORTED_TABLES = frozenset({"bus", "line", "trafo", "impedance", "switch", "load", "sgen",
                               "storage", "shunt", "ext_grid", "controller"})
_HINTS = {"gen": "pandapower.toolbox.replace_gen_by_sgen turns a gen into an sgen; "
                "or set them out of service, or use run_pandapower"}
_ZIP_COLUMNS = ("const_z_p_percent", "const_i_p_percent", "const_z_q_percent",
                "const_i_q_percent", "const_z_percent", "const_i_percent")


class UnsupportedNetError(ValueError):
    """A net holds an element the batch engine does not model.

    Attributes
    ----------
    table : str
        ``net`` table of the element, e.g. ``"gen"``.
    index : object
        Its index in that table.
    reason : str
        Why it is refused.
    column : str or None
        The column holding the refused value, if one does.
    value : object
        That value (None if no single column is at fault).
    """

    def __init__(self, table: str, index, reason: str, column: str | None = None, value=None):
        self.table, self.index, self.reason = table, index, reason
        self.column, self.value = column, value
        super().__init__(f"{self.field}: {reason}")

    @property
    def field(self) -> str:
        """``net.<table>[<index>]`` (with ``.<column>`` where one column is at fault)."""
        return f"net.{self.table}[{self.index}]" + (f".{self.column}" if self.column else "")


@dataclass(frozen=True)
class BranchTable:
    """Per-unit data of every branch of a net (see module docstring).

    Attributes
    ----------
    bus_labels : ndarray of int, shape (n_bus,)
        ``net.bus.index``; array positions are bus positions.
    vn_kv : ndarray, shape (n_bus,)
    bus_in_service : ndarray of bool, shape (n_bus,)
    from_pos, to_pos : ndarray of int, shape (n_branch,)
        Bus positions; for transformers ``from`` is the HV side.
    z_pu : ndarray of complex, shape (n_branch,)
        Series impedance, per unit on the ``to`` bus base.
    y_from_pu, y_to_pu : ndarray of complex, shape (n_branch,)
        Shunt admittance at each end (``y_from`` on the ideal-transformer
        secondary, i.e. before the ratio is applied).
    ratio : ndarray of complex, shape (n_branch,)
        Off-nominal ratio t on the ``from`` side (1 for lines).
    kind : ndarray of str, shape (n_branch,)
        ``"line"``, ``"trafo"``, ``"impedance"`` or ``"switch"``.
    element : ndarray of int, shape (n_branch,)
        Label in the table named by ``kind``.
    closed : ndarray of bool, shape (n_branch,)
        Base state: conducting at both ends.
    live_end : ndarray of int8, shape (n_branch,)
        For branches open in the base state but energised from one end,
        :data:`LIVE_FROM` or :data:`LIVE_TO`; else :data:`LIVE_NONE`.
    root_pos : ndarray of int, shape (n_root,)
        Bus positions of in-service external grids at in-service buses.
    root_v : ndarray of complex, shape (n_root,)
        Their voltage set-points (per unit, with angle).
    bus_shunt_pu : ndarray of complex, shape (n_bus,)
        Constant admittance of ``net.shunt`` per bus (consumption positive).
    sn_mva : float
        System base power.
    """

    bus_labels: np.ndarray
    vn_kv: np.ndarray
    bus_in_service: np.ndarray
    from_pos: np.ndarray
    to_pos: np.ndarray
    z_pu: np.ndarray
    y_from_pu: np.ndarray
    y_to_pu: np.ndarray
    ratio: np.ndarray
    kind: np.ndarray
    element: np.ndarray
    closed: np.ndarray
    live_end: np.ndarray
    root_pos: np.ndarray
    root_v: np.ndarray
    bus_shunt_pu: np.ndarray
    sn_mva: float

    @property
    def n_bus(self) -> int:
        return len(self.bus_labels)

    @cached_property
    def is_trafo(self) -> np.ndarray:
        """Mask of two-winding transformers."""
        return self.kind == "trafo"

    @cached_property
    def is_line(self) -> np.ndarray:
        """Mask of lines (the first ``n_line`` branches)."""
        return self.kind == "line"

    @cached_property
    def n_line(self) -> int:
        return int(self.is_line.sum())

    def bus_position(self, labels) -> np.ndarray:
        """Positions of bus labels; raises KeyError naming an unknown label."""
        return _positions(self.bus_labels, labels, "bus")

    def trafo_position(self, labels) -> np.ndarray:
        """Branch positions of ``net.trafo`` labels; raises KeyError on an unknown one."""
        return _positions(self.element[self.is_trafo], labels, "trafo") + self.n_line

    def line_position(self, labels) -> np.ndarray:
        """Branch positions of ``net.line`` labels; raises KeyError on an unknown one."""
        return _positions(self.element[self.is_line], labels, "line")  # lines come first

    def branch_labels(self) -> list[str]:
        """Readable branch names for messages: ``line 12``, ``trafo 0``, ``switch 3``."""
        return [f"{k} {e}" for k, e in zip(self.kind, self.element)]

    def radial_structure(self, closed: np.ndarray | None = None) -> RadialStructure:
        """Parent/child order for the given closed-branch mask (default: base state)."""
        closed = self.closed if closed is None else np.asarray(closed, dtype=bool)
        closed = closed & self.bus_in_service[self.from_pos] & self.bus_in_service[self.to_pos]
        return radial_structure(self.n_bus, self.from_pos, self.to_pos, closed, self.root_pos,
                                bus_labels=self.bus_labels.tolist(),
                                branch_labels=self.branch_labels())


@dataclass(frozen=True)
class EffectiveBranches:
    """Branch data of one topology after parallel branches are merged (:func:`merge_parallel`).

    ``closed`` keeps one branch per parallel group, whose ``z_pu``, ``y_from_pu``,
    ``y_to_pu`` and ``ratio`` are the group's equivalent; ``parallel`` lists
    every branch of a group of two or more.
    """

    closed: np.ndarray
    z_pu: np.ndarray
    y_from_pu: np.ndarray
    y_to_pu: np.ndarray
    ratio: np.ndarray
    parallel: np.ndarray


def merge_parallel(br: BranchTable, closed: np.ndarray) -> EffectiveBranches:
    """Merge closed branches that join the same two buses into one equivalent branch.

    Buses joined by closed zero-impedance switches count as one, so two
    transformers feeding coupled busbars are parallel too. A radial sweep can
    then solve what would otherwise be a loop of two branches; results at
    every bus are unchanged (:func:`fdnmoo.branch_models.parallel_pi` is exact).

    Raises
    ------
    fdnmoo.topology.NonRadialError
        Not raised here; loops of three or more branches are left for
        :meth:`BranchTable.radial_structure`.
    ValueError
        If parallel transformers differ in phase shift (naming them).
    """
    on = closed & br.bus_in_service[br.from_pos] & br.bus_in_service[br.to_pos]
    fused = on & (br.kind == "switch") & (br.z_pu == 0)
    n = br.n_bus
    if fused.any():
        graph = sp.coo_matrix((np.ones(int(fused.sum())), (br.from_pos[fused], br.to_pos[fused])),
                              shape=(n, n))
        rep = connected_components(graph, directed=False)[1]
    else:  # the common case in an optimisation: no switches to fuse
        rep = np.arange(n)
    k = np.flatnonzero(on & ~fused)
    a, b = rep[br.from_pos[k]], rep[br.to_pos[k]]
    key = np.minimum(a, b) * n + np.maximum(a, b)
    _, group, count = np.unique(key, return_inverse=True, return_counts=True)
    multi = (count[group] > 1) & (a != b)
    same = EffectiveBranches(closed, br.z_pu, br.y_from_pu, br.y_to_pu, br.ratio,
                             np.zeros(0, dtype=np.int64))
    if not multi.any():
        return same
    closed = closed.copy()
    z, y_f, y_t, t = br.z_pu.copy(), br.y_from_pu.copy(), br.y_to_pu.copy(), br.ratio.copy()
    for g in np.unique(group[multi]):
        members = k[group == g]
        first = members[0]
        flipped = rep[br.from_pos[members]] != rep[br.from_pos[first]]
        try:
            z[first], y_f[first], y_t[first], t[first] = parallel_pi(
                br.z_pu[members], br.y_from_pu[members], br.y_to_pu[members], br.ratio[members],
                flipped)
        except ValueError as exc:
            names = [br.branch_labels()[m] for m in members]
            raise ValueError(f"{names} are in parallel: {exc}; the batch engine cannot merge them") \
                from None
        closed[members[1:]] = False
    return EffectiveBranches(closed, z, y_f, y_t, t, k[multi])


def _positions(known: np.ndarray, labels, what: str) -> np.ndarray:
    pos = pd.Index(known).get_indexer(np.atleast_1d(labels))
    if (pos < 0).any():
        bad = np.atleast_1d(labels)[pos < 0][0]
        raise KeyError(f"unknown {what} {bad.item()!r}")  # 999, not np.int64(999)
    return pos


def check_supported(net) -> None:
    """Refuse elements the batch engine does not model.

    Raises
    ------
    UnsupportedNetError
        Naming the first in-service element of an unsupported table (``gen``,
        ``trafo3w``, ``ward``, ``xward``, ``dcline``, ``motor``, asymmetric
        elements, FACTS and DC elements, ...), a voltage-dependent (ZIP) load,
        an asymmetric ``impedance``, or a shunt with a step dependency table.
    """
    for table in element_tables(net):
        df = net[table]
        if table in SUPPORTED_TABLES or not len(df):
            continue
        active = df.index[df.in_service.fillna(False).astype(bool)]
        if len(active):
            hint = _HINTS.get(table, "set them out of service, or use run_pandapower")
            raise UnsupportedNetError(table, active[0], f"in-service {table} elements are not "
                                      f"supported by the batch engine ({hint})")
    loads = _in_service(net.load)
    for column in _ZIP_COLUMNS:
        if column in loads:
            bad = loads.index[loads[column].fillna(0).to_numpy(float) != 0]
            if len(bad):
                raise UnsupportedNetError("load", bad[0], "voltage-dependent (ZIP) loads are not "
                                          "supported by the batch engine (constant power only)",
                                          column=column, value=float(loads.at[bad[0], column]))
    imp = _in_service(net.impedance) if "impedance" in net else pd.DataFrame()
    if len(imp):
        asym = ((imp.rft_pu != imp.rtf_pu) | (imp.xft_pu != imp.xtf_pu)).to_numpy()
        if asym.any():
            raise UnsupportedNetError("impedance", imp.index[asym][0], "asymmetric impedance "
                                      "(rft_pu != rtf_pu or xft_pu != xtf_pu) is not supported "
                                      "by the batch engine")
    shunt = _in_service(net.shunt)
    if "step_dependency_table" in shunt:
        dep = shunt.step_dependency_table.fillna(False).astype(bool).to_numpy()
        if dep.any():
            raise UnsupportedNetError("shunt", shunt.index[dep][0], "step dependency tables are "
                                      "not supported by the batch engine")


def element_tables(net) -> list[str]:
    """Names of the net's element tables: its DataFrames with an ``in_service`` column."""
    return [name for name, df in net.items()
            if not name.startswith(("_", "res_")) and isinstance(df, pd.DataFrame)
            and "in_service" in df]


def _in_service(df: pd.DataFrame) -> pd.DataFrame:
    return df[df.in_service.astype(bool)] if len(df) else df


def branch_table(net) -> BranchTable:
    """Per-unit branch data of ``net`` (see module docstring).

    Raises
    ------
    UnsupportedNetError
        See :func:`check_supported`.
    """
    check_supported(net)
    bus = net.bus
    labels = bus.index.to_numpy(dtype=np.int64)
    lookup = pd.Index(labels)
    vn = bus.vn_kv.to_numpy(dtype=float)
    bus_ok = bus.in_service.to_numpy(dtype=bool)
    sn = float(net.sn_mva)

    line, trafo = net.line, net.trafo
    lf, lt = lookup.get_indexer(line.from_bus.to_numpy()), lookup.get_indexer(line.to_bus.to_numpy())
    z_line, y_line = line_pu(line, vn[lf], sn, float(net.f_hz))
    line_f_ok, line_t_ok = _branch_ends_closed(net.switch, "l", line, "from_bus", "to_bus")
    # a line at an out-of-service bus hangs from its other end (pandapower's auxiliary bus)
    line_f_ok &= bus_ok[lf]
    line_t_ok &= bus_ok[lt]

    tf, tt = lookup.get_indexer(trafo.hv_bus.to_numpy()), lookup.get_indexer(trafo.lv_bus.to_numpy())
    z_tr, y_tr_f, y_tr_t, ratio_tr = trafo_pu(trafo, vn[tf], vn[tt], sn)
    trafo_f_ok, trafo_t_ok = _branch_ends_closed(net.switch, "t", trafo, "hv_bus", "lv_bus")
    trafo_on = trafo.in_service.to_numpy(dtype=bool) & bus_ok[tf] & bus_ok[tt]

    imp = net.impedance if "impedance" in net else pd.DataFrame(columns=["from_bus", "to_bus"])
    imf, imt = lookup.get_indexer(imp.from_bus.to_numpy()), lookup.get_indexer(imp.to_bus.to_numpy())
    z_imp, y_imp_f, y_imp_t = impedance_pu(imp, sn)

    sw_rows, swf, swt = _closed_bus_switches(net.switch, lookup, bus_ok)
    z_sw = switch_pu(net.switch.loc[sw_rows, "z_ohm"].to_numpy(float) if len(sw_rows) else np.zeros(0),
                     vn[swf], sn)

    line_on = line.in_service.to_numpy(dtype=bool)
    # pandapower drops a trafo at an out-of-service bus (no auxiliary bus as for lines)
    live = np.concatenate([_live_end(line_on, line_f_ok, line_t_ok),
                           _live_end(trafo_on, trafo_f_ok, trafo_t_ok),
                           np.zeros(len(imp) + len(sw_rows), dtype=np.int8)])
    closed = np.concatenate([
        line_on & line_f_ok & line_t_ok,
        trafo_on & trafo_f_ok & trafo_t_ok,
        imp.in_service.to_numpy(dtype=bool) if len(imp) else np.zeros(0, bool),
        np.ones(len(sw_rows), dtype=bool)])
    closed = _drop_parallel_couplers(closed, np.concatenate([lf, tf, imf, swf]),
                                     np.concatenate([lt, tt, imt, swt]), len(closed) - len(sw_rows),
                                     z_sw == 0)
    root_pos, root_v = _roots(net.ext_grid, lookup, bus_ok)
    n = (len(line), len(trafo), len(imp), len(sw_rows))
    return BranchTable(
        bus_labels=labels, vn_kv=vn, bus_in_service=bus_ok,
        from_pos=np.concatenate([lf, tf, imf, swf]).astype(np.int64),
        to_pos=np.concatenate([lt, tt, imt, swt]).astype(np.int64),
        z_pu=np.concatenate([z_line, z_tr, z_imp, z_sw]),
        y_from_pu=np.concatenate([y_line / 2, y_tr_f, y_imp_f, np.zeros(n[3], complex)]),
        y_to_pu=np.concatenate([y_line / 2, y_tr_t, y_imp_t, np.zeros(n[3], complex)]),
        ratio=np.concatenate([np.ones(n[0], complex), ratio_tr, np.ones(n[2] + n[3], complex)]),
        kind=np.repeat(np.array(["line", "trafo", "impedance", "switch"]), n),
        element=np.concatenate([line.index.to_numpy(np.int64), trafo.index.to_numpy(np.int64),
                                imp.index.to_numpy(np.int64), np.asarray(sw_rows, np.int64)]),
        closed=closed, live_end=live, root_pos=root_pos, root_v=root_v,
        bus_shunt_pu=_bus_shunts(net.shunt, lookup, vn, sn), sn_mva=sn)


def _branch_ends_closed(switch: pd.DataFrame, et: str, table: pd.DataFrame, from_col: str,
                        to_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Per branch of ``table``: no open ``et`` switch at its from end / at its to end."""
    f_ok = np.ones(len(table), dtype=bool)
    t_ok = np.ones(len(table), dtype=bool)
    if not len(switch) or not len(table):
        return f_ok, t_ok
    sw = switch[(switch.et == et) & ~switch.closed.astype(bool)]
    if not len(sw):
        return f_ok, t_ok
    pos = pd.Index(table.index).get_indexer(sw.element.to_numpy())
    known = pos >= 0
    pos, sw_bus = pos[known], sw.bus.to_numpy()[known]
    f_ok[pos[table[from_col].to_numpy()[pos] == sw_bus]] = False
    t_ok[pos[table[to_col].to_numpy()[pos] == sw_bus]] = False
    return f_ok, t_ok


def _live_end(on: np.ndarray, f_ok: np.ndarray, t_ok: np.ndarray) -> np.ndarray:
    live = np.full(len(on), LIVE_NONE, dtype=np.int8)
    live[on & f_ok & ~t_ok] = LIVE_FROM
    live[on & t_ok & ~f_ok] = LIVE_TO
    return live


def _closed_bus_switches(switch: pd.DataFrame, lookup: pd.Index, bus_ok: np.ndarray):
    """Closed bus-bus switches between in-service buses: rows, from and to positions."""
    if not len(switch):
        empty = np.zeros(0, dtype=np.int64)
        return switch.index[:0], empty, empty
    sw = switch[(switch.et == "b") & switch.closed.astype(bool)]
    a = lookup.get_indexer(sw.bus.to_numpy())
    b = lookup.get_indexer(sw.element.to_numpy())
    keep = bus_ok[a] & bus_ok[b] & (a != b)
    return sw.index[keep], a[keep], b[keep]


def _drop_parallel_couplers(closed: np.ndarray, f: np.ndarray, t: np.ndarray, first_switch: int,
                            zero_z: np.ndarray) -> np.ndarray:
    """Open the closed zero-impedance bus-bus switches that only close loops of such switches.

    They join buses that the remaining switches already hold at one voltage;
    loops through any other branch stay, so :func:`radial_structure` reports them.
    """
    k_sw = first_switch + np.flatnonzero(zero_z)
    if k_sw.size < 2:
        return closed
    g = nx.MultiGraph()
    g.add_edges_from((int(f[k]), int(t[k]), int(k)) for k in k_sw)
    kept = {key for _, _, key in nx.minimum_spanning_edges(g, keys=True, data=False)}
    closed = closed.copy()
    closed[[k for k in k_sw if int(k) not in kept]] = False
    return closed


def _roots(ext_grid: pd.DataFrame, lookup: pd.Index, bus_ok: np.ndarray):
    eg = ext_grid[ext_grid.in_service.astype(bool)]
    pos = lookup.get_indexer(eg.bus.to_numpy())
    keep = bus_ok[pos]
    v = eg.vm_pu.to_numpy(float) * np.exp(1j * np.deg2rad(eg.va_degree.to_numpy(float)))
    return pos[keep].astype(np.int64), v[keep]


def _bus_shunts(shunt: pd.DataFrame, lookup: pd.Index, vn: np.ndarray, sn: float) -> np.ndarray:
    """Constant admittance of the in-service shunts per bus (consumption positive)."""
    y_bus = np.zeros(len(lookup), dtype=complex)
    shunt = _in_service(shunt)
    if not len(shunt):
        return y_bus
    pos = lookup.get_indexer(shunt.bus.to_numpy())
    step = shunt["step"].to_numpy(float) if "step" in shunt else np.ones(len(shunt))
    # pandapower: p_mw/q_mvar at 1 p.u. of the shunt's vn_kv
    v_ratio = vn[pos] / shunt.vn_kv.to_numpy(float)
    y = (shunt.p_mw.to_numpy(float) - 1j * shunt.q_mvar.to_numpy(float)) * step / sn * v_ratio ** 2
    np.add.at(y_bus, pos, y)
    return y_bus
