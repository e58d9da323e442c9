"""A decoded plan: what is built and how the network is operated, per stage.

The plan is the boundary between the encodings (``fdnmoo.problems``, which
decode genomes into plans) and the evaluation (scenario batch -> power flow ->
metrics). Everything is expressed on a :class:`~fdnmoo.planning.PlanningGrid`.
Stages are numbered 1..n_stages; arrays indexed by stage use position
``stage - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["DER_KINDS", "Plan", "dg_type_rows"]

#: Distributed-resource kinds, their candidate table and unit of capacity. ``dg``
#: (distributed generation, md24: ``candidates.dg`` rows = bus + technology) is sized by
#: the alternatives of ``candidates.dg_types``; see :func:`dg_type_rows`.
DER_KINDS: dict[str, str] = {"pv": "MW", "svc": "Mvar", "ess": "MW", "evcs": "MW", "dg": "MVA"}



def dg_type_rows(case, capacity_mva) -> np.ndarray:
    """Row position in ``case.candidates["dg_types"]`` of every DG capacity (-1 where 0).

    A plan stores DG as capacity only (``plan.der["dg"]``, MVA); the alternative
    built at a candidate is the ``dg_types`` row of the candidate's technology
    whose ``capacity_mva`` equals it (alternatives of one technology have
    distinct capacities). Economics and injections recover it with this lookup.

    Parameters
    ----------
    case : PlanningCase
    capacity_mva : array, shape (..., n_dg)
        Capacities aligned with the rows of ``case.candidates["dg"]``.

    Raises
    ------
    ValueError
        A nonzero capacity is not an alternative of the candidate's technology.
    """
    dg, types = case.candidates["dg"], case.candidates["dg_types"]
    cap = np.asarray(capacity_mva, dtype=float)
    tech = dg.technology.to_numpy(str)[:, None] == types.technology.to_numpy(str)[None, :]
    close = np.isclose(cap[..., None], types.capacity_mva.to_numpy(float)) & tech
    rows = np.where(close.any(axis=-1), close.argmax(axis=-1), -1)
    bad = (cap > 0) & (rows < 0)
    if bad.any():
        i = np.argwhere(bad)[0]
        raise ValueError(f"DG capacity {cap[tuple(i)]:g} MVA at candidate {i[-1]} is not an "
                         f"alternative of its technology in dg_types")
    return rows


_SOP_COLUMNS = ["stage", "device", "bus", "capacity_mva"]
_LINE_COLUMNS = ["line", "corridor", "conductor", "stage"]
_SUB_COLUMNS = ["bus", "trafo", "type", "stage"]


@dataclass
class Plan:
    """A multi-stage plan on a planning grid.

    Parameters
    ----------
    n_stages : int
    closed_lines : list of ndarray
        Per stage, the ``net.line`` labels (of the planning grid) that conduct:
        existing sections and ties left closed plus built candidate lines.
        Every stage's topology is radial with all load buses supplied when the
        plan comes from an encoding's repair.
    closed_trafos : list of ndarray
        Per stage, the ``net.trafo`` labels that conduct.
    new_lines : DataFrame
        Built candidate lines: ``line`` (label), ``corridor``, ``conductor``,
        ``stage`` (when built). Empty if none.
    substations : DataFrame
        Built transformers at candidate substations: ``bus``, ``trafo``,
        ``type``, ``stage``.
    sop : DataFrame
        SOP terminals per stage: ``stage``, ``device`` (id of the multi-terminal
        SOP, stable over stages), ``bus``, ``capacity_mva`` (terminal rating).
    der : dict of str to ndarray
        Installed capacity per kind in :data:`DER_KINDS`, shape
        (n_stages, n_candidates) aligned with the rows of
        ``case.candidates[kind]``; non-decreasing over stages.
    """

    n_stages: int
    closed_lines: list[np.ndarray]
    closed_trafos: list[np.ndarray]
    new_lines: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_LINE_COLUMNS))
    substations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_SUB_COLUMNS))
    sop: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_SOP_COLUMNS))
    der: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.closed_lines) != self.n_stages or len(self.closed_trafos) != self.n_stages:
            raise ValueError(f"a plan needs closed lines and transformers for each of its "
                             f"{self.n_stages} stages, got {len(self.closed_lines)} and "
                             f"{len(self.closed_trafos)}")
        for kind, cap in self.der.items():
            if kind not in DER_KINDS:
                raise ValueError(f"unknown resource kind {kind!r}; known: {sorted(DER_KINDS)}")
            if cap.ndim != 2 or cap.shape[0] != self.n_stages:
                raise ValueError(f"der[{kind!r}] must have shape (n_stages={self.n_stages}, "
                                 f"n_candidates), got {cap.shape}")

    @classmethod
    def on_base_topology(cls, grid, n_stages: int, **fields) -> "Plan":
        """A plan that keeps the case's base topology in every stage, plus ``fields``
        (``sop``, ``der``, ...): the reference plan of a study and a handy test fixture."""
        return cls(n_stages=n_stages,
                   closed_lines=[np.sort(grid.base_closed_lines) for _ in range(n_stages)],
                   closed_trafos=[np.sort(grid.base_closed_trafos) for _ in range(n_stages)],
                   **fields)

    def topology_key(self, stage: int) -> bytes:
        """Hashable key of a stage's topology, to group plans sharing a power flow."""
        lines = np.sort(np.asarray(self.closed_lines[stage - 1], dtype=np.int64))
        trafos = np.sort(np.asarray(self.closed_trafos[stage - 1], dtype=np.int64))
        return lines.tobytes() + b"|" + trafos.tobytes()

    def sop_terminals(self, stage: int) -> pd.DataFrame:
        """SOP terminals operating in ``stage``."""
        return self.sop[self.sop.stage == stage]

    def der_capacity(self, kind: str, stage: int) -> np.ndarray:
        """Installed capacity of ``kind`` per candidate in ``stage`` (zeros if none)."""
        cap = self.der.get(kind)
        return np.zeros(0) if cap is None else cap[stage - 1]

    def describe(self, case) -> pd.DataFrame:
        """Readable table: one row per stage and built or operated item."""
        rows = []
        for s in range(1, self.n_stages + 1):
            for _, r in self.new_lines[self.new_lines.stage <= s].iterrows():
                rows.append({"stage": s, "item": "line", "where": f"corridor {int(r.corridor)}",
                             "size": f"type {int(r.conductor)}", "built_in_stage": int(r.stage)})
            for _, r in self.substations[self.substations.stage <= s].iterrows():
                rows.append({"stage": s, "item": "substation", "where": f"bus {int(r.bus)}",
                             "size": f"transformer type {int(r.type)}", "built_in_stage": int(r.stage)})
            for dev, terms in self.sop_terminals(s).groupby("device"):
                rows.append({"stage": s, "item": "sop", "where": "buses " + "-".join(
                    str(int(b)) for b in terms.bus), "size": " / ".join(
                    f"{c:g} MVA" for c in terms.capacity_mva), "built_in_stage": None})
            for kind, unit in DER_KINDS.items():
                cap = self.der_capacity(kind, s)
                table = case.candidates.get(kind)
                for i in np.flatnonzero(cap > 0):
                    rows.append({"stage": s, "item": kind, "where": f"bus {int(table.bus.iloc[i])}",
                                 "size": f"{cap[i]:g} {unit}", "built_in_stage": None})
            open_ties = sorted(set(case.tie_lines.index) & set(self.closed_lines[s - 1].tolist()))
            if open_ties:
                rows.append({"stage": s, "item": "closed ties", "where": str(open_ties),
                             "size": "", "built_in_stage": None})
        return pd.DataFrame(rows, columns=["stage", "item", "where", "size", "built_in_stage"])
