"""Distributed-resource genes: PV, SVC, storage or EV-charging size per bus and stage.

Gene layout of :class:`DerBlock` (N = rows of ``case.candidates[kind]``,
S = stages)::

    [level_{1,0} .. level_{1,N-1}, ..., level_{S,0} .. level_{S,N-1}]
        0..levels; capacity = level / levels * the row's max_mw (max_mvar for svc)

For storage the energy capacity scales the same way (level / levels * max_mwh).

Repair, in this order, keeps every row feasible:

1. levels never decrease over stages (a stage's level is raised to the previous one);
2. at most ``max_buses`` buses with nonzero capacity: the buses with the largest
   final capacity stay (ties at random), the others are zeroed in every stage;
3. the final stage's total capacity (the largest, by 1.) is at most ``total_max``:
   random single-level decrements of the final stage, each pushed back to
   earlier stages, until it fits;
4. with ``penetration`` (PV and EVCS): each stage's total must reach its target
   (:mod:`fdnmoo.penetration`): for PV the rated output ``sum pf_i * S_i`` must reach
   ``case.horizon.pv_penetration[stage - 1]`` times the stage's peak load
   (:func:`~fdnmoo.penetration.pv_target_mw`, ``base="load"``; ``penetration_base="demand"``:
   the peak load plus the EV demand, the base of seed 000's Table 1 and of the
   ``pv_penetration`` constraint's ``base: demand``), for EVCS the capacity
   the EV demand of ``case.horizon.ev_penetration``
   (:func:`~fdnmoo.penetration.ev_demand_mw`); random single-level increments of that
   stage, pushed forward to later stages, that keep 2. and 3. true, until the target
   is met or nothing can grow (the target is then out of reach: maxed out).

PV capacity is the converter rating: MW at power factor 1, MVA with ``power_factor``
(a number, or a mapping bus -> pf, written to the candidates' ``power_factor`` column):
the PV then injects ``P = pf * S * pv_pu`` and ``Q = P * tan(acos pf)``
(:mod:`fdnmoo.operation.injections`; seed 000: "the power factor of the PV converter
is 0.95").

Candidate overrides (:meth:`DerBlock.candidate_tables`): ``buses`` chooses the
candidate buses (a list of ``net.bus`` labels, or ``"all"``: every bus but the
substations); the size caps ``max_mw`` (``max_mvar`` for svc; storage also
``max_mwh``) are one number for every candidate or a mapping bus -> cap.
Without ``buses``, the candidates are the mapping's buses if a cap is a
mapping, else the case table's. A bus the case table does not list needs a
cap; a listed bus keeps the table's cap unless one is given::

    DerBlock("pv", buses="all", max_mw=3.0)            # any bus, up to 3 MW
    DerBlock("pv", max_mw={6: 3.0, 18: 1.5})           # two candidates
    DerBlock("pv", buses=[7, 9, 30], max_mw={30: 2.0}) # 7, 9 keep the case's cap
"""

from __future__ import annotations

from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from fdnmoo.parameters import ParameterError
from fdnmoo.penetration import ev_demand_mw, pv_power_factors, pv_target_mw, stage_peak_load_mw
from fdnmoo.planning import DER_KINDS

from .base import (DER_CAPACITY, GeneBlock, as_genes, candidate_buses, context_rows,
                   register_block)

__all__ = ["DerBlock", "stage_peak_load_mw"]  # stage_peak_load_mw: from fdnmoo.penetration

_EPS = 1e-9  # MW: tolerance of the capacity sums
_CAP_UNITS = {"max_mw": "MW", "max_mvar": "Mvar", "max_mwh": "MWh"}


