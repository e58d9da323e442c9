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

from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Callable

import numpy as np
from pymoo.core.variable import Variable

from fdnmoo.parameters import ParameterError, did_you_mean

from ..aa_nsga2 import AANSGA2
from ..filters import deviation_filter, weakening_filter
from ..registry import register_algorithm
from .driver import BiLevel

__all__ = ["OPTIONS", "REGISTERED_OPTIONS", "DeviationFront", "WeakenedSurvivors",
           "build_bilevel", "build_registered"]

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


#: Options of the registered ``bilevel`` entry beyond :data:`OPTIONS`: AA-NSGA-II's
#: ``beta`` and ``affine_difference`` at the lower level (under interval objectives),
#: the weakening's ``m`` (``true``: floor(N/2) + 1, the default; N: Pareto dominance)
#: and the deviation filter's D_max (none by default).
REGISTERED_OPTIONS: dict[str, Any] = {**OPTIONS, "beta": float, "affine_difference": bool,
                                      "weakening": None, "deviation": float,
                                      "comprehensive": bool}


@dataclass(frozen=True)
class WeakenedSurvivors:
    """The bi-level dominance hook: rows of ``F`` no one m-dominates
    (:func:`~fdnmoo.operators.filters.weakening_filter`; ``m=None``: floor(N/2) + 1)."""

    m: int | None = None

    def __call__(self, F: np.ndarray) -> np.ndarray:
        return np.flatnonzero(weakening_filter(F, self.m).keep)


@dataclass(frozen=True)
class DeviationFront:
    """The bi-level front filter: rows whose deviation distance is at most ``d_max``
    (:func:`~fdnmoo.operators.filters.deviation_filter` on the boxes ``[F_lo, F_hi]``)."""

    d_max: float
    comprehensive: bool = False

    def __call__(self, F: np.ndarray, F_lo: np.ndarray, F_hi: np.ndarray) -> np.ndarray:
        keep, _ = deviation_filter(F_lo, F_hi, self.d_max, comprehensive=self.comprehensive)
        return np.flatnonzero(keep)


@register_algorithm("bilevel", options=REGISTERED_OPTIONS,
                    description="bi-level driver: upper blocks over lower (AA-)NSGA-II "
                                "fronts of PV/SVC, weakened dominance, deviation filter")
def build_registered(request: Any) -> BiLevel:
    """The ``bilevel`` entry: :func:`build_bilevel` with AA-NSGA-II at the lower level
    when the problem has interval objectives (pymoo's NSGA-II otherwise), weakened
    dominance over the union of lower fronts, and the deviation filter when
    ``deviation`` is set."""
    options = dict(request.options or {})
    beta, affine = options.pop("beta", 0.5), options.pop("affine_difference", False)
    weakening = options.pop("weakening", True)
    d_max, comprehensive = options.pop("deviation", None), options.pop("comprehensive", False)
    if weakening is not True and not (isinstance(weakening, int) and weakening >= 1):
        raise ValueError(f"weakening is true or an integer m >= 1, got {weakening!r}")
    n_obj = request.problem.n_obj
    if weakening is not True and weakening > n_obj:
        raise ValueError(f"weakening m = {weakening} exceeds the {n_obj} objectives")
    intervals = bool(getattr(request.problem, "interval_objectives", False))
    if d_max is not None and not intervals and not comprehensive:
        raise ValueError("the deviation filter compares interval boxes: set an interval or "
                         "affine uncertainty.method, or comprehensive: true")
    lower = partial(AANSGA2, beta=beta, affine_difference=affine) if intervals else None
    front_filter = None if d_max is None else DeviationFront(float(d_max), comprehensive)
    return build_bilevel(replace(request, options=options), lower_algorithm=lower,
                         dominance=WeakenedSurvivors(None if weakening is True else weakening),
                         front_filter=front_filter)


def _value(setting: Any) -> float:
    """A pymoo operator setting (a ``Variable`` such as ``Real``) as a number."""
    return float(setting.value if isinstance(setting, Variable) else setting)
