"""Cluster labels on a network: the ``net.bus.cluster`` column.

A partition of the buses (:mod:`fdnmoo.operators.partitioning`, the ``partition:``
section of a spec) is stored on the case's net as the integer column
``net.bus.cluster`` (-1: a bus outside every cluster). Blocks, constraints and maps
that plan per cluster read it through :func:`bus_clusters`.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from .scenarios.batch import stage_load

__all__ = ["CLUSTER_COLUMN", "bus_clusters", "cluster_penetration", "with_clusters"]

#: Column of ``net.bus`` holding the cluster of each bus.
CLUSTER_COLUMN = "cluster"


def with_clusters(case, labels):
    """A copy of ``case`` whose ``net.bus`` has the column ``cluster`` = ``labels``.

    Parameters
    ----------
    case : PlanningCase
    labels : sequence of int
        One cluster per ``case.net.bus`` row.

    Raises
    ------
    ValueError
        ``labels`` not one integer per bus.
    """
    labels = np.asarray(labels)
    n = len(case.net.bus)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"cluster labels: expected {n} integers (one per bus of case "
                         f"{case.name!r}), got shape {labels.shape} dtype {labels.dtype}")
    net = copy.deepcopy(case.net)
    net.bus[CLUSTER_COLUMN] = labels.astype(np.int64)
    return dataclasses.replace(case, net=net)


def bus_clusters(net, what: str) -> np.ndarray:
    """``net.bus.cluster`` as int64, one per row (rows the case lacks, e.g. candidate
    substations' upstream buses of a planning grid, are -1).

    Raises
    ------
    ValueError
        The net has no cluster labels, naming ``what`` needs them.
    """
    if CLUSTER_COLUMN not in net.bus:
        raise ValueError(f"{what} needs cluster labels (net.bus.{CLUSTER_COLUMN}): give the "
                         "spec a partition: section (or ProblemConfig(clusters=...))")
    return net.bus[CLUSTER_COLUMN].fillna(-1).to_numpy().astype(np.int64)


def cluster_penetration(grid, plan) -> np.ndarray:
    """PV penetration rate of every cluster and stage: installed PV capacity in the cluster
    over the cluster's peak load (MW / MW).

    The zonal-planning seed paper (Shi et al., Processes 13(2) 354, 2025, sec. 3.1.2 (2))
    constrains a "cluster penetration rate"; its equation was lost in extraction. Ours:
    ``rate_k(s) = sum_{j in k} S_PV,j(s) / sum_{j in k} P_L,j(s)`` with ``S_PV,j(s)`` the
    plan's PV capacity at bus j in stage s and ``P_L,j(s)`` the stage's peak load of bus j
    (:func:`fdnmoo.scenarios.batch.stage_load`: the case's loads grown to the stage's end).
    A cluster without load has rate 0 without PV and ``inf`` with some.

    Parameters
    ----------
    grid : PlanningGrid
        Its net carries ``bus.cluster``.
    plan : Plan

    Returns
    -------
    ndarray, shape (n_stages, n_clusters)
        Clusters in sorted label order (buses with -1 are in none).
    """
    labels = bus_clusters(grid.net, "the cluster penetration rate")
    ids, pos = np.unique(labels[labels >= 0], return_inverse=True)
    member = np.flatnonzero(labels >= 0)
    peak, _ = stage_load(grid.case, plan.n_stages, grid.net)  # (S, n_bus)
    pv = np.zeros((plan.n_stages, len(labels)))
    table = grid.case.candidates.get("pv")
    if table is not None and len(table) and plan.der.get("pv") is not None:
        at = grid.net.bus.index.get_indexer(table.bus.to_numpy())
        for s in range(plan.n_stages):
            np.add.at(pv[s], at, plan.der_capacity("pv", s + 1))
    out = np.zeros((plan.n_stages, len(ids)))
    for s in range(plan.n_stages):
        load_k = np.bincount(pos, weights=peak[s, member], minlength=len(ids))
        pv_k = np.bincount(pos, weights=pv[s, member], minlength=len(ids))
        with np.errstate(divide="ignore", invalid="ignore"):
            out[s] = np.where(load_k > 0, pv_k / np.where(load_k > 0, load_k, 1.0),
                              np.where(pv_k > 0, np.inf, 0.0))
    return out
