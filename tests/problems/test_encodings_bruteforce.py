"""Brute-force checks of the encodings on small instances.

* LineBlock: on tiny meshed networks (one or two substations), the set of
  topologies that repair produces from all 2^L switch-gene vectors equals the
  set of spanning trees (substations merged into one node) enumerated by
  networkx, and every spanning tree is a fixed point of repair.
* SopBlock: the enumerated schemes equal the brute-force set of node subsets of
  size 2..M_f with one node per feeder; the closed-form count matches.
* The independent checks used by the property tests reject broken plans.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from encoding_checks import check_plan, check_sop, check_topology, grid_of
from fdnmoo.cases import PlanningCase
from fdnmoo.planning import planning_grid
from fdnmoo.problems.encodings import DerBlock, LineBlock, SopBlock
from fdnmoo.problems.encodings.sop import _count_schemes
from fdnmoo.problems.genome import Genome
from fdnmoo.topology import NonRadialError

EDGES = [(0, 1), (1, 2), (0, 3), (3, 4), (4, 5), (1, 4), (2, 5)]  # a 2 x 3 mesh


def tiny_case(roots: tuple[int, ...], base: tuple[int, ...]) -> PlanningCase:
    """Six buses, the mesh above; loads on every non-root bus; ``base`` lines closed."""
    net = pp.create_empty_network()
    for i in range(6):
        pp.create_bus(net, 10.0, index=i)
    net.bus["feeder"] = "A"
    net.bus["x_km"] = [0, 1, 2, 0, 1, 2]
    net.bus["y_km"] = [0, 0, 0, 1, 1, 1]
    for r in roots:
        pp.create_ext_grid(net, r)
    for k, (a, b) in enumerate(EDGES):
        pp.create_line_from_parameters(net, a, b, 1.0, 0.1, 0.1, 0.0, 0.4, in_service=k in base)
    net.line["failure_rate_per_year"] = 0.1
    net.line["repair_time_h"] = 5.0
    for b in range(6):
        if b not in roots:
            pp.create_load(net, b, p_mw=0.1, q_mvar=0.05)
    return PlanningCase(name="tiny", net=net)


def spanning_trees(roots: tuple[int, ...]) -> set[frozenset]:
    """Line sets of all spanning trees of the mesh with the roots merged (networkx)."""
    g = nx.Graph()
    merge = lambda b: "root" if b in roots else b  # noqa: E731
    for k, (a, b) in enumerate(EDGES):
        u, v = merge(a), merge(b)
        assert u != v and not g.has_edge(u, v)  # the mesh keeps a simple graph
        g.add_edge(u, v, line=k)
    return {frozenset(d for _, _, d in tree.edges(data="line"))
            for tree in nx.SpanningTreeIterator(g)}


@pytest.mark.parametrize("roots,base", [((0,), (0, 1, 2, 3, 4)), ((0, 5), (0, 2, 3, 6))])
def test_line_repair_reaches_exactly_the_spanning_trees(roots, base):
    grid = planning_grid(tiny_case(roots, base))
    block = LineBlock(build=False).bind(grid, 1)
    genome = Genome([LineBlock(build=False)]).bind(grid, 1)
    assert block.n_var == len(EDGES)
    X = np.array(list(itertools.product((0, 1), repeat=len(EDGES))))
    reached = set()
    for seed in range(3):
        R = block.repair(X, np.random.default_rng(seed), {})
        for x in R:
            plan = genome.decode(x)
            check_topology(plan, grid)
            reached.add(frozenset(int(l) for l in plan.closed_lines[0]))
    trees = spanning_trees(roots)
    assert reached == trees
    # every spanning tree is reachable as its own fixed point
    for tree in trees:
        x = np.array([[int(k in tree) for k in range(len(EDGES))]])
        assert_array_equal(block.repair(x, np.random.default_rng(0), {}), x)


@pytest.mark.parametrize("case,max_terminals", [("ieee33", None), ("ieee33", 5), ("tpc84", 2),
                                                ("tpc84", None)])
def test_sop_schemes_match_brute_force(case, max_terminals):
    grid = grid_of(case)
    block = SopBlock(max_terminals=max_terminals).bind(grid, 2)
    nodes = grid.case.candidates["sop_nodes"]
    feeders = nodes.feeder.astype(str).to_numpy()
    m = min(len(set(feeders)), max_terminals or 3)
    brute = {c for size in range(2, m + 1)
             for c in itertools.combinations(range(len(nodes)), size)
             if len(set(feeders[list(c)])) == size}
    assert set(block.schemes) == brute and len(block.schemes) == len(brute)
    sizes = list(pd.Series(feeders).value_counts())
    assert _count_schemes(sizes, m) == len(brute)


def test_scheme_count_uncapped_tpc84():
    """Every feeder contributes one of its nodes or none: prod(1 + n_f) - 1 - N sets of >= 2."""
    feeders = grid_of("tpc84").case.candidates["sop_nodes"].feeder.value_counts()
    closed_form = int(np.prod(1 + feeders.to_numpy())) - 1 - int(feeders.sum())
    assert _count_schemes(list(feeders), len(feeders)) == closed_form == 311_013
    with pytest.raises(ValueError, match="MAX_SCHEMES"):
        SopBlock(max_terminals=11).bind(grid_of("tpc84"), 2)


# ------------------------------------------------- the checks catch violations
def _feasible(genome: Genome):
    return genome.decode(genome.sample(1, np.random.default_rng(1))[0])


def test_checks_reject_a_loop_and_an_unsupplied_load():
    grid = grid_of("ieee33")
    genome = Genome([LineBlock(build=False)]).bind(grid, 1)
    plan = _feasible(genome)
    check_plan(plan, genome)
    opened = sorted(set(grid.switchable_lines.tolist()) - set(plan.closed_lines[0].tolist()))
    assert len(opened) == 5  # a spanning tree of ieee33 leaves five lines open
    plan.closed_lines[0] = np.sort(np.append(plan.closed_lines[0], opened[0]))
    with pytest.raises(NonRadialError):
        check_topology(plan, grid)
    plan = _feasible(genome)
    plan.closed_lines[0] = plan.closed_lines[0][1:]
    with pytest.raises(AssertionError, match="unsupplied"):
        check_topology(plan, grid)


def test_checks_reject_bad_sop_and_der_plans():
    grid = grid_of("tpc84")
    genome = Genome([SopBlock(n_devices=1), DerBlock("pv")]).bind(grid, 2)
    sop = genome.block("sop")
    x = np.zeros(genome.n_var, dtype=int)
    sl = genome.slices["sop"]
    x[sl.start:sl.start + 2] = [sop._index[frozenset((0, 2, 6))], sop._index[frozenset((0, 2))]]
    x[sl.start + 2:sl.stop] = 1
    with pytest.raises(AssertionError, match="shrank"):
        check_sop(genome.decode(x), grid, sop)
    x = genome.repair(x[None, :], np.random.default_rng(0))[0]
    check_plan(genome.decode(x), genome)
    plan = genome.decode(x)
    plan.der["pv"][:, 0] = [3.0, 0.0]  # decreasing over stages
    with pytest.raises(AssertionError, match="decreased"):
        check_plan(plan, genome)
