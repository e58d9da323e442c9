"""Distributed-generation genes (md24): alternative and build stage per DG candidate.

Gene layout of :class:`DgBlock` (N = rows of ``case.candidates.dg``, each a bus
and a technology, ``conventional`` or ``wind``; S = stages)::

    [alt_0, stage_0, alt_1, stage_1, ..., alt_{N-1}, stage_{N-1}]
        alt_i   0 = none, 1..k_i = the k_i rows of ``candidates.dg_types`` of the
                candidate's technology, in the table's order (by ``alternative``)
        stage_i 1..S, the stage the unit is built in

Decoding: ``plan.der["dg"]`` (S, N) in MVA, the alternative's ``capacity_mva``
from its build stage on (0 before, and everywhere with alt 0). Only the
capacity is stored; the alternative is recovered from it with
:func:`fdnmoo.planning.dg_type_rows` (capacities are distinct within a
technology). A unit is built once and never resized.

Repair rounds and clips to the bounds (alt in 0..k_i, stage in 1..S) and, with
``max_units``, keeps the ``max_units`` units of largest capacity (ties at
random) and sets the others' alternative to 0. The stage gene of a candidate
with alt 0 is inert and left as it is.

Candidate overrides (:meth:`DgBlock.candidate_tables`) pose DG on any case:
``buses`` (``net.bus`` labels or ``"all"``: every bus but the substations)
become candidates of ``technology``; ``max_mva`` with ``levels`` replaces the
alternatives by ``levels`` conventional units of ``j / levels * max(max_mva)``
MVA, j = 1..levels; a mapping ``max_mva`` (bus -> MVA) caps the alternatives of
the buses it names (the others go up to its largest value; without ``buses``,
its buses are the candidates). Generated alternatives cost the case's
``economics.unit_costs["dg_per_mva"]`` and ``["dg_energy_per_mwh"]`` and live
``economics.lifetimes_years["dg"]`` years; without those keys they cost
nothing (a loss study needs no prices) and live 20 years::

    DgBlock(buses="all", max_mva=4.0, levels=80, max_units=1)  # one DG, any bus, any size
"""

from __future__ import annotations

from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from fdnmoo.parameters import ParameterError

from .base import (DER_CAPACITY, GeneBlock, as_genes, candidate_buses, context_rows,
                   register_block)

__all__ = ["DgBlock"]


