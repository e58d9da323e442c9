"""SOP genes: multi-terminal soft open points whose schemes grow over the stages.

Follows the evolution model of the Nature Communications FDN paper (seed
paper 000, "Evolution of FDN planning", eqs. 6 and 10): SOP-capable nodes
(``case.candidates["sop_nodes"]``, by default the ends of the tie lines); a
*scheme* is a set of 2..M_f of them, all in different feeders; once a scheme is
selected in a stage, the next stage selects one of its evolutions (a superset,
possibly itself); a node belongs to at most one scheme; terminal capacities are
whole converter modules and never shrink. A tie line joining two terminals of
the same SOP is reused as the SOP's line (it must then stay open as a switch).

Gene layout of :class:`SopBlock` (D = ``n_devices``, N = SOP-capable nodes in
the table's row order, S = stages)::

    [scheme_{1,0} .. scheme_{1,D-1}, ..., scheme_{S,0} .. scheme_{S,D-1}]
        0 = device not installed, k = k-th scheme of :attr:`SopBlock.schemes`
    [modules_{1,0} .. modules_{1,N-1}, ..., modules_{S,0} .. modules_{S,N-1}]
        1..max_modules converter modules at a node (used while it is a terminal)

Schemes are enumerated once in :meth:`bind`, by size then node order. M_f is
the number of feeders among the nodes, capped by ``max_terminals`` (default
:data:`DEFAULT_MAX_TERMINALS` = 3: tpc84's 26 nodes over 11 feeders give 299
two- and 2,008 three-terminal schemes (8,751 more with four), where an
uncapped M_f = 11 would give 311,013). Enumeration refuses more than
:data:`MAX_SCHEMES` schemes.

Repair, stage by stage and device by device: a device's scheme must contain
its previous-stage scheme and avoid nodes of the other devices (their
previous-stage schemes and the schemes already repaired in this stage). An
invalid proposal is merged into the previous scheme: its admissible nodes
(free, of a feeder not yet in the scheme) are added in random order up to
M_f; fewer than two terminals means no device. Module counts of a node that
stays a terminal are raised to at least the previous stage's.

Device size (seed 000: "the maximum converter capacity of a single SOP is 10
MVA", eq. (10e) ``pi alpha <= S_k <= S_max alpha`` with ``S_k`` the sum over
the device's terminals): a device's modules add up to at most
``device_max_mva`` (default :data:`DEFAULT_DEVICE_MAX_MVA`) and at least
``device_min_mva`` (default: one module per terminal). Repair keeps a
terminal's earlier modules, takes the excess off the terminals that grew most
in the stage (largest increase first, ties to the earlier node), then raises the
smallest terminals one module at a time up to the minimum. A growth that would
need more than the cap (earlier modules plus one per new terminal) is refused:
the device keeps its previous scheme. Both steps are deterministic, so the
limits draw nothing from the generator, and a plan within them is unchanged.

Candidate override: ``buses`` (a list of ``net.bus`` labels, or ``"all"``)
replaces the SOP-capable nodes; each takes its feeder from ``net.bus.feeder``.
"""

from __future__ import annotations

from itertools import combinations, product
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from fdnmoo.planning import plan_table

from .base import (FORCED_OPEN_LINES, SOP_TERMINALS, GeneBlock, as_genes, candidate_buses,
                   context_rows,
                   register_block)

__all__ = ["SopBlock", "DEFAULT_DEVICE_MAX_MVA", "DEFAULT_MAX_TERMINALS", "MAX_SCHEMES",
           "sop_link_length_km"]

#: Terminal cap used when ``max_terminals`` is None.
DEFAULT_MAX_TERMINALS = 3
#: Largest converter capacity of one device, all terminals together (seed 000: 10 MVA).
DEFAULT_DEVICE_MAX_MVA = 10.0
#: Largest number of schemes :class:`SopBlock` enumerates.
MAX_SCHEMES = 200_000


