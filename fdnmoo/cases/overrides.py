"""Changes to a case's horizon, economics, uncertainty and candidates, checked like the case file.

A study may change the parameter records of its case without copying the case
file (a spec's ``case_overrides:`` and ``problem.horizon``)::

    {"economics": {"discount_rate": 0.06, "prices": {"energy_per_mwh": 80.0}},
     "limits": {"v_min_pu": 0.93}}

Sections and keys are those of the case file (:class:`~fdnmoo.cases.model.Horizon`,
:class:`~fdnmoo.cases.model.Economics`, :class:`~fdnmoo.cases.model.Uncertainty`),
plus ``limits``, which names the case limits where ``run.json`` reports them
(``composition.case_limits``): ``v_min_pu`` and ``v_max_pu`` (the voltage
band, stored in ``uncertainty``) and ``investment_budget_per_stage`` (in
``economics.unit_costs``). A key given both in ``limits`` and in its own
section is refused.

``candidates`` sets one column of a candidate table to one value on every row
(``{"candidates": {"ess": {"soc_min": 0.1, "soc_max": 0.9}}}``, seed 000's
Case III on tpc84, whose storage candidates have no SOC columns). Tables and
columns are those of :data:`fdnmoo.cases.schema.CANDIDATE_TABLES`, except a
table's key and bus columns (one value on every row would make them
duplicates); the case must have the table.

A plain field (``discount_rate``, ``v_min_pu``, ``pv_penetration``) is
replaced; a mapping of the economics (``prices``, ``unit_costs``,
``lifetimes_years``, ``sources``) is changed key by key, and ``null`` removes
a key. A price or unit cost, like ``load_growth_per_year``, is one number or a
list with one value per stage of the horizon. ``prices`` takes the keys the cost model reads (:data:`PRICE_KEYS`), the
other mappings any key (the unit is in the key, as in the case file). An
economics number that is changed has its ``sources`` entry replaced by
``"case_overrides"`` unless the change gives its own source.

Names and types are checked by :func:`check_overrides` (no case needed); the
values, once applied by :func:`apply_overrides`, by the case file's own checks
(:func:`fdnmoo.cases.validate.validate_records`). Errors are
:class:`~fdnmoo.parameters.ParameterError` whose ``key`` is the override's
(``"case_overrides.economics.discount_rate"``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..parameters import ParameterError, check_params, check_value, did_you_mean, freeze, kind_of
from .errors import CaseError
from .model import Economics, Horizon, PlanningCase, Uncertainty
from .schema import CANDIDATE_TABLES, TABLE_KEYS
from .validate import validate_candidates, validate_records

__all__ = ["LIMITS", "OVERRIDE_SECTIONS", "PRICE_KEYS", "apply_overrides", "check_overrides",
           "overrides_as_dict"]

#: Prices read by the cost model (:mod:`fdnmoo.metrics.economics`), per MWh in the case currency.
PRICE_KEYS: dict[str, str] = {
    "energy_per_mwh": "energy losses (and the default of the next two)",
    "pv_feed_in_per_mwh": "PV energy (the profit term of total_cost)",
    "violation_penalty_per_mwh": "load at buses or behind branches out of limits",
    "unserved_energy_per_mwh": "unserved energy",
    "pv_curtailment_per_mwh": "curtailed PV energy (the operation option curtailment)",
}

#: ``limits`` keys -> (record, field, key inside a mapping field or None).
LIMITS: dict[str, tuple[str, str, str | None]] = {
    "v_min_pu": ("uncertainty", "v_min_pu", None),
    "v_max_pu": ("uncertainty", "v_max_pu", None),
    "investment_budget_per_stage": ("economics", "unit_costs", "investment_budget_per_stage"),
}

_RECORDS = {"horizon": Horizon, "economics": Economics, "uncertainty": Uncertainty}
#: Sections a spec's ``case_overrides`` takes (the horizon belongs to ``problem.horizon``).
OVERRIDE_SECTIONS = ("economics", "uncertainty", "limits", "candidates")
_MAPPING_FIELDS = {"lifetimes_years": float, "unit_costs": float | list[float],
                   "prices": float | list[float], "sources": str}


def check_overrides(overrides: Any, key: str = "case_overrides",
                    sections: tuple[str, ...] = OVERRIDE_SECTIONS) -> tuple:
    """Check names and types of ``overrides``; return them frozen (hashable, picklable).

    Parameters
    ----------
    overrides : mapping of section -> mapping, or its frozen form
    key : str
        Where the overrides sit, prefixed to every error key.
    sections : tuple of str
        Sections allowed (of ``horizon``, ``economics``, ``uncertainty``, ``limits``).

    Raises
    ------
    ParameterError
        Unknown section or key (with the closest name), wrong type, or a limit
        given twice.
    """
    overrides = _as_dict(overrides, key)
    for section, values in overrides.items():
        where = _join(key, section)
        if section not in sections:
            hint = " (the horizon is changed by problem.horizon)" if section == "horizon" \
                else did_you_mean(section, sections)
            raise ParameterError(where, f"unknown section{hint}; sections are "
                                        f"{', '.join(sections)}")
        values = _as_dict(values, where)
        if section == "candidates":
            for table, columns in values.items():
                _check_candidate_columns(table, _as_dict(columns, _join(where, table)),
                                         _join(where, table))
            continue
        if section == "limits":
            for name, value in values.items():
                if name not in LIMITS:
                    raise ParameterError(_join(where, name), f"unknown limit"
                                         f"{did_you_mean(name, LIMITS)}; limits are "
                                         f"{', '.join(LIMITS)}")
                record, field, leaf = LIMITS[name]
                check_value(value, float | None if leaf else float, _join(where, name))
                own = _as_dict(overrides.get(record, {}), "")
                if field in own and (leaf is None or leaf in _as_dict(own[field], "")):
                    raise ParameterError(_join(where, name), f"given twice: also as "
                                         f"{_join(key, record)}.{field}"
                                         f"{f'.{leaf}' if leaf else ''}")
            continue
        cls = _RECORDS[section]
        plain = {k: v for k, v in values.items() if k not in _MAPPING_FIELDS}
        check_params(cls.__init__, plain, where, f"the case {section}")
        for name, value in values.items():
            if name in _MAPPING_FIELDS and section == "economics":
                _check_mapping(name, _as_dict(value, _join(where, name)), _join(where, name))
            elif name in _MAPPING_FIELDS:
                check_params(cls.__init__, {name: value}, where, f"the case {section}")
    return freeze(overrides)


def apply_overrides(case: PlanningCase, overrides: Any, key: str = "case_overrides",
                    sections: tuple[str, ...] = OVERRIDE_SECTIONS) -> PlanningCase:
    """A copy of ``case`` with ``overrides`` applied and its records validated.

    Raises
    ------
    ParameterError
        As :func:`check_overrides`, or a value the case file's checks refuse
        (``"case_overrides.economics.discount_rate: is a fraction: must be < 1
        (got 1.5)"``).
    """
    overrides = _as_dict(check_overrides(overrides, key, sections), key)
    if not overrides:
        return case
    changes = _changes(overrides, key)
    case = _with_candidate_columns(case, overrides.get("candidates", {}), _join(key, "candidates"))
    records = {name: copy.deepcopy(getattr(case, name)) for name in _RECORDS}
    for (record, field, leaf), (where, value) in changes.items():
        if record == "candidates":  # set above
            continue
        target = records[record]
        if leaf is None:
            setattr(target, field, list(value) if isinstance(value, tuple) else value)
            continue
        mapping = getattr(target, field)
        if value is None:
            mapping.pop(leaf, None)
        else:  # a price per stage arrives frozen, as a tuple
            mapping[leaf] = list(value) if isinstance(value, tuple) else value
        if record == "economics" and field != "sources" \
                and ("economics", "sources", leaf) not in changes:
            records["economics"].sources[leaf] = "case_overrides"
    for (record, field, leaf) in changes:
        if record == "economics" and leaf is None and field not in _MAPPING_FIELDS \
                and ("economics", "sources", field) not in changes:
            records["economics"].sources[field] = "case_overrides"
    new = replace(case, **records)
    try:
        validate_records(new, file=case.name)
        validate_candidates(new, file=case.name, tables=tuple(_as_dict(
            overrides.get("candidates", {}), "")))
    except CaseError as exc:
        where = _where(exc.field, changes, key)
        raise ParameterError(where, f"{exc.problem} (got {exc.value!r})") from None
    return new


def overrides_as_dict(overrides: Any) -> dict[str, dict[str, Any]]:
    """Frozen overrides (:func:`check_overrides`) as nested mappings, as they are written."""
    out = {}
    for section, values in _as_dict(overrides, "").items():
        out[section] = {name: _as_dict(v, "") if name in _MAPPING_FIELDS or section == "candidates"
                        else v for name, v in _as_dict(values, "").items()}
    return out


# -- helpers ------------------------------------------------------------------------------
def _changes(overrides: dict, key: str) -> dict[tuple[str, str, str | None], tuple[str, Any]]:
    """(record, field, key in a mapping field) -> (override key, value)."""
    out: dict[tuple[str, str, str | None], tuple[str, Any]] = {}
    for section, values in overrides.items():
        for name, value in _as_dict(values, "").items():
            where = _join(_join(key, section), name)
            if section == "limits":
                out[LIMITS[name]] = (where, value)
            elif section == "candidates":
                for column, v in _as_dict(value, "").items():
                    out[("candidates", name, column)] = (f"{where}.{column}", v)
            elif name in _MAPPING_FIELDS and section == "economics":
                for leaf, v in _as_dict(value, "").items():
                    out[(section, name, leaf)] = (f"{where}.{leaf}", v)
            else:
                out[(section, name, None)] = (where, value)
    return out


def _where(field: str, changes: dict, key: str) -> str:
    """The override key behind a case-file field the validation names."""
    if field.startswith("candidates."):  # candidates.ess[3].soc_max
        table, _, rest = field[len("candidates."):].partition("[")
        column = rest.rpartition(".")[2]
        for (record, name, leaf), (where, _) in changes.items():
            if record == "candidates" and name == table and (leaf == column or not rest):
                return where
    bare = field.split("[", 1)[0]
    for (record, name, leaf), (where, _) in changes.items():
        if bare in (f"{record}.{name}", f"{record}.{name}.{leaf}"):
            return where
    record = bare.split(".", 1)[0]
    for (rec, _, _), (where, _) in changes.items():
        if rec == record:
            return where
    return key


def _check_candidate_columns(table: str, columns: dict, where: str) -> None:
    """A candidate table and columns the case schema knows, each given one scalar value."""
    if table not in CANDIDATE_TABLES:
        raise ParameterError(where, f"unknown candidate table{did_you_mean(table, CANDIDATE_TABLES)}"
                                    f"; tables are {', '.join(CANDIDATE_TABLES)}")
    schema = {c.name: c for c in CANDIDATE_TABLES[table]}
    for name, value in columns.items():
        at = _join(where, name)
        col = schema.get(name)
        if col is None:
            raise ParameterError(at, f"unknown column of candidates.{table}"
                                     f"{did_you_mean(name, schema)}; columns are "
                                     f"{', '.join(schema)}")
        if col.bus_ref or name in TABLE_KEYS.get(table, ()):
            raise ParameterError(at, f"is a key of candidates.{table}: one value on every row "
                                     f"cannot be overridden (edit the case file)")
        if col.dtype in ("int", "float"):
            _check_number(value, at)
        else:
            check_value(value, {"str": str, "bool": bool}[col.dtype], at)


def _with_candidate_columns(case: PlanningCase, tables: Any, key: str) -> PlanningCase:
    """A copy of ``case`` whose candidate tables have the overridden columns set on every row."""
    tables = _as_dict(tables, key)
    if not tables:
        return case
    candidates = dict(case.candidates)
    for table, columns in tables.items():
        if table not in candidates:
            have = ", ".join(candidates) or "none"
            raise ParameterError(_join(key, table), f"case {case.name!r} has no candidates.{table} "
                                                    f"table (its candidate tables: {have})")
        df = candidates[table].copy()
        for name, value in _as_dict(columns, "").items():
            df[name] = value
        candidates[table] = df
    return replace(case, candidates=candidates)


def _check_mapping(name: str, values: dict, where: str) -> None:
    for k, v in values.items():
        if not isinstance(k, str):
            raise ParameterError(where, f"keys must be strings, got {k!r}")
        if name == "prices" and k not in PRICE_KEYS:
            raise ParameterError(f"{where}.{k}", f"unknown price{did_you_mean(k, PRICE_KEYS)}; "
                                                 f"prices are {', '.join(PRICE_KEYS)}")
        if isinstance(v, (list, tuple)) and name in ("unit_costs", "prices"):
            for i, x in enumerate(v):  # one value per stage: name the element that is wrong
                _check_number(x, f"{where}.{k}[{i}]")
        elif v is not None and _MAPPING_FIELDS[name] is not str:
            _check_number(v, f"{where}.{k}")
        elif v is not None:
            check_value(v, _MAPPING_FIELDS[name], f"{where}.{k}")


def _check_number(value: Any, key: str) -> None:
    """A number; a string that reads as one gets the YAML hint (PyYAML reads ``8.0e5``,
    without a sign in the exponent, as a string)."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            pass
        else:
            raise ParameterError(key, f"expected a number, got the string {value!r} (YAML reads "
                                      f"an exponent without its sign as text: write "
                                      f"{float(value):g} or {value.replace('e', 'e+')})")
    check_value(value, float, key)


def _as_dict(value: Any, key: str) -> dict:
    """A mapping, or the frozen pairs :func:`~fdnmoo.parameters.freeze` made of one."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return dict(value)
    raise ParameterError(key, f"expected a mapping, got {kind_of(value)}")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
