"""Radial topology of a distribution network as arrays.

A radial network (or forest, with several substations) is described by the
positions of its buses, the branches that are closed, and the root buses (the
substations). :func:`radial_structure` orders the buses so that every parent
comes before its children, which is what a backward/forward sweep needs, and
raises :class:`NonRadialError` naming the loop when the closed branches are not
a forest.

Bus positions are 0..n_bus-1; callers map them to and from pandapower's bus
labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import networkx as nx
import numpy as np

__all__ = ["NonRadialError", "RadialStructure", "radial_structure", "find_loop", "spanning_forest"]


class NonRadialError(ValueError):
    """The closed branches contain a loop (or connect two substations).

    Attributes
    ----------
    loop_buses : list
        Bus labels around the loop, in order.
    loop_branches : list
        Branch labels around the loop, in the same order.
    """

    def __init__(self, message: str, loop_buses: list, loop_branches: list):
        super().__init__(message)
        self.loop_buses = loop_buses
        self.loop_branches = loop_branches


@dataclass(frozen=True)
class RadialStructure:
    """Parent/child order of a radial forest.

    Attributes
    ----------
    order : ndarray of int, shape (n_supplied - n_roots,)
        Non-root supplied buses in depth-first pre-order (each after its
        parent, every subtree contiguous).
    parent : ndarray of int, shape (n_bus,)
        Parent bus of every bus; -1 for roots and unsupplied buses.
    parent_branch : ndarray of int, shape (n_bus,)
        Position of the branch joining a bus to its parent; -1 where none.
    branch_reversed : ndarray of bool, shape (n_branch,)
        True where a closed branch's ``to`` end is the parent side.
    root_of : ndarray of int, shape (n_bus,)
        Root bus supplying every bus; -1 for unsupplied buses.
    depth : ndarray of int, shape (n_bus,)
        Number of branches between a bus and its root; -1 if unsupplied.
    """

    order: np.ndarray
    parent: np.ndarray
    parent_branch: np.ndarray
    branch_reversed: np.ndarray
    root_of: np.ndarray
    depth: np.ndarray

    @property
    def supplied(self) -> np.ndarray:
        """Boolean mask of buses connected to a root."""
        return self.root_of >= 0


def find_loop(n_bus: int, from_bus: np.ndarray, to_bus: np.ndarray,
              closed: np.ndarray, roots: Sequence[int] = ()) -> list[int] | None:
    """Return branch positions forming a loop among closed branches, or None.

    Roots are treated as one node (the common upstream grid): a closed path
    between two substations is a loop as well.
    """
    g = nx.MultiGraph()
    g.add_nodes_from(range(n_bus))
    root_set = set(int(r) for r in roots)
    merged = lambda b: -1 if int(b) in root_set else int(b)  # noqa: E731
    for k in np.flatnonzero(closed):
        g.add_edge(merged(from_bus[k]), merged(to_bus[k]), key=int(k))
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return None
    return [int(edge[2]) for edge in cycle]


def radial_structure(n_bus: int, from_bus: np.ndarray, to_bus: np.ndarray,
                     closed: np.ndarray, roots: Sequence[int],
                     bus_labels: Sequence | None = None,
                     branch_labels: Sequence | None = None) -> RadialStructure:
    """Order a radial forest from its roots.

    Parameters
    ----------
    n_bus : int
        Number of buses (positions 0..n_bus-1).
    from_bus, to_bus : ndarray of int, shape (n_branch,)
        Bus positions at the ends of every branch.
    closed : ndarray of bool, shape (n_branch,)
        Which branches conduct.
    roots : sequence of int
        Bus positions held at fixed voltage (substations).
    bus_labels, branch_labels : sequence, optional
        Labels used in the error message (default: positions).

    Returns
    -------
    RadialStructure

    Raises
    ------
    NonRadialError
        If the closed branches contain a loop, or join two roots.
    """
    from_bus = np.asarray(from_bus, dtype=np.int64)
    to_bus = np.asarray(to_bus, dtype=np.int64)
    closed = np.asarray(closed, dtype=bool)
    roots = np.unique(np.asarray(roots, dtype=np.int64))
    n_closed = int(closed.sum())

    # adjacency in CSR form over closed branches
    k_closed = np.flatnonzero(closed)
    ends_a = np.concatenate([from_bus[k_closed], to_bus[k_closed]])
    ends_b = np.concatenate([to_bus[k_closed], from_bus[k_closed]])
    branch_of = np.concatenate([k_closed, k_closed])
    sort = np.argsort(ends_a, kind="stable")
    ends_b, branch_of = ends_b[sort], branch_of[sort]
    start = np.searchsorted(ends_a[sort], np.arange(n_bus + 1))

    parent = np.full(n_bus, -1, dtype=np.int64)
    parent_branch = np.full(n_bus, -1, dtype=np.int64)
    root_of = np.full(n_bus, -1, dtype=np.int64)
    depth = np.full(n_bus, -1, dtype=np.int64)
    root_of[roots] = roots
    depth[roots] = 0
    # depth-first from every root: `order` is a pre-order, so a subtree is a
    # contiguous run (good memory locality in the sweep)
    order: list[int] = []
    used_branches = 0
    for root in roots[::-1]:
        stack = [int(root)]
        while stack:
            bus = stack.pop()
            if bus != root:
                order.append(bus)
            for j in range(start[bus + 1] - 1, start[bus] - 1, -1):
                k = branch_of[j]
                if k == parent_branch[bus]:
                    continue
                child = ends_b[j]
                if root_of[child] >= 0:
                    # reached an already supplied bus: a loop or a root-to-root path
                    _raise_loop(n_bus, from_bus, to_bus, closed, roots,
                                bus_labels, branch_labels)
                parent[child] = bus
                parent_branch[child] = k
                root_of[child] = root_of[bus]
                depth[child] = depth[bus] + 1
                stack.append(child)
                used_branches += 1
    if used_branches != n_closed and find_loop(n_bus, from_bus, to_bus, closed, roots) is not None:
        # a loop among buses that no root reaches (loop-free islands are fine: unsupplied)
        _raise_loop(n_bus, from_bus, to_bus, closed, roots, bus_labels, branch_labels)

    branch_reversed = np.zeros(from_bus.shape[0], dtype=bool)
    child_pos = np.array(order, dtype=np.int64)
    branch_reversed[parent_branch[child_pos]] = to_bus[parent_branch[child_pos]] != child_pos
    return RadialStructure(order=child_pos, parent=parent, parent_branch=parent_branch,
                           branch_reversed=branch_reversed, root_of=root_of, depth=depth)


def _raise_loop(n_bus, from_bus, to_bus, closed, roots, bus_labels, branch_labels):
    loop = find_loop(n_bus, from_bus, to_bus, closed, roots)
    if loop is None:  # pragma: no cover - radial_structure only calls on a loop
        raise AssertionError("loop detection disagrees with the radial ordering")
    root_set = set(int(r) for r in roots)
    buses = []
    for k in loop:
        for b in (int(from_bus[k]), int(to_bus[k])):
            label = "substations" if b in root_set else _label(bus_labels, b)
            if label not in buses:
                buses.append(label)
    branches = [_label(branch_labels, int(k)) for k in loop]
    through = " through the common supply" if any(b == "substations" for b in buses) else ""
    raise NonRadialError(
        f"topology is not radial: branches {branches} form a loop{through} "
        f"over buses {[b for b in buses if b != 'substations']}",
        loop_buses=buses, loop_branches=branches)


def _label(labels, position: int):
    """The label at a position as a plain Python value (``4``, not ``np.int64(4)``)."""
    label = position if labels is None else labels[position]
    return label.item() if isinstance(label, np.generic) else label


def spanning_forest(n_bus: int, from_bus: np.ndarray, to_bus: np.ndarray,
                    weights: np.ndarray, roots: Sequence[int]) -> np.ndarray:
    """Minimum-weight spanning forest with exactly one root per tree (Kruskal).

    Roots are merged into one node, so every tree of the result holds one
    root; buses that no branch can connect to a root stay unsupplied.

    Parameters
    ----------
    n_bus : int
    from_bus, to_bus : ndarray of int, shape (n_branch,)
        Candidate branches (bus positions).
    weights : ndarray, shape (n_branch,)
        Lower weight = preferred; ``inf`` excludes a branch.
    roots : sequence of int

    Returns
    -------
    ndarray of bool, shape (n_branch,)
        Branches to close.
    """
    parent = np.arange(n_bus + 1)
    super_root = n_bus
    node = np.arange(n_bus)
    node[np.asarray(roots, dtype=np.int64)] = super_root

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    closed = np.zeros(len(from_bus), dtype=bool)
    for k in np.argsort(weights, kind="stable"):
        if not np.isfinite(weights[k]):
            break
        a, b = find(node[from_bus[k]]), find(node[to_bus[k]])
        if a != b:
            parent[a] = b
            closed[k] = True
    return closed
