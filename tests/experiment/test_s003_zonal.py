"""The zonal-planning study (experiments/s003_zonal.yaml on tpc84): GA-SA clusters, line
genes between clusters, cluster penetration, PV/ESS robust to the budgeted box, EENS/ECOST
with islanding.

A reduced run (CI: a tiny GA-SA and NSGA-II budget) checks the results folder against
independent references: every cluster of clusters.csv is connected on the base topology
(networkx), the penetration constraint of every Pareto solution equals a hand computation
from its decoded PV, and the map draws every bus in its cluster's colour. The full study is
marked slow."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.experiment import run_experiment
from fdnmoo.experiment.cluster_map import cluster_figure
from fdnmoo.experiment.spec import load_spec

from figure_checks import png_shape

SPEC = Path(__file__).resolve().parents[2] / "experiments" / "s003_zonal.yaml"
FAST = ("algorithm.pop_size=6", "algorithm.n_gen=2", "partition.pop_size=8",
        "partition.n_generations=2", "partition.cooling=0.5", "evaluation.backend=serial",
        "evaluation.workers=1")
OBJECTIVES = ["total_cost", "eens_mwh", "ecost"]


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("s003") / "fast"
    return run_experiment(load_spec(SPEC, settings=FAST), out_dir=out, progress=False)


@pytest.fixture(scope="module")
def tpc84():
    return load_case("tpc84")


def test_the_spec_is_the_study():
    spec = load_spec(SPEC)
    assert spec.case == "tpc84" and spec.problem.preset == "zonal"
    assert spec.partition is not None and spec.partition.islanding
    assert dict(spec.partition.params)["max_clusters"] == 8
    assert spec.uncertainty.method == "robust" and spec.uncertainty.budget == 2
    config = spec.problem_config(clusters=tuple([0] * 42 + [1] * 42))
    objectives, constraints = config.resolved_entries()
    assert [o.name for o in objectives] == OBJECTIVES
    assert dict(objectives[1].params)["pv_availability"] == 0.8
    assert [c.name for c in constraints] == ["cluster_penetration", "voltage_band",
                                             "line_current"]


def test_results_folder(fast_run):
    for name in ("pareto.csv", "clusters.csv", "partition.json", "clusters.png", "run.json"):
        assert (fast_run / name).is_file(), name
    pareto = pd.read_csv(fast_run / "pareto.csv")
    assert [c.split(" [")[0] for c in pareto.columns[1:4]] == OBJECTIVES
    assert "g_cluster_penetration [-]" in pareto.columns
    run = json.loads((fast_run / "run.json").read_text())
    assert run["partition"]["labels"] == pd.read_csv(fast_run / "clusters.csv").cluster.tolist()


def test_clusters_are_connected_on_the_base_topology(fast_run, tpc84):
    """Reference: networkx on the in-service lines of tpc84."""
    table = pd.read_csv(fast_run / "clusters.csv")
    assert sorted(table.bus) == sorted(tpc84.net.bus.index)
    lines = tpc84.net.line[tpc84.net.line.in_service.astype(bool)]
    graph = nx.Graph(list(zip(lines.from_bus, lines.to_bus)))
    for k, members in table.groupby("cluster").bus:
        assert nx.is_connected(graph.subgraph(members.tolist())), f"cluster {k}"
    assert table.cluster.nunique() >= 2


def test_penetration_constraint_by_hand(fast_run, tpc84):
    """g_cluster_penetration of every Pareto solution = max over clusters of PV / peak load
    - 1, from its decoded PV capacities and the case's loads grown to the stage's end."""
    labels = pd.read_csv(fast_run / "clusters.csv").set_index("bus").cluster
    spec = load_spec(SPEC, settings=FAST)
    problem = spec.build_problem(spec.problem_config(clusters=tuple(labels[tpc84.net.bus.index])))
    genomes = pd.read_csv(fast_run / "pareto_genomes.csv")
    pareto = pd.read_csv(fast_run / "pareto.csv").set_index("solution")
    h = tpc84.horizon
    growth = (1 + h.load_growth_per_year) ** h.years_per_stage
    load = tpc84.net.load
    peak = (load.p_mw * load.scaling).groupby(load.bus.map(labels)).sum() * growth
    pv_bus = tpc84.candidates["pv"].bus
    for _, row in genomes.iterrows():
        plan = problem.genome.decode(row.filter(like="x").to_numpy(np.int64))
        pv = pd.Series(plan.der["pv"][0], index=pv_bus.to_numpy())
        per_cluster = pv.groupby(pv.index.map(labels)).sum().reindex(peak.index, fill_value=0)
        want = float((per_cluster / peak).max()) - 1.0
        got = pareto.loc[int(row.solution), "g_cluster_penetration [-]"]
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_cluster_map_colours_every_bus_by_its_cluster(fast_run, tpc84):
    table = pd.read_csv(fast_run / "clusters.csv")
    fig = cluster_figure(tpc84.net, table.bus, table.cluster)
    ax = fig.axes[0]
    drawn = {c.get_gid(): len(c.get_offsets()) for c in ax.collections}
    assert drawn == {f"cluster_{k}": n for k, n in table.cluster.value_counts().items()}
    of_bus = table.set_index("bus").cluster
    lines = tpc84.net.line[tpc84.net.line.in_service.astype(bool)]
    between = int((of_bus[lines.from_bus].to_numpy() != of_bus[lines.to_bus].to_numpy()).sum())
    assert sum(line.get_gid() == "line_between" for line in ax.lines) == between
    assert png_shape(fast_run / "clusters.png")[1] > 400


@pytest.mark.slow
def test_full_study(tmp_path):
    out = run_experiment(load_spec(SPEC, settings=("evaluation.backend=serial",)),
                         out_dir=tmp_path / "full", progress=False)
    run = json.loads((out / "run.json").read_text())
    assert run["partition"]["n_clusters"] >= 4
    assert run["n_pareto_feasible"] >= 1
