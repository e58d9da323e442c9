"""Type checks on parsed YAML: every error names the spec file and the key.

Also the command line's ``--set KEY=VALUE`` changes (:func:`apply_settings`):
they are written into the parsed YAML before it is checked, so that a
``--set`` value meets exactly the checks of the same value in the file, and
:func:`blame_setting` adds the ``--set`` it came from to an error.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any, Callable

from ..parameters import did_you_mean as _did_you_mean
from ..parameters import kind_of as _kind

__all__ = ["BlockNames", "Checker", "SpecError", "apply_settings", "blame_setting",
           "parse_with_settings", "read_spec_file"]


class SpecError(ValueError):
    """A spec file (or dict) that cannot be used; the message names file and key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key, self.message = source, key, message
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {message}")


class BlockNames:
    """The gene-block registry seen like the objective registries (for ``entries``)."""

    kind = "gene block"

    def __init__(self, blocks: dict) -> None:
        self._blocks = blocks

    def __contains__(self, name: str) -> bool:
        return name in self._blocks

    def names(self) -> list[str]:
        return sorted(self._blocks)


class Checker:
    """Type checks on parsed YAML values; errors name ``source`` and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> SpecError:
        return SpecError(self.source, key, message)

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...] | None) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key or "spec", f"expected a mapping, got {_kind(value)}")
        for k in value:
            if not isinstance(k, str):
                raise self.fail(_join(key, str(k)), "keys must be strings")
            if allowed is not None and k not in allowed:
                raise self.fail(_join(key, k), f"unknown key{_did_you_mean(k, allowed)}; "
                                f"allowed keys are {', '.join(allowed)}")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_kind(value)}")
        return value

    def integer(self, value: Any, key: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_kind(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        value = self.string(value, key)
        if value not in choices:
            raise self.fail(key, f"unknown value {value!r}; choose one of {', '.join(choices)}")
        return value

    def entries(self, value: Any, key: str, registry: Any, min_len: int,
                unique: bool = True) -> tuple:
        """Names or one-key mappings ``{name: {parameter: value}}`` of ``registry``;
        the parameters are checked by the problem config."""
        if not isinstance(value, list) or len(value) < min_len:
            raise self.fail(key, f"expected a list of names (or {{name: {{parameter: value}}}} "
                                 f"mappings), got {_kind(value)}")
        names = []
        for i, item in enumerate(value):
            where = f"{key}[{i}]"
            if isinstance(item, dict):
                if len(item) != 1:
                    raise self.fail(where, f"expected one name mapped to its parameters, got "
                                           f"{len(item)} keys")
                (name, params), = item.items()
                self.string(name, where)
                if params is not None:
                    self.mapping(params, f"{where}.{name}", None)
            else:
                name = self.string(item, where)
            if name not in registry:
                raise self.fail(key, f"unknown {registry.kind} {name!r}"
                                f"{_did_you_mean(name, registry.names())}; registered: "
                                f"{', '.join(registry.names())}")
            names.append(name)
        if unique and len(set(names)) != len(names):
            raise self.fail(key, "names must not repeat")
        return tuple(value)

    def typed(self, value: Any, key: str, expected: Any) -> Any:
        if expected is None:
            if isinstance(value, dict):
                raise self.fail(key, "expected a plain value or a list, got a mapping")
            return value
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if expected is int and isinstance(value, bool):
            raise self.fail(key, f"expected an integer, got {_kind(value)}")
        if expected is float and isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, f"expected a finite number, got {value}")
        if not isinstance(value, expected):
            raise self.fail(key, f"expected {_TYPE_WORDS.get(expected, expected.__name__)}, "
                            f"got {_kind(value)}")
        return value


_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               list: "a list"}


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key



_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def apply_settings(data: Any, settings: tuple[str, ...] | list[str], source: str) -> Any:
    """A copy of parsed YAML ``data`` with every ``dotted.key=value`` of ``settings`` set.

    The value is read as YAML (``2`` an integer, ``true`` a boolean,
    ``[loss_kw]`` a list, ``{w1: 0.7}`` a mapping, anything else a string);
    missing mappings on the way are created. Nothing is checked here but the
    syntax: the result goes through the spec's own checks.

    Raises
    ------
    SpecError
        A setting that is not ``KEY=VALUE``, an invalid YAML value, or a key
        whose parent is not a mapping; the key is ``--set <setting>``.
    """
    import yaml

    if not settings:
        return data
    data = copy.deepcopy(data) if data is not None else {}
    for setting in settings:
        where = f"--set {setting}"
        key, eq, text = setting.partition("=")
        key = key.strip()
        if not eq or not _KEY.fullmatch(key):
            raise SpecError(source, where, "expected KEY=VALUE with a dotted key "
                                           "(problem.stages=2)")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(source, where, f"invalid YAML value ({getattr(exc, 'problem', exc)})"
                            ) from None
        parts = key.split(".")
        node = data
        for depth in range(len(parts)):
            if not isinstance(node, dict):
                raise SpecError(source, where, f"{'.'.join(parts[:depth]) or 'the spec'} is "
                                               f"{_kind(node)}, not a mapping: cannot set {key}")
            if depth == len(parts) - 1:
                break
            if node.get(parts[depth]) is None:
                node[parts[depth]] = {}
            node = node[parts[depth]]
        node[parts[-1]] = value
    return data


def blame_setting(exc: SpecError, settings: tuple[str, ...] | list[str]) -> SpecError:
    """``exc`` with the last ``--set`` that wrote its key (or a key inside it) named."""
    for setting in reversed(list(settings)):
        key = setting.partition("=")[0].strip()
        if exc.key == key or exc.key.startswith((f"{key}.", f"{key}[")) \
                or key.startswith(f"{exc.key}."):
            return SpecError(exc.source, exc.key, f"{exc.message} (--set {setting})")
    return exc


def read_spec_file(path: str | Path) -> Any:
    """The parsed YAML of a spec file (any kind of spec).

    Raises
    ------
    SpecError
        ``<file>: no such spec file``, or ``<file>: line N: invalid YAML (...)``.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise SpecError(str(path), "", "no such spec file")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        raise SpecError(str(path), where, f"invalid YAML ({getattr(exc, 'problem', exc)})") from None


def parse_with_settings(parse: Callable[[Any], Any], data: Any, source: str,
                        settings: tuple[str, ...] | list[str] = ()) -> Any:
    """``parse(data)`` after the ``KEY=VALUE`` ``settings`` are applied to ``data``
    (:func:`apply_settings`); an error at a key a setting wrote names that setting
    (:func:`blame_setting`)."""
    settings = tuple(settings)
    data = apply_settings(data, settings, source)
    try:
        return parse(data)
    except SpecError as exc:
        raise blame_setting(exc, settings) from None

