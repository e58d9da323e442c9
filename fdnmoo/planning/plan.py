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

__all__ = ["DER_KINDS", "DESCRIBE_COLUMNS", "DESCRIBE_ITEMS", "PLAN_TABLES", "Plan", "dg_type_rows",
           "line_name", "plan_table"]

#: Distributed-resource kinds, their candidate table and unit of capacity. ``dg``
#: (distributed generation, md24: ``candidates.dg`` rows = bus + technology) is sized by
#: the alternatives of ``candidates.dg_types``; see :func:`dg_type_rows`.
DER_KINDS: dict[str, str] = {"pv": "MW", "svc": "Mvar", "ess": "MW", "evcs": "MW", "dg": "MVA"}

#: Items of :meth:`Plan.describe`, in the order they are listed. ``open sections`` are lines
#: of the case (not ties) opened in the stage, ``replaced lines`` lines of the case opened
#: because a built line on their corridor replaces them; the DER kinds follow.
DESCRIBE_ITEMS: tuple[str, ...] = ("open sections", "open ties", "closed ties",
                                   "replaced lines", "built lines", "substations",
                                   "sop") + tuple(DER_KINDS)
DESCRIBE_COLUMNS = ["stage", "item", "where", "size", "built_in_stage", "line"]


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


#: The tables of a plan and their fields: numpy structured arrays (columns ``t["stage"]``,
#: rows ``t[t["stage"] <= 2]``), cheap to build on the evaluation path;
#: ``pandas.DataFrame(t)`` is the same table as a frame, for reports. (Not record arrays:
#: their attribute access would give ndarray's own ``device`` for the SOP's ``device``.)
PLAN_TABLES: dict[str, np.dtype] = {
    "new_lines": np.dtype([("line", np.int64), ("corridor", np.int64),
                           ("conductor", np.int64), ("stage", np.int64)]),
    "substations": np.dtype([("bus", np.int64), ("trafo", np.int64), ("type", np.int64),
                             ("stage", np.int64)]),
    "sop": np.dtype([("stage", np.int64), ("device", np.int64), ("bus", np.int64),
                     ("capacity_mva", np.float64)]),
}