@register_block("der")
class DerBlock(GeneBlock):
    """Size level per candidate bus and stage for one resource kind (see module docstring).

    Parameters
    ----------
    kind : str
        One of :data:`fdnmoo.planning.DER_KINDS` but ``dg`` (``pv``, ``svc``, ``ess``, ``evcs``;
        DG has :class:`~fdnmoo.problems.encodings.DgBlock`).
    levels : int
        Size levels above zero per bus (capacity steps of max / levels).
    max_buses : int, optional
        Most buses with nonzero capacity (default: no limit).
    total_max : float, optional
        Most total capacity in any stage, in the kind's unit (MW, Mvar for svc).
    penetration : bool
        PV and EVCS: reach the case's per-stage PV penetration target / EV demand.
    penetration_base : {"load", "demand"}
        PV only: the base the penetration share is of (:func:`~fdnmoo.penetration.pv_target_mw`):
        the stage's peak load, or the peak load plus the EV demand.
    buses : list of int or "all", optional
        Candidate buses instead of the case table's (see module docstring).
    max_mw, max_mvar, max_mwh : float or mapping of bus to float, optional
        Size caps per candidate: MW (pv, ess, evcs; for PV with ``power_factor`` the
        converter's MVA rating), Mvar (svc), MWh (ess).
    power_factor : float or mapping of bus to float, optional
        PV only: the converter's power factor, in (0, 1] (module docstring).
    """

    repair_rank = 20

    def __init__(self, kind: str, levels: int = 4, max_buses: int | None = None,
                 total_max: float | None = None, penetration: bool = False,
                 buses: Sequence[int] | Literal["all"] | None = None,
                 max_mw: float | Mapping[int, float] | None = None,
                 max_mvar: float | Mapping[int, float] | None = None,
                 max_mwh: float | Mapping[int, float] | None = None,
                 power_factor: float | Mapping[int, float] | None = None,
                 penetration_base: Literal["load", "demand"] = "load"):
        self.kind = kind
        self.levels = levels
        self.max_buses = max_buses
        self.total_max = total_max
        self.penetration = penetration
        self.buses = buses
        self.max_mw = max_mw
        self.max_mvar = max_mvar
        self.max_mwh = max_mwh
        self.power_factor = power_factor
        self.penetration_base = penetration_base

    # ------------------------------------------------------------- candidates
    def _cap_columns(self) -> tuple[str, ...]:
        return {"svc": ("max_mvar",), "ess": ("max_mw", "max_mwh")}.get(self.kind, ("max_mw",))

    def candidate_tables(self, case) -> dict[str, pd.DataFrame]:
        """``{kind: table}`` with the overridden buses and caps (``{}`` without overrides)."""
        columns = self._cap_columns()
        caps = {c: getattr(self, c) for c in ("max_mw", "max_mvar", "max_mwh")}
        for c, v in caps.items():
            if v is not None and c not in columns:
                raise ParameterError(c, f"{self.kind} candidates are capped by "
                                        f"{' and '.join(columns)}, not {c}")
        if self.power_factor is not None and self.kind != "pv":
            raise ParameterError("power_factor", f"applies to PV only, not {self.kind!r}")
        if self.buses is None and all(caps[c] is None for c in columns) \
                and self.power_factor is None:
            return {}
        table = case.candidates.get(self.kind)
        if self.buses is not None:
            buses = candidate_buses(case, self.buses)
        else:
            mappings = [caps[c] for c in columns if caps[c] is not None and not _is_number(caps[c])]
            if mappings:
                buses = candidate_buses(case, list(dict(mappings[0])), key=columns[0])
            elif table is not None:
                buses = table.bus.to_numpy(np.int64)
            else:
                raise ParameterError("buses", f"case {case.name!r} has no {self.kind!r} "
                                              f"candidates: give buses")
        out = {"bus": buses}
        for c in columns:
            out[c] = _caps_per_bus(case, table, buses, c, caps[c], self.kind)
        if self.power_factor is not None:
            out["power_factor"] = _power_factors(buses, self.power_factor)
        elif table is not None and "power_factor" in table:
            known = dict(zip(table.bus.astype(int), table.power_factor.astype(float)))
            out["power_factor"] = [known.get(int(b), 1.0) for b in buses]
        return {self.kind: pd.DataFrame(out)}

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"der_{self.kind}"

    # ------------------------------------------------------------------ setup
    def _setup(self, grid, n_stages: int) -> None:
        if self.kind not in DER_KINDS:
            raise ValueError(f"unknown resource kind {self.kind!r}; known: {sorted(DER_KINDS)}")
        if self.kind == "dg":
            raise ValueError("distributed generation has its own block: use DgBlock, not DerBlock('dg')")
        if int(self.levels) < 1:
            raise ValueError(f"levels must be >= 1, got {self.levels}")
        if self.max_buses is not None and int(self.max_buses) < 0:
            raise ValueError(f"max_buses must be >= 0, got {self.max_buses}")
        if self.total_max is not None and self.total_max < 0:
            raise ValueError(f"total_max must be >= 0, got {self.total_max}")
        case = grid.case
        self._check_candidates(case)
        table = case.candidates.get(self.kind)
        if table is None or len(table) == 0:
            raise ValueError(f"case {case.name!r} has no {self.kind!r} candidate table")
        column = "max_mvar" if self.kind == "svc" else "max_mw"
        self._max = table[column].to_numpy(dtype=float)
        self._target = np.zeros(n_stages)
        self._rated = self._max * (pv_power_factors(case) if self.kind == "pv" else 1.0)
        if self.penetration:
            if self.kind not in ("pv", "evcs"):
                raise ValueError(f"penetration targets apply to PV and EVCS only, not "
                                 f"{self.kind!r}")
            key = f"{'pv' if self.kind == 'pv' else 'ev'}_penetration"
            shares = getattr(case.horizon, key)
            if len(shares) < n_stages:
                raise ValueError(f"case {case.name!r} gives {key} for {len(shares)} "
                                 f"stages, {n_stages} needed")
            if self.penetration_base not in ("load", "demand"):
                raise ValueError(f"penetration_base must be 'load' or 'demand', got "
                                 f"{self.penetration_base!r}")
            if self.kind == "pv":
                self._target = np.array([pv_target_mw(case, s + 1, grid.net,
                                                      base=self.penetration_base)
                                         for s in range(n_stages)])
            else:
                self._target = np.array([ev_demand_mw(case, s + 1, grid.net)
                                         for s in range(n_stages)])
        n = len(self._max)
        self._n = n
        self.n_var = n_stages * n
        self.xl = np.zeros(self.n_var, dtype=np.int64)
        self.xu = np.full(self.n_var, int(self.levels), dtype=np.int64)
        self.groups = np.tile(np.arange(n), n_stages).astype(np.int64)  # a bus's whole path
        self.ordinal = np.ones(self.n_var, dtype=bool)

    @property
    def targets_mw(self) -> np.ndarray:
        """Per-stage total-capacity targets (zeros without ``penetration``)."""
        self._check_bound()
        return self._target.copy()

    def capacity(self, x: np.ndarray) -> np.ndarray:
        """Installed capacity per stage and candidate, shape (n_stages, N), MW or Mvar."""
        self._check_bound()
        lv = np.asarray(x, dtype=np.int64).reshape(self.n_stages, self._n)
        return lv * self._max[None, :] / int(self.levels)

    # ----------------------------------------------------------------- repair
    def _total(self, lv: np.ndarray, s: int) -> float:
        return float(lv[s] @ self._max) / int(self.levels)

    def _rated_total(self, lv: np.ndarray, s: int) -> float:
        """What the penetration target counts: rated output (pf x capacity for PV)."""
        return float(lv[s] @ self._rated) / int(self.levels)

    def _repair_row(self, lv: np.ndarray, rng) -> None:
        """Repair the (S, N) level matrix in place (steps of the module docstring)."""
        np.maximum.accumulate(lv, axis=0, out=lv)
        last = self.n_stages - 1
        if self.max_buses is not None:
            used = np.flatnonzero(lv[last] > 0)
            if len(used) > int(self.max_buses):
                order = used[np.lexsort((rng.random(len(used)), -lv[last, used] * self._max[used]))]
                lv[:, order[int(self.max_buses):]] = 0
        if self.total_max is not None:
            while self._total(lv, last) > self.total_max + _EPS:
                i = int(rng.choice(np.flatnonzero(lv[last] > 0)))
                lv[last, i] -= 1
                np.minimum(lv[:, i], lv[last, i], out=lv[:, i])
        for s in range(self.n_stages):
            while self._rated_total(lv, s) < self._target[s] - _EPS:
                grow = self._growable(lv, s)
                if len(grow) == 0:
                    break
                i = int(rng.choice(grow))
                lv[s:, i] = np.maximum(lv[s:, i], lv[s, i] + 1)

    def _growable(self, lv: np.ndarray, s: int) -> np.ndarray:
        """Buses whose level in stage ``s`` can rise by one keeping the limits."""
        last = self.n_stages - 1
        ok = lv[s] < int(self.levels)
        if self.max_buses is not None and (lv[last] > 0).sum() >= int(self.max_buses):
            ok &= lv[last] > 0
        if self.total_max is not None:
            step = np.maximum(lv[s] + 1 - lv[last], 0) * self._max / int(self.levels)
            ok &= self._total(lv, last) + step <= self.total_max + _EPS
        return np.flatnonzero(ok)

    def repair(self, X: np.ndarray, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Feasible copy of ``X`` (monotone levels, bus count, total cap, targets)."""
        self._check_bound()
        Y = as_genes(X, self.xl, self.xu)
        context_rows(context, len(Y))
        for x in Y:
            self._repair_row(x.reshape(self.n_stages, self._n), rng)
        return Y

    def sample(self, n: int, rng: np.random.Generator, context: dict) -> np.ndarray:
        """Random sparse siting: a random number of buses, each with a random start
        stage and level growing by 0 or 1 per later stage; repaired."""
        self._check_bound()
        X = np.zeros((n, self.n_var), dtype=np.int64)
        limit = self._n if self.max_buses is None else min(self._n, int(self.max_buses))
        for i in range(n):
            lv = X[i].reshape(self.n_stages, self._n)
            k = int(rng.integers(0, limit + 1))
            for b in rng.choice(self._n, size=k, replace=False):
                start = int(rng.integers(0, self.n_stages))
                level = int(rng.integers(1, int(self.levels) + 1))
                for s in range(start, self.n_stages):
                    lv[s, b] = min(level, int(self.levels))
                    level += int(rng.random() < 0.5)
        return self.repair(X, rng, context)

    # --------------------------------------------------------------- decoding
    def provides(self, x: np.ndarray, context_row: dict) -> None:
        context_row.setdefault(DER_CAPACITY, {})[self.kind] = self.capacity(x)

    def decode(self, x: np.ndarray, parts: dict) -> None:
        """``der[kind]``: capacity per stage and candidate row."""
        parts.setdefault("der", {})[self.kind] = self.capacity(x)


def _power_factors(buses: np.ndarray, given) -> list[float]:
    """Power factor of every candidate bus: one number, or a mapping bus -> pf (1 elsewhere)."""
    per_bus = {int(b): float(v) for b, v in dict(given).items()} if not _is_number(given) \
        else {int(b): float(given) for b in buses}
    extra = sorted(set(per_bus) - set(int(b) for b in buses))
    if extra:
        raise ParameterError("power_factor", f"bus {extra[0]} is not among the candidate buses "
                                             f"{sorted(int(b) for b in buses)}")
    out = [per_bus.get(int(b), 1.0) for b in buses]
    bad = [v for v in out if not 0.0 < v <= 1.0]
    if bad:
        raise ParameterError("power_factor", f"a power factor lies in (0, 1], got {bad[0]}")
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _caps_per_bus(case, table, buses: np.ndarray, column: str, given, kind: str) -> np.ndarray:
    """Cap ``column`` of every candidate bus: ``given`` (number or mapping), else the table's."""
    unit = _CAP_UNITS[column]
    known = {} if table is None or column not in table else \
        dict(zip(table.bus.astype(int), table[column].astype(float)))
    per_bus = {}
    if given is not None and not _is_number(given):
        per_bus = {int(b): float(v) for b, v in dict(given).items()}
        extra = sorted(set(per_bus) - set(int(b) for b in buses))
        if extra:
            raise ParameterError(column, f"bus {extra[0]} is not among the candidate buses "
                                         f"{sorted(int(b) for b in buses)}")
    caps = np.empty(len(buses))
    for i, b in enumerate(int(b) for b in buses):
        if b in per_bus:
            caps[i] = per_bus[b]
        elif _is_number(given):
            caps[i] = float(given)
        elif b in known:
            caps[i] = known[b]
        else:
            raise ParameterError(column, f"bus {b} is not a {kind} candidate of case "
                                         f"{case.name!r}, so it needs a cap: give {column} "
                                         f"(a number in {unit}, or a mapping bus -> {unit})")
        if not (np.isfinite(caps[i]) and caps[i] > 0):
            raise ParameterError(column, f"caps must be finite and > 0, got {caps[i]} at bus {b}")
    return caps
