"""Electrical distance from the Q–V sensitivity and the modularity edge weights.

Definitions (the zonal-planning seed paper names them; its equations were lost):

Q–V sensitivity
    At the base-case power flow (``pandapower.runpp`` on a copy of the net), the
    Newton Jacobian is built from pandapower's ``Ybus`` and solved voltages with
    ``pandapower.pypower.dSbus_dV``. With the active-power mismatch held at zero,
    the reduced Jacobian of the PQ buses is
    ``J_R = J_QV - J_Qθ J_Pθ⁻¹ J_PV`` and the sensitivity is
    ``S = J_R⁻¹ = ∂|V|/∂Q`` (per unit). Slack and PV buses hold their voltage, so
    their rows and columns of ``S`` are zero.
Electrical distance
    ``d_ij = S_ii + S_jj - S_ij - S_ji``: the voltage-change "impedance" between two
    buses (the Thevenin-distance form; for a radial feeder it is close to the
    reactance of the path between i and j). It is finite at the slack bus
    (``d_0j = S_jj``).
Edge weights
    Each branch ``(i, j)`` of the graph gets ``A_ij = 1 - L_ij / max L``, where
    ``L_ij = ||d_i - d_j||₂`` is the Euclidean distance of the two buses' distance
    rows and the maximum runs over all bus pairs: electrically close neighbours get
    weights near 1, and every branch a positive weight.
"""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pandapower as pp
from pandapower.pypower.dSbus_dV import dSbus_dV
from scipy.spatial.distance import pdist

__all__ = ["branch_graph", "electrical_distance", "edge_weights", "qv_sensitivity"]


def branch_graph(net) -> nx.Graph:
    """Undirected graph of the net's in-service buses, lines and transformers.

    Nodes are bus labels; parallel branches become one edge. Lines or
    transformers at an out-of-service bus are left out.

    Raises
    ------
    ValueError
        If the graph is not connected (naming the number of components).
    """
    buses = net.bus.index[net.bus.in_service.astype(bool)]
    graph = nx.Graph()
    graph.add_nodes_from(int(b) for b in buses)
    for table, a, b in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
        df = net[table] if table in net else None
        if df is None or not len(df):
            continue
        df = df[df.in_service.astype(bool)]
        ok = df[a].isin(buses) & df[b].isin(buses)
        graph.add_edges_from(zip(df[a][ok].astype(int), df[b][ok].astype(int)))
    if graph.number_of_nodes() and not nx.is_connected(graph):
        n = nx.number_connected_components(graph)
        raise ValueError(f"net's in-service branches form {n} separate components; "
                         "partitioning needs one connected network")
    return graph


def qv_sensitivity(net, bus_labels=None) -> np.ndarray:
    """Sensitivity ``∂|V|/∂Q`` (pu/pu) between buses at the base-case power flow.

    Parameters
    ----------
    net : pandapowerNet
        Not modified (the power flow runs on a copy).
    bus_labels : array_like, optional
        Rows/columns order (default: the in-service buses).

    Raises
    ------
    ValueError
        If the base-case power flow does not converge.

    Returns
    -------
    ndarray, shape (n_bus, n_bus)
        Zero rows and columns at slack and PV buses; buses merged by pandapower
        (bus-bus switches) share their values.
    """
    net = copy.deepcopy(net)
    try:
        pp.runpp(net)
    except pp.LoadflowNotConverged as exc:
        raise ValueError("qv_sensitivity: the base-case power flow (pandapower runpp) did not "
                         "converge; the Q-V sensitivity needs a solved operating point") from exc
    internal = net._ppc["internal"]
    dS_dVm, dS_dVa = dSbus_dV(internal["Ybus"], internal["V"])
    pq = np.asarray(internal["pq"], dtype=int)
    pvpq = np.r_[np.asarray(internal["pv"], dtype=int), pq]
    dS_dVm, dS_dVa = dS_dVm.toarray(), dS_dVa.toarray()
    j_pt = dS_dVa.real[np.ix_(pvpq, pvpq)]
    j_pv = dS_dVm.real[np.ix_(pvpq, pq)]
    j_qt = dS_dVa.imag[np.ix_(pq, pvpq)]
    j_qv = dS_dVm.imag[np.ix_(pq, pq)]
    reduced = j_qv - j_qt @ np.linalg.solve(j_pt, j_pv)
    n_ppc = internal["Ybus"].shape[0]
    full = np.zeros((n_ppc, n_ppc))
    full[np.ix_(pq, pq)] = np.linalg.inv(reduced)
    labels = (net.bus.index[net.bus.in_service.astype(bool)] if bus_labels is None
              else np.asarray(bus_labels))
    pos = net._pd2ppc_lookups["bus"][np.asarray(labels, dtype=int)]
    return full[np.ix_(pos, pos)]


def electrical_distance(sensitivity: np.ndarray) -> np.ndarray:
    """``d_ij = S_ii + S_jj - S_ij - S_ji`` from a sensitivity matrix ``S``."""
    s = np.asarray(sensitivity, dtype=float)
    diag = np.diag(s)
    return diag[:, None] + diag[None, :] - s - s.T


def edge_weights(graph: nx.Graph, distance: np.ndarray, bus_labels) -> dict[tuple[int, int], float]:
    """Modularity weight ``A_ij = 1 - L_ij / max L`` of every edge of ``graph``.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes are bus labels.
    distance : ndarray, shape (n_bus, n_bus)
        Electrical distance, rows in the order of ``bus_labels``.
    bus_labels : array_like
    """
    index = {int(b): k for k, b in enumerate(bus_labels)}
    d = np.asarray(distance, dtype=float)
    l_max = pdist(d).max() if len(d) > 1 else 0.0
    weights = {}
    for u, v in graph.edges:
        l_uv = float(np.linalg.norm(d[index[u]] - d[index[v]]))
        weights[(u, v)] = 1.0 - l_uv / l_max if l_max > 0 else 1.0
    return weights
