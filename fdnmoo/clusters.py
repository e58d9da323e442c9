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

__all__ = ["CLUSTER_COLUMN", "bus_clusters", "with_clusters"]

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
