"""SOP terminals of plans as arrays: one plan (:class:`SopTerminals`) or a padded stack of plans.

A terminal is a bus position (column of the demand arrays), the device it
belongs to (terminals of one device share a DC link) and its capacity. The
dispatch (:mod:`fdnmoo.operation.sop_dispatch`) takes a stack; it is built
from per-plan terminals or straight from the terminal rows of a population.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..planning.plan import Plan

__all__ = ["SopTerminals", "SopTerminalStack"]


@dataclass(frozen=True)
class SopTerminals:
    """The SOP terminals of one plan in one stage.

    Attributes
    ----------
    bus : ndarray of int, shape (n_t,)
        Bus positions (columns of the demand arrays).
    device : ndarray of int, shape (n_t,)
        Device number 0..n_devices-1 (terminals of one device share a DC link).
    capacity_mva : ndarray, shape (n_t,)
    """

    bus: np.ndarray
    device: np.ndarray
    capacity_mva: np.ndarray

    @classmethod
    def of_plan(cls, plan: Plan, stage: int, bus_labels: np.ndarray) -> "SopTerminals":
        """Terminals of ``plan.sop_terminals(stage)`` on the columns ``bus_labels``.

        Reads the columns ``bus``, ``device`` and ``capacity_mva`` by key
        (``t["device"]``), so a DataFrame and a numpy structured or record array
        of the same fields both work (attribute access would not: a record
        array's ``.device`` is numpy's array-API device, ``"cpu"``).
        """
        t = plan.sop_terminals(stage)
        labels = np.asarray(t["bus"], dtype=np.int64)
        pos = pd.Index(bus_labels).get_indexer(labels)
        if (pos < 0).any():
            raise KeyError(f"SOP terminal of stage {stage} at bus {labels[pos < 0][0]}, "
                           "which is not a bus of the grid")
        return cls.numbered(pos, t["device"], t["capacity_mva"])

    @classmethod
    def numbered(cls, bus, device_labels, capacity_mva) -> "SopTerminals":
        """Terminals at bus positions ``bus``, their devices numbered 0.. in order of first
        appearance of ``device_labels`` (the plan's device ids)."""
        return cls(bus=np.asarray(bus, dtype=np.int64),
                   device=pd.factorize(np.asarray(device_labels))[0].astype(np.int64),
                   capacity_mva=np.asarray(capacity_mva, dtype=float))

    @property
    def n_devices(self) -> int:
        return int(self.device.max()) + 1 if self.device.size else 0

    def incidence(self) -> np.ndarray:
        """(n_t, n_devices) one-hot device membership."""
        d = np.zeros((self.bus.size, self.n_devices))
        d[np.arange(self.bus.size), self.device] = 1.0
        return d


@dataclass(frozen=True)
class SopTerminalStack:
    """The SOP terminals of several plans, padded to the plan with the most terminals.

    Attributes
    ----------
    bus, device : ndarray of int, shape (n_plans, T)
        As :class:`SopTerminals`; 0 in the padding.
    capacity_mva : ndarray, shape (n_plans, T)
        0 in the padding.
    n_terminals : ndarray of int, shape (n_plans,)
        Valid entries at the start of every row.
    """

    bus: np.ndarray
    device: np.ndarray
    capacity_mva: np.ndarray
    n_terminals: np.ndarray

    @classmethod
    def of(cls, terminals: "Sequence[SopTerminals] | SopTerminalStack | SopTerminals") -> "SopTerminalStack":
        """Stack plans' terminals (a stack is returned as is, one plan's terminals as one row)."""
        if isinstance(terminals, SopTerminalStack):
            return terminals
        if isinstance(terminals, SopTerminals):
            terminals = [terminals]
        n_t = np.array([t.bus.size for t in terminals], dtype=np.int64)

        def column(field: str, dtype) -> np.ndarray:
            return np.concatenate([np.asarray(getattr(t, field), dtype=dtype) for t in terminals]
                                  + [np.zeros(0, dtype)])

        return cls._padded(np.repeat(np.arange(n_t.size), n_t), n_t.size, column("bus", np.int64),
                           column("device", np.int64), column("capacity_mva", float))

    @classmethod
    def from_rows(cls, plan: np.ndarray, bus: np.ndarray, device: np.ndarray, capacity_mva: np.ndarray,
                  n_plans: int) -> "SopTerminalStack":
        """The stack of terminal rows of several plans, without a loop over plans.

        Parameters
        ----------
        plan : ndarray of int, shape (n_rows,)
            Plan (0..n_plans-1) of every terminal row, in any order; a plan's
            terminals keep the order of their rows.
        bus : ndarray of int, shape (n_rows,)
            Bus positions (columns of the demand arrays).
        device : ndarray, shape (n_rows,)
            Device labels; numbered per plan 0.. in order of appearance, as
            :meth:`SopTerminals.of_plan` does.
        capacity_mva : ndarray, shape (n_rows,)
        n_plans : int
            Plans without rows get no terminals.
        """
        plan = np.asarray(plan, dtype=np.int64)
        if plan.size and (plan.min() < 0 or plan.max() >= n_plans):
            raise ValueError(f"plan indices must be in 0..{n_plans - 1}, got {plan.min()}..{plan.max()}")
        order = np.argsort(plan, kind="stable")
        plan = plan[order]
        labels = pd.factorize(np.asarray(device)[order])[0]
        # (plan, device) pairs numbered in order of appearance: a plan's block starts with its lowest
        pairs = pd.factorize(plan * (int(labels.max(initial=0)) + 1) + labels)[0]
        first = pairs[np.searchsorted(plan, plan)]
        return cls._padded(plan, n_plans, np.asarray(bus, dtype=np.int64)[order], pairs - first,
                           np.asarray(capacity_mva, dtype=float)[order])

    @classmethod
    def _padded(cls, plan: np.ndarray, n_plans: int, bus: np.ndarray, device: np.ndarray,
                capacity_mva: np.ndarray) -> "SopTerminalStack":
        """Rows sorted by ``plan`` into (n_plans, T) arrays."""
        n_t = np.bincount(plan, minlength=n_plans).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(n_t)[:-1]]).astype(np.int64)
        at = (plan, np.arange(plan.size) - start[plan])
        shape = (n_plans, int(n_t.max(initial=0)))
        out = {k: np.zeros(shape, dtype=v.dtype) for k, v in
               (("bus", bus), ("device", device), ("capacity_mva", capacity_mva))}
        out["bus"][at], out["device"][at], out["capacity_mva"][at] = bus, device, capacity_mva
        return cls(n_terminals=n_t, **out)

    @property
    def valid(self) -> np.ndarray:
        """(n_plans, T) True for the entries that are terminals (not padding)."""
        return np.arange(self.bus.shape[1]) < self.n_terminals[:, None]
