"""Priced investment items of a batch of plans, as arrays (one entry per item)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["ITEM_COLUMNS", "PricedItems"]

#: Columns of :func:`fdnmoo.metrics.investment.investment_items`.
ITEM_COLUMNS = ["kind", "stage", "where", "quantity", "unit", "unit_cost", "cost",
                "lifetime_years", "om_per_year"]
_FIELDS = ("plan", "stage", "kind", "unit", "quantity", "unit_cost", "cost", "lifetime_years",
           "om_per_year")


@dataclass(frozen=True)
class PricedItems:
    """The items of a batch of plans, one entry per item (arrays of equal length).

    Attributes
    ----------
    plan, stage : ndarray of int
        Position of the plan in the batch; stage the item is built in (1-based).
    kind, unit : ndarray of str
        Item kind (``"line"``, ``"sop converter"``, ``"pv site"``, ...) and unit of quantity.
    quantity, unit_cost, cost, lifetime_years, om_per_year : ndarray of float
        ``cost = quantity * unit_cost`` (currency, undiscounted); yearly O&M
        from the build stage on.
    where : callable
        Returns the readable location of every item (for reports only).
    """

    plan: np.ndarray
    stage: np.ndarray
    kind: np.ndarray
    unit: np.ndarray
    quantity: np.ndarray
    unit_cost: np.ndarray
    cost: np.ndarray
    lifetime_years: np.ndarray
    om_per_year: np.ndarray
    where: Callable[[], list]

    def __len__(self) -> int:
        return len(self.cost)

    @classmethod
    def of(cls, kind: str, unit, plan, stage, quantity, unit_cost, lifetime, om_per_year=0.0,
           where: Callable[[], list] = list) -> "PricedItems":
        """Items of one kind (scalars broadcast); ``cost`` is ``quantity * unit_cost``."""
        quantity = np.asarray(quantity, dtype=float).reshape(-1)
        n = quantity.size

        def full(v, dtype=float):
            return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()

        unit_cost = full(unit_cost)
        return cls(plan=full(plan, np.int64), stage=full(stage, np.int64), kind=np.full(n, kind),
                   unit=full(unit, str), quantity=quantity, unit_cost=unit_cost,
                   cost=quantity * unit_cost, lifetime_years=full(lifetime),
                   om_per_year=full(om_per_year), where=where)

    @classmethod
    def concat(cls, parts: list["PricedItems"]) -> "PricedItems":
        """The items of ``parts``, one after the other."""
        parts = [p for p in parts if p is not None]
        if not parts:
            return cls.of("", "", [], [], [], [], [])
        fields = {name: np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS}
        return cls(**fields, where=lambda: [w for p in parts for w in p.where()])

    def per_stage(self, values: np.ndarray, n_plans: int, n_stages: int) -> np.ndarray:
        """Sum of ``values`` (one per item) per plan and build stage, shape (n_plans, n_stages)."""
        flat = self.plan * n_stages + (self.stage - 1)
        out = np.bincount(flat, values, n_plans * n_stages)  # int64 when there are no items
        return out.astype(float, copy=False).reshape(n_plans, n_stages)
