"""``fdnmoo partition``: files written, clusters connected, index recomputed from the CSV."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from fdnmoo.cases import load_case
from fdnmoo.cli import main
from fdnmoo.experiment.cluster_map import cluster_figure
from fdnmoo.operators.partitioning.electrical import branch_graph
from fdnmoo.operators.partitioning.index import partition_data, partition_index


def test_partition_writes_connected_clusters_and_their_index(tmp_path):
    out = tmp_path / "p"
    assert main(["-q", "partition", "ieee33", "--clusters", "4", "--seed", "1",
                 "--set", "pop_size=20", "--set", "cooling=0.8", "--out", str(out)]) == 0
    table = pd.read_csv(out / "clusters.csv")
    summary = json.loads((out / "partition.json").read_text())
    net = load_case("ieee33").net
    graph = branch_graph(net)
    assert sorted(table.bus) == sorted(graph.nodes)
    for _, members in table.groupby("cluster").bus:
        assert nx.is_connected(graph.subgraph(members.tolist()))
    assert 2 <= table.cluster.nunique() <= 4 == summary["max_clusters"]
    assert (summary["pop_size"], summary["cooling"]) == (20, 0.8)
    data = partition_data(net)
    labels = table.set_index("bus").cluster.loc[data.bus_labels].to_numpy()
    assert partition_index(data, labels, summary["weights"]) == pytest.approx(summary["index"], abs=1e-12)
    assert (out / "clusters.png").stat().st_size > 0


def test_partition_bad_parameter_is_a_usage_error(tmp_path, capsys):
    assert main(["partition", "ieee33", "--clusters", "0", "--out", str(tmp_path)]) == 2
    assert "max_clusters" in capsys.readouterr().err


def test_partition_unknown_parameter_suggests_the_closest(tmp_path, capsys):
    assert main(["partition", "ieee33", "--set", "pop_sise=20", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "pop_sise" in err and "did you mean 'pop_size'" in err


def test_cluster_map_colours_each_bus_by_its_cluster():
    net = load_case("ieee33").net
    labels = np.array(sorted(net.bus.index))
    cluster = (np.arange(len(labels)) >= 10).astype(int) + (np.arange(len(labels)) >= 25)
    fig = cluster_figure(net, labels, cluster)
    ax = fig.axes[0]
    sizes = {c.get_gid(): len(c.get_offsets()) for c in ax.collections}
    assert sizes == {"cluster_0": 10, "cluster_1": 15, "cluster_2": 8}
    colours = {c.get_gid(): tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(set(colours.values())) == 3
    between = [ln for ln in ax.lines if ln.get_gid() == "line_between"]
    inside = [ln for ln in ax.lines if ln.get_gid() == "line_inside"]
    n_cut = sum(cluster[list(labels).index(f)] != cluster[list(labels).index(t)]
                for f, t in zip(net.line[net.line.in_service].from_bus, net.line[net.line.in_service].to_bus))
    assert len(between) == n_cut and len(inside) == int(net.line.in_service.sum()) - n_cut
