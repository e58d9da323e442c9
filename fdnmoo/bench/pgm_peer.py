"""power-grid-model as a benchmark peer: conversion of a radial pandapower net and timing.

The conversion keeps pandapower's line pi model and uses an ideal slack
(``sk = 1e15`` VA; power-grid-model's default 1e10 VA shifts voltages by
~5e-4 p.u.). Batches run sequentially (``threading=-1`` on power-grid-model
1.12) for a one-core comparison.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..branches import LIVE_FROM, LIVE_TO
from ..powerflow import BatchPowerFlow
from .scenarios import Scenarios

__all__ = ["PGM_METHODS", "PGM_SOURCE_SK_VA", "PgmNetwork", "pgm_available", "pgm_network",
           "pgm_update", "time_pgm"]

PGM_METHODS = ("newton_raphson", "iterative_current")
"""power-grid-model calculation methods compared (the first is the default one)."""

PGM_SOURCE_SK_VA = 1e15
"""Short-circuit power of the power-grid-model source: an ideal slack as in
pandapower (PGM's default 1e10 VA shifts voltages by ~5e-4 p.u.)."""


def pgm_available() -> bool:
    """Whether power-grid-model (extra ``bench``) is installed."""
    try:
        import power_grid_model  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class PgmNetwork:
    """A power-grid-model model of a pandapower net and the map of its loads.

    Attributes
    ----------
    model : power_grid_model.PowerGridModel
    load_ids : ndarray of int
        ``sym_load`` ids, one per bus with a non-zero base demand.
    load_pos : ndarray of int
        Bus position of every ``sym_load``.
    n_bus : int
        Buses of the net.
    node_of_bus : ndarray of int
        Node id of every bus position (the position itself for nets of lines).
    """

    model: Any
    load_ids: np.ndarray
    load_pos: np.ndarray
    n_bus: int
    node_of_bus: np.ndarray


def pgm_network(net, pf: BatchPowerFlow) -> PgmNetwork:
    """Convert a radial pandapower net to a power-grid-model model.

    Nodes are the buses (``u_rated = vn_kv``), lines keep pandapower's pi
    model (``r1``/``x1`` in ohm, ``c1`` in farad, ``tan1 = g / (omega c)``),
    open lines (out of service or open switch: ``pf.branches.closed``) get
    status 0, every external grid is a ``source`` with ``u_ref = vm_pu`` and
    ``sk = 1e15`` VA, and every bus with a non-zero base demand one
    constant-power ``sym_load`` carrying the bus's net demand.

    Nets with transformers, shunts or switches are converted by
    power-grid-model-io's ``PandaPowerConverter`` instead (:func:`_io_structure`),
    with the same sources and loads.

    Raises
    ------
    NotImplementedError
        For lines with a conductance but no capacitance (not converted), and
        for nets that need power-grid-model-io when it is not installed.
    """
    from power_grid_model import ComponentType, PowerGridModel

    if _lines_only(net):
        structure, node_of_bus = _line_structure(net, pf), np.arange(pf.branches.n_bus)
    else:
        structure, node_of_bus = _io_structure(net, pf)
    next_id = 1 + max(int(table["id"].max()) for table in structure.values() if len(table))
    load, load_pos = _bus_loads(pf, node_of_bus, next_id)
    model = PowerGridModel({**structure, ComponentType.sym_load: load})
    return PgmNetwork(model=model, load_ids=load["id"].copy(), load_pos=load_pos,
                      n_bus=pf.branches.n_bus, node_of_bus=node_of_bus)


def _line_structure(net, pf: BatchPowerFlow) -> dict:
    """Nodes, lines and sources of a net of lines only (node id = bus position)."""
    from power_grid_model import ComponentType, DatasetType, initialize_array

    _check_pgm_convertible(net)
    br = pf.branches
    n_bus, line = br.n_bus, net.line
    node = initialize_array(DatasetType.input, ComponentType.node, n_bus)
    node["id"] = np.arange(n_bus)
    node["u_rated"] = br.vn_kv * 1e3

    lines = initialize_array(DatasetType.input, ComponentType.line, len(line))
    lines["id"] = n_bus + np.arange(len(line))
    lines["from_node"] = br.bus_position(line.from_bus.to_numpy())
    lines["to_node"] = br.bus_position(line.to_bus.to_numpy())
    closed, live = br.closed[:len(line)], br.live_end[:len(line)]
    lines["from_status"] = (closed | (live == LIVE_FROM)).astype(np.int8)  # half-open lines
    lines["to_status"] = (closed | (live == LIVE_TO)).astype(np.int8)
    r1, x1, c1, tan1 = _pgm_line_parameters(line, float(net.f_hz))
    lines["r1"], lines["x1"], lines["c1"], lines["tan1"] = r1, x1, c1, tan1

    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    next_id = n_bus + len(line)
    source = initialize_array(DatasetType.input, ComponentType.source, len(eg))
    source["id"] = next_id + np.arange(len(eg))
    source["node"] = br.bus_position(eg.bus.to_numpy())
    source["status"] = 1
    source["u_ref"] = eg.vm_pu.to_numpy(float)
    source["u_ref_angle"] = np.deg2rad(eg.va_degree.to_numpy(float))
    source["sk"] = PGM_SOURCE_SK_VA
    return {ComponentType.node: node, ComponentType.line: lines, ComponentType.source: source}


def _io_structure(net, pf: BatchPowerFlow) -> tuple[dict, np.ndarray]:
    """Nodes, branches, links, shunts and sources converted by power-grid-model-io.

    Its loads and generators are dropped (the benchmark adds one constant-power
    load per bus); sources become ideal (``sk = 1e15`` VA). Transformers without
    a ``vector_group`` (SimBench's) get one from their ``shift_degree``, which is
    all a symmetric power flow reads of it.

    Returns
    -------
    structure : dict
    node_of_bus : ndarray of int
        power-grid-model node id of every bus position.
    """
    try:
        from power_grid_model import ComponentType
        from power_grid_model_io.converters import PandaPowerConverter
    except ImportError as exc:
        raise NotImplementedError("nets with transformers, shunts or switches need "
                                  "power-grid-model-io (pip install fdnmoo[bench])") from exc
    net = copy.deepcopy(net)
    if len(net.trafo):
        clock = np.round(net.trafo.shift_degree.fillna(0.0).to_numpy(float) / 30).astype(int) % 12
        groups = pd.Series([f"Dyn{c}" if c % 2 else f"YNyn{c}" for c in clock], index=net.trafo.index)
        vg = net.trafo["vector_group"] if "vector_group" in net.trafo else pd.Series(None, net.trafo.index)
        net.trafo["vector_group"] = vg.where(vg.notna(), groups)
    data, extra = PandaPowerConverter().load_input_data(net)
    keep = (ComponentType.node, ComponentType.line, ComponentType.transformer, ComponentType.link,
            ComponentType.shunt, ComponentType.source, ComponentType.generic_branch)
    structure = {k: v for k, v in data.items() if k in keep}
    structure[ComponentType.source]["sk"] = PGM_SOURCE_SK_VA
    bus_node = {info["id_reference"]["index"]: node_id for node_id, info in extra.items()
                if info["id_reference"]["table"] == "bus"}
    node_of_bus = np.array([bus_node[int(b)] for b in pf.bus_labels], dtype=np.int64)
    return structure, node_of_bus


def _lines_only(net) -> bool:
    try:
        _check_pgm_convertible(net)
    except NotImplementedError:
        return False
    sw = net.switch
    return not (len(sw) and ((sw.et == "b") | (sw.et == "t")).any())


def _bus_loads(pf: BatchPowerFlow, node_of_bus: np.ndarray, first_id: int):
    """One constant-power ``sym_load`` per bus with a non-zero base demand."""
    from power_grid_model import ComponentType, DatasetType, LoadGenType, initialize_array

    p0, q0 = pf.base_demand()
    load_pos = np.flatnonzero((p0[0] != 0) | (q0[0] != 0))
    load = initialize_array(DatasetType.input, ComponentType.sym_load, len(load_pos))
    load["id"] = first_id + np.arange(len(load_pos))
    load["node"] = node_of_bus[load_pos]
    load["status"] = 1
    load["type"] = LoadGenType.const_power
    load["p_specified"] = p0[0, load_pos] * 1e6
    load["q_specified"] = q0[0, load_pos] * 1e6
    return load, load_pos


def _check_pgm_convertible(net) -> None:
    for table in ("trafo", "trafo3w", "shunt", "impedance", "xward", "ward", "gen", "dcline"):
        df = net[table] if table in net else None
        if df is not None and len(df) and df.in_service.astype(bool).any():
            raise NotImplementedError(f"the power-grid-model conversion handles lines only; "
                                      f"the net has in-service {table} elements")


def _pgm_line_parameters(line, f_hz: float) -> tuple[np.ndarray, ...]:
    """Series resistance/reactance (ohm), capacitance (F) and loss tangent per line."""
    length = line.length_km.to_numpy(float)
    par = line.parallel.to_numpy(float)
    r1 = line.r_ohm_per_km.to_numpy(float) * length / par
    x1 = line.x_ohm_per_km.to_numpy(float) * length / par
    c_f_per_km = line.c_nf_per_km.to_numpy(float) * 1e-9
    g_s_per_km = line.g_us_per_km.to_numpy(float) * 1e-6 if "g_us_per_km" in line else 0.0 * length
    if np.any((g_s_per_km != 0) & (c_f_per_km == 0)):
        raise NotImplementedError("lines with a shunt conductance but no capacitance")
    omega_c = 2 * np.pi * f_hz * c_f_per_km
    tan1 = np.divide(g_s_per_km, omega_c, out=np.zeros_like(omega_c), where=omega_c != 0)
    return r1, x1, c_f_per_km * length * par, tan1


def pgm_update(pgm: PgmNetwork, sc: Scenarios) -> dict:
    """Batch update of every ``sym_load``'s ``p_specified``/``q_specified`` (W, var)."""
    from power_grid_model import ComponentType, DatasetType, initialize_array

    upd = initialize_array(DatasetType.update, ComponentType.sym_load,
                           (sc.n_scenarios, len(pgm.load_ids)))
    upd["id"] = pgm.load_ids[None, :]
    upd["p_specified"] = sc.p_mw[:, pgm.load_pos] * 1e6
    upd["q_specified"] = sc.q_mvar[:, pgm.load_pos] * 1e6
    return {ComponentType.sym_load: upd}


def time_pgm(pgm: PgmNetwork, sc: Scenarios, method: str = "newton_raphson",
             repeats: int = 3) -> tuple[dict, np.ndarray]:
    """Time a sequential power-grid-model batch power flow over all scenarios.

    The update dataset is built once, outside the timed region; the timed call
    is ``calculate_power_flow(update_data=..., threading=-1)`` (negative =
    sequential in power-grid-model 1.x; 0 would use every hardware thread)
    asking only for the node voltages, best of ``repeats``.

    Returns
    -------
    figures : dict
        ``us_per_pf``, ``pf_per_s``, ``n_scenarios``, ``repeats``, ``method``.
    vm_pu : ndarray, shape (n_scenarios, n_bus)
        Node voltage magnitudes (nodes are bus positions).
    """
    from power_grid_model import ComponentType

    update = pgm_update(pgm, sc)
    calc = _pgm_calculation(pgm, update, method)
    calc(slice(0, min(8, sc.n_scenarios)))  # warm-up
    best, out = np.inf, None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = calc(slice(None))
        best = min(best, time.perf_counter() - t0)
    n = sc.n_scenarios
    nodes = out[ComponentType.node]
    order = pd.Index(nodes["id"][0]).get_indexer(pgm.node_of_bus)
    vm = np.asarray(nodes["u_pu"], dtype=float)[:, order]
    figures = {"us_per_pf": best / n * 1e6, "pf_per_s": n / best, "n_scenarios": n,
               "repeats": int(max(1, repeats)), "method": method}
    return figures, vm


def _pgm_calculation(pgm: PgmNetwork, update: dict, method: str) -> Callable[[slice], dict]:
    from power_grid_model import ComponentType

    def calc(rows: slice) -> dict:
        upd = {k: v[rows] for k, v in update.items()}
        return pgm.model.calculate_power_flow(
            update_data=upd, calculation_method=method, threading=-1,
            error_tolerance=1e-8, max_iterations=100,
            output_component_types={ComponentType.node: ["id", "u_pu"]})

    return calc