def _count_schemes(feeder_sizes: list[int], max_terminals: int) -> int:
    """Number of node sets of size 2..max_terminals with one node per feeder at most."""
    e = np.zeros(max_terminals + 1, dtype=object)  # elementary symmetric polynomials
    e[0] = 1
    for size in feeder_sizes:
        for k in range(max_terminals, 0, -1):
            e[k] += e[k - 1] * size
    return int(sum(e[2:]))


def sop_link_length_km(case, buses) -> float:
    """Length of new line an SOP with terminals at ``buses`` needs, in km.

    The terminals are joined by a minimum spanning tree whose edges cost the
    straight-line distance between bus coordinates (``x_km``, ``y_km``), or
    nothing where a tie line already joins the two buses (it is reused).
    """
    buses = [int(b) for b in buses]
    if len(buses) < 2:
        return 0.0
    ties = {frozenset((int(a), int(b))) for a, b in
            zip(case.tie_lines.from_bus, case.tie_lines.to_bus)}
    xy = case.net.bus.loc[buses, ["x_km", "y_km"]].to_numpy(float)
    in_tree, total = {0}, 0.0
    while len(in_tree) < len(buses):  # Prim on a handful of terminals
        best = min(((float(np.hypot(*(xy[i] - xy[j])))
                     if frozenset((buses[i], buses[j])) not in ties else 0.0, j)
                    for i in in_tree for j in range(len(buses)) if j not in in_tree))
        total += best[0]
        in_tree.add(best[1])
    return total


