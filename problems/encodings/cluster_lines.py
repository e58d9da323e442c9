"""Inter-cluster line planning: line genes only where a line or corridor joins two clusters.

:class:`ClusterLineBlock` is :class:`~.lines.LineBlock` restricted by the bus clusters
(``net.bus.cluster``, :mod:`fdnmoo.clusters`), the line-planning layer of the
zonal-planning seed paper (Shi et al., Processes 13(2) 354, 2025, sec. 3.1: 0-1 line
variables between clusters). Our rule for the candidates:

* **corridor candidates** (conductor and build-stage genes): the case's corridors whose
  two ends lie in different clusters;
* **switch genes** (per stage, open/closed): the case's own lines (existing sections and
  normally-open ties) whose two ends lie in different clusters. On a case without
  corridors (``tpc84``) the ties between clusters are the corridors: closing one is
  building the link;
* every other line keeps its base state: lines inside a cluster conduct in a tier
  below the switch genes (:data:`_W_FIXED`), so a loop closed by an inter-cluster tie
  is opened at an inter-cluster line (a loop through two clusters crosses their
  boundary twice), and ties inside a cluster stay open.

A bus without a cluster (-1) counts as its own cluster. With **one cluster** (the
centralised study) there is nothing between clusters and the block is the plain
:class:`~.lines.LineBlock`: every line and corridor is a variable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fdnmoo.clusters import bus_clusters

from .base import register_block
from .lines import _W_BUILT, _W_CLOSED, LineBlock

__all__ = ["ClusterLineBlock", "joins_clusters"]

#: Weight tier of the lines inside a cluster: after built candidates, before switch genes.
_W_FIXED = 0.5 * (_W_BUILT + _W_CLOSED)


def joins_clusters(net, from_bus, to_bus) -> np.ndarray:
    """Whether each branch ``from_bus[i]``-``to_bus[i]`` joins two clusters of
    ``net.bus.cluster`` (all True when the net has one cluster: nothing is decomposed)."""
    labels = pd.Series(bus_clusters(net, "inter-cluster line planning"), index=net.bus.index)
    a = labels.reindex(np.asarray(from_bus, dtype=np.int64)).to_numpy()
    b = labels.reindex(np.asarray(to_bus, dtype=np.int64)).to_numpy()
    if len(np.unique(labels)) <= 1:
        return np.ones(len(a), dtype=bool)
    return (a != b) | (a < 0) | (b < 0)


@register_block("cluster_lines")
class ClusterLineBlock(LineBlock):
    """Line genes between clusters (see the module docstring); parameters as
    :class:`~.lines.LineBlock`."""

    def candidate_tables(self, case) -> dict[str, pd.DataFrame]:
        corridors = case.candidates.get("corridors")
        if not self.build or corridors is None or not len(corridors):
            return {}
        keep = joins_clusters(case.net, corridors.from_bus, corridors.to_bus)
        return {"corridors": corridors[keep].reset_index(drop=True)}

    def _setup(self, grid, n_stages: int) -> None:
        super()._setup(grid, n_stages)
        line = grid.net.line
        labels = self._line_labels[self._switch]
        between = joins_clusters(grid.net, line.from_bus.loc[labels], line.to_bus.loc[labels])
        self._fixed = self._switch[~between & self._base_state]
        self._switch = self._switch[between]
        self._base_state = self._base_state[between]
        self._set_layout(n_stages)

    def _weights(self, x: np.ndarray, s: int, row: dict, rng) -> np.ndarray:
        w = super()._weights(x, s, row, rng)
        cond, stage, _ = self._split(x)
        built = (cond > 0) & (stage <= s + 1)
        blocked = np.concatenate([self._replaced[built], self._forced_open(row, s)])
        fixed = self._fixed[~np.isin(self._fixed, blocked)]
        w[fixed] = _W_FIXED + np.arange(self._n_branch)[fixed] / (self._n_branch * 1e4)
        return w

    @property
    def between_lines(self) -> np.ndarray:
        """``net.line`` labels of the switch genes (the lines joining clusters)."""
        self._check_bound()
        return self._line_labels[self._switch]
