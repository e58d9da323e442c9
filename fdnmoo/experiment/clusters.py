"""The ``partition:`` section of a spec: cluster labels of the case's buses, once per run.

Either the GA–SA partitioning runs (:class:`~fdnmoo.operators.partitioning.gasa.GASAPartitioner`,
any of its parameters, e.g. ``max_clusters``, ``weights``, ``cooling``, and a ``seed``)::

    partition: {max_clusters: 6, weights: [0.4, 0.2, 0.2, 0.2], seed: 3}

or the labels come from a ``clusters.csv`` written by ``fdnmoo partition`` (columns
``bus``, ``cluster``; relative to the spec)::

    partition: {labels: partition/clusters.csv}

``islanding: false`` keeps the labels from the reliability objectives (by default
they are their ``islanding_labels``). ``single: true`` puts every bus in one cluster
(the centralised study: no decomposition).

:func:`cluster_labels` computes the labels once per results folder: it writes
``clusters.csv`` and ``partition.json`` (the ``fdnmoo partition`` formats, plus the
settings' hash) and a later run on the same folder with the same settings and case
reads them back instead of partitioning again (a resumed run gets the same labels).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..operators.partitioning.gasa import GASAPartitioner
from ..operators.partitioning.index import partition_data
from ..parameters import did_you_mean, freeze
from .checking import Checker, SpecError

__all__ = ["ClusterLabels", "PartitionSettings", "cluster_labels", "gasa_partition", "read_labels"]

CLUSTERS_FILE = "clusters.csv"
PARTITION_FILE = "partition.json"
#: Keys of the section besides the partitioner's parameters.
OWN_KEYS = ("labels", "seed", "islanding", "single")


@dataclass(frozen=True)
class PartitionSettings:
    """The checked ``partition:`` section (see the module docstring).

    Parameters
    ----------
    labels : str, optional
        Path of a ``clusters.csv`` (resolved against the spec's folder).
    seed : int
        Seed of the GA–SA run.
    islanding : bool
        Give the labels to the reliability objectives as ``islanding_labels``.
    single : bool
        One cluster for every bus (the centralised study).
    params : tuple of (str, value) pairs
        :class:`GASAPartitioner` parameters (frozen).
    """

    labels: str | None = None
    seed: int = 0
    islanding: bool = True
    single: bool = False
    params: tuple = field(default=())

    @classmethod
    def parse(cls, data: Any, source: str, base_dir=None) -> "PartitionSettings | None":
        """Check the section (``None``: no section).

        Raises
        ------
        SpecError
            Naming ``partition.<key>``: an unknown key (with the closest one), a bad
            value, ``labels`` with partitioner parameters, a missing labels file.
        """
        if data is None:
            return None
        check = Checker(source)
        data = check.mapping(data, "partition", None)
        known = OWN_KEYS + tuple(n for n in GASAPartitioner.parameter_names() if n != "random_state")
        for key in data:
            if key not in known:
                raise check.fail(f"partition.{key}", f"unknown key{did_you_mean(key, known)}; "
                                                     f"keys are {', '.join(known)}")
        params = {k: v for k, v in data.items() if k not in OWN_KEYS}
        labels = data.get("labels")
        single = check.typed(data.get("single", False), "partition.single", bool)
        if labels is not None:
            labels = check.string(labels, "partition.labels")
            there = Path(base_dir) / labels if base_dir is not None else Path(labels)
            labels = str(there if not Path(labels).is_absolute() else labels)
            if not Path(labels).is_file():
                raise check.fail("partition.labels", f"no such file {labels!r} (a clusters.csv "
                                                     "written by 'fdnmoo partition')")
        given = [k for k in params] + (["seed"] if "seed" in data else [])
        if (labels is not None or single) and given:
            raise check.fail(f"partition.{given[0]}", "GA-SA parameters have no effect with "
                             f"{'labels' if labels is not None else 'single'}: drop one")
        if labels is not None and single:
            raise check.fail("partition.single", "give labels or single, not both")
        if "weights" in params and isinstance(params["weights"], list):
            params["weights"] = tuple(params["weights"])
        try:
            GASAPartitioner().set_params(**params)._check()
        except (ValueError, TypeError) as exc:
            raise check.fail("partition", str(exc)) from None
        return cls(labels=labels, single=single,
                   seed=check.integer(data.get("seed", 0), "partition.seed", minimum=0),
                   islanding=check.typed(data.get("islanding", True), "partition.islanding", bool),
                   params=freeze(params))

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for ``run.json`` and the spec's hash."""
        out = asdict(self)
        out["params"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params}
        return out

    def key(self, case: str, case_params) -> str:
        """Hash of what determines the labels: the settings and the case."""
        payload = {**self.as_dict(), "case": case, "case_params": dict(case_params)}
        payload.pop("islanding")
        if self.labels is not None:  # the file's content, not its name
            payload["labels"] = hashlib.sha256(Path(self.labels).read_bytes()).hexdigest()
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()
                              ).hexdigest()[:16]