def plan_table(name: str, data=None, **columns) -> np.ndarray:
    """Table ``name`` of :data:`PLAN_TABLES` as a structured array.

    Parameters
    ----------
    name : str
        ``"new_lines"``, ``"substations"`` or ``"sop"``.
    data : DataFrame, structured array or mapping of columns, optional
        The rows; every field of the table is needed, other columns are dropped.
    **columns : array_like
        The columns given one by one instead of ``data`` (all of equal length).

    Raises
    ------
    ValueError
        A field is missing or the columns differ in length.
    """
    dtype = PLAN_TABLES[name]
    if data is None and not columns:
        return np.zeros(0, dtype)
    source = columns if data is None else data
    names = source.dtype.names if isinstance(source, np.ndarray) else list(source)
    missing = [f for f in dtype.names if f not in names]
    if missing:
        raise ValueError(f"plan table {name!r} needs the columns {list(dtype.names)}, "
                         f"missing {missing}")
    values = [np.asarray(source[f]) for f in dtype.names]
    lengths = {v.size for v in values}
    if len(lengths) > 1:
        raise ValueError(f"plan table {name!r}: columns of different lengths {sorted(lengths)}")
    out = np.empty(lengths.pop(), dtype)
    for f, v in zip(dtype.names, values):
        out[f] = v.reshape(-1)
    return out


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
    new_lines : structured array (:func:`plan_table`; a DataFrame is converted)
        Built candidate lines: ``line`` (label), ``corridor``, ``conductor``,
        ``stage`` (when built). Empty if none.
    substations : structured array
        Built transformers at candidate substations: ``bus``, ``trafo``,
        ``type``, ``stage``.
    sop : structured array
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
    new_lines: np.ndarray = None
    substations: np.ndarray = None
    sop: np.ndarray = None
    der: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in PLAN_TABLES:
            setattr(self, name, plan_table(name, getattr(self, name)))
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

    def sop_terminals(self, stage: int) -> np.ndarray:
        """SOP terminals operating in ``stage``."""
        return self.sop[self.sop["stage"] == stage]

    def der_capacity(self, kind: str, stage: int) -> np.ndarray:
        """Installed capacity of ``kind`` per candidate in ``stage`` (zeros if none)."""
        cap = self.der.get(kind)
        return np.zeros(0) if cap is None else cap[stage - 1]

    def closed_line_mask(self, line_labels) -> np.ndarray:
        """(n_stages, n_line) whether each of ``line_labels`` conducts in each stage."""
        labels = pd.Index(line_labels)
        return np.stack([labels.isin(c) for c in self.closed_lines])

    def decision_key(self) -> bytes:
        """Hashable key of the whole decision: equal keys are equal plans.

        Two genomes with the same key decide the same thing (the same lines
        conduct and the same transformers are closed in every stage, the same
        lines and substations are built in the same stages, the same SOP
        terminals and DER capacities), whatever genes differ between them.
        """
        parts = [str(self.n_stages).encode()]
        for s in range(1, self.n_stages + 1):
            parts.append(self.topology_key(s))
        for name in PLAN_TABLES:
            rows = sorted(tuple(round(float(v), 9) for v in r) for r in getattr(self, name).tolist())
            parts.append(repr(rows).encode())
        for kind in sorted(self.der):
            cap = np.round(np.asarray(self.der[kind], dtype=float), 9)
            if cap.any():  # a kind with nothing installed decides nothing
                parts.append(kind.encode() + cap.tobytes())
        return b"|".join(parts)

    def describe(self, case) -> pd.DataFrame:
        """Readable table of every stage's full state (see :data:`DESCRIBE_ITEMS`).

        Each stage lists everything that is true of it, not what changed: the
        lines that are open and the ties that are closed in it, every line and
        substation built by then, the SOP terminals and DER capacities in
        operation. Lines are named by their end buses' labels (``13-14``).

        Returns
        -------
        DataFrame
            Columns ``stage``, ``item`` (one of :data:`DESCRIBE_ITEMS`),
            ``where`` (``13-14``, ``bus 7``, ``buses 12, 22``), ``size``
            (``0.5 MW``, ``conductor type 2``, ``conductor type 2, open`` for a
            built line switched open in the stage; empty for lines of the case), ``built_in_stage`` (built lines and substations), ``line``
            (``net.line`` label of lines of the case, else empty).
        """
        net = case.net
        ties = set(case.tie_lines.index.tolist())
        corridors = case.candidates.get("corridors")
        replaced = {}  # existing line -> the built line (row of new_lines) replacing it
        if corridors is not None and "line" in corridors:
            for r in self.new_lines:
                old = corridors.line.get(int(r["corridor"]))
                if old is not None and not pd.isna(old) and int(old) >= 0:
                    replaced[int(old)] = r
        rows = []

        def add(stage, item, where, size="", built=None, line=None):
            rows.append({"stage": stage, "item": item, "where": where, "size": size,
                         "built_in_stage": built, "line": line})

        for s in range(1, self.n_stages + 1):
            closed = set(np.asarray(self.closed_lines[s - 1]).tolist())
            for label, line in net.line.iterrows():
                where = line_name(line.from_bus, line.to_bus)
                if label in closed:
                    if label in ties:
                        add(s, "closed ties", where, line=label)
                elif label in ties:
                    add(s, "open ties", where, line=label)
                elif label in replaced and int(replaced[label]["stage"]) <= s:
                    add(s, "replaced lines", where, f"by conductor type "
                        f"{int(replaced[label]['conductor'])}", line=label)
                else:
                    add(s, "open sections", where, line=label)
            for r in self.new_lines[self.new_lines["stage"] <= s]:
                cor = corridors.loc[int(r["corridor"])]
                # a built line the stage's switching leaves open says so
                add(s, "built lines", line_name(cor.from_bus, cor.to_bus),
                    f"conductor type {int(r['conductor'])}" + ("" if int(r["line"]) in closed
                                                            else ", open"), int(r["stage"]))
            for r in self.substations[self.substations["stage"] <= s]:
                add(s, "substations", f"bus {int(r['bus'])}", f"transformer type {int(r['type'])}",
                    int(r["stage"]))
            sop = self.sop_terminals(s)
            for device in np.unique(sop["device"]):
                terms = sop[sop["device"] == device]
                add(s, "sop", "buses " + ", ".join(str(int(b)) for b in terms["bus"]),
                    ", ".join(f"{c:g} MVA" for c in terms["capacity_mva"]))
            for kind, unit in DER_KINDS.items():
                cap = self.der_capacity(kind, s)
                table = case.candidates.get(kind)
                for i in np.flatnonzero(cap > 0):
                    where = f"bus {int(table.bus.iloc[i])}"
                    if "technology" in table:
                        where += f" {table.technology.iloc[i]}"
                    add(s, kind, where, f"{cap[i]:g} {unit}")
        table = pd.DataFrame(rows, columns=DESCRIBE_COLUMNS)
        order = table.item.map({item: k for k, item in enumerate(DESCRIBE_ITEMS)})
        table = table.iloc[np.lexsort((order.to_numpy(), table.stage.to_numpy()))
                           ].reset_index(drop=True)
        for col in ("built_in_stage", "line"):
            table[col] = table[col].astype("Int64")
        return table


def line_name(from_bus, to_bus) -> str:
    """A line named by the labels of its end buses: ``13-14``."""
    return f"{int(from_bus)}-{int(to_bus)}"
