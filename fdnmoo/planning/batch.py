"""The plans of a population as arrays, plan axis first.

A :class:`PlanBatch` is what the evaluation path computes on: closed-element
masks per plan and stage, DER capacities per plan, stage and candidate, and
the plans' tables (built lines, substations, SOP terminals) concatenated with
the plan's position in a ``plan`` field, so that per-plan sums are one
``np.bincount``/``np.add.at``. The :class:`~fdnmoo.planning.Plan` objects stay
available (``batch.plans``) for reports.

>>> batch = PlanBatch.of(grid, plans)                       # doctest: +SKIP
>>> batch.closed_lines.shape                                # (n_plans, n_stages, n_line)
>>> per_plan = np.bincount(batch.sop["plan"], batch.sop["capacity_mva"], len(batch))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .grid import PlanningGrid
from .plan import DER_KINDS, PLAN_TABLES, Plan

__all__ = ["PlanBatch", "label_positions"]


def label_positions(index, labels, what: str) -> np.ndarray:
    """Positions of integer ``labels`` in the pandas ``index`` (any order of labels).

    Raises
    ------
    KeyError
        A label is not in the index; ``what`` names the table (``"net.line"``).
    """
    values = np.asarray(index, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    labels = np.asarray(labels, dtype=np.int64)
    pos = np.searchsorted(values, labels, sorter=order)
    pos = np.minimum(pos, max(len(values) - 1, 0))
    found = order[pos] if len(values) else pos
    bad = (values[found] != labels) if len(values) else np.ones(labels.shape, bool)
    if bad.any():
        raise KeyError(f"{what} has no label {int(labels[bad][0])}")
    return found


@dataclass(frozen=True)
class PlanBatch:
    """Plans of one grid with the same number of stages, as arrays (see module docstring).

    Attributes
    ----------
    plans : tuple of Plan
    n_stages : int
    closed_lines : ndarray of bool, shape (n_plans, n_stages, n_line)
        Whether each ``grid.net.line`` row (in its order) conducts.
    closed_trafos : ndarray of bool, shape (n_plans, n_stages, n_trafo)
        Whether each ``grid.net.trafo`` row conducts.
    new_lines, substations, sop : structured ndarray
        The plans' tables (:data:`~fdnmoo.planning.plan.PLAN_TABLES`), one
        after the other, with an int64 field ``plan`` (position in ``plans``).
    der : dict of str to ndarray, shape (n_plans, n_stages, n_candidates)
        Capacity per kind of :data:`~fdnmoo.planning.DER_KINDS` that some plan
        has (zeros for the plans without it).
    topology_keys : tuple of tuple of bytes
        ``topology_keys[i][s - 1]`` is ``plans[i].topology_key(s)``.
    """

    plans: tuple
    n_stages: int
    closed_lines: np.ndarray
    closed_trafos: np.ndarray
    new_lines: np.ndarray
    substations: np.ndarray
    sop: np.ndarray
    der: dict
    topology_keys: tuple

    def __len__(self) -> int:
        return len(self.plans)

    @classmethod
    def of(cls, grid: PlanningGrid, plans: Sequence[Plan]) -> "PlanBatch":
        """Stack ``plans`` (all on ``grid``, with equal ``n_stages``).

        Raises
        ------
        ValueError
            The plans differ in their number of stages, or a DER kind's candidate
            count differs between plans.
        KeyError
            A plan closes a line or transformer the grid does not have.
        """
        plans = tuple(plans)
        stages = {p.n_stages for p in plans}
        if len(stages) > 1:
            raise ValueError(f"plans of one batch need the same number of stages, got "
                             f"{sorted(stages)}")
        n_stages = stages.pop() if stages else 0
        net = grid.net
        masks = {}
        for name, table in (("line", net.line), ("trafo", net.trafo)):
            mask = np.zeros((len(plans), n_stages, len(table)), dtype=bool)
            for i, plan in enumerate(plans):
                closed = plan.closed_lines if name == "line" else plan.closed_trafos
                for s in range(n_stages):
                    mask[i, s, label_positions(table.index, closed[s], f"net.{name}")] = True
            masks[name] = mask
        der = {}
        for kind in DER_KINDS:
            caps = [(i, p.der[kind]) for i, p in enumerate(plans) if kind in p.der]
            if not caps:
                continue
            widths = {c.shape[1] for _, c in caps}
            if len(widths) > 1:
                raise ValueError(f"der[{kind!r}] has {sorted(widths)} candidates in different "
                                 f"plans")
            out = np.zeros((len(plans), n_stages, widths.pop()))
            for i, c in caps:
                out[i] = c
            der[kind] = out
        keys = tuple(tuple(p.topology_key(s) for s in range(1, n_stages + 1)) for p in plans)
        return cls(plans=plans, n_stages=n_stages, closed_lines=masks["line"],
                   closed_trafos=masks["trafo"], der=der, topology_keys=keys,
                   **{name: _stacked(name, [getattr(p, name) for p in plans])
                      for name in PLAN_TABLES})

    def rows(self, name: str, index: int) -> np.ndarray:
        """The rows of table ``name`` that belong to plan ``index``."""
        table = getattr(self, name)
        return table[table["plan"] == index]


def _stacked(name: str, tables: list[np.ndarray]) -> np.ndarray:
    """Concatenate one table of every plan, with the plan's position in field ``plan``."""
    dtype = np.dtype(PLAN_TABLES[name].descr + [("plan", np.int64)])
    out = np.empty(sum(len(t) for t in tables), dtype)
    start = 0
    for i, t in enumerate(tables):
        rows = out[start:start + len(t)]
        for field in PLAN_TABLES[name].names:
            rows[field] = t[field]
        rows["plan"] = i
        start += len(t)
    return out
