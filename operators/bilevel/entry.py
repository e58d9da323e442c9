"""The bi-level driver built from an algorithm-registry request (a spec's ``algorithm:``).

:func:`build_bilevel` turns a request (``.problem``, ``.pop_size``,
``.operators``, ``.options``) into a :class:`~fdnmoo.operators.bilevel.BiLevel`:
``pop_size`` is the upper population, the spec's ``n_gen`` the upper
generations (the run's termination), :data:`OPTIONS` the rest. The lower
algorithm, the dominance and the front filter are arguments, so that a registry
entry can choose them (AA-NSGA-II for interval objectives, weakened dominance,
the deviation filter).
"""

from __future__ import annotations

from typing import Any, Callable

from pymoo.core.variable import Variable

from fdnmoo.parameters import ParameterError, did_you_mean

from .driver import BiLevel

__all__ = ["OPTIONS", "build_bilevel"]

#: Spec options of the bi-level driver and their types.
OPTIONS: dict[str, type] = {"lower_pop_size": int, "lower_n_gen": int,
                            "lower_objectives": list, "lower_blocks": list,
                            "crossover_prob": float, "prob_var": float}


def build_bilevel(request: Any, lower_algorithm: Callable | None = None,
                  dominance: Callable | None = None, front_filter: Callable | None = None
                  ) -> BiLevel:
    """A :class:`BiLevel` for a registry request.

    Options ``crossover_prob``/``prob_var`` missing from ``request.options`` are
    read from the request's genome operators (the spec's operator settings), so
    both levels vary genes as the spec says.

    Raises
    ------
    fdnmoo.parameters.ParameterError
        An option :data:`OPTIONS` does not name.
    """
    options = dict(request.options or {})
    for name in options:
        if name not in OPTIONS:
            raise ParameterError(f"algorithm.{name}", f"unknown option of bilevel"
                                 f"{did_you_mean(name, OPTIONS)}; options are "
                                 f"{', '.join(OPTIONS)}")
    ops = dict(getattr(request, "operators", None) or {})
    if "crossover_prob" not in options and "crossover" in ops:
        options["crossover_prob"] = _value(ops["crossover"].prob)
    if "prob_var" not in options and getattr(ops.get("mutation"), "prob_var", None) is not None:
        options["prob_var"] = _value(ops["mutation"].prob_var)
    for name in ("lower_objectives", "lower_blocks"):
        if name in options:
            options[name] = tuple(options[name])
    return BiLevel(pop_size=int(request.pop_size), lower_algorithm=lower_algorithm,
                   dominance=dominance, front_filter=front_filter, **options)


def _value(setting: Any) -> float:
    """A pymoo operator setting (a ``Variable`` such as ``Real``) as a number."""
    return float(setting.value if isinstance(setting, Variable) else setting)
