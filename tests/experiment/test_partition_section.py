"""The ``partition:`` section of a spec: labels computed once per run, cached, in run.json,
wired to the reliability objectives' islanding."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from fdnmoo.cli import main
from fdnmoo.experiment import SpecError, load_spec, run_experiment
from fdnmoo.experiment.clusters import PartitionSettings, cluster_labels, read_labels
from fdnmoo.operators.partitioning.gasa import GASAPartitioner

from figure_checks import png_shape
from spec_files import write_spec

# a few seconds of GA-SA on ieee33: 3 temperature levels of 2 generations of 8
SMALL = "{max_clusters: 4, pop_size: 8, n_generations: 2, cooling: 0.5, t_start: 0.04, t_end: 0.01}"

TINY = f"""
case: ieee33
problem:
  preset: dg_siting
  stages: 1
  profile: peak
  objectives: [energy_loss_mwh, eens_mwh]
partition: {SMALL}
algorithm: {{name: nsga2, pop_size: 4, n_gen: 1}}
seed: 2
"""


def _parse(tmp_path, text):
    return load_spec(write_spec(tmp_path, text))


@pytest.mark.parametrize("section, key, words", [
    ("{max_cluster: 3}", "partition.max_cluster", "did you mean 'max_clusters'"),
    ("{cooling: 2.0}", "partition", "cooling"),
    ("{labels: nowhere.csv}", "partition.labels", "no such file"),
    ("{single: true, max_clusters: 3}", "partition.max_clusters", "no effect"),
    ("{islanding: 1}", "partition.islanding", "true or false"),
])
def test_bad_partition_sections_name_the_key(tmp_path, section, key, words):
    with pytest.raises(SpecError) as err:
        _parse(tmp_path, TINY.replace(f"partition: {SMALL}", f"partition: {section}"))
    assert f": {key}:" in str(err.value) and words in str(err.value)


def test_labels_are_cached_per_folder_and_settings(tmp_path, monkeypatch):
    settings = _parse(tmp_path, TINY).partition
    first = cluster_labels(settings, "ieee33", (), tmp_path / "out")
    assert len(first.labels) == 33 and 2 <= first.n_clusters <= 4
    assert (tmp_path / "out" / "clusters.csv").is_file()

    def no_partitioning(*args, **kwargs):
        raise AssertionError("partitioned again")

    monkeypatch.setattr(GASAPartitioner, "fit", no_partitioning)
    again = cluster_labels(settings, "ieee33", (), tmp_path / "out")
    assert again.labels == first.labels
    other = PartitionSettings.parse({"max_clusters": 3, "seed": 5}, "<spec>")
    with pytest.raises(AssertionError, match="partitioned again"):
        cluster_labels(other, "ieee33", (), tmp_path / "out")


def test_gasa_clusters_are_connected_on_the_base_topology(tmp_path):
    """Reference: networkx connectivity of each cluster's subgraph of the in-service lines."""
    spec = _parse(tmp_path, TINY)
    got = cluster_labels(spec.partition, "ieee33", ())
    from fdnmoo.cases import load_case

    net = load_case("ieee33").net
    lines = net.line[net.line.in_service.astype(bool)]
    graph = nx.Graph(list(zip(lines.from_bus, lines.to_bus)))
    of_bus = dict(zip(net.bus.index, got.labels))
    for k in set(got.labels):
        members = [b for b, c in of_bus.items() if c == k]
        assert nx.is_connected(graph.subgraph(members)), f"cluster {k} is not connected"


def test_islanding_labels_follow_the_section(tmp_path):
    spec = _parse(tmp_path, TINY)
    labels = tuple(range(33))
    eens = dict(spec.problem_config(clusters=labels).resolved_entries()[0][1].params)
    assert eens["islanding_labels"] == labels
    off = _parse(tmp_path, TINY.replace("max_clusters: 4,", "max_clusters: 4, islanding: false,"))
    assert "islanding_labels" not in dict(off.problem_config(clusters=labels)
                                          .resolved_entries()[0][1].params)


def test_run_records_labels_and_writes_the_cluster_map(tmp_path):
    out = run_experiment(write_spec(tmp_path, TINY), out_dir=tmp_path / "run", progress=False)
    run = json.loads((out / "run.json").read_text())
    part = run["partition"]
    table = pd.read_csv(out / "clusters.csv")
    assert part["labels"] == table.cluster.tolist() and part["source"] == "gasa"
    assert part["n_clusters"] == len(set(part["labels"]))
    assert run["spec"]["partition"]["params"]["max_clusters"] == 4
    assert png_shape(out / "clusters.png")[0] > 100


def test_labels_file_of_fdnmoo_partition(tmp_path, capsys):
    assert main(["partition", "ieee33", "--clusters", "3", "--out", str(tmp_path / "p"),
                 "--no-map", "--set", "pop_size=6", "--set", "n_generations=1",
                 "--set", "t_end=0.03"]) == 0
    spec = _parse(tmp_path, TINY.replace(f"partition: {SMALL}", "partition: {labels: p/clusters.csv}"))
    got = cluster_labels(spec.partition, "ieee33", ())
    assert list(got.labels) == pd.read_csv(tmp_path / "p" / "clusters.csv").cluster.tolist()
    single = PartitionSettings.parse({"single": True}, "<spec>")
    assert set(cluster_labels(single, "ieee33", ()).labels) == {0}


def test_read_labels_refuses_unknown_and_missing_buses(tmp_path):
    from fdnmoo.cases import load_case

    net = load_case("ieee33").net
    path = tmp_path / "c.csv"
    pd.DataFrame({"bus": [99], "cluster": [0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="bus = 99"):
        read_labels(path, net)
    pd.DataFrame({"bus": net.bus.index[:5], "cluster": np.zeros(5, int)}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="not labelled"):
        read_labels(path, net)


def test_config_clusters_become_the_bus_column():
    from fdnmoo.parameters import ParameterError
    from fdnmoo.problems.planning import ProblemConfig

    labels = tuple(i % 3 for i in range(33))
    config = ProblemConfig(case="ieee33", preset="dg_siting", n_stages=1, profile="peak",
                           clusters=labels)
    net = config.build().grid.net
    assert net.bus.cluster.tolist() == list(labels)
    with pytest.raises(ParameterError) as err:
        ProblemConfig(case="ieee33", preset="dg_siting", n_stages=1, profile="peak",
                      clusters=labels[:5]).build()
    assert err.value.key == "clusters" and "33 integers" in err.value.message
