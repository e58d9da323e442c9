"""pandapower's branch models in per unit: lines, two-winding transformers, impedances, switches.

Every function returns the series impedance and the end shunt admittances of
its branches on the system base ``sn_mva`` and the bus voltage bases, as
pandapower builds them for ``runpp``:

* line: pi model, ``z = (r + jx) * length / parallel``, shunt
  ``(g + j 2 pi f c) * length * parallel`` split between the two ends;
* two-winding transformer: short-circuit impedance on the LV side, magnetising
  admittance from ``pfe_kw``/``i0_percent`` (T model converted to its exact pi
  equivalent, as pandapower's default ``trafo_model="t"``), off-nominal ratio
  and phase shift from the tap changer;
* impedance element (symmetric): ``rft_pu + j xft_pu`` on its own ``sn_mva``,
  shunts ``gf/bf`` and ``gt/bt``;
* bus-bus switch: ``z_ohm`` split into R and X with pandapower's default
  ``switch_rx_ratio`` of 2 (0 for an ideal switch).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SWITCH_RX_RATIO", "impedance_pu", "line_pu", "switch_pu", "trafo_pu"]

#: R/X ratio pandapower gives switches with ``z_ohm > 0`` (``runpp(switch_rx_ratio=2)``).
SWITCH_RX_RATIO = 2.0


def line_pu(line: pd.DataFrame, vn_from_kv: np.ndarray, sn_mva: float, f_hz: float):
    """Series impedance and total shunt admittance (both ends together) of lines."""
    length = line.length_km.to_numpy(dtype=float)
    par = line.parallel.to_numpy(dtype=float)
    z_base = vn_from_kv ** 2 / sn_mva
    z = (line.r_ohm_per_km.to_numpy(float) + 1j * line.x_ohm_per_km.to_numpy(float)) \
        * length / par / z_base
    g_us = line.g_us_per_km.to_numpy(float) if "g_us_per_km" in line else np.zeros(len(line))
    y = (g_us * 1e-6 + 1j * 2 * np.pi * f_hz * line.c_nf_per_km.to_numpy(float) * 1e-9) \
        * length * par * z_base
    return z, y


def impedance_pu(imp: pd.DataFrame, sn_mva: float):
    """Series impedance and end shunts of symmetric ``net.impedance`` rows."""
    if not len(imp):
        empty = np.zeros(0, dtype=complex)
        return empty, empty, empty
    to_system = sn_mva / imp.sn_mva.to_numpy(float)
    z = (imp.rft_pu.to_numpy(float) + 1j * imp.xft_pu.to_numpy(float)) * to_system
    y_f = (_column(imp, "gf_pu", 0.0) + 1j * _column(imp, "bf_pu", 0.0)) / to_system
    y_t = (_column(imp, "gt_pu", 0.0) + 1j * _column(imp, "bt_pu", 0.0)) / to_system
    return z, y_f, y_t


def switch_pu(z_ohm: np.ndarray, vn_kv: np.ndarray, sn_mva: float) -> np.ndarray:
    """Series impedance of closed bus-bus switches (0 where ``z_ohm <= 0``)."""
    z_base = vn_kv ** 2 / sn_mva
    unit = (SWITCH_RX_RATIO + 1j) / np.sqrt(1 + SWITCH_RX_RATIO ** 2)
    return np.where(z_ohm > 0, z_ohm, 0.0) / z_base * unit


def trafo_pu(trafo: pd.DataFrame, vn_hv_bus: np.ndarray, vn_lv_bus: np.ndarray, sn: float):
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


def parallel_pi(z: np.ndarray, y_from: np.ndarray, y_to: np.ndarray, ratio: np.ndarray,
                flipped: np.ndarray):
    """One pi branch with the terminal behaviour of branches in parallel.

    Each branch ``k`` is the two-port ``[[(ys + yf)/|t|^2, -ys/conj(t)], [-ys/t, ys + yt]]``
    (``ys = 1/z``, ratio on the from side); ``flipped[k]`` marks a branch whose
    ends are swapped with respect to the first one. The admittance matrices
    add; the result keeps the first branch's ratio. Exact whenever the
    branches share a phase shift (real taps may differ: the circulating
    current between them is in the equivalent's shunts).

    Returns
    -------
    z, y_from, y_to, ratio : complex
        The equivalent, oriented like the first branch.

    Raises
    ------
    ValueError
        If the phase shifts differ (no pi equivalent) or a branch has zero impedance.
    """
    if np.any(z == 0):
        raise ValueError("a branch of zero impedance in parallel with another")
    ys = 1.0 / z
    y11 = (ys + y_from) / np.abs(ratio) ** 2
    y12 = -ys / np.conj(ratio)
    y21 = -ys / ratio
    y22 = ys + y_to
    y_ff = np.where(flipped, y22, y11).sum()
    y_tt = np.where(flipped, y11, y22).sum()
    y_ft = np.where(flipped, y21, y12).sum()
    y_tf = np.where(flipped, y12, y21).sum()
    t = ratio[0]
    ys_eq = -y_tf * t
    if not np.isclose(-ys_eq / np.conj(t), y_ft, rtol=1e-12, atol=1e-12 * abs(y_ft)):
        raise ValueError("parallel transformers with different phase shifts")
    return 1.0 / ys_eq, y_ff * abs(t) ** 2 - ys_eq, y_tt - ys_eq, t
