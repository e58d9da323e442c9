"""pymoo's multi-objective algorithms as registry entries.

Each entry builds the pymoo class with the problem's genome operators; its
spec options are the keyword arguments of the class (and of the bases it
forwards ``**kwargs`` to) that take plain values, minus those the runner sets
itself (operators, reference directions, termination, seed, ...).
"""

from __future__ import annotations

import importlib
import inspect
from functools import partial
from typing import Any

import numpy as np

from .registry import AlgorithmRequest, register_algorithm

__all__ = ["constructor_options", "pymoo_class"]

# Constructor arguments the runner or the builder sets (never from a spec).
_MANAGED = frozenset({
    "pop_size", "ref_dirs", "sampling", "crossover", "mutation", "repair", "selection",
    "survival", "mating", "decomposition", "termination", "callback", "seed", "evaluator",
    "display", "output", "verbose", "save_history", "archive", "progress", "kwargs",
    "advance_after_initial_infill", "ref_points"})
# Types of options whose pymoo default (None) does not tell.
_OPTION_TYPES = {"n_offsprings": int, "weights": list}
# List-valued options pymoo wants as float arrays.
_ARRAY_OPTIONS = ("ref_points", "weights")


def pymoo_class(module: str, name: str) -> type:
    """The class ``name`` of pymoo module ``module``."""
    return getattr(importlib.import_module(module), name)


def constructor_options(cls: type) -> dict[str, Any]:
    """Plain-valued keyword arguments of ``cls`` -> type (``None``: any plain value).

    Walks the MRO while constructors forward ``**kwargs``; the type is that of
    the default (``None`` for no default or a ``None`` default).
    """
    options: dict[str, Any] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters
        for p in params.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.name in options or p.name in _MANAGED:
                continue
            default = p.default
            if default is inspect.Parameter.empty or default is None:
                options[p.name] = _OPTION_TYPES.get(p.name)
            elif isinstance(default, (bool, int, float, str)):
                options[p.name] = type(default)
            elif p.name == "eliminate_duplicates":
                options[p.name] = bool
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            break
    return options


def _build(request: AlgorithmRequest, *, module: str, name: str, pop: str,
           keep_duplicates_option: bool = True):
    """Build pymoo's ``module.name``; ``pop``: how the population size is set
    (``"pop_size"``, ``"at_least_ref_dirs"``, or ``"ref_dirs"`` for one
    individual per direction)."""
    kwargs: dict[str, Any] = dict(request.operators)
    if not keep_duplicates_option:  # sets its own (no) duplicate elimination
        kwargs.pop("eliminate_duplicates", None)
    if request.ref_dirs is not None:
        kwargs["ref_dirs"] = request.ref_dirs
    if pop == "pop_size":
        kwargs["pop_size"] = request.pop_size
    elif pop == "at_least_ref_dirs":
        kwargs["pop_size"] = max(request.pop_size, len(request.ref_dirs))
    options = dict(request.options)
    for key in _ARRAY_OPTIONS:
        if key in options:
            options[key] = np.asarray(options[key], dtype=float)
    kwargs.update(options)
    try:
        return pymoo_class(module, name)(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {exc}") from None


def _options(module: str, name: str, extra: dict[str, Any] | None = None):
    def options() -> dict[str, Any]:
        found = constructor_options(pymoo_class(module, name))
        found.update(extra or {})
        return found
    return options


def _register(key: str, module: str, name: str, *, pop: str = "pop_size",
              extra: dict[str, Any] | None = None, **flags) -> None:
    keep = flags.pop("keep_duplicates_option", True)
    register_algorithm(key, options=_options(module, name, extra),
                       ref_dirs=pop != "pop_size", description=f"pymoo {name}", **flags)(
        partial(_build, module=module, name=name, pop=pop, keep_duplicates_option=keep))


_MOO = "pymoo.algorithms.moo"
_register("nsga2", f"{_MOO}.nsga2", "NSGA2")
_register("rnsga2", f"{_MOO}.rnsga2", "RNSGA2", extra={"ref_points": list},
          required=("ref_points",))
_register("nsga3", f"{_MOO}.nsga3", "NSGA3", pop="at_least_ref_dirs")
_register("unsga3", f"{_MOO}.unsga3", "UNSGA3", pop="at_least_ref_dirs")
# the batch variant: one call evaluates all offspring (the loop-wise MOEAD evaluates
# one at a time); it handles no constraints, so its problems price violations at 1e12
# per unit, large against costs of ~1e7-1e8: a violating plan never beats a feasible one
_register("moead", f"{_MOO}.moead", "ParallelMOEAD", pop="ref_dirs", constraints=False,
          penalty=1e12, keep_duplicates_option=False)
_register("smsemoa", f"{_MOO}.sms", "SMSEMOA")
_register("agemoea", f"{_MOO}.age", "AGEMOEA")
_register("agemoea2", f"{_MOO}.age2", "AGEMOEA2")
_register("spea2", f"{_MOO}.spea2", "SPEA2")
_register("rvea", f"{_MOO}.rvea", "RVEA", pop="at_least_ref_dirs")
_register("ctaea", f"{_MOO}.ctaea", "CTAEA", pop="ref_dirs")


@register_algorithm("nsga2-weakened", options={"m": int},
                    description="NSGA-II sorting by weakened dominance")
def build_weakened_nsga2(request: AlgorithmRequest):
    """pymoo's NSGA-II whose survival sorts by weakened dominance
    (:class:`~fdnmoo.operators.filters.WeakenedDominanceSurvival`): ``m`` of
    the objectives better suffice (default ``floor(n_obj / 2) + 1``)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2

    from .filters import WeakenedDominanceSurvival

    m = request.options.get("m")
    n_obj = request.problem.n_obj
    if m is not None and not 1 <= m <= n_obj:
        raise ValueError(f"m must be in 1..{n_obj} (the problem's objectives), got {m}")
    return NSGA2(pop_size=request.pop_size, survival=WeakenedDominanceSurvival(m=m),
                 **request.operators)