@dataclass(frozen=True)
class ClusterLabels:
    """Cluster labels of a run.

    Attributes
    ----------
    labels : tuple of int
        Cluster of every ``case.net.bus`` row (row order; -1 for a bus outside the
        partitioned network, e.g. out of service).
    summary : dict
        What ``partition.json`` holds: number of clusters, index and its terms (GA–SA),
        source, seconds, settings hash.
    """

    labels: tuple
    summary: dict

    @property
    def n_clusters(self) -> int:
        return len(set(self.labels) - {-1})


def read_labels(path, net, source: str = "partition.labels") -> tuple:
    """Labels per ``net.bus`` row from a ``clusters.csv`` (columns ``bus``, ``cluster``).

    Raises
    ------
    ValueError
        Naming the file: missing columns, a bus that is not in ``net``, an in-service
        bus without a label, a label that is not an integer >= 0.
    """
    table = pd.read_csv(path)
    for col in ("bus", "cluster"):
        if col not in table:
            raise ValueError(f"{path}: no column {col!r} (a clusters.csv has bus, cluster)")
    bus = pd.Index(net.bus.index)
    pos = bus.get_indexer(table.bus)
    if (pos < 0).any():
        raise ValueError(f"{path}: bus = {table.bus[pos < 0].iloc[0]}: not a bus of the case "
                         f"(buses {bus.min()}..{bus.max()})")
    cluster = table.cluster.to_numpy()
    if not np.issubdtype(cluster.dtype, np.integer) or (cluster < 0).any():
        raise ValueError(f"{path}: cluster: expected integers >= 0, got {cluster[:5].tolist()}...")
    out = np.full(len(bus), -1, dtype=np.int64)
    out[pos] = cluster
    live = net.bus.in_service.astype(bool).to_numpy()
    if (live & (out < 0)).any():
        raise ValueError(f"{path}: bus = {bus[live & (out < 0)][0]}: in service but not labelled")
    return tuple(int(c) for c in out)


def cluster_labels(settings: PartitionSettings, case_name: str, case_params=(),
                   out_dir=None) -> ClusterLabels:
    """The run's labels: read from ``out_dir`` if it holds them for these settings, else
    computed (GA–SA, a labels file or one cluster) and written there.

    Parameters
    ----------
    settings : PartitionSettings
    case_name : str
        Built-in name or case file.
    case_params : pairs
        Parameters of a generated case.
    out_dir : path, optional
        Results folder (nothing is cached without one).
    """
    from ..cases import load_case

    key = settings.key(case_name, case_params)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and (out / PARTITION_FILE).is_file() and (out / CLUSTERS_FILE).is_file():
        summary = json.loads((out / PARTITION_FILE).read_text())
        if summary.get("settings_hash") == key:
            case = load_case(case_name, **dict(case_params))
            return ClusterLabels(read_labels(out / CLUSTERS_FILE, case.net), summary)
    case = load_case(case_name, **dict(case_params))
    start = time.perf_counter()
    summary: dict[str, Any] = {"case": case.name, "settings_hash": key}
    if settings.labels is not None:
        try:
            labels = read_labels(settings.labels, case.net)
        except ValueError as exc:
            raise SpecError(settings.labels, "partition.labels", str(exc)) from None
        summary["source"] = settings.labels
    elif settings.single:
        live = case.net.bus.in_service.astype(bool).to_numpy()
        labels = tuple(0 if on else -1 for on in live)
        summary["source"] = "single"
    else:
        result, found = gasa_partition(case.net, dict(settings.params), settings.seed)
        of_bus = dict(zip(result.bus_labels.tolist(), result.cluster.tolist()))
        labels = tuple(int(of_bus.get(int(b), -1)) for b in case.net.bus.index)
        summary.update(source="gasa", **found)
    summary["n_clusters"] = len(set(labels) - {-1})
    summary["seconds"] = time.perf_counter() - start
    result = ClusterLabels(labels, summary)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"bus": case.net.bus.index, "cluster": labels}).query("cluster >= 0") \
            .to_csv(out / CLUSTERS_FILE, index=False)
        (out / PARTITION_FILE).write_text(json.dumps(summary, indent=1, default=_plain) + "\n")
    return result


def gasa_partition(net, params: dict, seed: int):
    """GA–SA partition of ``net`` with :class:`GASAPartitioner` parameters ``params``.

    Returns
    -------
    result : PartitionResult
    summary : dict
        Index, its terms, whether the reactive filter was met, evaluations, every
        parameter and the seed (what ``partition.json`` records).
    """
    partitioner = GASAPartitioner().set_params(**params, random_state=seed)
    result = partitioner.fit(partition_data(net))
    used = {k: v for k, v in partitioner.get_params().items() if k != "random_state"}
    return result, {"index": result.index, **result.terms,
                    "reactive_filter_met": result.reactive_filter_met,
                    "n_evaluations": result.n_evaluations, **used, "seed": seed}


def _plain(value):
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {value!r}")