@register_block("sop")
class SopBlock(GeneBlock):
    """Multi-terminal SOP schemes and module counts per stage (see module docstring).

    Parameters
    ----------
    n_devices : int
        Number of SOP devices (each one multi-terminal), >= 1.
    max_terminals : int, optional
        Cap on the terminals of one device (default :data:`DEFAULT_MAX_TERMINALS`);
        the number of feeders among the SOP-capable nodes caps it further.
    module_mva : float
        Rating of one converter module (MVA).
    max_modules : int
        Modules per terminal at most (>= 1).
    buses : list of int or "all", optional
        SOP-capable nodes instead of the case's ``sop_nodes`` table.
    device_max_mva : float
        Largest capacity of one device, the sum over its terminals (MVA).
    device_min_mva : float, optional
        Smallest capacity of an installed device (MVA); default one module per
        terminal. Rounded up to whole modules.
    """

    name = "sop"
    repair_rank = 10

    def __init__(self, n_devices: int = 2, max_terminals: int | None = None,
                 module_mva: float = 0.5, max_modules: int = 4,
                 buses: Sequence[int] | Literal["all"] | None = None,
                 device_max_mva: float = DEFAULT_DEVICE_MAX_MVA,
                 device_min_mva: float | None = None):
        self.n_devices = n_devices
        self.max_terminals = max_terminals
        self.module_mva = module_mva
        self.max_modules = max_modules
        self.buses = buses
        self.device_max_mva = device_max_mva
        self.device_min_mva = device_min_mva

    def candidate_tables(self, case) -> dict[str, pd.DataFrame]:
        """``{"sop_nodes": table}`` of the ``buses`` override (``{}`` without it)."""
        if self.buses is None:
            return {}
        buses = candidate_buses(case, self.buses)
        feeder = case.net.bus.feeder.reindex(buses).astype(str).to_numpy()
        return {"sop_nodes": pd.DataFrame({"bus": buses, "feeder": feeder})}

    # ------------------------------------------------------------------ setup
    def _setup(self, grid, n_stages: int) -> None:
        if int(self.n_devices) < 1 or int(self.max_modules) < 1 or not self.module_mva > 0:
            raise ValueError(f"{self!r}: n_devices and max_modules must be >= 1 and "
                             f"module_mva > 0")
        if self.max_terminals is not None and int(self.max_terminals) < 2:
            raise ValueError(f"max_terminals must be >= 2, got {self.max_terminals}")
        self._setup_sizes()
        self._check_candidates(grid.case)
        nodes = grid.case.candidates.get("sop_nodes")
        if nodes is None or len(nodes) == 0:
            raise ValueError(f"case {grid.case.name!r} has no 'sop_nodes' candidate table")
        self._buses = nodes.bus.to_numpy(dtype=np.int64)
        self._feeder, feeder_names = pd.factorize(nodes.feeder.astype(str))
        cap = DEFAULT_MAX_TERMINALS if self.max_terminals is None else int(self.max_terminals)
        self._m = min(len(feeder_names), cap)
        if self._m < 2:
            raise ValueError(f"case {grid.case.name!r}: SOP-capable nodes lie in "
                             f"{len(feeder_names)} feeder(s); an SOP needs two")
        self.schemes = self._enumerate(feeder_names)
        self._index = {frozenset(s): k + 1 for k, s in enumerate(self.schemes)}
        self._pairs = np.array([k + 1 for k, s in enumerate(self.schemes) if len(s) == 2])
        ties = grid.case.tie_lines
        self._tie_lines = {}  # frozenset of node positions -> tie line labels
        pos_of = {int(b): i for i, b in enumerate(self._buses)}
        for label, a, b in zip(ties.index, ties.from_bus, ties.to_bus):
            if int(a) in pos_of and int(b) in pos_of:
                key = frozenset((pos_of[int(a)], pos_of[int(b)]))
                self._tie_lines.setdefault(key, []).append(int(label))

        d, n, s = int(self.n_devices), len(self._buses), n_stages
        self._d, self._n = d, n
        self.n_var = s * d + s * n
        self.xl = np.concatenate([np.zeros(s * d), np.ones(s * n)]).astype(np.int64)
        self.xu = np.concatenate([np.full(s * d, len(self.schemes)),
                                  np.full(s * n, int(self.max_modules))]).astype(np.int64)
        # crossover inherits a device's whole chain of schemes, and a node's modules
        self.groups = np.concatenate([np.tile(np.arange(d), s),
                                      d + np.tile(np.arange(n), s)]).astype(np.int64)
        self.ordinal = np.concatenate([np.zeros(s * d, bool), np.ones(s * n, bool)])

    def _setup_sizes(self) -> None:
        """Device limits in whole modules (``_cap_modules``, ``_min_modules``)."""
        module = float(self.module_mva)
        # a float tolerance so that 10 MVA in 0.01 MVA modules is 1000 modules, not 999
        self._cap_modules = int(np.floor(float(self.device_max_mva) / module + 1e-9))
        if self._cap_modules < 2:
            raise ValueError(f"device_max_mva={self.device_max_mva} holds fewer than two "
                             f"modules of module_mva={self.module_mva}: an SOP needs two terminals")
        lo = self.device_min_mva
        self._min_modules = 0 if lo is None else int(np.ceil(float(lo) / module - 1e-9))
        if lo is not None and not 0 <= float(lo) <= float(self.device_max_mva):
            raise ValueError(f"device_min_mva={lo} must be in 0..device_max_mva="
                             f"{self.device_max_mva}")
        if self._min_modules > 2 * int(self.max_modules):
            raise ValueError(f"device_min_mva={lo} needs {self._min_modules} modules; a "
                             f"two-terminal device holds at most 2 x max_modules="
                             f"{2 * int(self.max_modules)}")

    def _enumerate(self, feeder_names) -> list[tuple[int, ...]]:
        by_feeder = [np.flatnonzero(self._feeder == f).tolist() for f in range(len(feeder_names))]
        count = _count_schemes([len(v) for v in by_feeder], self._m)
        if count > MAX_SCHEMES:
            raise ValueError(f"{count} SOP schemes with up to {self._m} terminals exceed "
                             f"MAX_SCHEMES={MAX_SCHEMES}; lower max_terminals")
        out = []
        for size in range(2, self._m + 1):
            sets = [tuple(sorted(c)) for fs in combinations(range(len(by_feeder)), size)
                    for c in product(*(by_feeder[f] for f in fs))]
            out.extend(sorted(sets))
        return out

    # ---------------------------------------------------------------- helpers
    def _split(self, x):
        sd = self.n_stages * self._d
        return (np.asarray(x[:sd]).reshape(self.n_stages, self._d),
                np.asarray(x[sd:]).reshape(self.n_stages, self._n))

    def _nodes(self, k: int) -> frozenset:
        return frozenset(self.schemes[k - 1]) if k > 0 else frozenset()

    def _merge(self, prev: frozenset, proposal: frozenset, taken: set, rng) -> frozenset:
        """Admissible nodes of ``proposal`` added to ``prev`` (see module docstring)."""
        cur = set(prev)
        feeders = {int(self._feeder[i]) for i in cur}
        extra = sorted(proposal - cur)
        for i in (rng.permutation(extra) if rng is not None else extra):
            i = int(i)
            if len(cur) >= self._m:
                break
            if i not in taken and int(self._feeder[i]) not in feeders:
                cur.add(i)
                feeders.add(int(self._feeder[i]))
        return frozenset(cur) if len(cur) >= 2 else frozenset()

    def _repair_row(self, x: np.ndarray, rng) -> None:
        scheme, modules = self._split(x)  # views into x
        prev = [frozenset()] * self._d
        for u in range(self.n_stages):
            final: list[frozenset] = []
            for dev in range(self._d):
                taken = set().union(*(prev[o] for o in range(self._d) if o != dev), *final)
                proposal = self._nodes(int(scheme[u, dev]))
                if not (proposal >= prev[dev] and proposal.isdisjoint(taken)):
                    proposal = self._merge(prev[dev], proposal, taken, rng)
                    scheme[u, dev] = self._index.get(proposal, 0)
                before = modules[u - 1] if u > 0 else np.zeros_like(modules[0])
                if proposal and self._floor(before, prev[dev], proposal) > self._cap_modules:
                    proposal = prev[dev]  # no room for one more module per new terminal
                    scheme[u, dev] = self._index.get(proposal, 0)
                final.append(proposal)
            if u > 0:
                kept = sorted(set().union(*prev))
                modules[u, kept] = np.maximum(modules[u, kept], modules[u - 1, kept])
            for dev, nodes in enumerate(final):
                if nodes:
                    before = modules[u - 1] if u > 0 else None
                    self._size_device(modules[u], sorted(nodes), before, prev[dev])
            prev = final

    @staticmethod
    def _floor(before: np.ndarray, old: frozenset, nodes: frozenset) -> int:
        """Fewest modules ``nodes`` can hold: the earlier modules of ``old``, one per new node."""
        return int(sum(int(before[i]) for i in old)) + len(nodes - old)

    def _size_device(self, m: np.ndarray, nodes: list[int], before, old: frozenset) -> None:
        """Fit the module counts ``m[nodes]`` of one device into its limits (module docstring)."""
        floor = np.array([int(before[i]) if (before is not None and i in old) else 1
                          for i in nodes], dtype=np.int64)
        cur = m[nodes].astype(np.int64)
        excess = int(cur.sum()) - self._cap_modules
        while excess > 0:  # few terminals: one pass per terminal at most
            gain = cur - floor
            k = int(np.argmax(gain))  # largest increase, ties to the earlier node
            cut = min(int(gain[k]), excess)
            cur[k] -= cut
            excess -= cut
        lo = min(self._min_modules, len(nodes) * int(self.max_modules), self._cap_modules)
        while int(cur.sum()) < lo:
            room = np.flatnonzero(cur < int(self.max_modules))
            cur[room[int(np.argmin(cur[room]))]] += 1  # smallest terminal, ties to the earlier
        m[nodes] = cur

    def stage_schemes(self, x: np.ndarray) -> list[list[tuple[int, ...]]]:
        """Per stage and device, the terminal node positions (empty tuple: no device)."""
        scheme, _ = self._split(np.asarray(x, dtype=np.int64))
        return [[tuple(sorted(self._nodes(int(k)))) for k in scheme[u]]
                for u in range(self.n_stages)]

    # -------------------------------------------------------------- operators
    def repair(self, X: np.ndarray, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Feasible copy of ``X`` (supersets, one device per node, monotone modules)."""
        self._check_bound()
        Y = as_genes(X, self.xl, self.xu)
        context_rows(context, len(Y))
        for x in Y:
            self._repair_row(x, rng)
        return Y

    def sample(self, n: int, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Each device starts in a random stage (or never) with a random two-terminal
        scheme and grows by one terminal per later stage with probability 1/3."""
        self._check_bound()
        X = np.zeros((n, self.n_var), dtype=np.int64)
        for i in range(n):
            scheme, modules = self._split(X[i])
            for dev in range(self._d):
                start = int(rng.integers(0, self.n_stages + 1))  # n_stages: never
                k = int(rng.choice(self._pairs)) if len(self._pairs) else 0
                for u in range(start, self.n_stages):
                    if u > start and rng.random() < 1 / 3:
                        k = self._grow(k, rng)
                    scheme[u, dev] = k
            modules[:] = rng.integers(1, int(self.max_modules) + 1, size=modules.shape)
        return self.repair(X, rng, context)

    def _grow(self, k: int, rng) -> int:
        nodes = self._nodes(k)
        if len(nodes) >= self._m:
            return k
        used = {int(self._feeder[i]) for i in nodes}
        free = [i for i in range(self._n) if int(self._feeder[i]) not in used]
        return self._index[nodes | {int(rng.choice(free))}] if free else k

    def mutate(self, X: np.ndarray, rng: np.random.Generator, prob: float) -> np.ndarray:
        """Modules step by +/-1; a scheme gene is, with probability ``prob``, either
        removed, grown by one terminal, or moved to another random two-terminal
        scheme (each 1/3); a removed device gets a random two-terminal scheme."""
        Y = super().mutate(X, rng, prob)
        sd = self.n_stages * self._d
        Y[:, :sd] = np.atleast_2d(X)[:, :sd]
        hit = rng.random((len(Y), sd)) < prob
        for i, j in zip(*np.nonzero(hit)):
            k = int(Y[i, j])
            move = rng.random()
            if k == 0 or move < 1 / 3:
                Y[i, j] = int(rng.choice(self._pairs)) if k == 0 else 0
            elif move < 2 / 3:
                Y[i, j] = self._grow(k, rng)
            else:
                Y[i, j] = int(rng.choice(self._pairs))
        return Y

    # --------------------------------------------------------------- decoding
    def provides(self, x: np.ndarray, context_row: dict) -> None:
        """Terminal buses and the tie lines reused as SOP lines, per stage."""
        terminals, forced = [], []
        for devices in self.stage_schemes(x):
            buses, lines = [], []
            for nodes in devices:
                buses.extend(int(self._buses[i]) for i in nodes)
                for a, b in combinations(nodes, 2):
                    lines.extend(self._tie_lines.get(frozenset((a, b)), []))
            terminals.append(np.array(sorted(buses), dtype=np.int64))
            forced.append(np.array(sorted(lines), dtype=np.int64))
        context_row[SOP_TERMINALS] = terminals
        context_row[FORCED_OPEN_LINES] = forced

    def decode(self, x: np.ndarray, parts: dict) -> None:
        """The ``sop`` table: one row per stage, device and terminal."""
        _, modules = self._split(np.asarray(x, dtype=np.int64))
        rows = [(u, dev, i) for u, devices in enumerate(self.stage_schemes(x))
                for dev, nodes in enumerate(devices) for i in nodes]
        u, dev, i = np.array(rows, dtype=np.int64).reshape(-1, 3).T
        parts["sop"] = plan_table("sop", stage=u + 1, device=dev, bus=self._buses[i],
                                  capacity_mva=modules[u, i] * self.module_mva)
