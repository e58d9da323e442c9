"""pymoo's benchmark problems (ZDT, DTLZ, WFG, ...) as the problem of a run spec.

::

    problem: {pymoo: dtlz2, n_var: 12, n_obj: 3}   # no case: a pymoo problem instead

``problem.pymoo`` names a problem of :func:`pymoo.problems.get_problem`; the
other ``problem.*`` keys are keyword arguments of its class's own constructor
(``n_var`` for ZDT, ``n_var`` and ``n_obj`` for DTLZ), type-checked against
their defaults. A benchmark run is a normal run and results folder
(:mod:`fdnmoo.experiment.results`): objectives ``f1, f2, ...``, decision
variables ``x0, x1, ...`` where a planning run has decoded plans. Without a
genome, the algorithms get pymoo's real-valued default operators
(:func:`fdnmoo.operators.real_valued.real_valued_operators`); the problem is
evaluated in-process by its own vectorised ``_evaluate`` (``evaluation:``
does not apply). It is the sanity check of the comparison machinery on fronts
everyone knows (``experiments/compare_sanity.yaml``).
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

from ..operators.real_valued import check_real_valued
from ..parameters import did_you_mean
from .checking import Checker

__all__ = ["BenchmarkProblem", "parse_benchmark"]

# only for suggesting a name when one is mistyped (pymoo keeps its table inside get_problem)
_FAMILIAR = tuple([f"zdt{k}" for k in range(1, 7)] + [f"dtlz{k}" for k in range(1, 8)]
                  + [f"wfg{k}" for k in range(1, 10)] + ["bnh", "kursawe", "osy", "tnk"])
_PLAIN = (bool, int, float, str)


@dataclass(frozen=True)
class BenchmarkProblem:
    """A pymoo problem by name and constructor arguments (the ``problem:`` of a run spec).

    Attributes
    ----------
    name : str
        Name for :func:`pymoo.problems.get_problem` (lower case).
    params : tuple of (str, value)
        Keyword arguments of the problem's class, sorted.
    """

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """Identity of the problem (``run.json``'s ``config_hash``)."""
        return f"pymoo:{self.name}:{json.dumps(dict(self.params), sort_keys=True)}"

    def build(self):
        """The pymoo problem (a fresh instance)."""
        from pymoo.problems import get_problem

        return get_problem(self.name, **dict(self.params))

    def as_dict(self) -> dict[str, Any]:
        """The ``problem:`` section as written."""
        return {"pymoo": self.name, **dict(self.params)}


def parse_benchmark(check: Checker, data: dict) -> BenchmarkProblem:
    """Check a ``problem:`` mapping holding ``pymoo`` into a :class:`BenchmarkProblem`.

    The problem is built once with its defaults (to find its class and its
    constructor's arguments) and once with the given ones.

    Raises
    ------
    SpecError
        An unknown name, an argument the class does not take or of the wrong
        type, arguments pymoo refuses, or a problem that is not real-valued;
        named by its key (``problem.pymoo``, ``problem.n_obj``).
    """
    from pymoo.problems import get_problem

    name = check.string(data["pymoo"], "problem.pymoo").strip().lower()
    given = {k: v for k, v in data.items() if k != "pymoo"}
    try:  # its class, from an instance with the defaults (WFG has none: found below)
        cls = type(get_problem(name))
    except Exception as exc:  # pymoo raises a bare Exception for an unknown name
        if str(exc) == "Problem not found.":
            raise check.fail("problem.pymoo", f"unknown pymoo problem {name!r}"
                             f"{did_you_mean(name, _FAMILIAR)} (pymoo.problems.get_problem "
                             f"knows zdt1-zdt6, dtlz1-dtlz7, wfg1-wfg9, ...)") from None
        cls = None
    params = given if cls is None else _arguments(check, cls, given)
    try:
        problem = get_problem(name, **params)
    except Exception as exc:  # e.g. WFG without n_var and n_obj
        raise check.fail("problem", f"pymoo refuses {name} with {params or 'no arguments'}: "
                                    f"{type(exc).__name__}: {exc}") from None
    if cls is None:  # pymoo's Problem swallows unknown keywords: check them now
        params = _arguments(check, type(problem), given)
    try:
        check_real_valued(problem)
    except ValueError as exc:
        raise check.fail("problem.pymoo", str(exc)) from None
    return BenchmarkProblem(name=name, params=tuple(sorted(params.items())))


def _arguments(check: Checker, cls: type, given: dict) -> dict:
    """``given`` checked against the keyword arguments of ``cls`` (names and types)."""
    allowed = constructor_arguments(cls)
    params = {}
    for key, value in given.items():
        where = f"problem.{key}"
        if key not in allowed:
            raise check.fail(where, f"unknown argument of pymoo's {cls.__name__}"
                             f"{did_you_mean(key, allowed)}; its arguments are "
                             f"{', '.join(allowed) or 'none'}")
        params[key] = check.typed(value, where, allowed[key])
    return params


def constructor_arguments(cls: type) -> dict[str, type | None]:
    """Keyword arguments of ``cls``'s own ``__init__`` -> type of the default
    (``None``: any plain value); those it forwards to pymoo's ``Problem``
    (bounds, variable types) are not a benchmark's to change."""
    out = {}
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[p.name] = type(p.default) if isinstance(p.default, _PLAIN) else None
    return out
