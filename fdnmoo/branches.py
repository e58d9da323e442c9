"""Per-unit branch data of a pandapower net, computed once per network.

:func:`branch_table` turns ``net.line`` (all lines, in service or not: tie
lines are reconfiguration candidates) and the in-service ``net.trafo`` rows into
arrays in the per-unit system pandapower uses (``net.sn_mva`` and every bus's
``vn_kv``), with the same branch models:

* line: pi model, ``z = (r + jx) * length / parallel``, half of the shunt
  admittance ``(g + j 2 pi f c) * length * parallel`` at each end;
* two-winding transformer (all rows; out-of-service ones are open, so a
  planner can switch candidate transformers in): short-circuit impedance on the LV side, magnetising
  admittance from ``pfe_kw``/``i0_percent`` (T model converted to its exact pi
  equivalent, as pandapower's default ``trafo_model="t"``), off-nominal ratio
  and phase shift from the tap changer on the HV side.

Every branch is stored as series impedance ``z``, shunt admittances at its two
ends and a complex ratio ``t`` on its ``from`` (HV) side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .topology import RadialStructure, radial_structure

__all__ = ["BranchTable", "branch_table"]


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
    is_trafo : ndarray of bool, shape (n_branch,)
    element : ndarray of int, shape (n_branch,)
        ``net.line`` or ``net.trafo`` label.
    closed : ndarray of bool, shape (n_branch,)
        Base state: in service, switches closed and both buses in service.
    root_pos : ndarray of int, shape (n_root,)
        Bus positions of in-service external grids.
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
    is_trafo: np.ndarray
    element: np.ndarray
    closed: np.ndarray
    root_pos: np.ndarray
    root_v: np.ndarray
    bus_shunt_pu: np.ndarray
    sn_mva: float

    @property
    def n_bus(self) -> int:
        return len(self.bus_labels)

    @property
    def n_line(self) -> int:
        return int((~self.is_trafo).sum())

    def bus_position(self, labels) -> np.ndarray:
        """Positions of bus labels; raises KeyError naming an unknown label."""
        lookup = pd.Index(self.bus_labels)
        pos = lookup.get_indexer(np.atleast_1d(labels))
        if (pos < 0).any():
            bad = np.atleast_1d(labels)[pos < 0][0]
            raise KeyError(f"unknown bus {bad!r}")
        return pos

    def trafo_position(self, labels) -> np.ndarray:
        """Branch positions of ``net.trafo`` labels; raises KeyError on an unknown one."""
        trafos = pd.Index(self.element[self.is_trafo])
        pos = trafos.get_indexer(np.atleast_1d(labels))
        if (pos < 0).any():
            bad = np.atleast_1d(labels)[pos < 0][0]
            raise KeyError(f"unknown trafo {bad!r}")
        return pos + self.n_line

    def line_position(self, labels) -> np.ndarray:
        """Branch positions of ``net.line`` labels; raises KeyError on an unknown one."""
        lines = pd.Index(self.element[~self.is_trafo])
        pos = lines.get_indexer(np.atleast_1d(labels))
        if (pos < 0).any():
            bad = np.atleast_1d(labels)[pos < 0][0]
            raise KeyError(f"unknown line {bad!r}")
        return pos  # lines come first in the branch arrays

    def branch_labels(self) -> list[str]:
        """Readable branch names for messages: ``line 12``, ``trafo 0``."""
        return [f"{'trafo' if t else 'line'} {e}" for t, e in zip(self.is_trafo, self.element)]

    def radial_structure(self, closed: np.ndarray | None = None) -> RadialStructure:
        """Parent/child order for the given closed-branch mask (default: base state)."""
        closed = self.closed if closed is None else np.asarray(closed, dtype=bool)
        closed = closed & self.bus_in_service[self.from_pos] & self.bus_in_service[self.to_pos]
        return radial_structure(self.n_bus, self.from_pos, self.to_pos, closed, self.root_pos,
                                bus_labels=list(self.bus_labels),
                                branch_labels=self.branch_labels())


def branch_table(net) -> BranchTable:
    """Per-unit branch data of ``net`` (see module docstring)."""
    bus = net.bus
    labels = bus.index.to_numpy(dtype=np.int64)
    lookup = pd.Index(labels)
    vn = bus.vn_kv.to_numpy(dtype=float)
    bus_ok = bus.in_service.to_numpy(dtype=bool)
    sn = float(net.sn_mva)
    f_hz = float(net.f_hz)

    line = net.line
    lf = lookup.get_indexer(line.from_bus.to_numpy())
    lt = lookup.get_indexer(line.to_bus.to_numpy())
    length = line.length_km.to_numpy(dtype=float)
    par = line.parallel.to_numpy(dtype=float)
    z_base = vn[lf] ** 2 / sn
    z_line = (line.r_ohm_per_km.to_numpy(float) + 1j * line.x_ohm_per_km.to_numpy(float)) \
        * length / par / z_base
    g_us = line.g_us_per_km.to_numpy(float) if "g_us_per_km" in line else np.zeros(len(line))
    y_line = (g_us * 1e-6 + 1j * 2 * np.pi * f_hz * line.c_nf_per_km.to_numpy(float) * 1e-9) \
        * length * par * z_base
    line_closed = line.in_service.to_numpy(dtype=bool) & _line_switches_closed(net)

    trafo = net.trafo
    tf = lookup.get_indexer(trafo.hv_bus.to_numpy())
    tt = lookup.get_indexer(trafo.lv_bus.to_numpy())
    z_tr, y_tr_f, y_tr_t, ratio_tr = _trafo_pu(trafo, vn[tf], vn[tt], sn)

    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    root_pos = lookup.get_indexer(eg.bus.to_numpy())
    root_v = eg.vm_pu.to_numpy(float) * np.exp(1j * np.deg2rad(eg.va_degree.to_numpy(float)))

    shunt = net.shunt[net.shunt.in_service.astype(bool)] if len(net.shunt) else net.shunt
    bus_shunt = np.zeros(len(labels), dtype=complex)
    if len(shunt):
        step = shunt["step"].to_numpy(float) if "step" in shunt else np.ones(len(shunt))
        # pandapower: p_mw/q_mvar at 1 p.u. of the shunt's vn_kv
        v_ratio = vn[lookup.get_indexer(shunt.bus.to_numpy())] / shunt.vn_kv.to_numpy(float)
        y = (shunt.p_mw.to_numpy(float) - 1j * shunt.q_mvar.to_numpy(float)) * step / sn * v_ratio ** 2
        np.add.at(bus_shunt, lookup.get_indexer(shunt.bus.to_numpy()), y)

    n_line, n_tr = len(line), len(trafo)
    return BranchTable(
        bus_labels=labels, vn_kv=vn, bus_in_service=bus_ok,
        from_pos=np.concatenate([lf, tf]).astype(np.int64),
        to_pos=np.concatenate([lt, tt]).astype(np.int64),
        z_pu=np.concatenate([z_line, z_tr]),
        y_from_pu=np.concatenate([y_line / 2, y_tr_f]),
        y_to_pu=np.concatenate([y_line / 2, y_tr_t]),
        ratio=np.concatenate([np.ones(n_line, dtype=complex), ratio_tr]),
        is_trafo=np.concatenate([np.zeros(n_line, bool), np.ones(n_tr, bool)]),
        element=np.concatenate([line.index.to_numpy(np.int64), trafo.index.to_numpy(np.int64)]),
        closed=np.concatenate([line_closed, trafo.in_service.to_numpy(dtype=bool)]),
        root_pos=root_pos.astype(np.int64), root_v=root_v, bus_shunt_pu=bus_shunt, sn_mva=sn)


def _line_switches_closed(net) -> np.ndarray:
    """False for lines with an open line switch at either end."""
    ok = np.ones(len(net.line), dtype=bool)
    sw = net.switch
    if len(sw):
        open_lines = sw.element[(sw.et == "l") & ~sw.closed.astype(bool)].to_numpy()
        ok &= ~net.line.index.isin(open_lines)
    return ok


def _trafo_pu(trafo: pd.DataFrame, vn_hv_bus: np.ndarray, vn_lv_bus: np.ndarray, sn: float):
    """Series impedance, end shunts and ratio of two-winding transformers."""
    if len(trafo) == 0:
        empty = np.zeros(0, dtype=complex)
        return empty, empty, empty, empty
    par = trafo.parallel.to_numpy(float)
    sn_tr = trafo.sn_mva.to_numpy(float)
    # rated voltages moved by the tap; pandapower refers z and y to the tapped LV voltage
    vn_hv, vn_lv, shift_deg = _tapped_voltages(trafo)
    vk = trafo.vk_percent.to_numpy(float) / 100
    vkr = trafo.vkr_percent.to_numpy(float) / 100
    lv_scale = (vn_lv / vn_lv_bus) ** 2 * sn / sn_tr  # trafo base -> LV bus base
    z = (vkr + 1j * np.sqrt(np.maximum(vk ** 2 - vkr ** 2, 0.0))) * lv_scale / par

    pfe_mw = trafo.pfe_kw.to_numpy(float) * 1e-3
    ym_mva = trafo.i0_percent.to_numpy(float) / 100 * sn_tr
    b_mva = -np.sqrt(np.maximum(ym_mva ** 2 - pfe_mw ** 2, 0.0))
    y_m = (pfe_mw + 1j * b_mva) / sn * par * (vn_lv_bus / vn_lv) ** 2

    # T model (leakage split between HV and LV sides) -> exact pi equivalent
    r_ratio = _column(trafo, "leakage_resistance_ratio_hv", 0.5)
    x_ratio = _column(trafo, "leakage_reactance_ratio_hv", 0.5)
    y_f = y_m / 2
    y_t = y_m / 2
    mag = y_m != 0
    if mag.any():
        za = (z.real * r_ratio + 1j * z.imag * x_ratio)[mag]
        zb = (z.real * (1 - r_ratio) + 1j * z.imag * (1 - x_ratio))[mag]
        zc = 1 / y_m[mag]
        zsum = za * zb + za * zc + zb * zc
        z = z.copy()
        z[mag] = zsum / zc
        y_f = y_f.copy()
        y_t = y_t.copy()
        y_f[mag] = zb / zsum
        y_t[mag] = za / zsum

    t = (vn_hv / vn_lv) / (vn_hv_bus / vn_lv_bus) * np.exp(1j * np.deg2rad(shift_deg))
    return z, y_f, y_t, t


def _tapped_voltages(trafo: pd.DataFrame):
    """Rated HV and LV voltages moved by the tap position, and the phase shift.

    Follows pandapower >= 3.0: a tap acts only where ``tap_changer_type`` is
    ``"Ratio"`` (nets without that column: wherever ``tap_pos`` and
    ``tap_step_percent`` are set). Phase-shifting changers are refused.
    """
    shift = _column(trafo, "shift_degree", 0.0)
    hv = trafo.vn_hv_kv.to_numpy(float)
    lv = trafo.vn_lv_kv.to_numpy(float)
    if "tap_pos" not in trafo or not trafo.tap_pos.notna().any():
        return hv, lv, shift
    pos = trafo.tap_pos.to_numpy(float)
    step_pct = trafo.tap_step_percent.to_numpy(float) if "tap_step_percent" in trafo \
        else np.full(len(trafo), np.nan)
    if "tap_changer_type" in trafo:
        kind = trafo.tap_changer_type.fillna("").astype(str).to_numpy()
        if np.isin(kind, ("Ideal", "Symmetrical", "Tabular")).any():
            raise NotImplementedError("phase-shifting or tabular tap changers are not supported "
                                      "by the batch engine")
        if "tap_dependency_table" in trafo and trafo.tap_dependency_table.fillna(False).astype(bool).any():
            raise NotImplementedError("tap dependency tables are not supported by the batch engine")
        active = kind == "Ratio"
    else:
        active = np.isfinite(pos) & np.isfinite(step_pct)
    if np.any(active & (_column(trafo, "tap_step_degree", 0.0) != 0)):
        raise NotImplementedError("tap changers with tap_step_degree are not supported by the batch engine")
    neutral = _column(trafo, "tap_neutral", 0.0)
    factor = np.where(active, 1 + (np.nan_to_num(pos) - neutral) * np.nan_to_num(step_pct) / 100, 1.0)
    side = trafo.tap_side.fillna("").astype(str).to_numpy() if "tap_side" in trafo \
        else np.full(len(trafo), "")
    hv = np.where(side == "hv", hv * factor, hv)
    lv = np.where(side == "lv", lv * factor, lv)
    return hv, lv, shift


def _column(df: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name in df:
        return df[name].fillna(default).to_numpy(float)
    return np.full(len(df), default)
