"""Validation of a planning case, with errors naming file, field and value.

:func:`validate_case` checks the pandapower net (bus references, impedances,
lengths, duplicate labels, NaN loads, substations, radial base topology, every
bus supplied), the extra columns our cases add to it, the candidate tables
against :mod:`fdnmoo.cases.schema`, and the horizon/economics/uncertainty
records. The first problem found is raised as a :class:`CaseError`.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import pandas as pd

from ..branches import UnsupportedNetError, branch_table
from ..topology import NonRadialError
from ..damage import load_class_shares
from .errors import CaseError
from .forms import check_form
from .model import PlanningCase
from .schema import CANDIDATE_TABLES, NET_EXTRA_COLUMNS, TABLE_KEYS, Column

__all__ = ["validate_candidates", "validate_case", "validate_net", "validate_records"]


def validate_case(case: PlanningCase, file: str = "<case>") -> None:
    """Raise :class:`CaseError` on the first problem in ``case``."""
    validate_net(case.net, file)
    validate_candidates(case, file)
    validate_records(case, file)


def validate_candidates(case: PlanningCase, file: str = "<case>",
                        tables: tuple[str, ...] | None = None) -> None:
    """Check the candidate tables (``tables``, default all) against their schema."""
    bus_labels = set(int(b) for b in case.net.bus.index)
    for name, df in case.candidates.items():
        if tables is not None and name not in tables:
            continue
        where = f"candidates.{name}"
        _check_table(df, CANDIDATE_TABLES[name], TABLE_KEYS.get(name, ()), where, file,
                     bus_labels)
        if "soc_min" in df and "soc_max" in df:  # storage: a window, not a point
            low = df.index[df.soc_min.astype(float) >= df.soc_max.astype(float)]
            if len(low):
                raise CaseError(file, f"{where}[{low[0]}].soc_min", float(df.soc_min[low[0]]),
                                f"must be below soc_max ({float(df.soc_max[low[0]]):g})")


def validate_records(case: PlanningCase, file: str = "<case>") -> None:
    """Check the horizon, economics and uncertainty records (also after overrides)."""
    _check_horizon(case.horizon, file)
    _check_economics(case.economics, file, case.horizon.n_stages)
    check_form(case.economics, file)
    _check_uncertainty(case.uncertainty, file)


def validate_net(net, file: str = "<case>") -> None:
    """Check a pandapower net for the planning engine; raise :class:`CaseError`."""
    bus = net.bus
    if len(bus) == 0:
        raise CaseError(file, "net.bus", None, "the network has no bus")
    _unique_index(bus, "net.bus", file)
    _finite_positive(bus.vn_kv, "net.bus", "vn_kv", file)
    labels = set(int(b) for b in bus.index)
    for table, columns in NET_EXTRA_COLUMNS.items():
        _check_table(net[table], columns, (), f"net.{table}", file, labels, allow_extra=True)
    load_class_shares(net, file)  # refuses an unknown net.load.load_class

    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    if len(eg) == 0:
        raise CaseError(file, "net.ext_grid", None, "no substation: the network has no in-service ext_grid")
    _bus_refs(eg, "bus", "net.ext_grid", file, labels)
    _finite_positive(eg.vm_pu, "net.ext_grid", "vm_pu", file)
    dup = eg.bus[eg.bus.duplicated()]
    if len(dup):
        raise CaseError(file, "net.ext_grid.bus", int(dup.iloc[0]), "two substations on one bus")

    line = net.line
    _unique_index(line, "net.line", file)
    _bus_refs(line, "from_bus", "net.line", file, labels)
    _bus_refs(line, "to_bus", "net.line", file, labels)
    same = line.index[line.from_bus == line.to_bus]
    if len(same):
        raise CaseError(file, f"net.line[{same[0]}].to_bus", int(line.to_bus[same[0]]),
                        "a line must join two different buses")
    _finite_positive(line.length_km, "net.line", "length_km", file)
    for col in ("r_ohm_per_km", "x_ohm_per_km"):
        _finite_at_least(line[col], "net.line", col, 0.0, file)
    zero = line.index[(line.r_ohm_per_km <= 0) & (line.x_ohm_per_km <= 0)]
    if len(zero):
        raise CaseError(file, f"net.line[{zero[0]}].r_ohm_per_km", float(line.r_ohm_per_km[zero[0]]),
                        "zero impedance (r and x both 0): merge the two buses instead")
    _finite_positive(line.max_i_ka, "net.line", "max_i_ka", file)
    _finite_at_least(line.parallel, "net.line", "parallel", 1, file)

    trafo = net.trafo
    _unique_index(trafo, "net.trafo", file)
    _bus_refs(trafo, "hv_bus", "net.trafo", file, labels)
    _bus_refs(trafo, "lv_bus", "net.trafo", file, labels)
    for col in ("sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent"):
        _finite_positive(trafo[col], "net.trafo", col, file)

    for table in ("load", "sgen", "shunt"):
        df = net[table]
        _bus_refs(df, "bus", f"net.{table}", file, labels)
        for col in ("p_mw", "q_mvar"):
            bad = df.index[~np.isfinite(df[col].astype(float))]
            if len(bad):
                raise CaseError(file, f"net.{table}[{bad[0]}].{col}", float(df[col][bad[0]]),
                                "must be a finite number")

    sw = net.switch
    bb = sw[(sw.et == "b") & sw.closed.astype(bool)]
    if len(bb):
        raise CaseError(file, f"net.switch[{bb.index[0]}]", None,
                        "closed bus-bus switches are not supported: merge the buses")
    _check_topology(net, file)


def _check_topology(net, file: str) -> None:
    try:
        branches = branch_table(net)
    except UnsupportedNetError as exc:
        raise CaseError(file, exc.field, exc.value, exc.reason) from None
    try:
        structure = branches.radial_structure()
    except NonRadialError as exc:
        raise CaseError(file, "net.line", exc.loop_branches, f"base topology is not radial: {exc}") from None
    in_service = net.bus.in_service.astype(bool).to_numpy()
    unsupplied = np.flatnonzero(in_service & ~structure.supplied)
    if len(unsupplied):
        label = int(net.bus.index[unsupplied[0]])
        raise CaseError(file, f"net.bus[{label}]", None,
                        f"not connected to any substation in the base topology "
                        f"({len(unsupplied)} bus(es) unsupplied)")


def _check_table(df: pd.DataFrame, columns: tuple[Column, ...], keys: tuple[str, ...],
                 where: str, file: str, bus_labels: set[int], allow_extra: bool = False) -> None:
    names = {c.name for c in columns}
    if not allow_extra:
        extra = [c for c in df.columns if c not in names]
        if extra:
            raise CaseError(file, f"{where}.{extra[0]}", None,
                            f"unknown column; known columns are {sorted(names)}")
    for col in columns:
        if col.name not in df.columns:
            if col.required and len(df):
                raise CaseError(file, f"{where}.{col.name}", None, f"required column is missing ({col.description})")
            continue
        values = df[col.name]
        for idx, value in values.items():
            _check_value(value, col, f"{where}[{idx}].{col.name}", file, bus_labels)
    if keys and len(df) and all(k in df.columns for k in keys):
        key_frame = df[list(keys)]
        if keys == ("from_bus", "to_bus"):
            key_frame = pd.DataFrame(np.sort(key_frame.to_numpy(), axis=1), index=df.index)
        dup = key_frame.duplicated()
        if dup.any():
            idx = df.index[dup.to_numpy()][0]
            raise CaseError(file, f"{where}[{idx}]", tuple(df.loc[idx, list(keys)]),
                            f"duplicate {'/'.join(keys)}")


def _check_value(value, col: Column, field: str, file: str, bus_labels: set[int]) -> None:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if missing:
        if col.required:
            raise CaseError(file, field, value, "missing value")
        return
    if col.dtype == "str":
        if not isinstance(value, str):
            raise CaseError(file, field, value, "must be a string")
        return
    if col.dtype == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise CaseError(file, field, value, "must be true or false")
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.number)):
        raise CaseError(file, field, value, f"must be a number ({col.unit})")
    if not math.isfinite(float(value)):
        raise CaseError(file, field, value, "must be finite")
    if col.dtype == "int" and float(value) != int(value):
        raise CaseError(file, field, value, "must be a whole number")
    if col.positive and value <= 0:
        raise CaseError(file, field, value, f"must be > 0 ({col.unit})")
    if col.min_value is not None and value < col.min_value:
        raise CaseError(file, field, value, f"must be >= {col.min_value} ({col.unit})")
    if col.max_value is not None and value > col.max_value:
        raise CaseError(file, field, value, f"must be <= {col.max_value} ({col.unit})")
    if col.bus_ref and int(value) not in bus_labels:
        raise CaseError(file, field, value, "unknown bus")


def _unique_index(df: pd.DataFrame, where: str, file: str) -> None:
    dup = df.index[df.index.duplicated()]
    if len(dup):
        raise CaseError(file, where, dup[0], "duplicate index (element ids must be unique)")


def _bus_refs(df: pd.DataFrame, col: str, where: str, file: str, labels: set[int]) -> None:
    for idx, b in df[col].items():
        if int(b) not in labels:
            raise CaseError(file, f"{where}[{idx}].{col}", int(b), "unknown bus")


def _finite_positive(values: pd.Series, where: str, col: str, file: str) -> None:
    v = values.astype(float)
    bad = values.index[~(np.isfinite(v) & (v > 0))]
    if len(bad):
        raise CaseError(file, f"{where}[{bad[0]}].{col}", float(v[bad[0]]), "must be a finite number > 0")


def _finite_at_least(values: pd.Series, where: str, col: str, low: float, file: str) -> None:
    v = values.astype(float)
    bad = values.index[~(np.isfinite(v) & (v >= low))]
    if len(bad):
        raise CaseError(file, f"{where}[{bad[0]}].{col}", float(v[bad[0]]), f"must be a finite number >= {low}")


def _check_horizon(h, file: str) -> None:
    if not isinstance(h.n_stages, int) or isinstance(h.n_stages, bool) or h.n_stages < 1:
        raise CaseError(file, "horizon.n_stages", h.n_stages, "must be a whole number >= 1")
    _number(h.years_per_stage, "horizon.years_per_stage", file, low=0.0, strict=True)
    _per_stage(h.load_growth_per_year, "horizon.load_growth_per_year", file, h.n_stages,
               low=-1.0, strict=True)
    for key in ("pv_penetration", "ev_penetration"):
        values = getattr(h, key)
        if not isinstance(values, list) or len(values) not in (0, h.n_stages):
            raise CaseError(file, f"horizon.{key}", values,
                            f"must be a list with one value per stage ({h.n_stages}) or empty")
        for i, v in enumerate(values):
            _number(v, f"horizon.{key}[{i}]", file, low=0.0)


def _check_economics(e, file: str, n_stages: int) -> None:
    _number(e.discount_rate, "economics.discount_rate", file, low=0.0)
    if e.discount_rate >= 1:
        raise CaseError(file, "economics.discount_rate", e.discount_rate, "is a fraction: must be < 1")
    _check_inflation(e.inflation_rate, file)
    for group in ("lifetimes_years", "unit_costs", "prices"):
        values = getattr(e, group)
        if not isinstance(values, dict):
            raise CaseError(file, f"economics.{group}", values, "must be an object of numbers")
        for key, v in values.items():
            field = f"economics.{group}.{key}"
            if group == "lifetimes_years":
                _number(v, field, file, low=0.0, strict=True)
            else:  # prices and unit costs may change from stage to stage
                _per_stage(v, field, file, n_stages, low=0.0)


#: Inflation rates accepted (per year, as fractions): deflation down to -50 %, inflation below 100 %.
INFLATION_RANGE = (-0.5, 1.0)


def _check_inflation(value, file: str) -> None:
    """A yearly inflation rate as a fraction in :data:`INFLATION_RANGE` (``[lo, hi)``)."""
    field = "economics.inflation_rate"
    _number(value, field, file, low=INFLATION_RANGE[0])
    if value >= INFLATION_RANGE[1]:
        hint = f": did you mean {value / 100:g} ({value:g} %)?" if value < 100 else ""
        raise CaseError(file, field, value, f"is a fraction per year (0.03 = 3 %/yr): must be < "
                                            f"{INFLATION_RANGE[1]:g}{hint}")


def _check_uncertainty(u, file: str) -> None:
    for key in ("pv_deviation", "load_deviation", "sop_loss_coefficient"):
        _number(getattr(u, key), f"uncertainty.{key}", file, low=0.0)
        if getattr(u, key) >= 1:
            raise CaseError(file, f"uncertainty.{key}", getattr(u, key), "is a fraction: must be < 1")
    _number(u.v_min_pu, "uncertainty.v_min_pu", file, low=0.0, strict=True)
    _number(u.v_max_pu, "uncertainty.v_max_pu", file, low=0.0, strict=True)
    if u.v_min_pu >= u.v_max_pu:
        raise CaseError(file, "uncertainty.v_min_pu", u.v_min_pu, f"must be below v_max_pu ({u.v_max_pu})")


def _per_stage(value, field: str, file: str, n_stages: int, low: float,
               strict: bool = False) -> None:
    """A number, or a list of numbers with one value per stage of the horizon."""
    if isinstance(value, (list, tuple)):
        if len(value) != n_stages:
            raise CaseError(file, field, list(value),
                            f"a list needs one value per stage: {len(value)} given, the horizon "
                            f"has {n_stages} stages (horizon.n_stages); or give one number")
        for i, v in enumerate(value):
            _number(v, f"{field}[{i}]", file, low=low, strict=strict)
        return
    if isinstance(value, bool) or not isinstance(value, Real):
        raise CaseError(file, field, value, f"must be a finite number or a list with one "
                                            f"number per stage ({n_stages})")
    _number(value, field, file, low=low, strict=strict)


def _number(value, field: str, file: str, low: float, strict: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise CaseError(file, field, value, "must be a finite number")
    if value < low or (strict and value == low):
        raise CaseError(file, field, value, f"must be {'>' if strict else '>='} {low}")
