"""Keyword parameters of registry entries, checked against their signatures.

A gene block class, an objective or a constraint declares its parameters the
ordinary Python way: keyword arguments with defaults and type hints
(``def voltage_band(ev, vmin_pu: float | None = None, ...)``,
``DerBlock.__init__(self, kind: str, levels: int = 4, ...)``). A problem
composition names an entry with some of those parameters; :func:`check_params`
refuses unknown names (with the closest match) and values of the wrong type,
raising :class:`ParameterError`, whose ``key`` locates the value
(``"blocks[1].der.levels"``) so that a spec can name file and key.

Entries of a composition are written as a bare name or a one-key mapping::

    "line_current"                              -> ("line_current", ())
    {"voltage_band": {"vmin_pu": 0.95}}         -> ("voltage_band", (("vmin_pu", 0.95),))

:func:`entry` turns either form (or a ``(name, params)`` pair) into the
second, with parameter values made immutable (lists to tuples, mappings to
sorted ``(key, value)`` pairs), so that a problem config stays hashable and
picklable.
"""

from __future__ import annotations

import difflib
import inspect
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Callable

__all__ = ["ParameterError", "UnknownEntryError", "check_params", "check_value", "did_you_mean", "entry",
           "freeze", "kind_of", "signature_params"]


class ParameterError(ValueError):
    """A composition parameter that cannot be used; ``key`` says where it is."""

    def __init__(self, key: str, message: str) -> None:
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}" if key else message)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # raised in workers, re-raised in the main process
        return type(self), (self.key, self.message)


class UnknownEntryError(ParameterError, KeyError):
    """An unknown registry name (objective, constraint, gene block) in a composition."""


def did_you_mean(name: str, known) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def freeze(value: Any) -> Any:
    """Immutable copy of a plain value: lists to tuples, mappings to sorted pairs."""
    if isinstance(value, Mapping):
        return tuple(sorted(((k, freeze(v)) for k, v in value.items()), key=lambda kv: str(kv[0])))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def entry(item: Any, key: str) -> tuple[str, tuple]:
    """``(name, params)`` of a composition entry (see module docstring).

    Raises
    ------
    ParameterError
        Neither a name, a one-key mapping of a name to parameters, nor a pair.
    """
    if isinstance(item, str):
        return item, ()
    if isinstance(item, Mapping) and len(item) == 1:
        (name, params), = item.items()
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        name, params = item
    else:
        raise ParameterError(key, "expected a name or a one-key mapping {name: {parameter: "
                                  f"value, ...}}, got {kind_of(item)}")
    if not isinstance(name, str):
        raise ParameterError(key, f"expected a name, got {kind_of(name)}")
    if params is None:
        params = {}
    if isinstance(params, tuple):
        params = dict(params)
    if not isinstance(params, Mapping):
        raise ParameterError(f"{key}.{name}", f"expected a mapping of parameters, got "
                                              f"{kind_of(params)}")
    for k in params:
        if not isinstance(k, str):
            raise ParameterError(f"{key}.{name}", f"parameter names must be strings, got {k!r}")
    return name, tuple(sorted((k, freeze(v)) for k, v in params.items()))


def signature_params(func: Callable, skip: int = 1) -> dict[str, inspect.Parameter]:
    """Keyword parameters of ``func`` after its first ``skip`` positional ones.

    ``**kwargs`` and ``*args`` are not parameters a composition can set.
    """
    params = list(inspect.signature(func).parameters.values())[skip:]
    return {p.name: p for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _hints(func: Callable) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # a hint naming something not importable: check no types
        return {}


def check_params(func: Callable, params: Mapping[str, Any], key: str, what: str,
                 skip: int = 1) -> dict[str, Any]:
    """Check ``params`` against the signature of ``func``; returns them (typed).

    Parameters
    ----------
    func : callable
        Objective/constraint function (``skip=1``: the evaluated plan) or a
        class's ``__init__`` (``skip=1``: ``self``).
    params : mapping
    key : str
        Where ``params`` sit (``"constraints[0].voltage_band"``); a parameter's
        key is ``key.name``.
    what : str
        Entry described in messages (``"constraint 'voltage_band'"``).

    Raises
    ------
    ParameterError
        Unknown parameter (with the closest match and the list of parameters),
        value of the wrong type, or a required parameter missing.
    """
    accepted = signature_params(func, skip)
    hints = _hints(func)
    out = {}
    for name, value in params.items():
        where = f"{key}.{name}"
        if name not in accepted:
            listed = ", ".join(accepted) or "none"
            raise ParameterError(where, f"unknown parameter of {what}"
                                        f"{did_you_mean(name, accepted)}; parameters are {listed}")
        out[name] = check_value(value, hints.get(name), where)
    missing = [n for n, p in accepted.items() if p.default is p.empty and n not in out]
    if missing:
        raise ParameterError(f"{key}.{missing[0]}", f"{what} needs parameter {missing[0]!r}")
    return out


def check_value(value: Any, hint: Any, key: str) -> Any:
    """``value`` if it fits the type ``hint`` (ints pass as floats); else ParameterError.

    Understood: ``bool``, ``int``, ``float``, ``str``, ``None``, unions,
    ``Literal``, ``Sequence[...]`` / ``tuple[...]`` / ``list[...]`` (lists and
    tuples) and ``Mapping[...]`` (mappings or sequences of pairs). Other hints
    (and none) accept any value.
    """
    if _fits(value, hint):
        options = typing.get_args(hint) if typing.get_origin(hint) in (
            typing.Union, types.UnionType) else (hint,)
        if isinstance(value, int) and not isinstance(value, bool) and float in options \
                and int not in options:
            return float(value)
        return value
    raise ParameterError(key, f"expected {_describe(hint)}, got {kind_of(value)}")


def _fits(value: Any, hint: Any) -> bool:
    if hint is None or hint is Any:
        return True
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        pairs = value.items() if isinstance(value, Mapping) else value
        if not isinstance(value, Mapping) and not (
                isinstance(value, (list, tuple))
                and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value)):
            return False
        kt, vt = args if len(args) == 2 else (None, None)
        return all(_fits(k, kt) and _fits(v, vt) for k, v in pairs)
    if origin in (Sequence, list, tuple) or hint in (Sequence, list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        item = args[0] if args else None
        return all(_fits(v, item) for v in value)
    return True


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        return "a mapping" + (f" of {_describe(args[0])} to {_describe(args[1])}"
                              if len(args) == 2 else "")
    if origin in (Sequence, list, tuple) or hint in (Sequence, list, tuple):
        return "a list" + (f" of {_describe(args[0])}" if args else "")
    return _WORDS.get(hint, getattr(hint, "__name__", str(hint)))


_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
          type(None): "nothing (null)"}


def kind_of(value: Any) -> str:
    """How a value is described in messages (``a number (3)``, ``a mapping``, ...)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
