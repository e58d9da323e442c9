"""Preset ``zonal``: line genes between clusters, the cluster penetration constraint, the
reliability objectives with islanding, against hand computations."""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

from fdnmoo.cases import load_case
from fdnmoo.clusters import cluster_penetration, with_clusters
from fdnmoo.constraints import cluster_penetration as penetration_constraint
from fdnmoo.parameters import ParameterError
from fdnmoo.planning import Plan, planning_grid
from fdnmoo.problems.encodings import ClusterLineBlock, LineBlock
from fdnmoo.problems.genome import Genome
from fdnmoo.problems.planning import ProblemConfig


@pytest.fixture(scope="module")
def feeders():
    """tpc84 with one cluster per feeder A..K (connected subtrees of the base topology)."""
    case = load_case("tpc84")
    labels = case.net.bus.feeder.astype(str).factorize()[0]
    return with_clusters(case, labels)


def _between_by_hand(case) -> set[int]:
    cluster = case.net.bus.cluster
    return {int(k) for k, row in case.net.line.iterrows()
            if cluster[row.from_bus] != cluster[row.to_bus]}


def test_switch_genes_are_the_lines_between_clusters(feeders):
    block = ClusterLineBlock().bind(planning_grid(feeders), 1)
    assert set(block.between_lines.tolist()) == _between_by_hand(feeders)
    # tie 95 joins buses 40 and 42 of feeder E: it stays out of the genes (and open)
    assert 95 not in block.between_lines and 84 in block.between_lines
    assert block.n_var == len(_between_by_hand(feeders))


def test_one_cluster_is_the_centralised_line_block():
    case = with_clusters(load_case("tpc84"), np.zeros(84, dtype=int))
    grid = planning_grid(case)
    assert ClusterLineBlock().bind(grid, 2).n_var == LineBlock().bind(grid, 2).n_var


def test_repaired_plans_keep_every_line_inside_a_cluster_and_are_radial(feeders):
    grid = planning_grid(feeders)
    genome = Genome([ClusterLineBlock()]).bind(grid, 2)
    X = genome.sample(12, np.random.default_rng(3))
    line = feeders.net.line
    inside = set(line.index) - _between_by_hand(feeders)
    base_closed = set(line.index[line.in_service.astype(bool)])
    n_bus = len(feeders.net.bus)
    changed = 0
    for x in X:
        plan = genome.decode(x)
        for closed in plan.closed_lines:
            closed = set(int(k) for k in closed)
            assert closed & inside == base_closed & inside
            graph = nx.Graph(list(zip(line.from_bus[list(closed)], line.to_bus[list(closed)])))
            graph.add_nodes_from(feeders.net.bus.index)
            assert nx.is_tree(graph) and graph.number_of_nodes() == n_bus  # one substation
            changed += closed != base_closed
    assert changed > 0  # ties between feeders do get closed


def test_penetration_rate_by_hand(feeders):
    grid = planning_grid(feeders)
    pv = grid.case.candidates["pv"]
    cap = np.linspace(0.5, 3.0, len(pv))[None, :]
    plan = Plan.on_base_topology(grid, 1, der={"pv": cap})
    got = cluster_penetration(grid, plan)
    # by hand: cluster PV / cluster peak load, the loads grown to the end of stage 1
    h = feeders.horizon
    growth = (1 + h.load_growth_per_year) ** h.years_per_stage
    load = feeders.net.load
    peak_bus = (load.p_mw * load.scaling).groupby(load.bus).sum() * growth
    cluster = feeders.net.bus.cluster
    want = []
    for k in sorted(set(cluster)):
        buses = set(cluster.index[cluster == k])
        pv_k = sum(c for b, c in zip(pv.bus, cap[0]) if b in buses)
        want.append(pv_k / sum(v for b, v in peak_bus.items() if b in buses))
    np.testing.assert_allclose(got[0], want, rtol=1e-12)
    ev = SimpleNamespace(grid=grid, plan=plan)
    assert penetration_constraint(ev, max_rate=0.5) == pytest.approx(max(want) - 0.5)
    with pytest.raises(ValueError, match="max_rate"):
        penetration_constraint(ev, max_rate=0.0)


def test_zonal_needs_cluster_labels():
    with pytest.raises(ParameterError) as err:
        ProblemConfig(case="tpc84", preset="zonal").build()
    assert "partition" in err.value.message and "lines" in err.value.key


def test_zonal_problem_islands_its_clusters(feeders):
    labels = tuple(int(c) for c in feeders.net.bus.cluster)
    common = dict(case="tpc84", preset="zonal", clusters=labels)
    zonal = ProblemConfig(**common, options=(("islanding_labels", labels),)).build()
    plain = ProblemConfig(**common).build()
    assert zonal.objective_names == ["total_cost", "eens_mwh", "ecost"]
    assert {"cluster_penetration", "voltage_band", "line_current"} <= {
        c.name for c in zonal.constraints}
    X = zonal.genome.sample(6, np.random.default_rng(1))
    F_island, _ = zonal.evaluate_genomes(X)
    F_plain, _ = plain.evaluate_genomes(X)
    np.testing.assert_allclose(F_island[:, 0], F_plain[:, 0], rtol=1e-12)  # cost unchanged
    assert np.all(F_island[:, 1:] <= F_plain[:, 1:] + 1e-9)  # islanding never adds outage
    assert np.any(F_island[:, 1] < F_plain[:, 1] - 1e-6)