@register_block("dg")
class DgBlock(GeneBlock):
    """Alternative and build stage per DG candidate (see module docstring).

    Parameters
    ----------
    max_units : int, optional
        Most units built (default: no limit); sampling and repair keep to it.
    buses : list of int or "all", optional
        Candidate buses instead of the case's ``dg`` table (see module docstring).
    technology : str
        Technology of the candidates at ``buses``.
    max_mva : float or mapping of bus to float, optional
        Largest unit (MVA), for every bus or per bus.
    levels : int, optional
        Number of generated unit sizes up to ``max_mva`` (needed with ``max_mva``).
    """

    repair_rank = 20
    name = "dg"

    def __init__(self, max_units: int | None = None,
                 buses: Sequence[int] | Literal["all"] | None = None,
                 technology: str = "conventional",
                 max_mva: float | Mapping[int, float] | None = None,
                 levels: int | None = None):
        self.max_units = max_units
        self.buses = buses
        self.technology = technology
        self.max_mva = max_mva
        self.levels = levels

    # ------------------------------------------------------------- candidates
    def _bus_caps(self) -> dict[int, float]:
        if self.max_mva is None or isinstance(self.max_mva, (int, float)):
            return {}
        return {int(b): float(v) for b, v in dict(self.max_mva).items()}

    def candidate_tables(self, case) -> dict[str, pd.DataFrame]:
        """``dg`` (and generated ``dg_types``) tables of the overrides (``{}`` without any)."""
        if self.buses is None and self.max_mva is None and self.levels is None:
            return {}
        if (self.max_mva is None) != (self.levels is None):
            key = "levels" if self.levels is None else "max_mva"
            raise ParameterError(key, "max_mva and levels go together: sizes are "
                                      "j / levels * max_mva, j = 1..levels")
        caps = self._bus_caps()
        for b, v in caps.items():
            if not (np.isfinite(v) and v > 0):
                raise ParameterError("max_mva", f"caps must be finite and > 0, got {v} at bus {b}")
        if self.buses is not None:
            buses = candidate_buses(case, self.buses)
        elif caps:
            buses = candidate_buses(case, list(caps), key="max_mva")
        else:
            raise ParameterError("buses", "give the candidate buses (a list or 'all')")
        extra = sorted(set(caps) - set(int(b) for b in buses))
        if extra:
            raise ParameterError("max_mva", f"bus {extra[0]} is not among the candidate buses")
        tables = {"dg": pd.DataFrame({"bus": buses, "technology": self.technology})}
        if self.levels is not None:
            if self.technology != "conventional":
                raise ParameterError("technology", "generated sizes (max_mva, levels) are "
                                                   f"conventional units, not {self.technology!r}")
            if isinstance(self.levels, bool) or int(self.levels) < 1:
                raise ParameterError("levels", f"must be >= 1, got {self.levels}")
            top = max(caps.values()) if caps else float(self.max_mva)
            if not (np.isfinite(top) and top > 0):
                raise ParameterError("max_mva", f"must be finite and > 0, got {top}")
            e = case.economics
            for key in ("dg_per_mva", "dg_energy_per_mwh"):
                if isinstance(e.unit_costs.get(key), (list, tuple)):
                    raise ParameterError(key, f"case {case.name!r} gives economics.unit_costs."
                                              f"{key} per stage; DG alternatives take one price")
            j = np.arange(1, int(self.levels) + 1)
            tables["dg_types"] = pd.DataFrame({
                "technology": self.technology, "alternative": j,
                "capacity_mva": j * top / int(self.levels),
                "investment_per_mva": float(e.unit_costs.get("dg_per_mva", 0.0)),
                "energy_cost_per_mwh": float(e.unit_costs.get("dg_energy_per_mwh", 0.0)),
                "lifetime_years": float(e.lifetimes_years.get("dg", 20.0))})
        return tables

    # ------------------------------------------------------------------ setup
    def _setup(self, grid, n_stages: int) -> None:
        case = grid.case
        self._check_candidates(case)
        if self.max_units is not None and int(self.max_units) < 0:
            raise ValueError(f"max_units must be >= 0, got {self.max_units}")
        table = case.candidates.get("dg")
        types = case.candidates.get("dg_types")
        if table is None or len(table) == 0:
            raise ValueError(f"case {case.name!r} has no 'dg' candidate table")
        if types is None or len(types) == 0:
            raise ValueError(f"case {case.name!r} has a 'dg' candidate table but no dg_types")
        types = types.sort_values(["technology", "alternative"], kind="stable")
        options = []  # per candidate: capacities of alternatives 1..k
        bus_caps = self._bus_caps()
        for bus, tech in zip(table.bus.astype(int), table.technology.astype(str)):
            caps = types.capacity_mva[types.technology.astype(str) == tech].to_numpy(float)
            if bus in bus_caps:  # the alternative is recovered from the capacity
                caps = caps[caps <= bus_caps[bus] * (1 + 1e-9)]
            if len(caps) == 0:
                raise ValueError(f"case {case.name!r}: no dg_types rows for technology {tech!r}"
                                 + (f" up to {bus_caps[bus]} MVA at bus {bus}"
                                    if bus in bus_caps else ""))
            if len(np.unique(caps)) != len(caps):
                raise ValueError(f"dg_types of {tech!r} repeat a capacity; the alternative "
                                 "would not be recoverable from the capacity")
            options.append(caps)
        n = len(options)
        k = max(len(c) for c in options)
        self._caps = np.zeros((n, k + 1))  # column 0: none
        for i, c in enumerate(options):
            self._caps[i, 1:len(c) + 1] = c
        self._n = n
        self.n_var = 2 * n
        self.xl = np.tile([0, 1], n).astype(np.int64)
        self.xu = np.column_stack([[len(c) for c in options], np.full(n, n_stages)]
                                  ).ravel().astype(np.int64)
        self.groups = np.repeat(np.arange(n), 2).astype(np.int64)  # a unit's size and stage
        self.ordinal = np.ones(self.n_var, dtype=bool)  # sizes grow with alt; stages are ordered

    def capacity(self, x: np.ndarray) -> np.ndarray:
        """Installed capacity per stage and candidate, shape (n_stages, N), MVA."""
        self._check_bound()
        g = np.asarray(x, dtype=np.int64).reshape(self._n, 2)
        cap = self._caps[np.arange(self._n), g[:, 0]]
        stages = np.arange(1, self.n_stages + 1)[:, None]
        return np.where(stages >= g[None, :, 1], cap[None, :], 0.0)

    def repair(self, X: np.ndarray, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Rounded copy of ``X`` clipped to the bounds, at most ``max_units`` units."""
        self._check_bound()
        Y = as_genes(X, self.xl, self.xu)
        context_rows(context, len(Y))
        if self.max_units is not None:
            limit = int(self.max_units)
            for y in Y:
                alt = y[0::2]
                used = np.flatnonzero(alt > 0)
                if len(used) > limit:
                    size = self._caps[used, alt[used]]
                    keep = used[np.lexsort((rng.random(len(used)), -size))][:limit]
                    drop = np.setdiff1d(used, keep)
                    y[2 * drop] = 0
        return Y

    def sample(self, n: int, rng: np.random.Generator, context: dict) -> np.ndarray:
        """A random number of units (0..max_units) at random candidates, each with a
        random alternative and build stage."""
        self._check_bound()
        X = np.zeros((n, self.n_var), dtype=np.int64)
        X[:, 1::2] = 1
        limit = self._n if self.max_units is None else min(self._n, int(self.max_units))
        for i in range(n):
            k = int(rng.integers(0, limit + 1))
            for c in rng.choice(self._n, size=k, replace=False):
                X[i, 2 * c] = rng.integers(1, self.xu[2 * c] + 1)
                X[i, 2 * c + 1] = rng.integers(1, self.n_stages + 1)
        return self.repair(X, rng, context)

    def provides(self, x: np.ndarray, context_row: dict) -> None:
        context_row.setdefault(DER_CAPACITY, {})["dg"] = self.capacity(x)

    def decode(self, x: np.ndarray, parts: dict) -> None:
        """``der["dg"]``: capacity per stage and candidate row, MVA."""
        parts.setdefault("der", {})["dg"] = self.capacity(x)
